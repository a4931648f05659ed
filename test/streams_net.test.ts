/**
 * Streams over real sockets on 127.0.0.1 (and Unix sockets in a temp dir): echo, line protocols,
 * errors, server life cycle, back-pressure, TLS and startTls. Ported where CPython has the test
 * (test_streams.py: test_start_server, test_drain_raises, test_async_writer_api_exception_after_close,
 * test_eof_feed_when_closing_writer, test_unhandled_exception, test_unhandled_cancel, test_start_tls,
 * test_start_unix_server, test_open_connection_error, test_wait_closed_on_close).
 * Every test is bounded: a few connections, a few megabytes, a few seconds at most.
 */
import * as net from 'node:net';
import {
  BrokenPipeError,
  ConnectionRefusedError,
  ConnectionResetError,
  coroutine,
  createTask,
  currentTask,
  type ExceptionContext,
  gather,
  getRunningLoop,
  type IncompleteReadError,
  LimitOverrunError,
  run,
  sleep,
  ValueError,
} from 'tsyncio';
import { openConnection, type Server, type StreamReader, type StreamWriter, startServer } from 'tsyncio/node';
import { describe, expect, it } from 'vitest';

const str = (x: Uint8Array): string => Buffer.from(x).toString('latin1');

/** Run `main` on a fresh loop (real clock) recording exception-handler reports. */
async function runNet<T>(
  main: () => Generator<unknown, T, unknown>,
): Promise<{ result: T; reports: ExceptionContext[] }> {
  const reports: ExceptionContext[] = [];
  const wrapped = coroutine(function* wrapped() {
    getRunningLoop().setExceptionHandler((_l, ctx) => {
      reports.push(ctx);
    });
    return yield* main();
  });
  const result = await run(wrapped());
  return { result, reports };
}

function portOf(server: Server): number {
  return (server.sockets[0]!.getsockname() as [string, number])[1];
}

/** The CPython test's handler: echo one line back, then close. */
const echoLine = coroutine(function* handleClient(reader: StreamReader, writer: StreamWriter) {
  const data = yield* reader.readline();
  writer.write(data);
  yield* writer.drain();
  writer.close();
  yield* writer.waitClosed();
});

const lineClient = coroutine(function* client(port: number) {
  const [reader, writer] = yield* openConnection('127.0.0.1', port);
  writer.write('hello world!\n');
  const back = yield* reader.readline();
  writer.close();
  yield* writer.waitClosed();
  return str(back);
});

