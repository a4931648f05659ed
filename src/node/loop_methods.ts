/**
 * The loop's networking, pipe and subprocess methods (CPython's `loop.create_connection`,
 * `create_server`, `create_datagram_endpoint`, `connect_read_pipe`, `subprocess_exec`, `start_tls`,
 * `sendfile`, …) on the Node entry.
 *
 * HOW THEY GET ON THE LOOP. The portable EventLoop (src/base_events.ts) knows nothing of sockets and
 * must stay importable in a browser. This module, loaded by the Node entry, adds the methods to
 * `EventLoop.prototype` at import time and declares them on the EventLoop type by module augmentation,
 * so `getRunningLoop().createConnection(…)` type-checks wherever the Node entry is imported (`tsyncio`
 * under Node resolves to it). In a browser bundle the methods are neither typed nor present.
 *
 * Each method is a thin coroutine over the implementation in base_events.ts (TCP, Unix, TLS),
 * datagram.ts (UDP), pipes.ts (pipes, subprocesses, sendfile); streams and subprocess Process use the
 * same implementations, so both layers share code paths, flow control and error mapping.
 */
import { EventLoop } from '../base_events.js';
import { Coroutine } from '../coroutines.js';
import {
  type AcceptedSocketOptions,
  type AddrInfo,
  type ConnectionOptions,
  connectAcceptedSocket,
  createConnection,
  createServer,
  createUnixConnection,
  createUnixServer,
  getaddrinfo,
  type Server,
  type ServerOptions,
  type StartTlsOptions,
  startTls,
  type TlsOptions,
  type UnixConnectionOptions,
  type UnixServerOptions,
} from './base_events.js';
import { createDatagramEndpoint, type DatagramEndpointOptions } from './datagram.js';
import {
  connectReadPipe,
  connectWritePipe,
  type PipeLike,
  type SendfileOptions,
  type SubprocessTransportOptions,
  sendfile,
  subprocessExec,
  subprocessShell,
} from './pipes.js';
import type { Address, BaseProtocol, DatagramProtocol, SubprocessProtocol } from './protocols.js';
import type {
  BaseTransport,
  DatagramTransport,
  ReadTransport,
  StreamProtocol,
  SubprocessTransport,
  Transport,
  WriteTransport,
} from './transports.js';

declare module '../base_events.js' {
  interface EventLoop {
    /**
     * Connect to `host`:`port` (or use `options.sock`) and run `protocolFactory()`'s protocol on the new
     * transport (Python's `loop.create_connection`). Returns `[transport, protocol]`.
     */
    createConnection<P extends StreamProtocol>(
      protocolFactory: () => P,
      host?: string | null,
      port?: number | null,
      options?: ConnectionOptions,
    ): Coroutine<[Transport, P]>;
    /**
     * Resolve `host` (Python's `loop.getaddrinfo`): `[family (4|6), type, proto, canonname, sockaddr]`
     * entries, in the resolver's order. createConnection resolves through this method, so replacing it
     * on a loop changes where connections go (as CPython's tests mock it).
     */
    getaddrinfo(
      host: string | null,
      port: number | string | null,
      options?: { family?: 0 | 4 | 6; type?: number; proto?: number; flags?: number },
    ): Coroutine<AddrInfo[]>;
    /** Listen on `host`:`port` (a host, a list of hosts, or all interfaces) (Python's `loop.create_server`). */
    createServer(
      protocolFactory: () => StreamProtocol,
      host?: string | readonly string[] | null,
      port?: number | null,
      options?: ServerOptions,
    ): Coroutine<Server>;
    /**
     * Run a protocol on a connection accepted outside the loop (Python's `loop.connect_accepted_socket`):
     * the server side, with a server TLS handshake if `ssl` is given.
     */
    connectAcceptedSocket<P extends StreamProtocol>(
      protocolFactory: () => P,
      sock: import('node:net').Socket,
      options?: AcceptedSocketOptions,
    ): Coroutine<[Transport, P]>;
    /** Connect to the Unix socket at `path` (Python's `loop.create_unix_connection`). */
    createUnixConnection<P extends StreamProtocol>(
      protocolFactory: () => P,
      path?: string | null,
      options?: UnixConnectionOptions,
    ): Coroutine<[Transport, P]>;
    /** Listen on a Unix socket at `path` (Python's `loop.create_unix_server`). */
    createUnixServer(
      protocolFactory: () => StreamProtocol,
      path?: string | null,
      options?: UnixServerOptions,
    ): Coroutine<Server>;
    /**
     * A UDP endpoint (Python's `loop.create_datagram_endpoint`): bound to `localAddr` and/or connected
     * to `remoteAddr`. Returns `[transport, protocol]`.
     */
    createDatagramEndpoint<P extends DatagramProtocol>(
      protocolFactory: () => P,
      options?: DatagramEndpointOptions,
    ): Coroutine<[DatagramTransport, P]>;
    /** Read a Node Readable (or a file descriptor) through a protocol (Python's `loop.connect_read_pipe`). */
    connectReadPipe<P extends StreamProtocol>(
      protocolFactory: () => P,
      pipe: PipeLike,
    ): Coroutine<[ReadTransport, P]>;
    /** Write to a Node Writable (or a file descriptor) through a transport (`loop.connect_write_pipe`). */
    connectWritePipe<P extends BaseProtocol>(
      protocolFactory: () => P,
      pipe: PipeLike,
    ): Coroutine<[WriteTransport, P]>;
    /**
     * Start `program` with `args` and drive a SubprocessProtocol (Python's `loop.subprocess_exec`): the
     * options (stdin/stdout/stderr: PIPE by default, cwd, env) go last.
     */
    subprocessExec<P extends SubprocessProtocol>(
      protocolFactory: () => P,
      program: string,
      ...args: (string | SubprocessTransportOptions)[]
    ): Coroutine<[SubprocessTransport, P]>;
    /** Run `cmd` through /bin/sh (Python's `loop.subprocess_shell`). */
    subprocessShell<P extends SubprocessProtocol>(
      protocolFactory: () => P,
      cmd: string,
      options?: SubprocessTransportOptions,
    ): Coroutine<[SubprocessTransport, P]>;
    /**
     * Upgrade `transport` to TLS and return the new transport `protocol` must use from now on (Python's
     * `loop.start_tls`); `serverSide: true` with TLS options holding key and cert makes it the server.
     */
    startTls(
      transport: BaseTransport,
      protocol: StreamProtocol,
      sslcontext: TlsOptions | true,
      options?: StartTlsOptions & { serverSide?: boolean },
    ): Coroutine<Transport>;
    /**
     * Send a file (a path, a file descriptor or a FileHandle) over `transport` from `offset`, `count`
     * bytes (default: to the end); returns the bytes sent (Python's `loop.sendfile`, its fallback path).
     */
    sendfile(
      transport: BaseTransport,
      file: string | number | import('node:fs/promises').FileHandle,
      offset?: number,
      count?: number | null,
      options?: SendfileOptions,
    ): Coroutine<number>;
  }
}

