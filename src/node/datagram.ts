/**
 * UDP: `loop.createDatagramEndpoint` and its transport over node:dgram (CPython's
 * base_events.create_datagram_endpoint and selector_events._SelectorDatagramTransport).
 *
 * Host events enter the loop as in transports.ts: 'message' records the datagram and posts one delivery
 * callback for a burst; the protocol is only called from loop callbacks. Node sends asynchronously: a
 * datagram counts in getWriteBufferSize() (its length + 8, CPython's header size) until Node's send
 * callback, and the protocol is paused over the high-water mark (64 KiB) as CPython pauses it when the
 * kernel buffer is full. A send that fails (EMSGSIZE: a datagram too large) reaches
 * `protocol.errorReceived` as the OSError CPython's sendto raises.
 */
import * as dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import * as net from 'node:net';
import type { EventLoop } from '../base_events.js';
import { type Context, currentContext } from '../contextvars.js';
import type { Instruction } from '../coroutines.js';
import { OSError, ValueError } from '../exceptions.js';
import { pyTypeName, repr } from '../format_helpers.js';
import type { Future } from '../futures.js';
import { logger } from '../log.js';
import { nodeHasReusePort } from './base_events.js';
import { fromNodeError, makeOSError } from './errors.js';
import type { Address, DatagramProtocol } from './protocols.js';
import {
  DatagramTransport,
  DEFAULT_HIGH_WATER,
  formatAddress,
  notifyFlowControl,
  writeBufferLimits,
} from './transports.js';

export interface DatagramEndpointOptions {
  /** Bind to [host, port] (port 0: any free port). */
  localAddr?: readonly [string, number] | null;
  /** Connect to [host, port]: sendto() without an address goes there, datagrams from elsewhere are dropped. */
  remoteAddr?: readonly [string, number] | null;
  /** 0 (from the addresses), 4 or 6. */
  family?: 0 | 4 | 6;
  /** SO_REUSEPORT (Node ≥ 22.12 / 23.1; ValueError on older Node, as CPython without the option). */
  reusePort?: boolean | null;
  /** SO_BROADCAST: allow sending to broadcast addresses (remoteAddr is then not connected). */
  allowBroadcast?: boolean | null;
  /** A Node dgram socket to use instead (the other options must be unset). */
  sock?: dgram.Socket | null;
}

const LOG_THRESHOLD_FOR_CONNLOST_WRITES = 5;
const HEADER_SIZE = 8;
const noop = (): void => {};

function udpAddress(address: string, port: number, family: string | number): Address {
  return family === 'IPv6' || family === 6 ? [address, port, 0, 0] : [address, port];
}

function checkPair(addr: unknown): asserts addr is readonly [string, number] {
  if (!Array.isArray(addr) || addr.length !== 2) throw new TypeError('2-tuple is expected');
}

/** Resolve [host, port] to the IP addresses of `family` (0: any), as getaddrinfo would. */
async function resolve(
  addr: readonly [string, number],
  family: 0 | 4 | 6,
): Promise<{ address: string; family: 4 | 6 }[]> {
  const [host, port] = addr;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new OSError(`port must be 0-65535, got ${repr(port)}`);
  }
  const ip = net.isIP(host);
  if (ip !== 0) {
    if (family !== 0 && family !== ip) throw makeOSError('EAFNOSUPPORT');
    return [{ address: host, family: ip as 4 | 6 }];
  }
  try {
    const infos = await lookup(host === '' ? '0.0.0.0' : host, { all: true, family });
    return infos.map((i) => ({ address: i.address, family: i.family as 4 | 6 }));
  } catch (e) {
    throw fromNodeError(e);
  }
}

