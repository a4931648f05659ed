/**
 * StreamReader and the protocol/flow-control pieces, without sockets: ported from CPython's
 * Lib/test/test_asyncio/test_streams.py (StreamTests.test_feed_* … test_exception_cancel, the reprs,
 * test_multiple_drain). Network behaviour is in streams_net.test.ts.
 */
import {
  CancelledError,
  coroutine,
  createTask,
  fromPromise,
  gather,
  getRunningLoop,
  IncompleteReadError,
  type Instruction,
  LimitOverrunError,
  RuntimeError,
  run,
  runVirtual,
  StopAsyncIteration,
  sleep,
  ValueError,
  wait,
} from 'tsyncio';
import { StreamReader, StreamReaderProtocol, type StreamTransport, StreamWriter } from 'tsyncio/node';
import { describe, expect, it } from 'vitest';

const DATA = 'line1\nline2\nline3\n';
const b = (s: string): Buffer => Buffer.from(s, 'latin1');
const str = (x: Uint8Array): string => Buffer.from(x).toString('latin1');

/** Run `body(stream)` in a task on a virtual-clock loop. */
function withReader<T>(
  body: (stream: StreamReader) => Generator<Instruction, T, unknown>,
  limit?: number,
): Promise<T> {
  const main = coroutine(function* main() {
    const stream = new StreamReader(limit);
    return yield* body(stream);
  });
  return runVirtual(main());
}

/** Run `gen` and return the error it raises (fails the test if it does not). */
function* raises(gen: Iterable<unknown>): Generator<Instruction, unknown, unknown> {
  try {
    yield* gen as Generator<Instruction, unknown, unknown>;
  } catch (e) {
    return e;
  }
  throw new Error('expected an exception');
}

describe('StreamReader: feeding and reading', () => {
  it('feedData(empty) leaves the buffer empty; feedData copies the bytes in', async () => {
    await withReader(function* (stream) {
      stream.feedData(b(''));
      expect(str(stream._buffer)).toBe('');
      const src = b(DATA);
      stream.feedData(src);
      src[0] = 0x58; // the caller's later changes do not reach the reader (bytes are immutable in Python)
      expect(str(stream._buffer)).toBe(DATA);
    });
  });

  it('read(0) returns empty bytes and consumes nothing', async () => {
    await withReader(function* (stream) {
      stream.feedData(b(DATA));
      expect(str(yield* stream.read(0))).toBe('');
      expect(str(stream._buffer)).toBe(DATA);
    });
  });

  it('read(n) waits for data, then returns what is there (up to n)', async () => {
    await withReader(function* (stream) {
      const t = createTask(stream.read(30));
      getRunningLoop().callSoon(() => stream.feedData(b(DATA)));
      expect(str(yield* t)).toBe(DATA);
      expect(str(stream._buffer)).toBe('');
    });
  });

  it('read(n) returns at most n bytes across fed chunks', async () => {
    await withReader(function* (stream) {
      stream.feedData(b('line1'));
      stream.feedData(b('line2'));
      expect(str(yield* stream.read(5))).toBe('line1');
      expect(str(stream._buffer)).toBe('line2');
    });
  });

  it('read(n) at EOF returns empty bytes', async () => {
    await withReader(function* (stream) {
      const t = createTask(stream.read(1024));
      getRunningLoop().callSoon(() => stream.feedEof());
      expect(str(yield* t)).toBe('');
    });
  });

  it('read() (n = -1) reads until EOF', async () => {
    await withReader(function* (stream) {
      const t = createTask(stream.read(-1));
      getRunningLoop().callSoon(() => {
        stream.feedData(b('chunk1\n'));
        stream.feedData(b('chunk2'));
        stream.feedEof();
      });
      expect(str(yield* t)).toBe('chunk1\nchunk2');
      expect(str(stream._buffer)).toBe('');
    });
  });

  it('read() raises the exception set by setException', async () => {
    await withReader(function* (stream) {
      stream.feedData(b('line\n'));
      expect(str(yield* stream.read(2))).toBe('li');
      const exc = new ValueError('boom');
      stream.setException(exc);
      expect(yield* raises(stream.read(2))).toBe(exc);
    });
  });

  it('a limit <= 0 is a ValueError', () => {
    expect(() => new StreamReader(0)).toThrow(ValueError);
    expect(() => new StreamReader(-1)).toThrow('Limit cannot be <= 0');
  });

  it('read(n) is not bound by the limit', async () => {
    await withReader(function* (stream) {
      stream.feedData(b('chunk'));
      expect(str(yield* stream.read(5))).toBe('chunk');
      expect(str(stream._buffer)).toBe('');
    }, 3);
  });

  it('feedData after feedEof is an error', async () => {
    await withReader(function* (stream) {
      stream.feedEof();
      expect(() => stream.feedData(b('x'))).toThrow('feed_data after feed_eof');
    });
  });
});

