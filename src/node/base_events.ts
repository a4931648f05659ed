/**
 * Connections and servers over node:net and node:tls: createConnection, createServer, their Unix
 * twins, startTls, and the Server object (CPython's base_events.py networking half, and
 * unix_events.py's Unix sockets). The portable loop knows nothing of sockets; this module drives Node's
 * and hands each connection to a protocol through a StreamTransport.
 *
 * Every wait on Node (connect, listen, TLS handshake) goes through `loop._wrapHostPromise`, so it is
 * counted in `_hostPending` and its outcome re-enters the loop with callSoonThreadsafe; cancelling the
 * awaiting task destroys the socket. Accepted connections enter with callSoonThreadsafe too, in the
 * context that was current when the server was started (as CPython's accept handle).
 */

import * as dns from 'node:dns/promises';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as tls from 'node:tls';
import type { EventLoop } from '../base_events.js';
import { type Context, currentContext } from '../contextvars.js';
import { Coroutine, type Instruction } from '../coroutines.js';
import {
  CancelledError,
  ConnectionResetError,
  ExceptionGroup,
  OSError,
  RuntimeError,
  TimeoutError,
  ValueError,
} from '../exceptions.js';
import { repr } from '../format_helpers.js';
import type { Future } from '../futures.js';
import { logger } from '../log.js';
import { staggeredRace } from '../staggered.js';
import { sleep } from '../tasks.js';
import { errnoOf, fromNodeError, makeOSError, strerror } from './errors.js';
import type { Address } from './protocols.js';
import {
  formatAddress,
  type StreamProtocol as Protocol,
  StreamTransport,
  type TransportOwner,
} from './transports.js';

/** TLS settings (Python's SSLContext): Node's secure-context and verification options. */
export type TlsOptions = tls.SecureContextOptions &
  Pick<tls.ConnectionOptions, 'rejectUnauthorized' | 'checkServerIdentity' | 'ALPNProtocols'> &
  Pick<tls.TlsOptions, 'requestCert'>;

export interface ConnectionOptions {
  /** true (the default verifying context) or TLS options. */
  ssl?: TlsOptions | boolean | null;
  /** The name checked against the server's certificate (default: host; '' disables the check). */
  serverHostname?: string | null;
  /** 0 (any), 4 or 6. */
  family?: 0 | 4 | 6;
  /** Bind the local end to [host, port] first. */
  localAddr?: readonly [string, number] | null;
  /** An already connected Node socket to use instead of host/port. */
  sock?: net.Socket | null;
  /** Seconds to wait for the TLS handshake (default 60). */
  sslHandshakeTimeout?: number | null;
  /** Accepted for parity; Node's TLS shutdown has no separate timeout. */
  sslShutdownTimeout?: number | null;
  /**
   * Happy Eyeballs (RFC 8305): start connecting to the next address after this many seconds (0.25 is
   * the RFC's recommendation) while earlier attempts go on; the first to connect wins. Default null:
   * one address after the other.
   */
  happyEyeballsDelay?: number | null;
  /**
   * Interleave the resolved addresses by family, this many of the first family first (default 1 with
   * happyEyeballsDelay, else no reordering).
   */
  interleave?: number | null;
  /** When every address fails, raise an ExceptionGroup of all the errors instead of one OSError. */
  allErrors?: boolean;
}

export interface UnixConnectionOptions {
  ssl?: TlsOptions | boolean | null;
  serverHostname?: string | null;
  sock?: net.Socket | null;
  sslHandshakeTimeout?: number | null;
  sslShutdownTimeout?: number | null;
}

export interface ServerOptions {
  /** 0 (any), 4 or 6. */
  family?: 0 | 4 | 6;
  /** The listen backlog (default 100). */
  backlog?: number;
  /** TLS options with key and cert: the server speaks TLS. */
  ssl?: TlsOptions | null;
  /** Listen on IPv6 only (host '::'). */
  ipv6Only?: boolean;
  /** Seconds a client has to complete the TLS handshake (default 60). */
  sslHandshakeTimeout?: number | null;
  sslShutdownTimeout?: number | null;
  /** Accept connections at once (default true); otherwise call startServing() or serveForever(). */
  startServing?: boolean;
  /** A listening Node server to use instead of host/port. */
  sock?: net.Server | null;
  /** Enable TCP keep-alive on accepted connections. */
  keepAlive?: boolean;
  /** SO_REUSEADDR: accepted for parity; Node (libuv) always sets it on listening TCP sockets. */
  reuseAddress?: boolean | null;
  /**
   * SO_REUSEPORT: several servers may listen on the same port (the kernel balances connections). Node
   * ≥ 22.12 / 23.1; older Node raises CPython's `ValueError: reuse_port not supported by socket module`.
   */
  reusePort?: boolean | null;
}

export interface UnixServerOptions {
  backlog?: number;
  ssl?: TlsOptions | null;
  sslHandshakeTimeout?: number | null;
  sslShutdownTimeout?: number | null;
  startServing?: boolean;
  sock?: net.Server | null;
}

export interface StartTlsOptions {
  serverHostname?: string | null;
  sslHandshakeTimeout?: number | null;
  sslShutdownTimeout?: number | null;
}

const SSL_HANDSHAKE_TIMEOUT = 60.0;
const noop = (): void => {};

// ---------------------------------------------------------------------------------------------------
// waiting on Node

/**
 * A Future of `event` on `emitter` (connect, secureConnect, listening): fails with the mapped error on
 * 'error', with ConnectionResetError on an early 'close', with TimeoutError after `timeout` seconds.
 * Cancelling it destroys the socket. While it is pending it counts as host I/O (`_hostPending`: the
 * virtual clock does not jump past it), as a wrapped host promise does.
 *
 * The listeners settle the future directly, as the selector's callback does in CPython (sock_connect's
 * writer callback sets the future's result; the awaiting task runs on the next iteration): no Promise,
 * no microtask and no extra loop callback per connection. [HOT: echo_short's connects]
 */