function info(name: string): { name: string; qualname: string } {
  return { name, qualname: `BaseEventLoop.${name}` };
}

const methods: Partial<Record<keyof EventLoop, (this: EventLoop, ...args: any[]) => unknown>> = {
  createConnection(protocolFactory, host, port, options) {
    return new Coroutine(
      createConnection(this, protocolFactory, host, port, options),
      info('create_connection'),
    );
  },
  getaddrinfo(host, port, options) {
    return new Coroutine(getaddrinfo(this, host, port, options), info('getaddrinfo'));
  },
  createServer(protocolFactory, host, port, options) {
    return new Coroutine(createServer(this, protocolFactory, host, port, options), info('create_server'));
  },
  connectAcceptedSocket(protocolFactory, sock, options) {
    return new Coroutine(
      connectAcceptedSocket(this, protocolFactory, sock, options),
      info('connect_accepted_socket'),
    );
  },
  createUnixConnection(protocolFactory, path, options) {
    return new Coroutine(
      createUnixConnection(this, protocolFactory, path, options),
      info('create_unix_connection'),
    );
  },
  createUnixServer(protocolFactory, path, options) {
    return new Coroutine(createUnixServer(this, protocolFactory, path, options), info('create_unix_server'));
  },
  createDatagramEndpoint(protocolFactory, options) {
    return new Coroutine(
      createDatagramEndpoint(this, protocolFactory, options),
      info('create_datagram_endpoint'),
    );
  },
  connectReadPipe(protocolFactory, pipe) {
    return new Coroutine(connectReadPipe(this, protocolFactory, pipe), info('connect_read_pipe'));
  },
  connectWritePipe(protocolFactory, pipe) {
    return new Coroutine(connectWritePipe(this, protocolFactory, pipe), info('connect_write_pipe'));
  },
  subprocessExec(protocolFactory, program, ...args) {
    return new Coroutine(subprocessExec(this, protocolFactory, program, args), info('subprocess_exec'));
  },
  subprocessShell(protocolFactory, cmd, options) {
    return new Coroutine(subprocessShell(this, protocolFactory, cmd, options), info('subprocess_shell'));
  },
  startTls(transport, protocol, sslcontext, options) {
    return new Coroutine(startTls(this, transport, protocol, sslcontext, options), info('start_tls'));
  },
  sendfile(transport, file, offset, count, options) {
    return new Coroutine(sendfile(this, transport, file, offset, count, options), info('sendfile'));
  },
};

for (const [name, fn] of Object.entries(methods)) {
  Object.defineProperty(EventLoop.prototype, name, { value: fn, writable: true, configurable: true });
}

export type { Address };