describe('StreamReader: readline', () => {
  it('waits for the newline across chunks and leaves the rest buffered', async () => {
    await withReader(function* (stream) {
      stream.feedData(b('chunk1 '));
      const t = createTask(stream.readline());
      getRunningLoop().callSoon(() => {
        stream.feedData(b('chunk2 '));
        stream.feedData(b('chunk3 '));
        stream.feedData(b('\n chunk4'));
      });
      expect(str(yield* t)).toBe('chunk1 chunk2 chunk3 \n');
      expect(str(stream._buffer)).toBe(' chunk4');
    });
  });

  it('over the limit with data already buffered: ValueError, the long line is dropped', async () => {
    await withReader(function* (stream) {
      stream.feedData(b('li'));
      stream.feedData(b('ne1\nline2\n'));
      const e = yield* raises(stream.readline());
      expect(e).toBeInstanceOf(ValueError);
      expect((e as Error).message).toBe('Separator is found, but chunk is longer than limit');
      expect(str(stream._buffer)).toBe('line2\n');
    }, 3);
    await withReader(function* (stream) {
      stream.feedData(b('li'));
      stream.feedData(b('ne1'));
      stream.feedData(b('li'));
      const e = yield* raises(stream.readline());
      expect(e).toBeInstanceOf(ValueError);
      expect((e as Error).message).toBe('Separator is not found, and chunk exceed the limit');
      expect(str(stream._buffer)).toBe('');
    }, 3);
  });

  it('over the limit with data arriving later (test_readline_limit)', async () => {
    await withReader(function* (stream) {
      getRunningLoop().callSoon(() => {
        stream.feedData(b('chunk1'));
        stream.feedData(b('chunk2'));
        stream.feedData(b('chunk3\n'));
        stream.feedEof();
      });
      expect(yield* raises(stream.readline())).toBeInstanceOf(ValueError);
      expect(str(stream._buffer)).toBe('');
    }, 7);
    await withReader(function* (stream) {
      getRunningLoop().callSoon(() => {
        stream.feedData(b('chunk1'));
        stream.feedData(b('chunk2\n'));
        stream.feedData(b('chunk3\n'));
        stream.feedEof();
      });
      expect(yield* raises(stream.readline())).toBeInstanceOf(ValueError);
      expect(str(stream._buffer)).toBe('chunk3\n');
    }, 7);
    // The limit is strict: 7 bytes plus the newline fit, 8 do not.
    await withReader(function* (stream) {
      stream.feedData(b('1234567\n'));
      expect(str(yield* stream.readline())).toBe('1234567\n');
      stream.feedData(b('12345678\n'));
      expect(yield* raises(stream.readline())).toBeInstanceOf(ValueError);
      expect(str(stream._buffer)).toBe('');
      stream.feedData(b('12345678'));
      expect(yield* raises(stream.readline())).toBeInstanceOf(ValueError);
      expect(str(stream._buffer)).toBe('');
    }, 7);
  });

  it('reads from the buffer without waiting; then read(n) continues after the line', async () => {
    await withReader(function* (stream) {
      stream.feedData(b(DATA.slice(0, 6)));
      stream.feedData(b(DATA.slice(6)));
      expect(str(yield* stream.readline())).toBe('line1\n');
      expect(str(stream._buffer)).toBe('line2\nline3\n');
      expect(str(yield* stream.read(7))).toBe('line2\nl');
      expect(str(stream._buffer)).toBe('ine3\n');
    });
  });

  it('at EOF returns the partial line, then empty bytes; atEof() follows the buffer', async () => {
    await withReader(function* (stream) {
      expect(stream.atEof()).toBe(false);
      stream.feedData(b('some data\n'));
      expect(stream.atEof()).toBe(false);
      yield* stream.readline();
      expect(stream.atEof()).toBe(false);
      stream.feedData(b('some data'));
      stream.feedEof();
      expect(str(yield* stream.readline())).toBe('some data');
      expect(stream.atEof()).toBe(true);
      expect(str(yield* stream.readline())).toBe('');
    });
  });

  it('a line that is a whole chunk from the transport is that chunk; a part of one is a view; fed data is copied', async () => {
    await withReader(function* (stream) {
      const chunk = b('whole\n');
      stream._feedOwned(chunk);
      expect(yield* stream.readline()).toBe(chunk);
      const two = b('one\ntwo\n');
      stream._feedOwned(two);
      const one = yield* stream.readline();
      expect(str(one)).toBe('one\n');
      expect(one.buffer).toBe(two.buffer);
      expect(str(yield* stream.readline())).toBe('two\n');
      const mine = b('mine\n');
      stream.feedData(mine);
      const line = yield* stream.readline();
      expect(str(line)).toBe('mine\n');
      mine[0] = 0x4d;
      expect(str(line)).toBe('mine\n');
    });
  });

  it('reuses a woken readline waiter only when nobody else saw it (no Future per wait)', async () => {
    await withReader(function* (stream) {
      const loop = getRunningLoop();
      const waits: unknown[] = [];
      const lineSoon = (text: string) =>
        loop.callSoon(() => {
          waits.push(stream._waiter);
          stream.feedData(b(text));
        });
      lineSoon('a\n');
      expect(str(yield* stream.readline())).toBe('a\n');
      lineSoon('b\n');
      expect(str(yield* stream.readline())).toBe('b\n');
      expect(waits[1]).toBe(waits[0]);
      // A waiter someone added a done-callback to is theirs to see: the next wait gets a new one.
      loop.callSoon(() => {
        waits.push(stream._waiter);
        stream._waiter!.addDoneCallback(() => {});
        stream.feedData(b('c\n'));
      });
      expect(str(yield* stream.readline())).toBe('c\n');
      expect(waits[2]).toBe(waits[0]);
      lineSoon('d\n');
      expect(str(yield* stream.readline())).toBe('d\n');
      expect(waits[3]).not.toBe(waits[2]);
      // A cancelled wait is not reused either, and the reader is left without a waiter.
      const t = createTask(stream.readline());
      yield* sleep(0);
      const cancelled = stream._waiter;
      t.cancel();
      yield* gather(t, { returnExceptions: true });
      expect(stream._waiter).toBe(null);
      lineSoon('e\n');
      expect(str(yield* stream.readline())).toBe('e\n');
      expect(waits[4]).not.toBe(cancelled);
      expect((cancelled as { cancelled(): boolean }).cancelled()).toBe(true);
    });
  });

  it('EOF arriving while it waits: the partial line up to the limit, past it ValueError (CPython 3.14)', async () => {
    // CPython 3.14, limit=7: b'abc' -> b'abc'; b'1234567' -> b'1234567'; b'12345678' -> ValueError
    // 'Separator is not found, and chunk exceed the limit'; b'' -> b''. Each time the buffer ends
    // empty, at EOF, and the next readline() returns b''.
    for (const [data, want] of [
      ['abc', 'abc'],
      ['1234567', '1234567'],
      ['12345678', null],
      ['', ''],
    ] as const) {
      await withReader(function* (stream) {
        getRunningLoop().callSoon(() => {
          if (data !== '') stream.feedData(b(data));
          stream.feedEof();
        });
        if (want === null) {
          const e = yield* raises(stream.readline());
          expect(e).toBeInstanceOf(ValueError);
          expect((e as Error).message).toBe('Separator is not found, and chunk exceed the limit');
        } else {
          expect(str(yield* stream.readline())).toBe(want);
          expect(stream.atEof()).toBe(true);
        }
        expect(str(stream._buffer)).toBe('');
        expect(str(yield* stream.readline())).toBe('');
      }, 7);
    }
  });

  it('raises the exception set by setException', async () => {
    await withReader(function* (stream) {
      stream.feedData(b('line\n'));
      expect(str(yield* stream.readline())).toBe('line\n');
      const exc = new ValueError();
      stream.setException(exc);
      expect(yield* raises(stream.readline())).toBe(exc);
      expect(str(stream._buffer)).toBe('');
    });
  });
});