/** Python's create_datagram_endpoint. */
export function* createDatagramEndpoint<P extends DatagramProtocol>(
  loop: EventLoop,
  protocolFactory: () => P,
  options?: DatagramEndpointOptions,
): Generator<Instruction, [UDPTransport, P], unknown> {
  const o = options ?? {};
  const localAddr = o.localAddr ?? null;
  const remoteAddr = o.remoteAddr ?? null;
  const family = o.family ?? 0;
  let socket: dgram.Socket;
  let rAddr: Address | null = null;
  if (o.sock !== null && o.sock !== undefined) {
    const sock = o.sock;
    if (!(sock instanceof dgram.Socket))
      throw new ValueError(`A datagram socket was expected, got ${repr(sock)}`);
    const opts: [string, unknown][] = [
      ['local_addr', localAddr],
      ['remote_addr', remoteAddr],
      ['family', family],
      ['reuse_port', o.reusePort],
      ['allow_broadcast', o.allowBroadcast],
    ];
    const problems = opts
      .filter(([, v]) => v)
      .map(([k, v]) => `${k}=${Array.isArray(v) ? formatAddress(v) : pyValue(v)}`);
    if (problems.length > 0) {
      throw new ValueError(
        `socket modifier keyword arguments can not be used when sock is specified. (${problems.join(', ')})`,
      );
    }
    socket = sock;
  } else {
    if (localAddr === null && remoteAddr === null && family === 0)
      throw new ValueError('unexpected address family');
    if (localAddr !== null) checkPair(localAddr);
    if (remoteAddr !== null) checkPair(remoteAddr);
    if (o.reusePort && !nodeHasReusePort()) throw new ValueError('reuse_port not supported by socket module');
    const wait = <T>(p: Promise<T>): Future<T> => loop._wrapHostPromise(p);
    const locals = localAddr === null ? null : yield* wait(resolve(localAddr, family));
    const remotes = remoteAddr === null ? null : yield* wait(resolve(remoteAddr, family));
    // The first family both addresses resolve to (CPython pairs getaddrinfo results by family).
    const families = [4, 6].filter(
      (f) =>
        (locals === null || locals.some((i) => i.family === f)) &&
        (remotes === null || remotes.some((i) => i.family === f)),
    ) as (4 | 6)[];
    const chosen: 4 | 6 | undefined =
      locals === null && remotes === null
        ? (family as 4 | 6)
        : (families.find((f) => f === (locals ?? remotes)![0]!.family) ?? families[0]);
    if (chosen === undefined) throw new ValueError('can not get address information');
    const local = locals?.find((i) => i.family === chosen) ?? null;
    const remote = remotes?.find((i) => i.family === chosen) ?? null;
    socket = dgram.createSocket({
      type: chosen === 6 ? 'udp6' : 'udp4',
      ...(o.reusePort ? { reusePort: true, reuseAddr: true } : {}),
    } as dgram.SocketOptions);
    socket.on('error', noop);
    try {
      if (local !== null || o.allowBroadcast) {
        yield* wait(
          new Promise<void>((resolveBind, reject) => {
            socket.once('error', reject);
            socket.bind({ address: local?.address, port: local === null ? 0 : localAddr![1] }, () => {
              socket.off('error', reject);
              resolveBind();
            });
          }),
        );
      }
      if (o.allowBroadcast) socket.setBroadcast(true);
      if (remote !== null) {
        rAddr = udpAddress(remote.address, remoteAddr![1], chosen);
        if (!o.allowBroadcast) {
          yield* wait(
            new Promise<void>((resolveConnect, reject) => {
              socket.connect(remoteAddr![1], remote.address, (err?: unknown) => {
                if (err) reject(err);
                else resolveConnect();
              });
            }),
          );
        }
      }
    } catch (e) {
      socket.close();
      throw e instanceof OSError || e instanceof ValueError ? e : fromNodeError(e);
    }
  }
  let protocol: P;
  try {
    protocol = protocolFactory();
  } catch (e) {
    socket.close();
    throw e;
  }
  const transport = new UDPTransport(loop, socket, protocol, rAddr);
  protocol.connectionMade(transport);
  return [transport, protocol];
}

function pyValue(v: unknown): string {
  if (v === true) return 'True';
  if (v === false) return 'False';
  return String(v);
}