function hostEvent(
  loop: EventLoop,
  emitter: net.Socket | net.Server,
  event: string,
  mapError: (err: unknown) => unknown,
  timeout?: { seconds: number; message: string } | null,
): Future<void> {
  // runSync cannot wait for the host: the loop's own refusal (which stops the operation first).
  if (loop._syncMode) return loop._wrapHostPromise(new Promise<void>(() => {}), () => destroy(emitter));
  const fut = loop.createFuture<void>();
  loop._hostPending++;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let settled = false;
  const settle = (exc: unknown): void => {
    if (settled) return;
    settled = true;
    emitter.off(event, onOk);
    emitter.off('error', onErr);
    emitter.off('close', onClose);
    if (timer !== undefined) clearTimeout(timer);
    loop._hostPending--;
    if (loop.isClosed() || fut.done()) return;
    if (exc === undefined) fut.setResult(undefined);
    else fut._setException(exc);
  };
  const onOk = (): void => settle(undefined);
  const onErr = (err: unknown): void => settle(mapError(err));
  const onClose = (): void => settle(new ConnectionResetError('Connection lost'));
  emitter.once(event, onOk);
  emitter.once('error', onErr);
  emitter.once('close', onClose);
  if (timeout) {
    timer = setTimeout(() => {
      destroy(emitter);
      settle(new TimeoutError(timeout.message));
    }, timeout.seconds * 1000);
  }
  fut._addCallback((f: Future<void>) => {
    if (!f.cancelled()) return;
    // Cancelled (a Happy Eyeballs loser, a timeout around the connect): stop the host operation.
    settle(undefined);
    destroy(emitter);
  }, currentContext());
  return fut;
}

function destroy(emitter: net.Socket | net.Server): void {
  if (emitter instanceof net.Server) emitter.close();
  else emitter.destroy();
}

/** Python's address tuple for a socket end: [host, port] (IPv6: [host, port, flowinfo, scope_id]). */
function addressOf(address: string | undefined, port: number | undefined, family?: string): unknown {
  if (address === undefined) return null;
  return family === 'IPv6' || address.includes(':') ? [address, port, 0, 0] : [address, port];
}

/** getExtraInfo() values of a connected TCP socket, captured now so they outlive the connection. */
function tcpExtra(socket: net.Socket): Record<string, unknown> {
  return {
    peername: addressOf(socket.remoteAddress, socket.remotePort, socket.remoteFamily),
    sockname: addressOf(socket.localAddress, socket.localPort, socket.localFamily),
    socket,
  };
}

function tlsExtra(socket: tls.TLSSocket, ssl: TlsOptions | true): Record<string, unknown> {
  const cert = socket.getPeerCertificate();
  const cipher = socket.getCipher();
  return {
    sslcontext: ssl === true ? {} : ssl,
    ssl_object: socket,
    peercert: cert && Object.keys(cert).length > 0 ? cert : undefined,
    cipher: cipher ? [cipher.standardName ?? cipher.name, cipher.version, undefined] : undefined,
    compression: undefined,
  };
}

function checkTimeout(name: string, value: unknown): void {
  if (value === null || value === undefined) return;
  if (typeof value !== 'number' || !(value > 0)) {
    throw new ValueError(`${name} should be a positive number, got ${repr(value)}`);
  }
}

function connectError(err: unknown): unknown {
  // Node's Happy Eyeballs reports every attempt; Python raises the one error when they all read the
  // same, else "Multiple exceptions: …".
  if (err instanceof AggregateError && err.errors.length > 0) {
    const errors = err.errors.map(connectError);
    const texts = errors.map((e) => String((e as Error).message ?? e));
    if (texts.every((t) => t === texts[0])) return errors[0];
    return new OSError(`Multiple exceptions: ${texts.join(', ')}`);
  }
  const e = err as { code?: unknown; address?: string; port?: number };
  if (typeof e?.code === 'string' && e.address !== undefined && errnoOf(e.code) !== undefined) {
    const addr = e.port === undefined ? e.address : addressOf(e.address, e.port);
    return makeOSError(e.code, `Connect call failed ${formatAddress(addr)}`, err);
  }
  return fromNodeError(err);
}

const CONNECT_SOCK_INFO = { name: '_connect_sock', qualname: 'BaseEventLoop._connect_sock' };

/** An address as getaddrinfo gives it: [family (4 or 6), type, proto, canonname, sockaddr]. */
export type AddrInfo = readonly [
  family: 4 | 6,
  type: number,
  proto: number,
  canonname: string,
  sockaddr: Address,
];