describe('TCP streams: echo and line protocols', () => {
  it('a coroutine handler and a plain callback handler both serve clients (test_start_server)', async () => {
    const { result, reports } = await runNet(function* () {
      const s1 = yield* startServer(echoLine, '127.0.0.1', 0);
      const m1 = yield* lineClient(portOf(s1));
      s1.close();
      yield* s1.waitClosed();
      const s2 = yield* startServer(
        (r, w) => {
          createTask(echoLine(r, w));
        },
        '127.0.0.1',
        0,
      );
      const m2 = yield* lineClient(portOf(s2));
      s2.close();
      yield* s2.waitClosed();
      return [m1, m2];
    });
    expect(result).toEqual(['hello world!\n', 'hello world!\n']);
    expect(reports).toEqual([]);
  });

  it('many clients echo many messages concurrently; bytes arrive intact and in order', async () => {
    const { result, reports } = await runNet(function* () {
      const handler = coroutine(function* echo(reader: StreamReader, writer: StreamWriter) {
        for (;;) {
          const data = yield* reader.read(4096);
          if (data.length === 0) break;
          writer.write(data);
          yield* writer.drain();
        }
        writer.close();
      });
      const server = yield* startServer(handler, '127.0.0.1', 0);
      const port = portOf(server);
      const client = coroutine(function* client(id: number) {
        const [reader, writer] = yield* openConnection('127.0.0.1', port);
        let got = '';
        for (let i = 0; i < 50; i++) {
          const msg = `client ${id} message ${i}\n`;
          writer.write(msg);
          yield* writer.drain();
          got += str(yield* reader.readline());
        }
        writer.writeEof();
        const rest = yield* reader.read();
        writer.close();
        yield* writer.waitClosed();
        return got.split('\n').length - 1 + rest.length;
      });
      const counts = yield* gather(...Array.from({ length: 10 }, (_, i) => client(i)));
      server.close();
      yield* server.waitClosed();
      return counts;
    });
    expect(result).toEqual(Array(10).fill(50));
    expect(reports).toEqual([]);
  });

  it('readline, readuntil, readexactly and their errors over a socket', async () => {
    const { result } = await runNet(function* () {
      const handler = coroutine(function* send(_r: StreamReader, writer: StreamWriter) {
        writer.write('HELLO\r\nsize:5\r\n12345');
        writer.write(`${'x'.repeat(200)}\n`);
        writer.write('tail');
        yield* writer.drain();
        writer.close();
      });
      const server = yield* startServer(handler, '127.0.0.1', 0);
      const [reader, writer] = yield* openConnection('127.0.0.1', portOf(server), { limit: 100 });
      const log: string[] = [];
      log.push(str(yield* reader.readuntil('\r\n')));
      log.push(str(yield* reader.readuntil(['\r\n', '\n'])));
      log.push(str(yield* reader.readexactly(5)));
      try {
        yield* reader.readline();
      } catch (e) {
        log.push(`${(e as Error).name}: ${(e as Error).message}`);
      }
      try {
        yield* reader.readexactly(10);
      } catch (e) {
        const err = e as IncompleteReadError;
        log.push(`${err.name} partial=${str(err.partial)} expected=${err.expected}`);
      }
      log.push(`eof=${reader.atEof()}`);
      writer.close();
      yield* writer.waitClosed();
      server.close();
      yield* server.waitClosed();
      return log;
    });
    expect(result).toEqual([
      'HELLO\r\n',
      'size:5\r\n',
      '12345',
      'ValueError: Separator is found, but chunk is longer than limit',
      'IncompleteReadError partial=tail expected=10',
      'eof=true',
    ]);
  });

  it('LimitOverrunError from readuntil leaves the data readable', async () => {
    const { result } = await runNet(function* () {
      const handler = coroutine(function* send(_r: StreamReader, writer: StreamWriter) {
        writer.write(`${'a'.repeat(50)}|rest`);
        yield* writer.drain();
        writer.close();
      });
      const server = yield* startServer(handler, '127.0.0.1', 0);
      const [reader, writer] = yield* openConnection('127.0.0.1', portOf(server), { limit: 10 });
      let consumed = -1;
      try {
        yield* reader.readuntil('|');
      } catch (e) {
        expect(e).toBeInstanceOf(LimitOverrunError);
        expect((e as Error).message).toBe('Separator is found, but chunk is longer than limit');
        consumed = (e as LimitOverrunError).consumed;
      }
      const all = str(yield* reader.read());
      writer.close();
      server.close();
      yield* server.waitClosed();
      return [consumed, all];
    });
    expect(result).toEqual([50, `${'a'.repeat(50)}|rest`]);
  });
});

