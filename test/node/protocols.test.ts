/**
 * The loop's transport/protocol API over real sockets on 127.0.0.1, Unix sockets, UDP, pipes and child
 * processes. Ported from CPython 3.14's test_events.py (EventLoopTestsMixin: test_create_connection*,
 * test_create_server*, test_create_unix_*, test_create_datagram_endpoint*, test_read_pipe,
 * test_write_pipe*, test_subprocess_*), test_base_events.py (the argument checks of create_connection,
 * create_server, create_datagram_endpoint) and test_sendfile.py (the fallback path). The protocols keep
 * CPython's state-machine assertions (MyProto, MyDatagramProto, MyReadPipeProto, MySubprocessProtocol):
 * connectionMade once and first, no data after EOF, connectionLost last.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import {
  ConnectionRefusedError,
  ContextVar,
  coroutine,
  type EventLoop,
  type ExceptionContext,
  ExceptionGroup,
  type Future,
  getRunningLoop,
  type Instruction,
  logger,
  NotImplementedError,
  OSError,
  ProcessLookupError,
  RuntimeError,
  run,
  sleep,
  ValueError,
} from 'tsyncio';
import {
  type AddrInfo,
  BaseTransport,
  BufferedProtocol,
  DatagramProtocol,
  DatagramTransport,
  openConnection,
  Protocol,
  ReadTransport,
  type Server,
  STDOUT,
  SubprocessProtocol,
  type SubprocessTransport,
  Transport,
  WriteTransport,
} from 'tsyncio/node';
import { afterAll, describe, expect, expectTypeOf, it } from 'vitest';

const str = (x: Uint8Array): string => Buffer.from(x).toString('latin1');

async function runNet<T>(
  main: (loop: EventLoop) => Generator<Instruction, T, unknown>,
): Promise<{ result: T; reports: ExceptionContext[] }> {
  const reports: ExceptionContext[] = [];
  const wrapped = coroutine(function* wrapped() {
    const loop = getRunningLoop();
    loop.setExceptionHandler((_l, ctx) => {
      reports.push(ctx);
    });
    return yield* main(loop);
  });
  const result = await run(wrapped());
  return { result, reports };
}

function* raisesGen(
  fn: () =>
    | Generator<Instruction, unknown, unknown>
    | PromiseLike<unknown>
    | { [Symbol.iterator](): Iterator<unknown> },
): Generator<Instruction, unknown, unknown> {
  try {
    yield* fn() as Iterable<unknown> as Generator<Instruction, unknown, unknown>;
  } catch (e) {
    return e;
  }
  throw new Error('did not raise');
}

function portOf(server: Server): number {
  return (server.sockets[0]!.getsockname() as [string, number])[1];
}

/** CPython's MyBaseProto: a TCP protocol asserting the state machine. */
class MyProto extends Protocol {
  transport: Transport | null = null;
  state = 'INITIAL';
  nbytes = 0;
  data: Buffer[] = [];
  connected: Future<void>;
  done: Future<void>;
  lostWith: unknown = undefined;
  constructor(
    loop: EventLoop,
    readonly greeting: string | null = 'GET / HTTP/1.0\r\nHost: example.com\r\n\r\n',
  ) {
    super();
    this.connected = loop.createFuture();
    this.done = loop.createFuture();
  }
  override connectionMade(transport: Transport): void {
    this.transport = transport;
    expect(this.state).toBe('INITIAL');
    this.state = 'CONNECTED';
    this.connected.setResult(undefined);
    if (this.greeting !== null) transport.write(this.greeting);
  }
  override dataReceived(data: Buffer): void {
    expect(this.state).toBe('CONNECTED');
    this.nbytes += data.length;
    this.data.push(data);
  }
  override eofReceived(): undefined {
    expect(this.state).toBe('CONNECTED');
    this.state = 'EOF';
    return undefined;
  }
  override connectionLost(exc: unknown): void {
    expect(['CONNECTED', 'EOF']).toContain(this.state);
    this.state = 'CLOSED';
    this.lostWith = exc;
    this.done.setResult(undefined);
  }
}

/** A server protocol that answers each chunk with "resp:" + chunk (the test server of test_events). */
class EchoProto extends Protocol {
  transport: Transport | null = null;
  override connectionMade(transport: Transport): void {
    this.transport = transport;
  }
  override dataReceived(data: Buffer): void {
    this.transport!.write(Buffer.concat([Buffer.from('resp:'), data]));
  }
}

function* echoServer(loop: EventLoop): Generator<Instruction, Server, unknown> {
  return yield* loop.createServer(() => new EchoProto(), '127.0.0.1', 0);
}