/** A DatagramTransport over a Node dgram socket (CPython's _SelectorDatagramTransport). */
export class UDPTransport extends DatagramTransport {
  /** @internal */ _loop: EventLoop;
  /** @internal */ _sock: dgram.Socket;
  /** @internal */ _protocol: DatagramProtocol | null;
  /** @internal the connected (or broadcast default) remote address */
  _address: Address | null;
  /** @internal */ _closing = false;
  /** @internal connectionLost() was delivered (or the socket closed) */
  _lost = false;
  /** @internal writes attempted after the connection was lost (CPython's _conn_lost) */
  _connLost = 0;
  /** @internal bytes (+ header) handed to Node and not yet sent */
  _bufferSize = 0;
  /** @internal */ _highWater = DEFAULT_HIGH_WATER;
  /** @internal */ _lowWater = DEFAULT_HIGH_WATER / 4;
  /** @internal */ _protocolPaused = false;
  /** @internal the first datagram received and not yet delivered (null: none), and its sender */
  _msg: Buffer | null = null;
  /** @internal */ _rinfo: dgram.RemoteInfo | null = null;
  /** @internal the datagrams after _msg that arrived before the delivery ran: datagram, sender, … */
  _more: (Buffer | dgram.RemoteInfo)[] | null = null;
  /** @internal a deliverMessages callback is in the ready queue */
  _deliverPosted = false;
  /**
   * @internal The context the protocol's callbacks run in: one copy, made with the transport (CPython's
   * reader handle; see StreamTransport._context).
   */
  readonly _context: Context;
  private readonly _onHostMessage: (msg: Buffer, rinfo: dgram.RemoteInfo) => void;
  private readonly _onHostError: (err: unknown) => void;

  constructor(loop: EventLoop, sock: dgram.Socket, protocol: DatagramProtocol, address: Address | null) {
    let sockname: Address | null = null;
    let peername: Address | null = null;
    try {
      const a = sock.address();
      sockname = udpAddress(a.address, a.port, a.family);
    } catch {
      // not bound yet: Node binds on the first send
    }
    try {
      const r = sock.remoteAddress();
      peername = udpAddress(r.address, r.port, r.family);
    } catch {
      // not connected
    }
    super({ peername, sockname, socket: sock });
    this._loop = loop;
    this._sock = sock;
    this._protocol = protocol;
    this._address = address;
    this._context = currentContext().copy();
    this._onHostMessage = (msg, rinfo) => this._hostMessage(msg, rinfo);
    this._onHostError = (err) => this._postWith(errorReceivedSoon, fromNodeError(err));
    sock.on('message', this._onHostMessage);
    sock.on('error', this._onHostError);
  }

  // -- host side --------------------------------------------------------------------------------------

  /** 'message': keep the datagram; the first one of a burst posts the delivery, the others join it. */
  private _hostMessage(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    if (!this._deliverPosted) {
      this._deliverPosted = true;
      this._msg = msg;
      this._rinfo = rinfo;
      this._post(deliverMessages);
    } else if (this._msg === null) {
      this._msg = msg;
      this._rinfo = rinfo;
    } else {
      (this._more ??= []).push(msg, rinfo);
    }
  }

  /**
   * Enter the loop from a Node event: `callback(this, arg)` on the next iteration, in the transport's
   * context (the ready queue's allocation-free entry, which wakes the loop as callSoonThreadsafe does).
   * A closed loop can no longer be told, so the socket is closed. [HOT: every datagram]
   */
  private _post(callback: (t: UDPTransport) => void): void {
    const loop = this._loop;
    if (loop.isClosed()) {
      this._closeSocket();
      return;
    }
    loop._callSoonFast(callback, this, this._context);
  }

  /** _post for the rare events that carry a value (an error): a closure each. */
  private _postWith(callback: (t: UDPTransport, arg: unknown) => void, arg: unknown): void {
    this._post((t) => callback(t, arg));
  }

  // -- loop side --------------------------------------------------------------------------------------