describe('StreamReader: readuntil', () => {
  it('rejects empty separators with ValueError', async () => {
    await withReader(function* (stream) {
      expect(((yield* raises(stream.readuntil(''))) as Error).message).toBe(
        'Separator should be at least one-byte string',
      );
      expect(((yield* raises(stream.readuntil([b('')]))) as Error).message).toBe(
        'Separator should be at least one-byte string',
      );
      expect(((yield* raises(stream.readuntil([]))) as Error).message).toBe(
        'Separator should contain at least one element',
      );
    });
  });

  it('finds multi-byte separators split across chunks', async () => {
    await withReader(function* (stream) {
      stream.feedData(b('lineAAA'));
      expect(str(yield* stream.readuntil('AAA'))).toBe('lineAAA');
      stream.feedData(b('lineAAAxxx'));
      expect(str(yield* stream.readuntil(b('AAA')))).toBe('lineAAA');
      expect(str(stream._buffer)).toBe('xxx');
      yield* stream.read(3);
      for (const chunks of [
        ['QWEaa', 'XYaa', 'a'],
        ['QWEaa', 'XYa', 'aa'],
      ]) {
        for (const c of chunks) stream.feedData(b(c));
        expect(str(yield* stream.readuntil('aaa'))).toBe('QWEaaXYaaa');
        expect(str(stream._buffer)).toBe('');
      }
      stream.feedData(b('XXX'));
      const t = createTask(stream.readuntil('aaa'));
      for (const c of ['a', 'a', 'a']) {
        yield* sleep(0);
        stream.feedData(b(c));
      }
      expect(str(yield* t)).toBe('XXXaaa');
    });
  });

  it('at EOF without the separator: IncompleteReadError with the partial data, buffer emptied', async () => {
    await withReader(function* (stream) {
      stream.feedData(b('some dataAA'));
      stream.feedEof();
      const e = (yield* raises(stream.readuntil('AAA'))) as IncompleteReadError;
      expect(e).toBeInstanceOf(IncompleteReadError);
      expect(e.message).toBe('11 bytes read on a total of undefined expected bytes');
      expect(str(e.partial)).toBe('some dataAA');
      expect(e.expected).toBeNull();
      expect(str(stream._buffer)).toBe('');
    });
  });

  it('past the limit: LimitOverrunError, the data stays buffered', async () => {
    await withReader(function* (stream) {
      stream.feedData(b('some dataAA'));
      const e1 = (yield* raises(stream.readuntil('AAA'))) as LimitOverrunError;
      expect(e1).toBeInstanceOf(LimitOverrunError);
      expect(e1.message).toBe('Separator is not found, and chunk exceed the limit');
      expect(e1.consumed).toBe(9);
      expect(str(stream._buffer)).toBe('some dataAA');
      stream.feedData(b('A'));
      const e2 = (yield* raises(stream.readuntil('AAA'))) as LimitOverrunError;
      expect(e2.message).toBe('Separator is found, but chunk is longer than limit');
      expect(e2.consumed).toBe(9);
      expect(str(stream._buffer)).toBe('some dataAAA');
    }, 3);
  });

  it('a list of separators: the earliest end wins, even for a longer separator', async () => {
    await withReader(function* (stream) {
      stream.feedData(b('line 1\nline 2\r'));
      expect(str(yield* stream.readuntil(['\r', '\n']))).toBe('line 1\n');
      expect(str(yield* stream.readuntil(['\r', '\n']))).toBe('line 2\r');
      stream.feedData(b('ABCDEFG'));
      expect(str(yield* stream.readuntil(['DEF', 'BCDE']))).toBe('ABCDE');
      expect(str(stream._buffer)).toBe('FG');
    });
  });

  it('a list of separators past the limit: LimitOverrunError for the match found', async () => {
    await withReader(function* (stream) {
      stream.feedData(b('some dataA'));
      const e = (yield* raises(stream.readuntil(['A', 'ome dataA']))) as LimitOverrunError;
      expect(e.message).toBe('Separator is found, but chunk is longer than limit');
      expect(str(stream._buffer)).toBe('some dataA');
    }, 3);
  });

  it('the search offset never goes negative (short data, long separator)', async () => {
    await withReader(function* (stream) {
      stream.feedData(b('data'));
      const t = createTask(stream.readuntil(['A', 'long sep']));
      const loop = getRunningLoop();
      loop.callSoon(() => stream.feedData(b('Z')));
      loop.callSoon(() => stream.feedData(b('Aaaa')));
      expect(str(yield* t)).toBe('dataZA');
      expect(str(stream._buffer)).toBe('aaa');
    });
  });

  it('accepts a Uint8Array separator and rejects other types with TypeError', async () => {
    await withReader(function* (stream) {
      stream.feedData(b('some data\r\n'));
      expect(str(yield* stream.readuntil(new Uint8Array([13, 10])))).toBe('some data\r\n');
      expect(() => stream.readuntil(5 as never)).not.toThrow(); // lazy: the error comes when awaited
      expect(yield* raises(stream.readuntil(5 as never))).toBeInstanceOf(TypeError);
    });
  });
});