describe('TCP streams: errors', () => {
  it('connection refused is ConnectionRefusedError with errno, raised at the awaiting coroutine', async () => {
    const { result, reports } = await runNet(function* () {
      // A port that was just free: bind, read the port, close.
      const probe = net.createServer();
      yield* (function* () {
        const loop = getRunningLoop();
        const fut = loop.createFuture<void>();
        probe.listen(0, '127.0.0.1', () => loop.callSoonThreadsafe(() => fut.setResult(undefined)));
        loop._hostPending++;
        try {
          yield* fut;
        } finally {
          loop._hostPending--;
        }
      })();
      const port = (probe.address() as net.AddressInfo).port;
      probe.close();
      try {
        yield* openConnection('127.0.0.1', port);
      } catch (e) {
        return [
          e instanceof ConnectionRefusedError,
          (e as Error).message,
          (e as ConnectionRefusedError).errno,
          port,
        ];
      }
      return 'connected?';
    });
    const [isRefused, message, errno, port] = result as [boolean, string, number, number];
    expect(isRefused).toBe(true);
    expect(message).toBe(`[Errno 111] Connect call failed ('127.0.0.1', ${port})`);
    expect(errno).toBe(111);
    expect(reports).toEqual([]);
  });

  it('drain() raises once the peer has closed, instead of spinning (test_drain_raises)', async () => {
    const { result, reports } = await runNet(function* () {
      const server = yield* startServer(
        (_r, w) => {
          w.transport.abort();
        },
        '127.0.0.1',
        0,
      );
      const [, writer] = yield* openConnection('127.0.0.1', portOf(server));
      let writes = 0;
      try {
        for (;;) {
          writer.write('foo\n');
          writes++;
          yield* writer.drain();
        }
      } catch (e) {
        server.close();
        return [(e as Error).constructor.name, writes > 0];
      }
    });
    expect(['ConnectionResetError', 'BrokenPipeError', 'ConnectionAbortedError']).toContain(
      (result as [string])[0],
    );
    expect(reports).toEqual([]);
  });

  it('write + drain after close() raises ConnectionResetError (test_async_writer_api_exception_after_close)', async () => {
    const { result, reports } = await runNet(function* () {
      const server = yield* startServer(echoLine, '127.0.0.1', 0);
      const [reader, writer] = yield* openConnection('127.0.0.1', portOf(server));
      writer.write('ping\n');
      expect(str(yield* reader.readline())).toBe('ping\n');
      writer.close();
      expect(writer.isClosing()).toBe(true);
      try {
        writer.write('data');
        yield* writer.drain();
      } catch (e) {
        server.close();
        yield* server.waitClosed();
        return [e instanceof ConnectionResetError, (e as Error).message];
      }
      return 'no error';
    });
    expect(result).toEqual([true, 'Connection lost']);
    expect(reports).toEqual([]);
  });

  it('after close() and waitClosed(), the reader is at EOF (test_eof_feed_when_closing_writer)', async () => {
    const { result } = await runNet(function* () {
      const server = yield* startServer(echoLine, '127.0.0.1', 0);
      const [reader, writer] = yield* openConnection('127.0.0.1', portOf(server));
      writer.close();
      yield* writer.waitClosed();
      const r = [reader.atEof(), str(yield* reader.read())];
      server.close();
      yield* server.waitClosed();
      return r;
    });
    expect(result).toEqual([true, '']);
  });

  it('a reset by the peer reaches a blocked read as ConnectionResetError', async () => {
    const { result } = await runNet(function* () {
      const server = yield* startServer(
        coroutine(function* resetter(reader: StreamReader, writer: StreamWriter) {
          yield* reader.readline();
          // Unread data in the kernel buffer + close = RST.
          (writer.getExtraInfo('socket') as net.Socket).resetAndDestroy();
        }),
        '127.0.0.1',
        0,
      );
      const [reader, writer] = yield* openConnection('127.0.0.1', portOf(server));
      writer.write('go\n');
      let err: unknown;
      try {
        yield* reader.read(10);
      } catch (e) {
        err = e;
      }
      let drainErr: unknown;
      try {
        yield* writer.drain();
      } catch (e) {
        drainErr = e;
      }
      server.close();
      return [
        (err as Error)?.constructor.name,
        (err as ConnectionResetError)?.errno,
        drainErr === err,
        reader.exception() === err,
      ];
    });
    expect(result).toEqual(['ConnectionResetError', 104, true, true]);
  });

  it('an exception in the client handler is reported, and the connection closed (test_unhandled_exception)', async () => {
    const { result, reports } = await runNet(function* () {
      const server = yield* startServer(
        coroutine(function* handleEcho() {
          throw new ValueError('test');
        }),
        '127.0.0.1',
        0,
      );
      const [reader, writer] = yield* openConnection('127.0.0.1', portOf(server));
      writer.write('test msg');
      yield* writer.drain();
      const rest = yield* reader.read();
      writer.close();
      yield* writer.waitClosed();
      server.close();
      yield* server.waitClosed();
      return rest.length;
    });
    expect(result).toBe(0);
    expect(reports.map((r) => r.message)).toEqual(['Unhandled exception in client_connected_cb']);
    expect(String(reports[0]!.exception)).toBe('ValueError: test');
  });

  it('a handler that cancels itself is not reported (test_unhandled_cancel)', async () => {
    const { reports } = await runNet(function* () {
      const server = yield* startServer(
        coroutine(function* handleEcho(_r: StreamReader, writer: StreamWriter) {
          writer.close();
          currentTask()!.cancel();
          yield* sleep(0);
        }),
        '127.0.0.1',
        0,
      );
      const [reader, writer] = yield* openConnection('127.0.0.1', portOf(server));
      yield* reader.read();
      writer.close();
      yield* writer.waitClosed();
      server.close();
      yield* server.waitClosed();
    });
    expect(reports).toEqual([]);
  });

  it('a connection error set by the protocol fails the reader (test_open_connection_error)', async () => {
    const { result, reports } = await runNet(function* () {
      const server = yield* startServer(echoLine, '127.0.0.1', 0);
      const [reader, writer] = yield* openConnection('127.0.0.1', portOf(server));
      const boom = new BrokenPipeError('boom');
      (writer as unknown as { _protocol: { connectionLost(e: unknown): void } })._protocol.connectionLost(
        boom,
      );
      let got: unknown;
      try {
        yield* reader.read();
      } catch (e) {
        got = e;
      }
      writer.close();
      server.close();
      return got === boom;
    });
    expect(result).toBe(true);
    expect(reports).toEqual([]);
  });
});