/** Python's str() of an exception: its message. */
function pyStr(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Python's `loop.getaddrinfo` for stream sockets: the addresses of `host` ([host, port] sockaddrs),
 * resolved by the system resolver (node:dns lookup), in its order.
 */
export function* getaddrinfo(
  loop: EventLoop,
  host: string | null,
  port: number | string | null,
  options?: { family?: 0 | 4 | 6; type?: number; proto?: number; flags?: number },
): Generator<Instruction, AddrInfo[], unknown> {
  const family = options?.family ?? 0;
  const type = options?.type ?? 1;
  const proto = options?.proto ?? (type === 2 ? 17 : 6);
  const p = port === null ? 0 : Number(port);
  const lookup = dns.lookup(host ?? 'localhost', { all: true, family, verbatim: true });
  const results = yield* loop._wrapHostPromise(lookup.catch((e) => Promise.reject(fromNodeError(e))));
  return results.map(
    (r): AddrInfo => [
      r.family as 4 | 6,
      type,
      proto,
      '',
      r.family === 6 ? [r.address, p, 0, 0] : [r.address, p],
    ],
  );
}

/**
 * CPython's _ensure_resolved: an IP literal needs no lookup; anything else goes through the loop's
 * getaddrinfo (so a test, or an application, can replace it on the loop).
 */
function* ensureResolved(
  loop: EventLoop,
  host: string | null,
  port: number,
  family: 0 | 4 | 6,
): Generator<Instruction, AddrInfo[], unknown> {
  const ip = host === null ? 0 : net.isIP(host);
  if (host !== null && ip !== 0 && (family === 0 || family === ip)) {
    return [[ip as 4 | 6, 1, 6, '', ip === 6 ? [host, port, 0, 0] : [host, port]]];
  }
  const viaLoop = (loop as { getaddrinfo?: (...a: unknown[]) => Iterable<Instruction, AddrInfo[]> })
    .getaddrinfo;
  if (typeof viaLoop === 'function') return yield* viaLoop.call(loop, host, port, { family, type: 1 });
  return yield* getaddrinfo(loop, host, port, { family });
}

/** Interleave addrinfos by family, `firstAddressFamilyCount` of the first family first (RFC 8305). */
export function interleaveAddrinfos(infos: readonly AddrInfo[], firstAddressFamilyCount = 1): AddrInfo[] {
  const byFamily = new Map<number, AddrInfo[]>();
  for (const info of infos) {
    let list = byFamily.get(info[0]);
    if (list === undefined) byFamily.set(info[0], (list = []));
    list.push(info);
  }
  const lists = [...byFamily.values()];
  const reordered: AddrInfo[] = [];
  if (firstAddressFamilyCount > 1) reordered.push(...lists[0]!.splice(0, firstAddressFamilyCount - 1));
  const longest = Math.max(0, ...lists.map((l) => l.length));
  for (let i = 0; i < longest; i++) for (const l of lists) if (i < l.length) reordered.push(l[i]!);
  return reordered;
}

/**
 * CPython's _connect_sock: connect to one address (bound to the first local address of its family that
 * works); the errors of this attempt are appended, as a list, to `exceptions`. Cancelling it (a loser
 * of the Happy Eyeballs race) destroys the socket.
 */
function* connectSock(
  loop: EventLoop,
  exceptions: unknown[][],
  info: AddrInfo,
  laddrInfos: AddrInfo[] | null,
): Generator<Instruction, net.Socket, unknown> {
  const myExceptions: unknown[] = [];
  exceptions.push(myExceptions);
  const [family, , , , address] = info;
  const [host, port] = address as readonly [string, number];
  const locals = laddrInfos === null ? [null] : laddrInfos.filter((l) => l[0] === family);
  if (locals.length === 0) {
    // CPython's f"{family=}": the repr of the peer's address family.
    const name = family === 6 ? 'AF_INET6: 10' : 'AF_INET: 2';
    const err = new OSError(`no matching local address with family=<AddressFamily.${name}> found`);
    myExceptions.push(err);
    throw err;
  }
  for (const laddr of locals) {
    const local = laddr === null ? null : (laddr[4] as readonly [string, number]);
    const socket = net.connect({
      host,
      port,
      family,
      localAddress: local?.[0],
      localPort: local?.[1],
      allowHalfOpen: true,
      noDelay: true,
    });
    socket.on('error', noop);
    try {
      yield* hostEvent(loop, socket, 'connect', (err) => {
        if (local !== null && (err as { syscall?: string })?.syscall === 'bind') return bindError(err, local);
        return connectError(err);
      });
      return socket;
    } catch (e) {
      socket.destroy();
      if (!(e instanceof OSError)) throw e;
      myExceptions.push(e);
      // A bind failure tries the next local address; a connect failure ends this attempt.
      if (!/^\[Errno \d+\] error while attempting to bind/.test(e.message)) throw e;
    }
  }
  throw myExceptions[myExceptions.length - 1];
}

// ---------------------------------------------------------------------------------------------------
// connections

/**
 * Connect to host:port and start `protocolFactory()`'s protocol on the new transport (Python's
 * `loop.create_connection`). Returns [transport, protocol].
 */
export function* createConnection(
  loop: EventLoop,
  protocolFactory: () => Protocol,
  host: string | null | undefined,
  port: number | null | undefined,
  options?: ConnectionOptions,
): Generator<Instruction, [StreamTransport, Protocol], unknown> {
  const o = options ?? {};
  const ssl = checkClientSsl(o.ssl);
  let serverHostname = o.serverHostname ?? null;
  if (serverHostname !== null && !ssl) throw new ValueError('server_hostname is only meaningful with ssl');
  if (serverHostname === null && ssl) {
    if (!host) throw new ValueError('You must set server_hostname when using ssl without a host');
    serverHostname = host;
  }
  checkSslTimeouts(o, ssl !== null);
  const sock = o.sock ?? null;
  let socket: net.Socket;
  if (host !== null && host !== undefined) checkHost(host);
  let interleave = o.interleave ?? null;
  const delay = o.happyEyeballsDelay ?? null;
  // With Happy Eyeballs, interleave the addresses by family by default (RFC 8305).
  if (delay !== null && interleave === null) interleave = 1;
  if ((host !== null && host !== undefined) || (port !== null && port !== undefined)) {
    if (sock !== null) throw new ValueError('host/port and sock can not be specified at the same time');
    checkPort(port);
    const family = o.family ?? 0;
    let infos = yield* ensureResolved(loop, host ?? null, port ?? 0, family);
    if (infos.length === 0) throw new OSError('getaddrinfo() returned empty list');
    let laddrInfos: AddrInfo[] | null = null;
    if (o.localAddr !== null && o.localAddr !== undefined) {
      laddrInfos = yield* ensureResolved(loop, o.localAddr[0], o.localAddr[1], family);
      if (laddrInfos.length === 0) throw new OSError('getaddrinfo() returned empty list');
    }
    if (interleave) infos = interleaveAddrinfos(infos, interleave);
    const exceptions: unknown[][] = [];
    let connected: net.Socket | null = null;
    if (delay === null) {
      for (const info of infos) {
        try {
          connected = yield* connectSock(loop, exceptions, info, laddrInfos);
          break;
        } catch (e) {
          if (!(e instanceof OSError)) throw e;
        }
      }
    } else {
      connected = (yield* staggeredRace(
        infos.map(
          (info) => () => new Coroutine(connectSock(loop, exceptions, info, laddrInfos), CONNECT_SOCK_INFO),
        ),
        delay,
        { loop },
      ))[0];
    }
    if (connected === null) {
      const flat = exceptions.flat();
      if (o.allErrors) throw new ExceptionGroup('create_connection failed', flat);
      if (flat.length === 1) throw flat[0];
      if (flat.length > 0) {
        const texts = flat.map((e) => String((e as Error).message));
        if (texts.every((t) => t === texts[0])) throw flat[0];
        throw new OSError(`Multiple exceptions: ${flat.map(pyStr).join(', ')}`);
      }
      throw new TimeoutError('create_connection failed');
    }
    socket = connected;
  } else {
    if (sock === null) throw new ValueError('host and port was not specified and no sock specified');
    if (!(sock instanceof net.Socket))
      throw new ValueError(`A Stream Socket was expected, got ${repr(sock)}`);
    socket = sock;
  }
  socket.on('error', noop);
  if (socket.connecting || socket.pending) yield* hostEvent(loop, socket, 'connect', connectError);
  socket.setNoDelay(true);
  return yield* finishConnection(loop, socket, protocolFactory, ssl, serverHostname, o, tcpExtra(socket));
}

/** Python's `loop.create_unix_connection`: like createConnection, to a Unix socket at `path`. */
export function* createUnixConnection(
  loop: EventLoop,
  protocolFactory: () => Protocol,
  path: string | null | undefined,
  options?: UnixConnectionOptions,
): Generator<Instruction, [StreamTransport, Protocol], unknown> {
  const o = options ?? {};
  const ssl = checkClientSsl(o.ssl);
  let serverHostname = o.serverHostname ?? null;
  if (ssl) {
    if (serverHostname === null) throw new ValueError('you have to pass server_hostname when using ssl');
  } else if (serverHostname !== null) {
    throw new ValueError('server_hostname is only meaningful with ssl');
  }
  checkSslTimeouts(o, ssl !== null);
  const sock = o.sock ?? null;
  let socket: net.Socket;
  if (path !== null && path !== undefined) {
    if (sock !== null) throw new ValueError('path and sock can not be specified at the same time');
    if (typeof path !== 'string') throw new TypeError(`path must be a str, not ${repr(path)}`);
    socket = net.connect({ path, allowHalfOpen: true });
  } else {
    if (sock === null) throw new ValueError('no path and sock were specified');
    socket = sock;
  }
  socket.on('error', noop);
  if (socket.connecting || socket.pending) {
    yield* hostEvent(loop, socket, 'connect', (err) => fromNodeError(err));
  }
  const extra = { peername: path ?? '', sockname: '', socket };
  serverHostname ??= '';
  return yield* finishConnection(loop, socket, protocolFactory, ssl, serverHostname, o, extra);
}

export interface AcceptedSocketOptions {
  /** TLS options with key and cert: the connection is the server side of a TLS handshake. */
  ssl?: TlsOptions | null;
  sslHandshakeTimeout?: number | null;
  sslShutdownTimeout?: number | null;
}

/**
 * Python's `loop.connect_accepted_socket`: run a protocol on a connection accepted outside the loop (a
 * Node `net.Socket` from your own `net.Server`, say), as the server side (TLS: the server's handshake).
 */
export function* connectAcceptedSocket(
  loop: EventLoop,
  protocolFactory: () => Protocol,
  sock: net.Socket,
  options?: AcceptedSocketOptions,
): Generator<Instruction, [StreamTransport, Protocol], unknown> {
  const o = options ?? {};
  if (!(sock instanceof net.Socket)) throw new ValueError(`A Stream Socket was expected, got ${repr(sock)}`);
  const ssl = checkServerSsl(o.ssl);
  checkSslTimeouts(o, ssl !== null);
  sock.on('error', noop);
  if (sock.connecting || sock.pending) yield* hostEvent(loop, sock, 'connect', connectError);
  return yield* finishConnection(loop, sock, protocolFactory, ssl, '', o, tcpExtra(sock), true);
}

function* finishConnection(
  loop: EventLoop,
  socket: net.Socket,
  protocolFactory: () => Protocol,
  ssl: TlsOptions | true | null,
  serverHostname: string | null,
  o: { sslHandshakeTimeout?: number | null },
  extra: Record<string, unknown>,
  serverSide = false,
): Generator<Instruction, [StreamTransport, Protocol], unknown> {
  let stream: net.Socket = socket;
  if (ssl !== null) {
    let tlsSocket: tls.TLSSocket;
    if (serverSide) {
      tlsSocket = tlsServer(socket, ssl as TlsOptions);
      yield* handshake(loop, tlsSocket, 'secure', o.sslHandshakeTimeout);
    } else {
      tlsSocket = tlsClient(socket, ssl, serverHostname);
      yield* handshake(loop, tlsSocket, 'secureConnect', o.sslHandshakeTimeout);
    }
    stream = tlsSocket;
    extra = { ...extra, ...tlsExtra(tlsSocket, ssl) };
  }
  let protocol: Protocol;
  try {
    protocol = protocolFactory();
  } catch (e) {
    stream.destroy();
    throw e;
  }
  const transport = new StreamTransport(loop, stream, protocol, {
    extra,
    canWriteEof: ssl === null,
    halfOpen: ssl === null,
  });
  protocol.connectionMade(transport);
  return [transport, protocol];
}

/** The server side of TLS over an accepted socket (errors are reported by the handshake that follows). */
function tlsServer(socket: net.Socket, opts: TlsOptions): tls.TLSSocket {
  const tlsSocket = new tls.TLSSocket(socket, {
    isServer: true,
    secureContext: tls.createSecureContext(opts),
    requestCert: opts.requestCert,
    rejectUnauthorized: opts.rejectUnauthorized,
    ALPNProtocols: opts.ALPNProtocols,
  });
  tlsSocket.on('error', noop);
  return tlsSocket;
}

function tlsClient(socket: net.Socket, ssl: TlsOptions | true, serverHostname: string | null): tls.TLSSocket {
  const opts: tls.ConnectionOptions = ssl === true ? { socket } : { ...ssl, socket };
  if (serverHostname === '') {
    // Python's server_hostname='' skips the hostname check (the certificate chain is still verified).
    opts.checkServerIdentity = () => undefined;
  } else if (serverHostname !== null) {
    opts.host = serverHostname;
    // SNI carries names only (RFC 6066): an IP address is checked, not sent.
    if (net.isIP(serverHostname) === 0) opts.servername = serverHostname;
  }
  const tlsSocket = tls.connect(opts);
  tlsSocket.on('error', noop);
  return tlsSocket;
}

function* handshake(
  loop: EventLoop,
  socket: tls.TLSSocket,
  event: string,
  timeout: number | null | undefined,
): Generator<Instruction, void, unknown> {
  const seconds = timeout ?? SSL_HANDSHAKE_TIMEOUT;
  try {
    yield* hostEvent(loop, socket, event, (err) => fromNodeError(err), {
      seconds,
      message: `SSL handshake is taking longer than ${pyFloat(seconds)} seconds: aborting the connection`,
    });
  } catch (e) {
    socket.destroy();
    throw e;
  }
}

function pyFloat(x: number): string {
  return Number.isInteger(x) ? `${x}.0` : String(x);
}

function checkClientSsl(ssl: unknown): TlsOptions | true | null {
  if (ssl === null || ssl === undefined || ssl === false) return null;
  if (ssl === true) return true;
  if (typeof ssl !== 'object')
    throw new TypeError(`ssl argument must be TLS options, a bool or None, got ${repr(ssl)}`);
  return ssl as TlsOptions;
}

function checkServerSsl(ssl: unknown): TlsOptions | null {
  if (ssl === null || ssl === undefined) return null;
  if (typeof ssl === 'boolean' || typeof ssl !== 'object') {
    throw new TypeError('ssl argument must be an SSLContext (TLS options with key and cert) or None');
  }
  return ssl as TlsOptions;
}

function checkSslTimeouts(
  o: { sslHandshakeTimeout?: number | null; sslShutdownTimeout?: number | null },
  ssl: boolean,
): void {
  if (o.sslHandshakeTimeout !== null && o.sslHandshakeTimeout !== undefined && !ssl) {
    throw new ValueError('ssl_handshake_timeout is only meaningful with ssl');
  }
  if (o.sslShutdownTimeout !== null && o.sslShutdownTimeout !== undefined && !ssl) {
    throw new ValueError('ssl_shutdown_timeout is only meaningful with ssl');
  }
  checkTimeout('ssl_handshake_timeout', o.sslHandshakeTimeout);
  checkTimeout('ssl_shutdown_timeout', o.sslShutdownTimeout);
}

/** SO_REUSEPORT in net.Server.listen and dgram (Node 22.12+, 23.1+). */
export function nodeHasReusePort(): boolean {
  const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
  return major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
}

function checkHost(host: unknown): void {
  if (typeof host !== 'string') throw new TypeError(`host must be a str or None, not ${repr(host)}`);
}

function checkPort(port: unknown): void {
  if (port === null || port === undefined) return;
  if (typeof port !== 'number' || !Number.isInteger(port)) {
    throw new TypeError(`port must be an integer or None, not ${repr(port)}`);
  }
  if (port < 0 || port > 65535) throw new OSError(`port must be 0-65535, got ${port}`);
}

// ---------------------------------------------------------------------------------------------------
// startTls

/**
 * Upgrade `transport` to TLS (Python's `loop.start_tls`): returns the new transport, which `protocol`
 * must use from now on. Bytes received but not yet delivered go to the TLS layer, as they belong to it.
 */
export function* startTls(
  loop: EventLoop,
  transport: StreamTransport,
  protocol: Protocol,
  ssl: TlsOptions | true,
  options?: StartTlsOptions & { serverSide?: boolean; initialData?: Buffer | null },
): Generator<Instruction, StreamTransport, unknown> {
  const serverSide = options?.serverSide ?? false;
  if (ssl !== true && (ssl === null || typeof ssl !== 'object')) {
    throw new TypeError(`sslcontext is expected to be TLS options, got ${repr(ssl)}`);
  }
  if (serverSide && ssl === true) {
    throw new TypeError('a server-side start_tls() needs TLS options with key and cert');
  }
  const raw = transport._stream;
  if (
    !(transport instanceof StreamTransport) ||
    !(raw instanceof net.Socket) ||
    raw instanceof tls.TLSSocket ||
    transport._closing
  ) {
    throw new TypeError(`transport ${transport} is not supported by start_tls()`);
  }
  checkTimeout('ssl_handshake_timeout', options?.sslHandshakeTimeout);
  const socket = transport._detachForTls() as net.Socket;
  // Received before the undelivered chunks _detachForTls gave back: it goes in front of them.
  const initial = options?.initialData;
  if (initial && initial.length > 0) socket.unshift(initial);
  let tlsSocket: tls.TLSSocket;
  let event: string;
  if (serverSide) {
    tlsSocket = tlsServer(socket, ssl as TlsOptions);
    event = 'secure';
  } else {
    tlsSocket = tlsClient(socket, ssl, options?.serverHostname ?? null);
    event = 'secureConnect';
  }
  try {
    yield* handshake(loop, tlsSocket, event, options?.sslHandshakeTimeout);
  } catch (e) {
    socket.destroy();
    throw e;
  }
  const server = transport._server;
  const upgraded = new StreamTransport(loop, tlsSocket, protocol, {
    extra: { ...transport._extra, ...tlsExtra(tlsSocket, ssl) },
    server,
    canWriteEof: false,
    halfOpen: false,
  });
  // The old transport is now a husk: detach it from the server without waking waitClosed() waiters.
  transport._server = null;
  transport._closing = true;
  transport._lost = true;
  if (server instanceof Server) server._clients.delete(transport);
  return upgraded;
}

// ---------------------------------------------------------------------------------------------------
// servers

/** One listening socket of a Server (Python's TransportSocket, as far as servers need it). */
/**
 * A TCP socket's address as Python gives it: `[host, port]`, or `[host, port, flowinfo, scopeId]` for
 * IPv6 (`const [host, port] = server.sockets[0]!.getsockname()` works for both).
 */
export type InetAddress =
  | [host: string, port: number]
  | [host: string, port: number, flowinfo: number, scopeId: number];

/** What `getsockname()` returns: an InetAddress for TCP, the socket file's path for a Unix socket. */
export type SocketAddress = InetAddress | string;

export class ServerSocket<A extends SocketAddress = SocketAddress> {
  /** The Node server behind it. */
  readonly server: net.Server;
  /** @internal */ readonly _unixPath: string | null;

  constructor(server: net.Server, unixPath: string | null = null) {
    this.server = server;
    this._unixPath = unixPath;
  }

  /**
   * [host, port] (IPv6: [host, port, 0, 0]) for a server of startServer/createServer, or the path of a
   * Unix socket (startUnixServer). OSError (EBADF, as Python's) if the Node server was closed behind
   * tsyncio's back.
   */
  getsockname(): A {
    if (this._unixPath !== null) return this._unixPath as A;
    const a = this.server.address();
    if (a === null) throw makeOSError('EBADF');
    if (typeof a === 'string') return a as A;
    return addressOf(a.address, a.port, a.family) as A;
  }

  /** 'AF_INET', 'AF_INET6' or 'AF_UNIX'. */
  get family(): string {
    if (this._unixPath !== null) return 'AF_UNIX';
    const a = this.server.address();
    return a !== null && typeof a === 'object' && a.family === 'IPv6' ? 'AF_INET6' : 'AF_INET';
  }

  toString(): string {
    return `<ServerSocket family=${this.family} laddr=${formatAddress(this.getsockname())}>`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

interface Listener {
  server: net.Server;
  unixPath: string | null;
}

/**
 * A listening server (Python's `asyncio.Server`): close(), waitClosed(), serveForever(), startServing(),
 * isServing(), sockets, closeClients(), abortClients(); an async context manager (close + waitClosed).
 */
export class Server<A extends SocketAddress = SocketAddress> implements TransportOwner {
  /** @internal */ _loop: EventLoop;
  /** @internal null once closed */ _listeners: Listener[] | null;
  /** @internal the connections accepted and not yet lost (CPython's _clients) */
  _clients = new Set<StreamTransport>();
  /** @internal null once both closed and without clients */
  _waiters: Future<void>[] | null = [];
  /** @internal */ _protocolFactory: () => Protocol;
  /** @internal */ _ssl: TlsOptions | null;
  /** @internal */ _serving = false;
  /** @internal */ _servingForeverFut: Future<void> | null = null;
  /** @internal connections that arrived before startServing() */
  _queued: net.Socket[] = [];
  /** @internal */ _context: Context;
  /** @internal */ _keepAlive: boolean;

  /** @internal Made by startServer / startUnixServer. */
  constructor(
    loop: EventLoop,
    listeners: Listener[],
    protocolFactory: () => Protocol,
    ssl: TlsOptions | null,
    keepAlive = false,
  ) {
    this._loop = loop;
    this._listeners = listeners;
    this._protocolFactory = protocolFactory;
    this._ssl = ssl;
    this._context = currentContext().copy();
    this._keepAlive = keepAlive;
    // A listening server is a host source: a connection may arrive at any time (virtual clock: base_events).
    loop._hostSources++;
    let open = openServers.get(loop);
    if (open === undefined) openServers.set(loop, (open = new Set()));
    open.add(this);
    for (const { server } of listeners) {
      server.on(ssl === null ? 'connection' : 'secureConnection', this._onHostConnection);
      server.on('error', this._onHostError);
      if (ssl !== null) server.on('tlsClientError', this._onHostTlsClientError);
    }
  }

  // -- host side -------------------------------------------------------------------------------------

  private readonly _onHostConnection = (socket: net.Socket): void => {
    socket.on('error', noop);
    const loop = this._loop;
    if (loop.isClosed()) {
      socket.destroy();
      return;
    }
    // New connections start from the server's context, as CPython's accept handle does.
    const ctx = this._context;
    if (ctx._entered) loop.callSoonThreadsafe(this._accept, socket);
    else ctx.run(() => loop.callSoonThreadsafe(this._accept, socket));
  };

  private readonly _onHostError = (err: unknown): void => {
    if (this._loop.isClosed()) return;
    this._loop.callSoonThreadsafe(() => {
      this._loop.callExceptionHandler({
        message: 'socket.accept() out of system resource',
        exception: fromNodeError(err),
        server: this,
      });
    });
  };

  private readonly _onHostTlsClientError = (err: unknown): void => {
    // A client that fails the handshake is dropped; CPython only reports it in debug mode.
    if (!this._loop._debug || this._loop.isClosed()) return;
    logger.debug(`${this}: SSL handshake failed: ${String(err)}`);
  };

  // -- loop side -------------------------------------------------------------------------------------

  private readonly _accept = (socket: net.Socket): void => {
    if (this._listeners === null) {
      socket.destroy();
      return;
    }
    if (!this._serving) {
      this._queued.push(socket);
      return;
    }
    const unixPath = this._listeners[0]?.unixPath ?? null;
    let extra: Record<string, unknown>;
    if (unixPath !== null) {
      extra = { peername: '', sockname: unixPath, socket };
    } else {
      socket.setNoDelay(true);
      if (this._keepAlive) socket.setKeepAlive(true);
      extra = tcpExtra(socket);
    }
    if (this._ssl !== null) extra = { ...extra, ...tlsExtra(socket as tls.TLSSocket, this._ssl) };
    let transport: StreamTransport | null = null;
    try {
      const protocol = this._protocolFactory();
      transport = new StreamTransport(this._loop, socket, protocol, {
        extra,
        server: this,
        canWriteEof: this._ssl === null,
        halfOpen: this._ssl === null,
      });
      protocol.connectionMade(transport);
    } catch (e) {
      this._loop.callExceptionHandler({
        message: 'Error on transport creation for incoming connection',
        exception: e,
      });
      if (transport !== null) transport.abort();
      else socket.destroy();
    }
  };

  /** @internal */
  _attach(transport: StreamTransport): void {
    this._clients.add(transport);
  }

  /** @internal */
  _detach(transport: StreamTransport): void {
    this._clients.delete(transport);
    if (this._clients.size === 0 && this._listeners === null) this._wakeup();
  }

  private _wakeup(): void {
    // Closed, and no connection left: nothing of it remains for the loop's close to clean up.
    openServers.get(this._loop)?.delete(this);
    const waiters = this._waiters;
    this._waiters = null;
    if (waiters === null) return;
    for (const waiter of waiters) {
      if (!waiter.done()) waiter.setResult(undefined);
    }
  }

  /** @internal */
  _startServing(): void {
    if (this._serving || this._listeners === null) return;
    this._serving = true;
    const queued = this._queued;
    this._queued = [];
    for (const socket of queued) this._accept(socket);
  }

  // -- the Server API ----------------------------------------------------------------------------------

  getLoop(): EventLoop {
    return this._loop;
  }

  isServing(): boolean {
    return this._serving;
  }

  /** The listening sockets (empty once closed). */
  get sockets(): readonly ServerSocket<A>[] {
    if (this._listeners === null) return [];
    return this._listeners.map((l) => new ServerSocket<A>(l.server, l.unixPath));
  }

  /**
   * Stop listening. Existing connections stay open (closeClients() / abortClients() end them);
   * waitClosed() returns once both the server is closed and every connection is gone.
   */
  close(): void {
    const listeners = this._listeners;
    if (listeners === null) return;
    this._listeners = null;
    this._loop._hostSources--;
    for (const { server } of listeners) server.close();
    for (const socket of this._queued) socket.destroy();
    this._queued = [];
    this._serving = false;
    const fut = this._servingForeverFut;
    if (fut !== null && !fut.done()) {
      fut.cancel();
      this._servingForeverFut = null;
    }
    if (this._clients.size === 0) this._wakeup();
  }

  /** Close every client connection (buffered data is still sent). */
  closeClients(): void {
    for (const transport of [...this._clients]) transport.close();
  }

  /** Abort every client connection at once. */
  abortClients(): void {
    for (const transport of [...this._clients]) transport.abort();
  }

  /** Start accepting connections (if startServing: false was given). */
  startServing(): Coroutine<void> {
    return new Coroutine(startServingGen(this), { name: 'start_serving', qualname: 'Server.start_serving' });
  }

  /** Accept connections until cancelled; cancellation closes the server and waits for it. */
  serveForever(): Coroutine<void> {
    return new Coroutine(serveForeverGen(this), { name: 'serve_forever', qualname: 'Server.serve_forever' });
  }

  /** Wait until the server is closed and all its connections are gone. */
  waitClosed(): Coroutine<void> {
    return new Coroutine(waitClosedGen(this), { name: 'wait_closed', qualname: 'Server.wait_closed' });
  }

  /** `asyncWith(server, …)`: the server itself. */
  aenter(): Coroutine<this> {
    const self = this;
    return new Coroutine(
      (function* () {
        return self;
      })(),
      { name: '__aenter__', qualname: 'Server.__aenter__' },
    );
  }

  /** Close the server and wait until it is closed. */
  aexit(_error?: unknown): Coroutine<boolean> {
    const self = this;
    return new Coroutine(
      (function* () {
        self.close();
        yield* self.waitClosed();
        return false;
      })(),
      { name: '__aexit__', qualname: 'Server.__aexit__' },
    );
  }

  /** `await using server = …` outside coroutines (the loop must be running). */
  [Symbol.asyncDispose](): PromiseLike<boolean> {
    return this._loop.createTask(this.aexit());
  }

  toString(): string {
    return `<Server sockets=[${this.sockets.map(String).join(', ')}]>`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

/** Servers still listening, per loop: closing the loop closes them (see the hook below). */
const openServers = new Map<EventLoop, Set<Server<any>>>();

/**
 * A Server still open when its loop closes (run() returned without server.close()) would keep the process
 * alive forever: its listening socket is a Node handle, and nothing can serve connections any more. Close
 * it and its connections, with CPython's warning for the socket it leaves unclosed (a ResourceWarning;
 * CPython's process simply exits).
 */
export function closeLoopServers(loop: EventLoop): void {
  const open = openServers.get(loop);
  if (open === undefined) return;
  openServers.delete(loop);
  for (const server of open) {
    if (server._listeners !== null) {
      process.emitWarning(`unclosed ${server}: closed with its event loop`, { type: 'ResourceWarning' });
      server.close();
    }
    // Its connections can no longer be served either.
    server.abortClients();
  }
}

function* startServingGen(server: Server): Generator<Instruction, void, unknown> {
  server._startServing();
  yield* sleep(0);
}

function* serveForeverGen(server: Server): Generator<Instruction, void, unknown> {
  if (server._servingForeverFut !== null) {
    throw new RuntimeError(`server ${server} is already being awaited on serve_forever()`);
  }
  if (server._listeners === null) throw new RuntimeError(`server ${server} is closed`);
  server._startServing();
  const fut = server._loop.createFuture<void>();
  server._servingForeverFut = fut;
  try {
    yield* fut;
  } catch (e) {
    if (e instanceof CancelledError) {
      try {
        server.close();
        yield* server.waitClosed();
      } finally {
        // biome-ignore lint/correctness/noUnsafeFinally: re-raise the cancellation, as CPython does
        throw e;
      }
    }
    throw e;
  } finally {
    if (server._servingForeverFut === fut) server._servingForeverFut = null;
  }
}

function* waitClosedGen(server: Server): Generator<Instruction, void, unknown> {
  // Waiters are released by _wakeup() once the server is closed AND has no connections, in either
  // order; _wakeup() sets _waiters to null to say so.
  if (server._waiters === null) return;
  const waiter = server._loop.createFuture<void>();
  server._waiters.push(waiter);
  yield* waiter;
}

function makeNodeServer(ssl: TlsOptions | null, handshakeTimeout: number | null | undefined): net.Server {
  if (ssl === null) return net.createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true });
  return tls.createServer({
    ...ssl,
    handshakeTimeout: (handshakeTimeout ?? SSL_HANDSHAKE_TIMEOUT) * 1000,
  });
}

function bindError(err: unknown, address: unknown): unknown {
  const code = (err as { code?: unknown })?.code;
  if (typeof code !== 'string' || errnoOf(code) === undefined) return fromNodeError(err);
  const text = `[errno ${errnoOf(code)}] ${strerror(code).toLowerCase()}`;
  return makeOSError(
    code,
    `error while attempting to bind on address ${formatAddress(address)}: ${text}`,
    err,
  );
}

/**
 * Listen on host:port (or each host of a list) and serve each connection with `protocolFactory()`
 * (Python's `loop.create_server`).
 */
export function* createServer(
  loop: EventLoop,
  protocolFactory: () => Protocol,
  host: string | readonly string[] | null | undefined,
  port: number | null | undefined,
  options?: ServerOptions,
): Generator<Instruction, Server<InetAddress>, unknown> {
  const o = options ?? {};
  const ssl = checkServerSsl(o.ssl);
  checkSslTimeouts(o, ssl !== null);
  const backlog = o.backlog ?? 100;
  if (o.reusePort && !nodeHasReusePort()) throw new ValueError('reuse_port not supported by socket module');
  const listeners: Listener[] = [];
  const sock = o.sock ?? null;
  if ((host !== null && host !== undefined) || (port !== null && port !== undefined)) {
    if (sock !== null) throw new ValueError('host/port and sock can not be specified at the same time');
    checkPort(port);
    const hosts: (string | undefined)[] =
      host === null || host === undefined
        ? [undefined]
        : typeof host === 'string'
          ? [host]
          : [...new Set(host)];
    for (const h of hosts) if (h !== undefined) checkHost(h);
    try {
      for (const h of hosts) {
        const server = makeNodeServer(ssl, o.sslHandshakeTimeout);
        server.on('error', noop);
        listeners.push({ server, unixPath: null });
        const address = [h ?? '0.0.0.0', port ?? 0];
        const listening = hostEvent(loop, server, 'listening', (err) => bindError(err, address));
        server.listen({
          host: h,
          port: port ?? 0,
          backlog,
          ipv6Only: o.ipv6Only ?? false,
          ...(o.reusePort ? { reusePort: true } : {}),
        } as net.ListenOptions);
        yield* listening;
      }
    } catch (e) {
      for (const { server } of listeners) server.close();
      throw e;
    }
  } else {
    if (sock === null) throw new ValueError('Neither host/port nor sock were specified');
    if (!(sock instanceof net.Server))
      throw new ValueError(`A Stream Socket was expected, got ${repr(sock)}`);
    if (!sock.listening) yield* hostEvent(loop, sock, 'listening', (err) => fromNodeError(err));
    listeners.push({ server: sock, unixPath: null });
  }
  const server = new Server<InetAddress>(loop, listeners, protocolFactory, ssl, o.keepAlive ?? false);
  if (o.startServing ?? true) {
    server._startServing();
    // Skip one loop iteration, as CPython does, so the server is fully set up when this returns.
    yield* sleep(0);
  }
  return server;
}

/** Python's `loop.create_unix_server`: listen on a Unix socket at `path` (a stale socket is replaced). */
export function* createUnixServer(
  loop: EventLoop,
  protocolFactory: () => Protocol,
  path: string | null | undefined,
  options?: UnixServerOptions,
): Generator<Instruction, Server<string>, unknown> {
  const o = options ?? {};
  const ssl = checkServerSsl(o.ssl);
  checkSslTimeouts(o, ssl !== null);
  const sock = o.sock ?? null;
  let listener: Listener;
  if (path !== null && path !== undefined) {
    if (sock !== null) throw new ValueError('path and sock can not be specified at the same time');
    if (typeof path !== 'string') throw new TypeError(`path must be a str, not ${repr(path)}`);
    if (path[0] !== '\0') {
      try {
        if (fs.statSync(path).isSocket()) fs.unlinkSync(path);
      } catch (e) {
        if ((e as { code?: string }).code !== 'ENOENT') {
          logger.error(
            `Unable to check or remove stale UNIX socket ${repr(path)}: ${repr(fromNodeError(e))}`,
          );
        }
      }
    }
    const server = makeNodeServer(ssl, o.sslHandshakeTimeout);
    server.on('error', noop);
    const listening = hostEvent(loop, server, 'listening', (err) => {
      const code = (err as { code?: string }).code;
      if (code === 'EADDRINUSE') return makeOSError(code, `Address ${repr(path)} is already in use`, err);
      return fromNodeError(err);
    });
    server.listen({ path, backlog: o.backlog ?? 100 });
    try {
      yield* listening;
    } catch (e) {
      server.close();
      throw e;
    }
    listener = { server, unixPath: path };
  } else {
    if (sock === null) throw new ValueError('path was not specified, and no sock specified');
    if (!(sock instanceof net.Server)) {
      throw new ValueError(`A UNIX Domain Stream Socket was expected, got ${repr(sock)}`);
    }
    if (!sock.listening) yield* hostEvent(loop, sock, 'listening', (err) => fromNodeError(err));
    const a = sock.address();
    listener = { server: sock, unixPath: typeof a === 'string' ? a : '' };
  }
  const server = new Server<string>(loop, [listener], protocolFactory, ssl);
  if (o.startServing ?? true) {
    server._startServing();
    yield* sleep(0);
  }
  return server;
}