describe('StreamReader: readexactly', () => {
  it('readexactly(0) is empty; a negative size is a ValueError', async () => {
    await withReader(function* (stream) {
      stream.feedData(b(DATA));
      expect(str(yield* stream.readexactly(0))).toBe('');
      expect(str(stream._buffer)).toBe(DATA);
      const e = yield* raises(stream.readexactly(-1));
      expect(e).toBeInstanceOf(ValueError);
      expect((e as Error).message).toBe('readexactly size can not be less than zero');
      expect(str(stream._buffer)).toBe(DATA);
    });
  });

  it('waits until n bytes are there and leaves the rest', async () => {
    await withReader(function* (stream) {
      const t = createTask(stream.readexactly(2 * DATA.length));
      getRunningLoop().callSoon(() => {
        for (let i = 0; i < 3; i++) stream.feedData(b(DATA));
      });
      expect(str(yield* t)).toBe(DATA + DATA);
      expect(str(stream._buffer)).toBe(DATA);
    });
  });

  it('is not bound by the limit', async () => {
    await withReader(function* (stream) {
      stream.feedData(b('chunk'));
      expect(str(yield* stream.readexactly(5))).toBe('chunk');
    }, 3);
  });

  it('at EOF raises IncompleteReadError with partial and expected', async () => {
    await withReader(function* (stream) {
      const n = 2 * DATA.length;
      const t = createTask(stream.readexactly(n));
      getRunningLoop().callSoon(() => {
        stream.feedData(b(DATA));
        stream.feedEof();
      });
      const e = (yield* raises(t)) as IncompleteReadError;
      expect(e).toBeInstanceOf(IncompleteReadError);
      expect(str(e.partial)).toBe(DATA);
      expect(e.expected).toBe(n);
      expect(String(e)).toBe('IncompleteReadError: 18 bytes read on a total of 36 expected bytes');
      expect(str(stream._buffer)).toBe('');
    });
  });

  it('raises the exception set by setException', async () => {
    await withReader(function* (stream) {
      stream.feedData(b('line\n'));
      expect(str(yield* stream.readexactly(2))).toBe('li');
      stream.setException(new ValueError('x'));
      expect(yield* raises(stream.readexactly(2))).toBeInstanceOf(ValueError);
    });
  });
});