  /** @internal Hand the datagrams received so far to the protocol. */
  _deliverMessages(): void {
    this._deliverPosted = false;
    const msg = this._msg;
    if (msg === null) return;
    const rinfo = this._rinfo!;
    const more = this._more;
    this._msg = null;
    this._rinfo = null;
    this._more = null;
    if (!this._deliverOne(msg, rinfo) || more === null) return;
    for (let i = 0; i < more.length; i += 2) {
      if (!this._deliverOne(more[i] as Buffer, more[i + 1] as dgram.RemoteInfo)) return;
    }
  }

  private _deliverOne(msg: Buffer, rinfo: dgram.RemoteInfo): boolean {
    const protocol = this._protocol;
    if (protocol === null || this._closing) return false;
    try {
      protocol.datagramReceived(msg, udpAddress(rinfo.address, rinfo.port, rinfo.family));
    } catch (e) {
      this._fatalError(e, 'Fatal read error on datagram transport');
      return false;
    }
    return true;
  }

  /** @internal */
  _errorReceived(exc: unknown): void {
    if (this._lost) return;
    try {
      this._protocol?.errorReceived(exc);
    } catch (e) {
      this._fatalError(e, 'Fatal error: protocol.error_received() call failed.');
    }
  }

  /**
   * Node has sent a datagram (or failed to). The loop is told only when that changes something for the
   * protocol: an error, writing to resume, a close waiting for the last datagram. A send that changes
   * nothing costs no loop callback. [HOT: every sendto]
   */
  /** @internal */
  _onSent(err: unknown, size: number): void {
    this._bufferSize -= size;
    if (
      err ||
      (this._protocolPaused && this._bufferSize <= this._lowWater) ||
      (this._closing && this._bufferSize === 0)
    ) {
      this._postWith(sentSoon, err);
    }
  }

  /** @internal The loop side of _onSent. */
  _sent(err: unknown): void {
    if (err) this._errorReceived(fromNodeError(err));
    if (this._protocolPaused && this._bufferSize <= this._lowWater) {
      this._protocolPaused = false;
      notifyFlowControl(this._loop, this, this._protocol, 'resumeWriting');
    }
    if (this._closing && this._bufferSize === 0) this._connectionLost(null);
  }

  // -- the DatagramTransport API ---------------------------------------------------------------------

  /** Send `data` (bytes; a string as UTF-8) to `addr`, or to the remote address without one. */
  override sendto(data: Uint8Array | string, addr?: Address | null): void {
    if (typeof data === 'string') data = Buffer.from(data, 'utf8');
    else if (!(data instanceof Uint8Array)) {
      throw new TypeError(`data argument must be a bytes-like object, not '${pyTypeName(data)}'`);
    }
    addr = addr ?? null;
    if (this._address !== null) {
      if (addr !== null && !sameAddress(addr, this._address)) {
        throw new ValueError(`Invalid address: must be None or ${formatAddress(this._address)}`);
      }
      addr = this._address;
    }
    if (this._lost) {
      if (this._address !== null) {
        if (this._connLost >= LOG_THRESHOLD_FOR_CONNLOST_WRITES)
          logger.warning('socket.send() raised exception.');
        this._connLost++;
      } else {
        this._errorReceived(makeOSError('EBADF'));
      }
      return;
    }
    const size = data.length + HEADER_SIZE;
    const connected = this._extra.peername !== null && this._extra.peername !== undefined;
    const onSent = sentCallback(this, size);
    try {
      if (connected) this._sock.send(data, onSent);
      else {
        // CPython's socket.sendto errors, which its transport treats as fatal.
        if (!Array.isArray(addr)) {
          const sockname = this._extra.sockname;
          const family = Array.isArray(sockname) && sockname.length === 4 ? 'AF_INET6' : 'AF_INET';
          const got = addr === null ? 'NoneType' : pyTypeName(addr);
          throw new TypeError(`sendto(): ${family} address must be tuple, not ${got}`);
        }
        if (typeof addr[1] !== 'number') {
          throw new TypeError(`'${pyTypeName(addr[1])}' object cannot be interpreted as an integer`);
        }
        this._sock.send(data, addr[1] as number, addr[0] as string, onSent);
      }
    } catch (e) {
      if (e instanceof TypeError) {
        this._fatalError(e, 'Fatal write error on datagram transport');
        return;
      }
      this._errorReceived(fromNodeError(e));
      return;
    }
    this._bufferSize += size;
    this._maybePauseProtocol();
  }