function* waitFor(cond: () => boolean, what: string): Generator<Instruction, void, unknown> {
  for (let i = 0; i < 500; i++) {
    if (cond()) return;
    yield* sleep(0.01);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('Protocol and Transport base classes (protocols.py, transports.py)', () => {
  it('every default callback does nothing; the abstract transport methods raise NotImplementedError', () => {
    const p = new Protocol();
    expect(p.connectionMade(new Transport())).toBeUndefined();
    expect(p.dataReceived(Buffer.from('x'))).toBeUndefined();
    expect(p.eofReceived()).toBeUndefined();
    expect(p.connectionLost(null)).toBeUndefined();
    const d = new DatagramProtocol();
    expect(d.datagramReceived(Buffer.from('x'), ['127.0.0.1', 1])).toBeUndefined();
    expect(d.errorReceived(new OSError())).toBeUndefined();
    const s = new SubprocessProtocol();
    expect(s.pipeDataReceived(1, Buffer.from('x'))).toBeUndefined();
    expect(s.processExited()).toBeUndefined();
    // test_transports.py: test_not_implemented, test_get_extra_info, test_writelines
    const t = new Transport({ extra: 'info' });
    expect(t.getExtraInfo('extra')).toBe('info');
    expect(t.getExtraInfo('unknown', 'default')).toBe('default');
    for (const f of [
      () => t.isClosing(),
      () => t.close(),
      () => t.pauseReading(),
      () => t.resumeReading(),
      () => t.isReading(),
      () => t.write('x'),
      () => t.writeEof(),
      () => t.canWriteEof(),
      () => t.abort(),
      () => t.getWriteBufferSize(),
      () => t.getProtocol(),
    ]) {
      expect(f).toThrow(NotImplementedError);
    }
    const written: Uint8Array[] = [];
    t.write = (d: Uint8Array | string) => {
      written.push(d as Uint8Array);
    };
    t.writelines([Buffer.from('line1'), Buffer.from('line2'), 'line3']);
    expect(written.map(str)).toEqual(['line1line2line3']);
    expect(() => new DatagramTransport().sendto('x')).toThrow(NotImplementedError);
    // Transport is both a ReadTransport and a WriteTransport, as in Python.
    expect(t).toBeInstanceOf(ReadTransport);
    expect(t).toBeInstanceOf(WriteTransport);
    expect(t).toBeInstanceOf(BaseTransport);
    expect(new WriteTransport()).not.toBeInstanceOf(ReadTransport);
  });
});

describe('loop.createConnection / createServer (test_events.py)', () => {
  it('test_create_connection: MyProto talks to a server; the state machine ends CLOSED', async () => {
    const { result } = await runNet(function* (loop) {
      const server = yield* echoServer(loop);
      const [tr, pr] = yield* loop.createConnection(() => new MyProto(loop), '127.0.0.1', portOf(server));
      expect(tr).toBeInstanceOf(Transport);
      expect(pr).toBeInstanceOf(Protocol);
      yield* waitFor(() => pr.nbytes >= 5 + 37, 'the response');
      tr.close();
      yield* pr.done;
      server.close();
      yield* server.waitClosed();
      return [pr.state, str(Buffer.concat(pr.data))];
    });
    expect(result).toEqual(['CLOSED', 'resp:GET / HTTP/1.0\r\nHost: example.com\r\n\r\n']);
  });

  it('test_create_connection_sock: an already connected Node socket', async () => {
    const { result } = await runNet(function* (loop) {
      const server = yield* echoServer(loop);
      const sock = net.connect({ host: '127.0.0.1', port: portOf(server) });
      const [tr, pr] = yield* loop.createConnection(() => new MyProto(loop), null, null, { sock });
      expect(tr.getExtraInfo('socket')).toBe(sock);
      yield* waitFor(() => pr.nbytes > 0, 'data');
      tr.close();
      yield* pr.done;
      server.close();
      return pr.state;
    });
    expect(result).toBe('CLOSED');
  });

  it('test_create_connection_local_addr, and local_addr in use is OSError EADDRINUSE', async () => {
    const { result } = await runNet(function* (loop) {
      const server = yield* echoServer(loop);
      const port = portOf(server);
      // A free local port: bind, read it, release.
      const probe = yield* loop.createServer(() => new Protocol(), '127.0.0.1', 0);
      const localPort = portOf(probe);
      probe.close();
      yield* probe.waitClosed();
      const [tr, pr] = yield* loop.createConnection(() => new MyProto(loop, null), '127.0.0.1', port, {
        localAddr: ['127.0.0.1', localPort],
      });
      expect(tr.getExtraInfo('sockname')).toEqual(['127.0.0.1', localPort]);
      // test_create_connection_local_addr_in_use: the listening server's own port.
      const err = (yield* raisesGen(() =>
        loop.createConnection(() => new MyProto(loop, null), '127.0.0.1', port, {
          localAddr: ['127.0.0.1', port],
        }),
      )) as OSError;
      tr.close();
      yield* pr.done;
      server.close();
      return [err instanceof OSError, err.errno, err.message.includes(String(port))];
    });
    expect(result).toEqual([true, 98, true]);
  });

  it('test_create_connection_local_addr_nomatch_family: an IPv6 local address for an IPv4 peer', async () => {
    const { result } = await runNet(function* (loop) {
      const server = yield* echoServer(loop);
      const e = (yield* raisesGen(() =>
        loop.createConnection(() => new Protocol(), '127.0.0.1', portOf(server), { localAddr: ['::1', 0] }),
      )) as OSError;
      server.close();
      return [e instanceof OSError, e.message];
    });
    expect(result).toEqual([true, 'no matching local address with family=<AddressFamily.AF_INET: 2> found']);
  });

  it('connection refused is ConnectionRefusedError with errno (test_create_connection_refused-ish)', async () => {
    const { result } = await runNet(function* (loop) {
      const probe = yield* loop.createServer(() => new Protocol(), '127.0.0.1', 0);
      const port = portOf(probe);
      probe.close();
      yield* probe.waitClosed();
      const err = (yield* raisesGen(() =>
        loop.createConnection(() => new Protocol(), '127.0.0.1', port),
      )) as OSError;
      return [err instanceof ConnectionRefusedError, err.errno, err.message];
    });
    expect(result).toEqual([
      true,
      111,
      `[Errno 111] Connect call failed ('127.0.0.1', ${(result[2] as string).match(/(\d+)\)$/)![1]})`,
    ]);
  });

  it('test_create_server: the server protocol sees the bytes, extra info, EOF and connectionLost', async () => {
    const { result } = await runNet(function* (loop) {
      const protos: MyProto[] = [];
      const server = yield* loop.createServer(
        () => {
          const p = new MyProto(loop, null);
          protos.push(p);
          return p;
        },
        '127.0.0.1',
        0,
      );
      const port = portOf(server);
      const client = net.connect({ host: '127.0.0.1', port });
      client.write('xxx');
      yield* waitFor(() => protos.length === 1 && protos[0]!.nbytes === 3, 'three bytes');
      const proto = protos[0]!;
      const tr = proto.transport!;
      const sockname = tr.getExtraInfo('sockname');
      const peername = tr.getExtraInfo('peername') as [string, number];
      client.write('yyy');
      yield* waitFor(() => proto.nbytes === 6, 'six bytes');
      client.end();
      yield* proto.done;
      client.destroy();
      server.close();
      yield* server.waitClosed();
      return [proto.state, sockname, peername[0], tr.isClosing()];
    });
    expect(result[0]).toBe('CLOSED');
    expect(result[1]).toEqual(['127.0.0.1', expect.any(Number)]);
    expect(result[2]).toBe('127.0.0.1');
    expect(result[3]).toBe(true);
  });

  it("protocol callbacks run in the transport's context: a ContextVar set in dataReceived is seen by the next one (CPython's reader handle)", async () => {
    // CPython 3.11 (real sockets), the same program: the server's callbacks start from the context it was
    // created in ('main'), the client's from the task that connected ('client-task'); what dataReceived
    // sets is still set at the next dataReceived, eofReceived and connectionLost:
    //   server data 1 main / client data 1 client-task / server data 2 server-data1 /
    //   client data 2 client-data1 / server eof server-data2 / server lost server-data2
    const v = new ContextVar<string>('v', { default: 'unset' });
    const seen: string[] = [];
    class P extends Protocol {
      n = 0;
      transport: Transport | null = null;
      constructor(readonly name: string) {
        super();
      }
      override connectionMade(t: Transport): void {
        this.transport = t;
      }
      override dataReceived(d: Buffer): void {
        this.n++;
        seen.push(`${this.name} data ${this.n} ${v.get()}`);
        v.set(`${this.name}-data${this.n}`);
        if (this.name === 'server') this.transport!.write(d);
      }
      override eofReceived(): undefined {
        seen.push(`${this.name} eof ${v.get()}`);
        return undefined;
      }
      override connectionLost(): void {
        seen.push(`${this.name} lost ${v.get()}`);
      }
    }
    await runNet(function* (loop) {
      v.set('main');
      const server = yield* loop.createServer(() => new P('server'), '127.0.0.1', 0);
      v.set('client-task');
      const [t, p] = yield* loop.createConnection(() => new P('client'), '127.0.0.1', portOf(server));
      t.write('x');
      yield* waitFor(() => p.n === 1, 'the first echo');
      t.write('y');
      yield* waitFor(() => p.n === 2, 'the second echo');
      t.writeEof();
      yield* waitFor(() => seen.includes('client lost client-data2'), 'both ends closed');
      server.close();
      yield* server.waitClosed();
    });
    expect(seen).toEqual([
      'server data 1 main',
      'client data 1 client-task',
      'server data 2 server-data1',
      'client data 2 client-data1',
      'server eof server-data2',
      'server lost server-data2',
      'client eof client-data2',
      'client lost client-data2',
    ]);
  });

  it("test_create_server_addr_in_use: OSError EADDRINUSE with CPython's message", async () => {
    const { result } = await runNet(function* (loop) {
      const server = yield* loop.createServer(() => new Protocol(), '127.0.0.1', 0);
      const port = portOf(server);
      const err = (yield* raisesGen(() =>
        loop.createServer(() => new Protocol(), '127.0.0.1', port),
      )) as OSError;
      server.close();
      return [err.errno, err.message];
    });
    expect(result[0]).toBe(98);
    expect(result[1]).toMatch(
      /^\[Errno 98\] error while attempting to bind on address \('127\.0\.0\.1', \d+\): \[errno 98\] address already in use$/,
    );
  });

  it('test_create_server_sock, test_server_close: a listening Node server; closed, it refuses', async () => {
    const { result } = await runNet(function* (loop) {
      const sock = net.createServer();
      sock.listen(0, '127.0.0.1');
      const server = yield* loop.createServer(() => new MyProto(loop, null), null, null, { sock });
      const port = portOf(server);
      const [tr, pr] = yield* loop.createConnection(() => new MyProto(loop, 'x'), '127.0.0.1', port);
      tr.close();
      yield* pr.done;
      server.close();
      yield* server.waitClosed();
      const err = yield* raisesGen(() => loop.createConnection(() => new Protocol(), '127.0.0.1', port));
      return err instanceof ConnectionRefusedError;
    });
    expect(result).toBe(true);
  });

  it("reusePort: two servers share a port where Node supports it, else CPython's ValueError (test_create_server_reuse_port)", async () => {
    const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
    const supported = major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
    const { result } = await runNet(function* (loop) {
      if (!supported) {
        const e = (yield* raisesGen(() =>
          loop.createServer(() => new Protocol(), '127.0.0.1', 0, { reusePort: true }),
        )) as Error;
        const u = (yield* raisesGen(() =>
          loop.createDatagramEndpoint(() => new DatagramProtocol(), {
            localAddr: ['127.0.0.1', 0],
            reusePort: true,
          }),
        )) as Error;
        return [`${e.constructor.name}: ${e.message}`, `${u.constructor.name}: ${u.message}`];
      }
      const a = yield* loop.createServer(() => new Protocol(), '127.0.0.1', 0, { reusePort: true });
      const b = yield* loop.createServer(() => new Protocol(), '127.0.0.1', portOf(a), { reusePort: true });
      const same = portOf(a) === portOf(b);
      a.close();
      b.close();
      return [same];
    });
    if (supported) expect(result).toEqual([true]);
    else
      expect(result).toEqual([
        'ValueError: reuse_port not supported by socket module',
        'ValueError: reuse_port not supported by socket module',
      ]);
  });

  it('test_connect_accepted_socket: a protocol on a socket accepted by a plain Node server', async () => {
    const { result } = await runNet(function* (loop) {
      const accepted: net.Socket[] = [];
      const raw = net.createServer((sock) => accepted.push(sock));
      yield* loop._wrapHostPromise(new Promise<void>((r) => raw.listen(0, '127.0.0.1', r)));
      const port = (raw.address() as net.AddressInfo).port;
      const [tr, pr] = yield* loop.createConnection(() => new MyProto(loop, 'hello'), '127.0.0.1', port);
      yield* waitFor(() => accepted.length === 1, 'the accept');
      const [str_, sp] = yield* loop.connectAcceptedSocket(() => new EchoProto(), accepted[0]!);
      yield* waitFor(() => pr.nbytes === 10, 'the reply');
      const extra = str_.getExtraInfo('peername');
      tr.close();
      yield* pr.done;
      raw.close();
      const e = (yield* raisesGen(() =>
        loop.connectAcceptedSocket(() => new Protocol(), new net.Socket(), { sslHandshakeTimeout: 1 }),
      )) as Error;
      return [str(Buffer.concat(pr.data)), sp instanceof EchoProto, Array.isArray(extra), e.message];
    });
    expect(result).toEqual(['resp:hello', true, true, 'ssl_handshake_timeout is only meaningful with ssl']);
  });

  it('argument checks of create_connection / create_server (test_base_events.py)', async () => {
    const { result } = await runNet(function* (loop) {
      const msgs: string[] = [];
      const check = function* (fn: () => Generator<Instruction, unknown, unknown> | Iterable<unknown>) {
        const e = (yield* raisesGen(fn as never)) as Error;
        msgs.push(`${e.constructor.name}: ${e.message}`);
      };
      const sock = new net.Socket();
      // test_create_connection_host_port_sock / test_create_connection_no_host_port_sock
      yield* check(() => loop.createConnection(() => new Protocol(), 'host', 80, { sock }));
      yield* check(() => loop.createConnection(() => new Protocol(), null, null));
      // test_create_connection_wrong_sock
      yield* check(() => loop.createConnection(() => new Protocol(), null, null, { sock: {} as net.Socket }));
      // test_create_server_host_port_sock / test_create_server_no_host_port_sock
      yield* check(() =>
        loop.createServer(() => new Protocol(), '127.0.0.1', 0, { sock: net.createServer() }),
      );
      yield* check(() => loop.createServer(() => new Protocol()));
      // test_create_connection_ssl_server_hostname_errors (server_hostname without ssl)
      yield* check(() =>
        loop.createConnection(() => new Protocol(), '127.0.0.1', 1, { serverHostname: 'x' }),
      );
      yield* check(() =>
        loop.createConnection(() => new Protocol(), '127.0.0.1', 1, { sslHandshakeTimeout: 1 }),
      );
      return msgs;
    });
    expect(result).toEqual([
      'ValueError: host/port and sock can not be specified at the same time',
      'ValueError: host and port was not specified and no sock specified',
      'ValueError: A Stream Socket was expected, got {}',
      'ValueError: host/port and sock can not be specified at the same time',
      'ValueError: Neither host/port nor sock were specified',
      'ValueError: server_hostname is only meaningful with ssl',
      'ValueError: ssl_handshake_timeout is only meaningful with ssl',
    ]);
  });

  it('writes after close() are dropped; the fifth logs "socket.send() raised exception." (CPython)', async () => {
    const logged: string[] = [];
    const sink = logger.sink;
    logger.sink = (_level, message) => logged.push(message);
    try {
      const { result } = await runNet(function* (loop) {
        const got: Buffer[] = [];
        const lost = loop.createFuture<void>();
        const server = yield* loop.createServer(
          () =>
            new (class extends Protocol {
              override dataReceived(d: Buffer): void {
                got.push(d);
              }
              override connectionLost(): void {
                lost.setResult(undefined);
              }
            })(),
          '127.0.0.1',
          0,
        );
        const [tr, pr] = yield* loop.createConnection(
          () => new MyProto(loop, 'before'),
          '127.0.0.1',
          portOf(server),
        );
        tr.close();
        const counts: number[] = [];
        for (let i = 0; i < 5; i++) {
          tr.write('after');
          counts.push(logged.length);
        }
        yield* pr.done;
        yield* lost;
        server.close();
        return [str(Buffer.concat(got)), counts];
      });
      expect(result).toEqual(['before', [0, 0, 0, 0, 1]]);
      expect(logged).toEqual(['socket.send() raised exception.']);
    } finally {
      logger.sink = sink;
    }
  });

  it('a protocol that raises in dataReceived: reported, transport closed, connectionLost still last', async () => {
    const { result, reports } = await runNet(function* (loop) {
      const server = yield* echoServer(loop);
      class Bad extends MyProto {
        override dataReceived(data: Buffer): void {
          super.dataReceived(data);
          throw new ValueError('boom');
        }
      }
      const [, pr] = yield* loop.createConnection(() => new Bad(loop), '127.0.0.1', portOf(server));
      yield* pr.done;
      server.close();
      return [pr.state, (pr.lostWith as Error).message];
    });
    expect(result).toEqual(['CLOSED', 'boom']);
    expect(reports.map((r) => r.message)).toEqual(['Fatal error: protocol.data_received() call failed.']);
  });
});

describe('BufferedProtocol', () => {
  it('getBuffer/bufferUpdated receive every byte, in buffers the protocol owns (test_buffered_proto)', async () => {
    const { result } = await runNet(function* (loop) {
      const payload = Buffer.alloc(200_000);
      for (let i = 0; i < payload.length; i++) payload[i] = i % 251;
      const server = yield* loop.createServer(
        () =>
          new (class extends Protocol {
            override connectionMade(t: Transport): void {
              t.write(payload);
              t.close();
            }
          })(),
        '127.0.0.1',
        0,
      );
      const got: Buffer[] = [];
      const sizes = new Set<number>();
      const done = loop.createFuture<void>();
      class Buffered extends BufferedProtocol {
        buf = new Uint8Array(1000);
        override getBuffer(sizehint: number): Uint8Array {
          expect(sizehint).toBe(-1);
          return this.buf;
        }
        override bufferUpdated(n: number): void {
          sizes.add(n);
          got.push(Buffer.from(this.buf.subarray(0, n)));
        }
        override connectionLost(): void {
          done.setResult(undefined);
        }
      }
      yield* loop.createConnection(() => new Buffered(), '127.0.0.1', portOf(server));
      yield* done;
      server.close();
      return [Buffer.concat(got).equals(payload), Math.max(...sizes) <= 1000];
    });
    expect(result).toEqual([true, true]);
  });

  it('an empty buffer from getBuffer is a fatal error, as CPython', async () => {
    const { result, reports } = await runNet(function* (loop) {
      const server = yield* echoServer(loop);
      const lost = loop.createFuture<unknown>();
      class Empty extends BufferedProtocol {
        override connectionMade(t: Transport): void {
          t.write('hi');
        }
        override getBuffer(): Uint8Array {
          return new Uint8Array(0);
        }
        override connectionLost(exc: unknown): void {
          lost.setResult(exc);
        }
      }
      yield* loop.createConnection(() => new Empty(), '127.0.0.1', portOf(server));
      const exc = (yield* lost) as Error;
      server.close();
      return exc.message;
    });
    expect(result).toBe('get_buffer() returned an empty buffer');
    expect(reports[0]!.message).toBe('Fatal error: protocol.get_buffer() call failed.');
  });
});

describe('back-pressure through TCP', () => {
  it('a fast writer against a reader that pauses: pauseWriting, then resumeWriting once it reads again', async () => {
    const { result } = await runNet(function* (loop) {
      const events: string[] = [];
      let serverTransport: Transport | null = null;
      let received = 0;
      const server = yield* loop.createServer(
        () =>
          new (class extends Protocol {
            override connectionMade(t: Transport): void {
              serverTransport = t;
              t.pauseReading();
            }
            override dataReceived(d: Buffer): void {
              received += d.length;
            }
          })(),
        '127.0.0.1',
        0,
      );
      const resumed = loop.createFuture<void>();
      class Writer extends Protocol {
        override pauseWriting(): void {
          events.push('pause');
        }
        override resumeWriting(): void {
          events.push('resume');
          if (!resumed.done()) resumed.setResult(undefined);
        }
      }
      const [tr] = yield* loop.createConnection(() => new Writer(), '127.0.0.1', portOf(server));
      const chunk = Buffer.alloc(64 * 1024, 1);
      let sent = 0;
      while (!events.includes('pause') && sent < 64 * 1024 * 1024) {
        tr.write(chunk);
        sent += chunk.length;
        yield* sleep(0);
      }
      expect(events).toEqual(['pause']);
      expect(tr.getWriteBufferSize()).toBeGreaterThan(tr.getWriteBufferLimits()[1]);
      expect(serverTransport!.isReading()).toBe(false);
      serverTransport!.resumeReading();
      yield* resumed;
      yield* waitFor(() => received === sent, 'all bytes');
      tr.close();
      server.close();
      return [events, received === sent];
    });
    expect(result).toEqual([['pause', 'resume'], true]);
  });

  it('setWriteBufferLimits checks its arguments (test_set_write_buffer_limits)', async () => {
    const { result } = await runNet(function* (loop) {
      const server = yield* echoServer(loop);
      const [tr] = yield* loop.createConnection(() => new Protocol(), '127.0.0.1', portOf(server));
      tr.setWriteBufferLimits(128);
      const a = tr.getWriteBufferLimits();
      tr.setWriteBufferLimits(null, 100);
      const b = tr.getWriteBufferLimits();
      let msg = '';
      try {
        tr.setWriteBufferLimits(0, 1);
      } catch (e) {
        msg = `${(e as Error).constructor.name}: ${(e as Error).message}`;
      }
      tr.close();
      server.close();
      return [a, b, msg];
    });
    expect(result).toEqual([[32, 128], [100, 400], 'ValueError: high (0) must be >= low (1) must be >= 0']);
  });
});

const dir = mkdtempSync(join(tmpdir(), 'tsyncio-proto-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Unix sockets (test_create_unix_server, test_create_unix_connection)', () => {
  it('a protocol server and client over a Unix socket; peername/sockname are paths', async () => {
    const path = join(dir, 'u.sock');
    const { result } = await runNet(function* (loop) {
      const server = yield* loop.createUnixServer(() => new EchoProto(), path);
      const [tr, pr] = yield* loop.createUnixConnection(() => new MyProto(loop, 'hello'), path);
      yield* waitFor(() => pr.nbytes === 10, 'the response');
      const peer = tr.getExtraInfo('peername');
      tr.close();
      yield* pr.done;
      server.close();
      yield* server.waitClosed();
      return [str(Buffer.concat(pr.data)), peer, pr.state];
    });
    expect(result).toEqual(['resp:hello', path, 'CLOSED']);
  });
});

/** CPython's MyDatagramProto. */
class MyDatagramProto extends DatagramProtocol {
  state = 'INITIAL';
  nbytes = 0;
  transport: DatagramTransport | null = null;
  done: Future<void>;
  received: [string, unknown][] = [];
  errors: unknown[] = [];
  constructor(
    loop: EventLoop,
    readonly echo = false,
  ) {
    super();
    this.done = loop.createFuture();
  }
  override connectionMade(transport: DatagramTransport): void {
    this.transport = transport;
    expect(this.state).toBe('INITIAL');
    this.state = 'INITIALIZED';
  }
  override datagramReceived(data: Buffer, addr: unknown): void {
    expect(this.state).toBe('INITIALIZED');
    this.nbytes += data.length;
    this.received.push([str(data), addr]);
    if (this.echo)
      this.transport!.sendto(Buffer.concat([Buffer.from('resp:'), data]), addr as [string, number]);
  }
  override errorReceived(exc: unknown): void {
    expect(this.state).toBe('INITIALIZED');
    this.errors.push(exc);
  }
  override connectionLost(_exc: unknown): void {
    expect(this.state).toBe('INITIALIZED');
    this.state = 'CLOSED';
    this.done.setResult(undefined);
  }
}

describe('loop.createDatagramEndpoint (UDP)', () => {
  it('test_create_datagram_endpoint: an echo server and a connected client', async () => {
    const { result } = await runNet(function* (loop) {
      const [stransport, server] = yield* loop.createDatagramEndpoint(() => new MyDatagramProto(loop, true), {
        localAddr: ['127.0.0.1', 0],
      });
      const host = stransport.getExtraInfo('sockname') as [string, number];
      const [transport, client] = yield* loop.createDatagramEndpoint(() => new MyDatagramProto(loop), {
        remoteAddr: host,
      });
      expect(transport.getExtraInfo('peername')).toEqual(host);
      transport.sendto(Buffer.from('xxx'));
      yield* waitFor(() => server.nbytes > 0, 'the server');
      yield* waitFor(() => client.nbytes > 0, 'the client');
      // A connected transport refuses another address (CPython's message).
      let msg = '';
      try {
        transport.sendto('x', ['127.0.0.2', 9]);
      } catch (e) {
        msg = `${(e as Error).constructor.name}: ${(e as Error).message}`;
      }
      transport.close();
      yield* client.done;
      stransport.close();
      yield* server.done;
      return [server.nbytes, client.nbytes, client.received[0]![0], msg, client.state, server.state];
    });
    expect(result).toEqual([
      3,
      8,
      'resp:xxx',
      expect.stringMatching(/^ValueError: Invalid address: must be None or \('127\.0\.0\.1', \d+\)$/),
      'CLOSED',
      'CLOSED',
    ]);
  });

  it("datagramReceived runs in the transport's context: what it sets is seen by the next one (CPython's reader handle)", async () => {
    // CPython 3.11 (real sockets), the same program: server dgram 1 server-task / client dgram 1
    // client-task / server dgram 2 server-1 / client dgram 2 client-1 / client lost client-task /
    // server lost client-task (close() schedules connection_lost from the calling task's context).
    const v = new ContextVar<string>('v', { default: 'unset' });
    const seen: string[] = [];
    class P extends DatagramProtocol {
      n = 0;
      transport: DatagramTransport | null = null;
      constructor(readonly name: string) {
        super();
      }
      override connectionMade(t: DatagramTransport): void {
        this.transport = t;
      }
      override datagramReceived(d: Buffer, addr: unknown): void {
        this.n++;
        seen.push(`${this.name} dgram ${this.n} ${v.get()}`);
        v.set(`${this.name}-${this.n}`);
        if (this.name === 'server') this.transport!.sendto(d, addr as [string, number]);
      }
      override connectionLost(): void {
        seen.push(`${this.name} lost ${v.get()}`);
      }
    }
    await runNet(function* (loop) {
      v.set('server-task');
      const [st, sp] = yield* loop.createDatagramEndpoint(() => new P('server'), {
        localAddr: ['127.0.0.1', 0],
      });
      v.set('client-task');
      const [ct, cp] = yield* loop.createDatagramEndpoint(() => new P('client'), {
        remoteAddr: st.getExtraInfo('sockname') as [string, number],
      });
      for (let i = 1; i <= 2; i++) {
        ct.sendto('x');
        yield* waitFor(() => cp.n === i && sp.n === i, `echo ${i}`);
      }
      ct.close();
      st.close();
      yield* waitFor(() => seen.length === 6, 'both closed');
    });
    expect(seen).toEqual([
      'server dgram 1 server-task',
      'client dgram 1 client-task',
      'server dgram 2 server-1',
      'client dgram 2 client-1',
      'client lost client-task',
      'server lost client-task',
    ]);
  });

  it('UDP write flow control: pauseWriting past the high mark, resumeWriting once Node has sent; close() waits for the datagrams in flight', async () => {
    const events: string[] = [];
    class P extends DatagramProtocol {
      override pauseWriting(): void {
        events.push('pause');
      }
      override resumeWriting(): void {
        events.push('resume');
      }
      override connectionLost(exc: unknown): void {
        events.push(`lost ${exc}`);
      }
    }
    await runNet(function* (loop) {
      const [st] = yield* loop.createDatagramEndpoint(() => new DatagramProtocol(), {
        localAddr: ['127.0.0.1', 0],
      });
      const [ct] = yield* loop.createDatagramEndpoint(() => new P(), {
        remoteAddr: st.getExtraInfo('sockname') as [string, number],
      });
      ct.setWriteBufferLimits(1, 0);
      ct.sendto(Buffer.alloc(64));
      // 64 bytes + 8 per datagram, handed to Node and not sent yet.
      events.push(`size ${ct.getWriteBufferSize()}`);
      yield* waitFor(() => events.includes('resume'), 'resumeWriting');
      events.push(`size ${ct.getWriteBufferSize()}`);
      ct.sendto(Buffer.alloc(64));
      ct.close();
      events.push(`closing ${ct.isClosing()}`);
      yield* waitFor(() => events.some((e) => e.startsWith('lost')), 'connectionLost');
      events.push(`size ${ct.getWriteBufferSize()}`);
      st.close();
    });
    expect(events).toEqual([
      'pause',
      'size 72',
      'resume',
      'size 0',
      'pause',
      'closing true',
      'resume',
      'lost null',
      'size 0',
    ]);
  });

  it("UDP setWriteBufferLimits: CPython's argument rules, and pauseWriting at once when the buffer is already past the new mark", async () => {
    const events: string[] = [];
    class P extends DatagramProtocol {
      override pauseWriting(): void {
        events.push('pause');
      }
      override resumeWriting(): void {
        events.push('resume');
      }
    }
    await runNet(function* (loop) {
      const [st] = yield* loop.createDatagramEndpoint(() => new DatagramProtocol(), {
        localAddr: ['127.0.0.1', 0],
      });
      const [ct] = yield* loop.createDatagramEndpoint(() => new P(), {
        remoteAddr: st.getExtraInfo('sockname') as [string, number],
      });
      events.push(`limits ${ct.getWriteBufferLimits()}`);
      ct.setWriteBufferLimits(null, 100);
      events.push(`limits ${ct.getWriteBufferLimits()}`);
      try {
        ct.setWriteBufferLimits(0, 1);
      } catch (e) {
        events.push(`${(e as Error).name}: ${(e as Error).message}`);
      }
      ct.sendto(Buffer.alloc(64)); // 72 bytes in flight: below the 400-byte mark
      ct.setWriteBufferLimits(10); // now past it: CPython's _maybe_pause_protocol
      yield* waitFor(() => events.includes('resume'), 'resumeWriting');
      ct.close();
      st.close();
    });
    expect(events).toEqual([
      'limits 16384,65536',
      'limits 100,400',
      'ValueError: high (0) must be >= low (1) must be >= 0',
      'pause',
      'resume',
    ]);
  });

  it('an unconnected endpoint sends to any address; datagrams keep their boundaries', async () => {
    const { result } = await runNet(function* (loop) {
      const [st, server] = yield* loop.createDatagramEndpoint(() => new MyDatagramProto(loop), {
        localAddr: ['127.0.0.1', 0],
      });
      const addr = st.getExtraInfo('sockname') as [string, number];
      const [ct, client] = yield* loop.createDatagramEndpoint(() => new MyDatagramProto(loop), {
        localAddr: ['127.0.0.1', 0],
      });
      for (const m of ['a', 'bb', 'ccc']) ct.sendto(m, addr);
      yield* waitFor(() => server.received.length === 3, 'three datagrams');
      const from = server.received[0]![1];
      ct.close();
      st.close();
      yield* client.done;
      yield* server.done;
      return [server.received.map((r) => r[0]), from, ct.getExtraInfo('sockname')];
    });
    expect(result[0]).toEqual(['a', 'bb', 'ccc']);
    expect(result[1]).toEqual(result[2]);
  });

  it('a datagram too large reaches errorReceived as OSError EMSGSIZE; the transport stays usable', async () => {
    const { result } = await runNet(function* (loop) {
      const [st, server] = yield* loop.createDatagramEndpoint(() => new MyDatagramProto(loop), {
        localAddr: ['127.0.0.1', 0],
      });
      const addr = st.getExtraInfo('sockname') as [string, number];
      const [ct, client] = yield* loop.createDatagramEndpoint(() => new MyDatagramProto(loop), {
        remoteAddr: addr,
      });
      ct.sendto(Buffer.alloc(70_000));
      yield* waitFor(() => client.errors.length === 1, 'the error');
      ct.sendto('ok');
      yield* waitFor(() => server.received.length === 1, 'the datagram');
      ct.close();
      st.close();
      const e = client.errors[0] as OSError;
      return [e instanceof OSError, e.errno, e.message, server.received[0]![0], ct.getWriteBufferSize()];
    });
    expect(result).toEqual([true, 90, '[Errno 90] Message too long', 'ok', 0]);
  });

  it('sendto() without an address on an unconnected endpoint is a fatal error, as CPython', async () => {
    const { result, reports } = await runNet(function* (loop) {
      const [t, p] = yield* loop.createDatagramEndpoint(() => new MyDatagramProto(loop), {
        localAddr: ['127.0.0.1', 0],
      });
      let lost: unknown = null;
      const origLost = p.connectionLost.bind(p);
      p.connectionLost = (exc: unknown) => {
        lost = exc;
        origLost(exc);
      };
      t.sendto('x');
      yield* p.done;
      return [t.isClosing(), String(lost)];
    });
    expect(result).toEqual([true, 'TypeError: sendto(): AF_INET address must be tuple, not NoneType']);
    expect(reports.map((r) => r.message)).toEqual(['Fatal write error on datagram transport']);
  });

  it("bad input: CPython's errors (test_base_events.py create_datagram_endpoint tests)", async () => {
    const { result } = await runNet(function* (loop) {
      const msgs: string[] = [];
      const check = function* (fn: () => Iterable<unknown>) {
        const e = (yield* raisesGen(fn as never)) as Error;
        msgs.push(`${e.constructor.name}: ${e.message}`);
      };
      const f = () => new DatagramProtocol();
      yield* check(() => loop.createDatagramEndpoint(f)); // test_create_datagram_endpoint_noaddr_nofamily
      yield* check(() => loop.createDatagramEndpoint(f, { localAddr: ['127.0.0.1'] as never })); // _addr_error
      yield* check(() => loop.createDatagramEndpoint(f, { sock: new net.Socket() as never })); // _wrong_sock
      const dg = (yield* loop.createDatagramEndpoint(f, { localAddr: ['127.0.0.1', 0] }))[0];
      const sock = dg.getExtraInfo('socket') as never;
      yield* check(() =>
        loop.createDatagramEndpoint(f, { sock, localAddr: ['127.0.0.1', 0], allowBroadcast: true }),
      ); // _sock_sockopts
      // test_create_datagram_endpoint_cant_bind: the port is taken
      const port = (dg.getExtraInfo('sockname') as [string, number])[1];
      yield* check(() => loop.createDatagramEndpoint(f, { localAddr: ['127.0.0.1', port] }));
      dg.close();
      const [t] = yield* loop.createDatagramEndpoint(f, { localAddr: ['127.0.0.1', 0] });
      let typeMsg = '';
      try {
        t.sendto(42 as never, ['127.0.0.1', 9]);
      } catch (e) {
        typeMsg = `${(e as Error).constructor.name}: ${(e as Error).message}`;
      }
      msgs.push(typeMsg);
      t.close();
      return msgs;
    });
    expect(result).toEqual([
      'ValueError: unexpected address family',
      'TypeError: 2-tuple is expected',
      expect.stringMatching(/^ValueError: A datagram socket was expected, got <Socket/),
      "ValueError: socket modifier keyword arguments can not be used when sock is specified. (local_addr=('127.0.0.1', 0), allow_broadcast=True)",
      'OSError: [Errno 98] Address already in use',
      "TypeError: data argument must be a bytes-like object, not 'int'",
    ]);
  });
});

/** CPython's MyReadPipeProto. */
class MyReadPipeProto extends Protocol {
  state = ['INITIAL'];
  nbytes = 0;
  data: Buffer[] = [];
  transport: Transport | null = null;
  done: Future<void>;
  constructor(loop: EventLoop) {
    super();
    this.done = loop.createFuture();
  }
  override connectionMade(transport: Transport): void {
    this.transport = transport;
    expect(this.state).toEqual(['INITIAL']);
    this.state.push('CONNECTED');
  }
  override dataReceived(data: Buffer): void {
    expect(this.state).toEqual(['INITIAL', 'CONNECTED']);
    this.nbytes += data.length;
    this.data.push(data);
  }
  override eofReceived(): undefined {
    expect(this.state).toEqual(['INITIAL', 'CONNECTED']);
    this.state.push('EOF');
    return undefined;
  }
  override connectionLost(_exc: unknown): void {
    if (!this.state.includes('EOF')) this.state.push('EOF');
    expect(this.state).toEqual(['INITIAL', 'CONNECTED', 'EOF']);
    this.state.push('CLOSED');
    this.done.setResult(undefined);
  }
}

describe('loop.connectReadPipe / connectWritePipe', () => {
  it('test_read_pipe: data, EOF, then CLOSED', async () => {
    const { result } = await runNet(function* (loop) {
      const pipe = new PassThrough();
      const [, proto] = yield* loop.connectReadPipe(() => new MyReadPipeProto(loop), pipe);
      pipe.write('1');
      yield* waitFor(() => proto.nbytes === 1, '1 byte');
      pipe.write('2345');
      yield* waitFor(() => proto.nbytes === 5, '5 bytes');
      pipe.end();
      yield* proto.done;
      return [proto.state, str(Buffer.concat(proto.data))];
    });
    expect(result).toEqual([['INITIAL', 'CONNECTED', 'EOF', 'CLOSED'], '12345']);
  });

  it('test_write_pipe: writes reach the reader; close() flushes and ends it', async () => {
    const { result } = await runNet(function* (loop) {
      const pipe = new PassThrough();
      const chunks: Buffer[] = [];
      pipe.on('data', (c: Buffer) => chunks.push(c));
      let ended = false;
      pipe.on('end', () => {
        ended = true;
      });
      const lost = loop.createFuture<unknown>();
      const [tr] = yield* loop.connectWritePipe(
        () =>
          new (class extends Protocol {
            override connectionLost(exc: unknown): void {
              lost.setResult(exc);
            }
          })(),
        pipe,
      );
      tr.write('1');
      tr.write(Buffer.from('2345'));
      tr.close();
      const exc = yield* lost;
      yield* waitFor(() => ended, 'the end');
      return [str(Buffer.concat(chunks)), exc, tr.isClosing()];
    });
    expect(result).toEqual(['12345', null, true]);
  });

  it('a file descriptor that is not a pipe, socket or tty: ValueError (unix_events)', async () => {
    const file = join(dir, 'regular.txt');
    writeFileSync(file, 'x');
    const { result } = await runNet(function* (loop) {
      const { openSync, closeSync } = yield* loop._wrapHostPromise(import('node:fs'));
      const fd = openSync(file, 'r');
      try {
        const e = (yield* raisesGen(() => loop.connectReadPipe(() => new Protocol(), fd))) as Error;
        return `${e.constructor.name}: ${e.message}`;
      } finally {
        closeSync(fd);
      }
    });
    expect(result).toBe('ValueError: Pipe transport is for pipes/sockets only.');
  });
});

/** CPython's MySubprocessProtocol. */
class MySubprocessProtocol extends SubprocessProtocol {
  state = 'INITIAL';
  transport: SubprocessTransport | null = null;
  connected: Future<void>;
  completed: Future<void>;
  data: Record<number, Buffer> = { 1: Buffer.alloc(0), 2: Buffer.alloc(0) };
  disconnects: Record<number, Future<unknown>>;
  returncode: number | null = null;
  constructor(loop: EventLoop) {
    super();
    this.connected = loop.createFuture();
    this.completed = loop.createFuture();
    this.disconnects = { 0: loop.createFuture(), 1: loop.createFuture(), 2: loop.createFuture() };
  }
  override connectionMade(transport: SubprocessTransport): void {
    this.transport = transport;
    expect(this.state).toBe('INITIAL');
    this.state = 'CONNECTED';
    this.connected.setResult(undefined);
  }
  override connectionLost(_exc: unknown): void {
    expect(this.state).toBe('CONNECTED');
    this.state = 'CLOSED';
    this.completed.setResult(undefined);
  }
  override pipeDataReceived(fd: number, data: Buffer): void {
    expect(this.state).toBe('CONNECTED');
    this.data[fd] = Buffer.concat([this.data[fd]!, data]);
  }
  override pipeConnectionLost(fd: number, exc: unknown): void {
    expect(this.state).toBe('CONNECTED');
    if (exc) this.disconnects[fd]!.setException(exc);
    else this.disconnects[fd]!.setResult(exc);
  }
  override processExited(): void {
    expect(this.state).toBe('CONNECTED');
    this.returncode = this.transport!.getReturncode();
  }
}

describe('loop.subprocessExec / subprocessShell (test_events.py SubprocessTestsMixin)', () => {
  const echo = ['-e', 'process.stdin.pipe(process.stdout)'];

  it('test_subprocess_exec: echo through stdin/stdout, then close stdin; returncode 0', async () => {
    const { result } = await runNet(function* (loop) {
      const [transp, proto] = yield* loop.subprocessExec(
        () => new MySubprocessProtocol(loop),
        process.execPath,
        ...echo,
      );
      yield* proto.connected;
      expect(proto.state).toBe('CONNECTED');
      const stdin = transp.getPipeTransport(0) as Transport;
      stdin.write('Python The Winner');
      yield* waitFor(() => proto.data[1]!.length >= 17, 'the echo');
      stdin.close();
      yield* proto.completed;
      transp.close();
      return [str(proto.data[1]!), proto.returncode, proto.state, typeof transp.getPid()];
    });
    expect(result).toEqual(['Python The Winner', 0, 'CLOSED', 'number']);
  });

  it('test_subprocess_shell and test_subprocess_exitcode', async () => {
    const { result } = await runNet(function* (loop) {
      const [t1, p1] = yield* loop.subprocessShell(
        () => new MySubprocessProtocol(loop),
        'echo Python; exit 7',
      );
      yield* p1.completed;
      t1.close();
      return [str(p1.data[1]!), p1.returncode, p1.data[2]!.length];
    });
    expect(result).toEqual(['Python\n', 7, 0]);
  });

  it('test_subprocess_kill / terminate / send_signal: negative returncodes; ProcessLookupError after close', async () => {
    const { result } = await runNet(function* (loop) {
      const codes: (number | null)[] = [];
      for (const how of ['kill', 'terminate', 'sendSignal'] as const) {
        const [t, p] = yield* loop.subprocessExec(
          () => new MySubprocessProtocol(loop),
          process.execPath,
          '-e',
          'setTimeout(() => {}, 30000)',
        );
        yield* p.connected;
        if (how === 'sendSignal') t.sendSignal('SIGHUP');
        else t[how]();
        yield* p.completed;
        codes.push(p.returncode);
        t.close();
        let e: unknown = null;
        try {
          t.kill();
        } catch (err) {
          e = err;
        }
        codes.push(e instanceof ProcessLookupError ? 1 : 0);
      }
      return codes;
    });
    expect(result).toEqual([-9, 1, -15, 1, -1, 1]);
  });

  it('test_subprocess_stderr: stderr arrives on fd 2', async () => {
    const { result } = await runNet(function* (loop) {
      const [t, p] = yield* loop.subprocessExec(
        () => new MySubprocessProtocol(loop),
        process.execPath,
        '-e',
        'process.stdout.write("OUT"); process.stderr.write("ERR")',
      );
      yield* p.completed;
      t.close();
      return [str(p.data[1]!), str(p.data[2]!), p.returncode];
    });
    expect(result).toEqual(['OUT', 'ERR', 0]);
  });

  it('test_subprocess_close_after_finish: no pipes when stdio is not PIPE; close() after the exit', async () => {
    const { result } = await runNet(function* (loop) {
      const [t, p] = yield* loop.subprocessShell(() => new MySubprocessProtocol(loop), 'exit 7', {
        stdin: null,
        stdout: null,
        stderr: null,
      });
      const pipes = [t.getPipeTransport(0), t.getPipeTransport(1), t.getPipeTransport(2)];
      yield* p.completed;
      return [pipes, p.returncode, t.close()];
    });
    expect(result).toEqual([[null, null, null], 7, undefined]);
  });

  it('test_subprocess_stderr_redirect_to_stdout: stderr: STDOUT puts both on fd 1', async () => {
    const { result } = await runNet(function* (loop) {
      const [t, p] = yield* loop.subprocessShell(
        () => new MySubprocessProtocol(loop),
        'printf OUT; printf ERR >&2',
        { stderr: STDOUT },
      );
      yield* p.completed;
      t.close();
      return [str(p.data[1]!), p.data[2]!.length, t.getPipeTransport(2)];
    });
    expect(result).toEqual(['OUTERR', 0, null]);
  });

  it('test_subprocess_exec_invalid_args / test_subprocess_shell_invalid_args: ValueError', async () => {
    const { result } = await runNet(function* (loop) {
      const msgs: string[] = [];
      const f = () => new MySubprocessProtocol(loop);
      for (const fn of [
        () => loop.subprocessExec(f, 'echo', { universalNewlines: true } as never),
        () => loop.subprocessExec(f, 'echo', { shell: true } as never),
        () => loop.subprocessShell(f, ['echo'] as never),
        () => loop.subprocessShell(f, 'echo', { shell: false } as never),
      ]) {
        const e = (yield* raisesGen(fn)) as Error;
        msgs.push(`${e.constructor.name}: ${e.message}`);
      }
      return msgs;
    });
    expect(result).toEqual([
      'ValueError: universal_newlines must be False',
      'ValueError: shell must be False',
      'ValueError: cmd must be a string',
      'ValueError: shell must be True',
    ]);
  });
});

describe('loop.sendfile (test_sendfile.py, the fallback path)', () => {
  const data = Buffer.alloc(160 * 1024);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7) % 256;
  const file = join(dir, 'sendfile.bin');
  writeFileSync(file, data);

  function* serverAndClient(loop: EventLoop) {
    const got: Buffer[] = [];
    const lost = loop.createFuture<void>();
    const server = yield* loop.createServer(
      () =>
        new (class extends Protocol {
          override dataReceived(d: Buffer): void {
            got.push(d);
          }
          override connectionLost(): void {
            lost.setResult(undefined);
          }
        })(),
      '127.0.0.1',
      0,
    );
    const [tr, pr] = yield* loop.createConnection(() => new MyProto(loop, null), '127.0.0.1', portOf(server));
    return { server, tr, pr, got, lost };
  }

  it('test_sendfile / test_sendfile_partial / test_sendfile_mix_with_regular_send', async () => {
    const { result } = await runNet(function* (loop) {
      const { server, tr, pr, got, lost } = yield* serverAndClient(loop);
      tr.write('head');
      const n1 = yield* loop.sendfile(tr, file);
      const n2 = yield* loop.sendfile(tr, file, 1000, 100);
      tr.write('tail');
      // The protocol is the client's own again: it is told of the connection's end.
      expect(tr.getProtocol()).toBe(pr);
      tr.close();
      yield* lost;
      server.close();
      const all = Buffer.concat(got);
      const expected = Buffer.concat([
        Buffer.from('head'),
        data,
        data.subarray(1000, 1100),
        Buffer.from('tail'),
      ]);
      return [n1, n2, all.equals(expected)];
    });
    expect(result).toEqual([data.length, 100, true]);
  });

  it('test_sendfile_force_unsupported_native / closing transport / bad arguments', async () => {
    const { result } = await runNet(function* (loop) {
      const { server, tr, lost } = yield* serverAndClient(loop);
      const msgs: string[] = [];
      for (const fn of [
        () => loop.sendfile(tr, file, 0, null, { fallback: false }),
        () => loop.sendfile(tr, file, -1),
        () => loop.sendfile(tr, file, 0, 0),
      ]) {
        const e = (yield* raisesGen(fn)) as Error;
        msgs.push(`${e.constructor.name}: ${e.message.replace(/<.*>/, '<t>')}`);
      }
      tr.close();
      const e = (yield* raisesGen(() => loop.sendfile(tr, file))) as Error;
      msgs.push(`${e.constructor.name}: ${e.message}`);
      yield* lost;
      server.close();
      return msgs;
    });
    expect(result).toEqual([
      'RuntimeError: fallback is disabled and native sendfile is not supported for transport <t>',
      'ValueError: offset must be a non-negative integer (got -1)',
      'ValueError: count must be a positive integer (got 0)',
      'RuntimeError: Transport is closing',
    ]);
    expect(RuntimeError).toBeDefined();
  });
});

describe('Happy Eyeballs and address lists in createConnection (test_base_events.py create_connection tests)', () => {
  /** A loop whose getaddrinfo answers `name` with these [host, port] addresses (CPython's tests mock it). */
  function fakeResolver(loop: EventLoop, name: string, addrs: [string, number][]): string[] {
    const asked: string[] = [];
    const real = loop.getaddrinfo.bind(loop);
    loop.getaddrinfo = (host, port, options) => {
      if (host !== name) return real(host, port, options);
      asked.push(String(host));
      return coroutine(function* (): Generator<Instruction, AddrInfo[], unknown> {
        return addrs.map(([h, p]): AddrInfo => [4, 1, 6, '', [h, p]]);
      })();
    };
    return asked;
  }

  function* deadPort(loop: EventLoop): Generator<Instruction, number, unknown> {
    const probe = yield* loop.createServer(() => new Protocol(), '127.0.0.1', 0);
    const port = portOf(probe);
    probe.close();
    yield* probe.waitClosed();
    return port;
  }

  for (const delay of [null, 0.25]) {
    it(`a host with several addresses, the first dead: the next one is used (happyEyeballsDelay=${delay})`, async () => {
      const { result } = await runNet(function* (loop) {
        const dead = yield* deadPort(loop);
        const server = yield* echoServer(loop);
        const asked = fakeResolver(loop, 'multi.test', [
          ['127.0.0.1', dead],
          ['127.0.0.1', portOf(server)],
        ]);
        const t0 = loop.time();
        const [tr, pr] = yield* loop.createConnection(() => new MyProto(loop, 'hi'), 'multi.test', 0, {
          happyEyeballsDelay: delay,
        });
        const elapsed = loop.time() - t0;
        yield* waitFor(() => pr.nbytes === 7, 'the reply');
        const peer = tr.getExtraInfo('peername');
        const livePort = portOf(server);
        tr.close();
        yield* pr.done;
        server.close();
        // The dead address failed at once: the next attempt started without waiting for the delay.
        return [asked, (peer as [string, number])[1] === livePort, elapsed < 0.2];
      });
      expect(result).toEqual([['multi.test'], true, true]);
    });
  }

  it('two live addresses raced with a tiny delay: one connection wins, the loser is closed', async () => {
    const { result } = await runNet(function* (loop) {
      const accepted: MyProto[] = [];
      const server = yield* loop.createServer(
        () => {
          const p = new MyProto(loop, null);
          accepted.push(p);
          return p;
        },
        '127.0.0.1',
        0,
      );
      const port = portOf(server);
      fakeResolver(loop, 'two.test', [
        ['127.0.0.1', port],
        ['127.0.0.1', port],
      ]);
      const [tr, pr] = yield* loop.createConnection(() => new MyProto(loop, null), 'two.test', 0, {
        happyEyeballsDelay: 0.000001,
      });
      tr.write('x');
      yield* waitFor(() => accepted.some((p) => p.nbytes === 1), 'the byte');
      // Every accepted connection but the winner's is lost.
      yield* waitFor(() => accepted.filter((p) => p.state !== 'CLOSED').length === 1, 'losers closed');
      tr.close();
      yield* pr.done;
      server.close();
      return accepted.filter((p) => p.nbytes === 1).length;
    });
    expect(result).toBe(1);
  });

  it('every address fails: one error if they read the same, "Multiple exceptions" if not, ExceptionGroup with allErrors', async () => {
    const { result } = await runNet(function* (loop) {
      const a = yield* deadPort(loop);
      const b = yield* deadPort(loop);
      fakeResolver(loop, 'same.test', [['127.0.0.1', a]]);
      fakeResolver(loop, 'diff.test', [
        ['127.0.0.1', a],
        ['127.0.0.1', b],
      ]);
      const one = (yield* raisesGen(() =>
        loop.createConnection(() => new Protocol(), 'same.test', 0),
      )) as OSError;
      const multi = (yield* raisesGen(() =>
        loop.createConnection(() => new Protocol(), 'diff.test', 0, { happyEyeballsDelay: 0.1 }),
      )) as OSError;
      const group = (yield* raisesGen(() =>
        loop.createConnection(() => new Protocol(), 'diff.test', 0, { allErrors: true }),
      )) as ExceptionGroup;
      return [
        one instanceof ConnectionRefusedError,
        multi.constructor.name,
        multi.message,
        group instanceof ExceptionGroup,
        group.rawMessage,
        group.exceptions.map((e) => (e as OSError).errno),
        [a, b],
      ];
    });
    const [a, b] = result[6] as number[];
    expect(result.slice(0, 6)).toEqual([
      true,
      'OSError',
      `Multiple exceptions: [Errno 111] Connect call failed ('127.0.0.1', ${a}), [Errno 111] Connect call failed ('127.0.0.1', ${b})`,
      true,
      'create_connection failed',
      [111, 111],
    ]);
  });

  it('openConnection goes through the same path (a stream client to a multi-address host)', async () => {
    const { result } = await runNet(function* (loop) {
      const dead = yield* deadPort(loop);
      const server = yield* echoServer(loop);
      fakeResolver(loop, 'multi.test', [
        ['127.0.0.1', dead],
        ['127.0.0.1', portOf(server)],
      ]);
      const [reader, writer] = yield* openConnection('multi.test', 0, { happyEyeballsDelay: 0.25 });
      writer.write('abc');
      const got = yield* reader.readexactly(8);
      writer.close();
      yield* writer.waitClosed();
      server.close();
      return str(got);
    });
    expect(result).toBe('resp:abc');
  });
});

describe('types of the loop methods on the Node entry', () => {
  it('getRunningLoop() has the networking methods, typed by the protocol factory', async () => {
    const { result } = await runNet(function* (loop) {
      const server = yield* echoServer(loop);
      const [tr, pr] = yield* getRunningLoop().createConnection(
        () => new MyProto(loop, 'x'),
        '127.0.0.1',
        portOf(server),
      );
      // The protocol keeps its own class; the transport is a Transport.
      expectTypeOf(pr).toEqualTypeOf<MyProto>();
      expectTypeOf(tr).toEqualTypeOf<Transport>();
      const [dt, dp] = yield* loop.createDatagramEndpoint(() => new MyDatagramProto(loop), {
        localAddr: ['127.0.0.1', 0],
      });
      expectTypeOf(dp).toEqualTypeOf<MyDatagramProto>();
      expectTypeOf(dt).toEqualTypeOf<DatagramTransport>();
      // Never called: only compiled.
      const misuse = (): unknown =>
        // @ts-expect-error a stream connection needs a stream protocol
        loop.createConnection(() => new MyDatagramProto(loop), '127.0.0.1', 1);
      expect(typeof misuse).toBe('function');
      tr.close();
      dt.close();
      yield* pr.done;
      server.close();
      return pr.state;
    });
    expect(result).toBe('CLOSED');
  });
});