describe('StreamReader: exceptions, waiters, cancellation', () => {
  it('exception() is undefined until setException', async () => {
    await withReader(function* (stream) {
      expect(stream.exception()).toBeUndefined();
      const exc = new ValueError();
      stream.setException(exc);
      expect(stream.exception()).toBe(exc);
    });
  });

  it('setException wakes a waiting reader with the exception', async () => {
    await withReader(function* (stream) {
      const t1 = createTask(stream.readline());
      const t2 = createTask(
        coroutine(function* setErr() {
          stream.setException(new ValueError('late'));
        })(),
      );
      yield* wait([t1, t2]);
      expect(() => t1.result()).toThrow(ValueError);
    });
  });

  it('setException after the waiting task was cancelled does not fail (test_exception_cancel)', async () => {
    await withReader(function* (stream) {
      const t = createTask(stream.readline());
      yield* sleep(0);
      t.cancel();
      yield* sleep(0);
      stream.setException(new RuntimeError('message'));
      yield* sleep(0);
      expect(stream._waiter).toBeNull();
      expect(t.cancelled()).toBe(true);
    });
  });

  it('cancelling a blocked read leaves the stream usable: the data goes to the next read', async () => {
    await withReader(function* (stream) {
      const t = createTask(stream.readexactly(4));
      yield* sleep(0);
      stream.feedData(b('ab'));
      t.cancel();
      expect(yield* raises(t)).toBeInstanceOf(CancelledError);
      expect(stream._waiter).toBeNull();
      stream.feedData(b('cd'));
      expect(str(yield* stream.readexactly(4))).toBe('abcd');
    });
  });

  it('two coroutines waiting for data at once is a RuntimeError', async () => {
    await withReader(function* (stream) {
      const t1 = createTask(stream.read(1));
      yield* sleep(0);
      const e = yield* raises(stream.readline());
      expect(e).toBeInstanceOf(RuntimeError);
      expect((e as Error).message).toBe(
        'readuntil() called while another coroutine is already waiting for incoming data',
      );
      stream.feedData(b('x'));
      expect(str(yield* t1)).toBe('x');
    });
  });
});