  override isClosing(): boolean {
    return this._closing;
  }

  /** Close after the datagrams handed to Node are sent; connectionLost(null) follows. */
  override close(): void {
    if (this._closing) return;
    this._closing = true;
    this._sock.off('message', this._onHostMessage);
    if (this._bufferSize === 0 && !this._loop.isClosed())
      this._loop.callSoon(() => this._connectionLost(null));
  }

  /** Close at once; connectionLost(null) follows. */
  override abort(): void {
    this._forceClose(null);
  }

  override getProtocol(): DatagramProtocol | null {
    return this._protocol;
  }

  override setProtocol(protocol: DatagramProtocol): void {
    this._protocol = protocol;
  }

  override getWriteBufferSize(): number {
    return this._bufferSize;
  }

  override getWriteBufferLimits(): [number, number] {
    return [this._lowWater, this._highWater];
  }

  /** Set the marks (CPython's defaults: high 64 KiB, low high/4); pauses writing if already past high. */
  override setWriteBufferLimits(high?: number | null, low?: number | null): void {
    [this._highWater, this._lowWater] = writeBufferLimits(high, low);
    this._maybePauseProtocol();
  }

  /** CPython's _maybe_pause_protocol: pauseWriting once the buffer is past the high-water mark. */
  private _maybePauseProtocol(): void {
    if (!this._protocolPaused && this._bufferSize > this._highWater) {
      this._protocolPaused = true;
      notifyFlowControl(this._loop, this, this._protocol, 'pauseWriting');
    }
  }

  /** @internal */
  _fatalError(exc: unknown, message: string): void {
    if (!(exc instanceof Error && 'errno' in exc)) {
      this._loop.callExceptionHandler({ message, exception: exc, transport: this, protocol: this._protocol });
    }
    this._forceClose(exc);
  }

  private _forceClose(exc: unknown): void {
    if (this._lost) return;
    this._closing = true;
    this._sock.off('message', this._onHostMessage);
    this._msg = null;
    this._rinfo = null;
    this._more = null;
    this._closeSocket();
    if (!this._loop.isClosed()) this._loop.callSoon(() => this._connectionLost(exc));
  }

  private _closeSocket(): void {
    try {
      this._sock.close();
    } catch {
      // already closed
    }
  }

  /** @internal */
  _connectionLost(exc: unknown): void {
    if (this._lost) return;
    this._lost = true;
    this._closing = true;
    this._closeSocket();
    const protocol = this._protocol;
    this._protocol = null;
    protocol?.connectionLost(exc);
  }

  override toString(): string {
    const info = ['UDPTransport'];
    if (this._lost) info.push('closed');
    else if (this._closing) info.push('closing');
    const name = this._extra.sockname;
    if (name !== null && name !== undefined) info.push(`laddr=${formatAddress(name)}`);
    if (this._address !== null) info.push(`raddr=${formatAddress(this._address)}`);
    return `<${info.join(' ')}>`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

/**
 * Node's completion callback for one sent datagram of `size` bytes (with its header). Made by a function
 * returning an anonymous arrow, not a named `const`: transpilers that keep function names (tsx, esbuild's
 * keepNames) would define a name on every one, per datagram. [HOT: every sendto]
 */
function sentCallback(t: UDPTransport, size: number): (err: unknown) => void {
  return (err) => t._onSent(err, size);
}

// The loop-side entry points of UDPTransport (module functions: no closure per datagram).
function deliverMessages(t: UDPTransport): void {
  t._deliverMessages();
}
function sentSoon(t: UDPTransport, err: unknown): void {
  t._sent(err);
}
function errorReceivedSoon(t: UDPTransport, exc: unknown): void {
  t._errorReceived(exc);
}

function sameAddress(a: Address, b: Address): boolean {
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  return a[0] === b[0] && a[1] === b[1];
}