describe('TCP streams: writer details', () => {
  it('getExtraInfo gives peername/sockname as [host, port], kept after close; socket is the Node socket', async () => {
    const { result } = await runNet(function* () {
      let serverSide: unknown[] = [];
      const server = yield* startServer(
        (_r, w) => {
          serverSide = [w.getExtraInfo('peername'), w.getExtraInfo('sockname')];
          w.close();
        },
        '127.0.0.1',
        0,
      );
      const port = portOf(server);
      const [reader, writer] = yield* openConnection('127.0.0.1', port);
      yield* reader.read();
      writer.close();
      yield* writer.waitClosed();
      const peer = writer.getExtraInfo('peername') as [string, number];
      const sock = writer.getExtraInfo('sockname') as [string, number];
      server.close();
      yield* server.waitClosed();
      return {
        peer,
        sock,
        serverSide,
        port,
        isSocket: writer.getExtraInfo('socket') instanceof net.Socket,
        missing: writer.getExtraInfo('nope', 'dflt'),
        sslcontext: writer.getExtraInfo('sslcontext'),
        canWriteEof: writer.canWriteEof(),
      };
    });
    expect(result.peer).toEqual(['127.0.0.1', result.port]);
    expect(result.sock[0]).toBe('127.0.0.1');
    expect(result.serverSide).toEqual([result.sock, ['127.0.0.1', result.port]]);
    expect(result.isSocket).toBe(true);
    expect(result.missing).toBe('dflt');
    expect(result.sslcontext).toBeUndefined();
    expect(result.canWriteEof).toBe(true);
  });

  it('write() takes Uint8Array or string; anything else is a TypeError; write after writeEof is a RuntimeError', async () => {
    const { result } = await runNet(function* () {
      const got: string[] = [];
      const server = yield* startServer(
        coroutine(function* collect(reader: StreamReader, writer: StreamWriter) {
          got.push(str(yield* reader.read()));
          writer.close();
        }),
        '127.0.0.1',
        0,
      );
      const [reader, writer] = yield* openConnection('127.0.0.1', portOf(server));
      writer.write(new Uint8Array([104, 105]));
      writer.write(' there ');
      writer.writelines(['a', Buffer.from('b'), 'c']);
      const errors: string[] = [];
      try {
        writer.write(42 as never);
      } catch (e) {
        errors.push(`${(e as Error).name}: ${(e as Error).message}`);
      }
      writer.writeEof();
      try {
        writer.write('late');
      } catch (e) {
        errors.push(`${(e as Error).name}: ${(e as Error).message}`);
      }
      yield* reader.read();
      writer.close();
      yield* writer.waitClosed();
      server.close();
      yield* server.waitClosed();
      return { got, errors };
    });
    expect(result.got).toEqual(['hi there abc']);
    expect(result.errors).toEqual([
      "TypeError: data argument must be a bytes-like object (Uint8Array) or str, not 'number'",
      'RuntimeError: Cannot call write() after write_eof()',
    ]);
  });

  it('StreamWriter is an async context manager: aexit closes and waits', async () => {
    const { result } = await runNet(function* () {
      const server = yield* startServer(echoLine, '127.0.0.1', 0);
      const [reader, writer] = yield* openConnection('127.0.0.1', portOf(server));
      const w = yield* writer.aenter();
      w.write('ctx\n');
      const line = str(yield* reader.readline());
      yield* writer.aexit();
      server.close();
      yield* server.waitClosed();
      return [line, writer.isClosing(), w === writer];
    });
    expect(result).toEqual(['ctx\n', true, true]);
  });
});