describe('StreamReader: async iteration by line', () => {
  it('anext() returns lines, then raises StopAsyncIteration at EOF', async () => {
    await withReader(function* (stream) {
      stream.feedData(b('a\nb\nc'));
      stream.feedEof();
      const it = stream.aiter();
      const lines: string[] = [];
      for (;;) {
        try {
          lines.push(str(yield* it.anext()));
        } catch (e) {
          expect(e).toBeInstanceOf(StopAsyncIteration);
          break;
        }
      }
      expect(lines).toEqual(['a\n', 'b\n', 'c']);
    });
  });

  it('for await works from plain async code while the loop runs', async () => {
    const main = coroutine(function* main() {
      const stream = new StreamReader();
      const loop = getRunningLoop();
      loop.callSoon(() => stream.feedData(b('x\ny\n')));
      loop.callLater(0.01, () => stream.feedEof());
      const lines: string[] = [];
      const consume = async (): Promise<void> => {
        for await (const line of stream) lines.push(str(line));
      };
      yield* fromPromise(consume());
      return lines;
    });
    // Real clock: while a host promise is pending, virtual time does not move.
    expect(await run(main())).toEqual(['x\n', 'y\n']);
  });
});

describe('StreamReader: repr', () => {
  it('matches CPython', async () => {
    await withReader(function* () {
      expect(String(new StreamReader())).toBe('<StreamReader>');
      expect(String(new StreamReader(123))).toBe('<StreamReader limit=123>');
      const s1 = new StreamReader();
      s1.feedEof();
      expect(String(s1)).toBe('<StreamReader eof>');
      const s2 = new StreamReader();
      s2.feedData(b('data'));
      expect(String(s2)).toBe('<StreamReader 4 bytes>');
      const s3 = new StreamReader();
      s3.setException(new RuntimeError());
      expect(String(s3)).toBe('<StreamReader exception=RuntimeError()>');
      const s4 = new StreamReader();
      const t = createTask(s4.read(1));
      yield* sleep(0);
      expect(String(s4)).toMatch(/^<StreamReader waiter=<Future pending[^>]*>>$/);
      t.cancel();
      yield* sleep(0);
      expect(String(s4)).toBe('<StreamReader>');
    });
  });
});

describe('StreamReaderProtocol flow control', () => {
  it('every drain waiter is released by resumeWriting (test_multiple_drain)', async () => {
    const main = coroutine(function* main() {
      const loop = getRunningLoop();
      const protocol = new StreamReaderProtocol(null, null, loop);
      protocol.pauseWriting();
      loop.callLater(0.1, () => protocol.resumeWriting());
      let drained = 0;
      const drainer = coroutine(function* drainer() {
        yield* protocol._drainHelper();
        drained++;
      });
      yield* gather(...Array.from({ length: 10 }, () => drainer()));
      return [drained, loop.time()];
    });
    expect(await runVirtual(main())).toEqual([10, 0.1]);
  });

  /** A StreamWriter over a stand-in transport: drain() reads only isClosing() from it. */
  function writerOn(protocol: StreamReaderProtocol, reader: StreamReader | null, closing = () => false) {
    const transport = { isClosing: closing } as unknown as StreamTransport;
    return new StreamWriter(transport, protocol, reader, getRunningLoop());
  }

  it('drain(): returns at once unless paused; a paused drain waits for resumeWriting, counted as host I/O', async () => {
    const main = coroutine(function* main() {
      const loop = getRunningLoop();
      const protocol = new StreamReaderProtocol(null, null, loop);
      const writer = writerOn(protocol, null);
      const steps: string[] = [];
      yield* writer.drain(); // not paused: no suspension at all
      steps.push(`unpaused ${loop.time()}`);
      protocol.pauseWriting();
      // Its transport's flush is host I/O (the virtual clock must not jump past it).
      protocol._transport = {} as StreamTransport;
      const host0 = loop._hostPending;
      const t = createTask(writer.drain());
      yield* sleep(0);
      steps.push(`waiting ${protocol._drainWaiters.length} ${loop._hostPending - host0}`);
      protocol.resumeWriting();
      yield* t;
      steps.push(`resumed ${protocol._drainWaiters.length} ${loop._hostPending - host0}`);
      // Cancelled while waiting: its waiter is dropped and the host count restored.
      protocol.pauseWriting();
      const t2 = createTask(writer.drain());
      yield* sleep(0);
      steps.push(`waiting ${protocol._drainWaiters.length} ${loop._hostPending - host0}`);
      t2.cancel();
      const [r] = yield* gather(t2, { returnExceptions: true });
      steps.push(
        `cancelled ${r instanceof CancelledError} ${protocol._drainWaiters.length} ${loop._hostPending - host0}`,
      );
      return steps;
    });
    expect(await runVirtual(main())).toEqual([
      'unpaused 0',
      'waiting 1 1',
      'resumed 0 0',
      'waiting 1 1',
      'cancelled true 0 0',
    ]);
  });

  it("drain(): the reader's exception first; on a closing transport one yield, then ConnectionResetError once lost (test_drain_raises)", async () => {
    const main = coroutine(function* main() {
      const loop = getRunningLoop();
      const out: string[] = [];
      const reader = new StreamReader();
      const protocol = new StreamReaderProtocol(reader, null, loop);
      protocol.pauseWriting();
      const exc = new ValueError('boom');
      reader.setException(exc);
      out.push(String((yield* raises(writerOn(protocol, reader).drain())) === exc));
      // Closing, not lost yet: drain() gives connectionLost() one iteration, then returns (not paused).
      const p2 = new StreamReaderProtocol(null, null, loop);
      let ran = false;
      loop.callSoon(() => {
        ran = true;
      });
      yield* writerOn(p2, null, () => true).drain();
      out.push(`yielded ${ran}`);
      // Closing, and connectionLost() comes in that iteration: ConnectionResetError.
      const p3 = new StreamReaderProtocol(null, null, loop);
      loop.callSoon(() => p3.connectionLost(null));
      const e = yield* raises(writerOn(p3, null, () => true).drain());
      out.push(`${(e as Error).name}: ${(e as Error).message}`);
      return out;
    });
    expect(await runVirtual(main())).toEqual([
      'true',
      'yielded true',
      'ConnectionResetError: Connection lost',
    ]);
  });
});
