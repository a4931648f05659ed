/**
 * StreamTransport: a Node stream (a net.Socket, a tls.TLSSocket, a child process's pipe, any Duplex,
 * Readable or Writable) seen as an asyncio transport, driving a protocol (CPython's
 * selector_events._SelectorSocketTransport and transports._FlowControlMixin).
 *
 * HOW HOST EVENTS ENTER THE LOOP. Node emits 'data', 'end', 'drain', 'error' and 'close' from its own
 * event loop, outside tsyncio's. Each handler does the least it can (record, and post one callback with
 * `loop.callSoonThreadsafe`, which wakes the loop); the protocol is only ever called from a loop callback,
 * as in CPython where transports call protocols from the selector's callbacks. Chunks that arrive while a
 * delivery is already posted join it, so a burst costs one loop callback, not one per chunk. All posts go
 * through the same FIFO ready queue, so data, EOF and connection loss reach the protocol in the order Node
 * reported them. [HOT: the data path is what the echo benchmark measures.]
 *
 * WRITE FLOW CONTROL. Node buffers every write itself (`writableLength`); the transport pauses the
 * protocol (so `drain()` blocks) when that buffer passes the high-water mark (64 KiB by default, as
 * CPython) and resumes it when Node reports the buffer flushed down to the low-water mark. READ FLOW
 * CONTROL: `pauseReading()` pauses the Node stream, which stops reading from the kernel once Node's own
 * small read buffer is full, so a slow reader pushes back on a fast writer through TCP.
 */
import type { ChildProcess } from 'node:child_process';
import type * as dgram from 'node:dgram';
import type * as net from 'node:net';
import type { Duplex, Readable, Writable } from 'node:stream';
import type * as tls from 'node:tls';
import type { EventLoop } from '../base_events.js';
import { type Context, currentContext } from '../contextvars.js';
import { BrokenPipeError, NotImplementedError, OSError, RuntimeError, ValueError } from '../exceptions.js';
import { pyTypeName } from '../format_helpers.js';
import { logger } from '../log.js';
import { fromNodeError, makeOSError } from './errors.js';
import {
  type Address,
  type BaseProtocol,
  type BufferedProtocol,
  isBufferedProtocol,
  type Protocol,
} from './protocols.js';

/** The protocols a stream transport can drive. */
export type StreamProtocol = Protocol | BufferedProtocol;

/**
 * The keys of getExtraInfo() with their types (CPython's documented extra info); any other string key
 * gives `unknown`.
 */
export interface ExtraInfo {
  /** The remote address: [host, port] (IPv6: [host, port, flowinfo, scopeId]) or a Unix path. */
  peername: Address | null;
  /** The local address, as peername. */
  sockname: Address | null;
  /** The Node socket (Python: the socket object). */
  socket: net.Socket | dgram.Socket;
  /** The TLS options the connection was made with (Python: the SSLContext). */
  sslcontext: object;
  /** The TLS socket (Python: the SSLObject). */
  ssl_object: tls.TLSSocket;
  /** The peer's certificate, as Node gives it. */
  peercert: tls.PeerCertificate | undefined;
  /** [cipher name, protocol version, secret bits]. */
  cipher: readonly [string, string, number | undefined] | undefined;
  compression: undefined;
  /** A pipe transport's Node stream. */
  pipe: Readable | Writable | Duplex;
  /** A subprocess transport's Node ChildProcess. */
  subprocess: ChildProcess;
}

function notImplemented(): never {
  throw new NotImplementedError();
}

/** The base of all transports (CPython's BaseTransport): extra info, closing, the protocol. */
export class BaseTransport {
  /** @internal */ _extra: Record<string, unknown>;

  constructor(extra?: Record<string, unknown> | null) {
    this._extra = extra ?? {};
  }

  /** Extra information about the transport or its socket: `defaultValue` if it has none under `name`. */
  getExtraInfo<K extends keyof ExtraInfo>(name: K, defaultValue?: ExtraInfo[K]): ExtraInfo[K] | undefined;
  getExtraInfo(name: string, defaultValue?: unknown): unknown;
  getExtraInfo(name: string, defaultValue?: unknown): unknown {
    return name in this._extra ? this._extra[name] : defaultValue;
  }

  /** True once the transport is closing or closed. */
  isClosing(): boolean {
    return notImplemented();
  }

  /** Close: buffered data is flushed asynchronously; the protocol's connectionLost(null) follows. */
  close(): void {
    notImplemented();
  }

  setProtocol(_protocol: BaseProtocol): void {
    notImplemented();
  }

  getProtocol(): BaseProtocol | null {
    return notImplemented();
  }
}

/**
 * @internal Tell a protocol to pause or resume writing (CPython's `_FlowControlMixin`): a failure in the
 * protocol's callback is reported to the loop's exception handler, never raised into the transport.
 */
export function notifyFlowControl(
  loop: EventLoop,
  transport: BaseTransport,
  protocol: BaseProtocol | null,
  method: 'pauseWriting' | 'resumeWriting',
): void {
  try {
    protocol?.[method]();
  } catch (e) {
    loop.callExceptionHandler({
      message: `protocol.${method === 'pauseWriting' ? 'pause_writing' : 'resume_writing'}() failed`,
      exception: e,
      transport,
      protocol,
    });
  }
}

/** A transport that reads (CPython's ReadTransport). */
export class ReadTransport extends BaseTransport {
  /** True while the protocol is receiving data. */
  isReading(): boolean {
    return notImplemented();
  }

  /** Stop delivering data to the protocol until resumeReading(). */
  pauseReading(): void {
    notImplemented();
  }

  resumeReading(): void {
    notImplemented();
  }
}

/** A transport that writes (CPython's WriteTransport). */
export class WriteTransport extends BaseTransport {
  /** A Transport is a WriteTransport too (Python's multiple inheritance). */
  static override [Symbol.hasInstance](x: unknown): boolean {
    return (
      Function.prototype[Symbol.hasInstance].call(this, x) ||
      (this === WriteTransport && x instanceof Transport)
    );
  }

  /** Set the write flow-control marks: pauseWriting() above `high`, resumeWriting() at `low`. */
  setWriteBufferLimits(_high?: number | null, _low?: number | null): void {
    notImplemented();
  }

  /** Bytes buffered for writing. */
  getWriteBufferSize(): number {
    return notImplemented();
  }

  /** [low, high]. */
  getWriteBufferLimits(): [number, number] {
    return notImplemented();
  }

  /** Write bytes (a string as UTF-8); never blocks. */
  write(_data: Uint8Array | string): void {
    notImplemented();
  }

  /** Write each chunk of `list` (joined into one write). */
  writelines(list: Iterable<Uint8Array | string>): void {
    const chunks: Uint8Array[] = [];
    for (const item of list) chunks.push(typeof item === 'string' ? Buffer.from(item, 'utf8') : item);
    this.write(Buffer.concat(chunks));
  }

  /** Close the write side after flushing (the peer sees EOF). */
  writeEof(): void {
    notImplemented();
  }

  canWriteEof(): boolean {
    return notImplemented();
  }

  /** Close at once, dropping buffered data; connectionLost(null) follows. */
  abort(): void {
    notImplemented();
  }
}

/**
 * A bidirectional stream transport (CPython's Transport: ReadTransport + WriteTransport). JavaScript has no
 * multiple inheritance: it extends ReadTransport and takes WriteTransport's methods (copied onto its
 * prototype below, declared by the interface merged with the class); `instanceof WriteTransport` holds
 * through WriteTransport's `Symbol.hasInstance`.
 */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the merged interface declares WriteTransport's methods, which the loop below installs on the prototype (a mixin: JavaScript has no multiple inheritance).
export class Transport extends ReadTransport {}
export interface Transport extends WriteTransport {}
for (const name of Object.getOwnPropertyNames(WriteTransport.prototype)) {
  if (name === 'constructor') continue;
  Object.defineProperty(
    Transport.prototype,
    name,
    Object.getOwnPropertyDescriptor(WriteTransport.prototype, name)!,
  );
}

/** A datagram (UDP) transport (CPython's DatagramTransport). */
export class DatagramTransport extends BaseTransport {
  /**
   * Send `data` to `addr` ([host, port]); without `addr`, to the remote address the endpoint was made
   * with. Never blocks.
   */
  sendto(_data: Uint8Array | string, _addr?: Address | null): void {
    notImplemented();
  }

  /** Close at once, dropping buffered datagrams. */
  abort(): void {
    notImplemented();
  }

  /** Bytes (plus 8 per datagram) handed to the host and not yet sent. */
  getWriteBufferSize(): number {
    return notImplemented();
  }

  /** [low, high]. */
  getWriteBufferLimits(): [number, number] {
    return notImplemented();
  }

  /** Pause the protocol's writing above `high` bytes buffered; resume at `low`. */
  setWriteBufferLimits(_high?: number | null, _low?: number | null): void {
    notImplemented();
  }
}

/** A child process seen as a transport (CPython's SubprocessTransport). */
export class SubprocessTransport extends BaseTransport {
  getPid(): number | undefined {
    return notImplemented();
  }

  /** The exit status (negative: killed by that signal), or null while it runs. */
  getReturncode(): number | null {
    return notImplemented();
  }

  /** The transport of the child's pipe `fd` (0, 1, 2), or null if it has none. */
  getPipeTransport(_fd: number): BaseTransport | null {
    return notImplemented();
  }

  sendSignal(_signal: string | number): void {
    notImplemented();
  }

  terminate(): void {
    notImplemented();
  }

  kill(): void {
    notImplemented();
  }
}

/** What a transport tells the server it was accepted by (CPython's Server._attach/_detach). */
export interface TransportOwner {
  _attach(transport: StreamTransport): void;
  _detach(transport: StreamTransport): void;
}

export type NodeStream = Duplex | Readable | Writable;

export interface StreamTransportOptions {
  /** Values for getExtraInfo(): peername, sockname, socket, sslcontext, … */
  extra?: Record<string, unknown>;
  /** The server that accepted this connection, told when the connection is lost. */
  server?: TransportOwner | null;
  /** Whether writeEof() is supported (false for TLS, as CPython's SSL transport). Default: true. */
  canWriteEof?: boolean;
  /** Whether the transport stays usable for writing after EOF is received (TLS: false). */
  halfOpen?: boolean;
}

/** After this many writes on a lost connection, log a warning (CPython's LOG_THRESHOLD_FOR_CONNLOST_WRITES). */
const LOG_THRESHOLD_FOR_CONNLOST_WRITES = 5;
/** @internal The default high-water mark of a write buffer (CPython's 64 KiB); low = high / 4. */
export const DEFAULT_HIGH_WATER = 64 * 1024;

/**
 * @internal The write-buffer marks `[high, low]` that setWriteBufferLimits(high, low) sets (CPython's
 * _FlowControlMixin._set_write_buffer_limits): high defaults to 4 × low, or 64 KiB; low to high / 4.
 * Shared by the stream and datagram transports.
 */
export function writeBufferLimits(high?: number | null, low?: number | null): [number, number] {
  if (high === undefined || high === null) {
    high = low === undefined || low === null ? DEFAULT_HIGH_WATER : 4 * low;
  }
  if (low === undefined || low === null) low = Math.floor(high / 4);
  if (!(high >= low && low >= 0)) {
    throw new ValueError(`high (${high}) must be >= low (${low}) must be >= 0`);
  }
  return [high, low];
}

const EMPTY = Buffer.alloc(0);

export class StreamTransport extends Transport {
  /** @internal */ _loop: EventLoop;
  /** @internal */ _stream: NodeStream;
  /** @internal */ _protocol: StreamProtocol | null;
  /** @internal */ _server: TransportOwner | null;
  /** @internal close() or abort() was called, or the connection was lost */
  _closing = false;
  /** @internal connectionLost() was delivered */
  _lost = false;
  /** @internal writes attempted after the connection was lost (CPython's _conn_lost) */
  _connLostWrites = 0;
  /** @internal pauseReading() is in effect */
  _readPaused = false;
  /** @internal writeEof() was called */
  _eof = false;
  /** @internal the protocol was told to pause writing */
  _protocolPaused = false;
  /** @internal */ _highWater = DEFAULT_HIGH_WATER;
  /** @internal */ _lowWater = DEFAULT_HIGH_WATER / 4;
  /** @internal the first error Node reported, delivered with connectionLost */
  _error: unknown = null;
  /** @internal the first chunk received from Node and not yet handed to the protocol (null: none) */
  _chunk: Buffer | null = null;
  /** @internal the chunks after _chunk that arrived before the delivery ran (a burst); null: none */
  _more: Buffer[] | null = null;
  /** @internal a deliverData callback is in the ready queue */
  _deliverPosted = false;
  /** @internal the protocol is a BufferedProtocol (decided when it is set, as CPython's set_protocol) */
  _bufferedProtocol: boolean;
  /**
   * @internal The context the protocol's callbacks run in: one copy, made when the transport is created
   * (CPython's reader Handle, made by add_reader with a copy of the context the transport was created
   * in: what data_received sets is still set at the next data_received).
   */
  readonly _context: Context;
  /** @internal a flush notification was requested from Node (see _pauseProtocol) */
  _flushArmed = false;
  /** @internal */ readonly _readable: boolean;
  /** @internal */ readonly _writable: boolean;
  /** @internal */ readonly _canWriteEof: boolean;
  /** @internal */ readonly _halfOpen: boolean;
  /** @internal removed listeners for startTls */
  _detached = false;
  // The Node event listeners. Closures, not shared functions finding the transport on the stream: one
  // Node stream may carry two transports (connectReadPipe and connectWritePipe on one Duplex).
  private readonly _onHostData: (chunk: Buffer) => void;
  private readonly _onHostEnd: () => void;
  private readonly _onHostError: (err: unknown) => void;
  private readonly _onHostClose: () => void;
  private readonly _onHostDrain: () => void;

  constructor(
    loop: EventLoop,
    stream: NodeStream,
    protocol: StreamProtocol,
    options?: StreamTransportOptions,
  ) {
    super({ ...options?.extra });
    this._loop = loop;
    this._stream = stream;
    this._protocol = protocol;
    this._server = options?.server ?? null;
    this._bufferedProtocol = isBufferedProtocol(protocol);
    this._context = currentContext().copy();
    // Assigned here rather than as arrow-function class fields: the same closures, without a name
    // defined on each one per transport by transpilers that keep function names (tsx, esbuild).
    this._onHostData = (chunk) => this._hostData(chunk);
    this._onHostEnd = () => this._post(deliverEof);
    this._onHostError = (err) => this._hostError(err);
    this._onHostClose = () => this._post(deliverClose);
    this._onHostDrain = () => this._post(deliverFlushed);
    const s = stream as Partial<Duplex>;
    this._readable = typeof s.read === 'function' && s.readable !== undefined;
    this._writable = typeof s.write === 'function' && s.writable !== undefined;
    this._canWriteEof = options?.canWriteEof ?? true;
    this._halfOpen = options?.halfOpen ?? true;
    if (this._writable) {
      const hwm = (stream as Writable).writableHighWaterMark ?? 0;
      // Node signals 'drain' only for writes made at or past its own mark: never pause below it.
      if (hwm > this._highWater) {
        this._highWater = hwm;
        this._lowWater = hwm / 4;
      }
    }
    this._server?._attach(this);
    stream.on('error', this._onHostError);
    stream.on('close', this._onHostClose);
    if (this._readable) {
      stream.on('end', this._onHostEnd);
      stream.on('data', this._onHostData);
      // A server socket accepted with pauseOnConnect stays paused until told otherwise.
      (stream as Readable).resume();
    }
    if (this._writable) stream.on('drain', this._onHostDrain);
    // A stream that already failed or closed before the transport existed (an accepted socket reset
    // while it waited in the ready queue) will not emit 'close' again.
    if ((stream as { closed?: boolean }).closed) {
      this._error ??= (stream as { errored?: unknown }).errored ?? null;
      this._post(deliverClose);
    }
  }

  // -- host side (Node event handlers: record and post, nothing more) ---------------------------------

  /** 'data': keep the chunk; the first one of a burst posts the delivery, the others join it. */
  private _hostData(chunk: Buffer): void {
    if (!this._deliverPosted) {
      this._deliverPosted = true;
      this._chunk = chunk;
      this._post(deliverData);
    } else if (this._chunk === null) {
      this._chunk = chunk;
    } else {
      (this._more ??= []).push(chunk);
    }
  }

  private _hostError(err: unknown): void {
    if (this._error !== null) return;
    this._error = err;
    // The stream is dead, but Node's 'close' may come only after other host events: a child's stdin
    // fails with EPIPE, then the child's exit and end are reported, then the pipe's 'close'. Fail now,
    // as CPython's transport does on a write or read error (_fatal_error), so that nothing closes the
    // transport in between as if it had ended well.
    this._post(deliverError);
  }

  private _hostFlushed(err?: unknown): void {
    this._flushArmed = false;
    // A failed write (EPIPE: the reader went away) also empties Node's buffer and calls back: that is
    // not a flush. The writers must not be resumed; the error fails the transport and wakes them.
    if (err !== undefined && err !== null) {
      this._hostError(err);
      return;
    }
    // Node calls back without an error for the writes a destroy() cancelled: not a flush either.
    if ((this._stream as Writable).destroyed) return;
    this._post(deliverFlushed);
  }

  /**
   * @internal Host side, for the owner of the stream: its reader is gone for good (a child process
   * exited; Node destroys the child's stdin at once, without an error, dropping what it had not written
   * yet). Bytes still buffered can never be delivered: that is a broken pipe, as CPython's write pipe
   * reports when its reader closes while its buffer is not empty (`BrokenPipeError()`, no errno).
   */
  _hostPeerGone(): void {
    if (this._writable && (this._stream as Writable).writableLength > 0) {
      this._hostError(new BrokenPipeError());
    }
  }

  /**
   * Enter the loop from a Node event: `callback(this)` on the next iteration, in the transport's context
   * (the ready queue's allocation-free entry; it wakes the loop, as callSoonThreadsafe does). A closed
   * loop can no longer be told, so the stream is dropped. [HOT: every host event]
   */
  private _post(callback: (t: StreamTransport) => void): void {
    const loop = this._loop;
    if (loop.isClosed()) {
      this._stream.destroy();
      return;
    }
    loop._callSoonFast(callback, this, this._context);
  }

  // -- loop side (callbacks posted above) ---------------------------------------------------------------

  /** @internal Hand the chunks received so far to the protocol. */
  _deliverData(): void {
    this._deliverPosted = false;
    const chunk = this._chunk;
    if (chunk === null) return;
    const more = this._more;
    this._chunk = null;
    this._more = null;
    const protocol = this._protocol;
    // After close(), CPython stops reading at once: what was still in flight is dropped.
    if (protocol === null || this._closing || this._detached) return;
    if (this._bufferedProtocol) {
      const p = protocol as BufferedProtocol;
      if (!this._deliverBuffered(p, chunk) || more === null) return;
      for (let i = 0; i < more.length; i++) if (!this._deliverBuffered(p, more[i]!)) return;
      return;
    }
    try {
      (protocol as Protocol).dataReceived(chunk);
      if (more !== null) for (let i = 0; i < more.length; i++) (protocol as Protocol).dataReceived(more[i]!);
    } catch (e) {
      this._fatalError(e, 'Fatal error: protocol.data_received() call failed.');
    }
  }

  /**
   * Hand `chunk` to a BufferedProtocol: copy it into the buffers getBuffer() gives, as many as it takes
   * (CPython's _read_ready__get_buffer, where recv_into fills the buffer). False if the transport failed.
   */
  private _deliverBuffered(protocol: BufferedProtocol, chunk: Buffer): boolean {
    let offset = 0;
    while (offset < chunk.length) {
      let buf: Uint8Array;
      try {
        buf = protocol.getBuffer(-1);
        if (!(buf instanceof Uint8Array) || buf.length === 0) {
          throw new RuntimeError('get_buffer() returned an empty buffer');
        }
      } catch (e) {
        this._fatalError(e, 'Fatal error: protocol.get_buffer() call failed.');
        return false;
      }
      const n = Math.min(buf.length, chunk.length - offset);
      buf.set(chunk.subarray(offset, offset + n), 0);
      offset += n;
      try {
        protocol.bufferUpdated(n);
      } catch (e) {
        this._fatalError(e, 'Fatal error: protocol.buffer_updated() call failed.');
        return false;
      }
      // The protocol may have closed the transport or switched protocols in between.
      if (this._closing || this._protocol !== protocol) return false;
    }
    return true;
  }

  /** @internal */
  _deliverEof(): void {
    const protocol = this._protocol;
    if (protocol === null || this._lost || this._detached) return;
    let keepOpen: boolean | undefined | void;
    try {
      keepOpen = protocol.eofReceived();
    } catch (e) {
      this._fatalError(e, 'Fatal error: protocol.eof_received() call failed.');
      return;
    }
    if (!keepOpen || !this._halfOpen || !this._writable) this.close();
  }

  /** @internal */
  _deliverClose(): void {
    if (this._detached) return;
    this._deliverData();
    let err = this._error;
    // Closed under us while the protocol was paused, without the 'drain' that a flush brings (it was
    // posted before this 'close' and would have resumed it) and without finishing an end(): the bytes
    // the writers wait on were dropped, not sent.
    if (err === null && this._protocolPaused && !(this._stream as Writable).writableFinished) {
      err = new BrokenPipeError();
    }
    this._connectionLost(err === null ? null : fromNodeError(err));
  }

  /** @internal */
  _deliverError(): void {
    if (this._lost || this._detached) return;
    this._deliverData();
    this._forceClose(fromNodeError(this._error));
  }

  /** @internal */
  _deliverFlushed(): void {
    if (!this._protocolPaused || this._lost || this._error !== null) return;
    if (this._writeBufferSize() <= this._lowWater) {
      this._protocolPaused = false;
      notifyFlowControl(this._loop, this, this._protocol, 'resumeWriting');
    } else {
      this._armFlushNotification();
    }
  }

  /** @internal CPython's _fatal_error: report what is not an OSError, then close at once. */
  _fatalError(exc: unknown, message: string): void {
    if (!(exc instanceof OSError || (exc instanceof Error && 'errno' in exc))) {
      this._loop.callExceptionHandler({ message, exception: exc, transport: this, protocol: this._protocol });
    }
    this._forceClose(exc);
  }

  /** @internal Close at once and tell the protocol on the next iteration (CPython's _force_close). */
  _forceClose(exc: unknown): void {
    if (this._lost) return;
    this._closing = true;
    this._stream.destroy();
    if (!this._loop.isClosed()) this._loop.callSoon(connectionLostSoon, this, exc);
  }

  /** @internal */
  _connectionLost(exc: unknown): void {
    if (this._lost) return;
    this._lost = true;
    this._closing = true;
    this._chunk = null;
    this._more = null;
    const stream = this._stream;
    stream.off('data', this._onHostData);
    stream.off('end', this._onHostEnd);
    stream.off('drain', this._onHostDrain);
    stream.off('close', this._onHostClose);
    // The 'error' listener stays: a late error on a dead stream must not crash the process.
    const protocol = this._protocol;
    this._protocol = null;
    try {
      protocol?.connectionLost(exc);
    } finally {
      const server = this._server;
      this._server = null;
      server?._detach(this);
    }
  }

  // -- the transport API ---------------------------------------------------------------------------

  override isClosing(): boolean {
    return this._closing;
  }

  override isReading(): boolean {
    return !this._closing && !this._readPaused;
  }

  /** Stop calling protocol.dataReceived() until resumeReading(); Node stops reading from the kernel. */
  override pauseReading(): void {
    if (!this.isReading() || !this._readable) return;
    this._readPaused = true;
    (this._stream as Readable).pause();
    if (this._loop._debug) logger.debug(`${this} pauses reading`);
  }

  override resumeReading(): void {
    if (this._closing || !this._readPaused) return;
    this._readPaused = false;
    (this._stream as Readable).resume();
    if (this._loop._debug) logger.debug(`${this} resumes reading`);
  }

  override getProtocol(): StreamProtocol | null {
    return this._protocol;
  }

  override setProtocol(protocol: StreamProtocol): void {
    this._protocol = protocol;
    this._bufferedProtocol = isBufferedProtocol(protocol);
  }

  /** Write bytes (or a string, as UTF-8); never blocks: Node buffers what the kernel does not take yet. */
  override write(data: Uint8Array | string): void {
    if (typeof data === 'string') {
      data = Buffer.from(data, 'utf8');
    } else if (!(data instanceof Uint8Array)) {
      throw new TypeError(
        `data argument must be a bytes-like object (Uint8Array) or str, not '${pyTypeName(data)}'`,
      );
    }
    if (this._eof) throw new RuntimeError('Cannot call write() after write_eof()');
    if (!this._writable) throw new RuntimeError('this transport is not writable');
    if (data.length === 0) return;
    if (this._closing) {
      // CPython drops writes on a lost connection and complains past a threshold.
      if (++this._connLostWrites >= LOG_THRESHOLD_FOR_CONNLOST_WRITES) {
        logger.warning('socket.send() raised exception.');
      }
      return;
    }
    const stream = this._stream as Writable;
    // Node silently drops a write to a destroyed stream (a child's stdin once the child has exited).
    if (!stream.destroyed) stream.write(data);
    // A write the kernel refused at once (EPIPE: the reader is gone) is only reported later by Node, but
    // Node marks the stream errored now. CPython's transport fails at once (_fatal_error), so that a
    // drain() right after this write sees the connection closing and raises.
    const failed = stream.errored || (stream.destroyed ? makeOSError('EPIPE') : null);
    if (failed) {
      this._fatalError(fromNodeError(failed), 'Fatal write error on pipe transport');
      return;
    }
    if (!this._protocolPaused && stream.writableLength > this._highWater) this._pauseProtocol();
  }

  /** Write every chunk of `list` (joined into one write, as CPython's sendmsg path). */
  override writelines(list: Iterable<Uint8Array | string>): void {
    if (this._eof) throw new RuntimeError('Cannot call writelines() after write_eof()');
    const chunks: Uint8Array[] = [];
    for (const item of list) {
      if (typeof item === 'string') chunks.push(Buffer.from(item, 'utf8'));
      else if (item instanceof Uint8Array) chunks.push(item);
      else {
        throw new TypeError(
          `data argument must be a bytes-like object (Uint8Array) or str, not '${pyTypeName(item)}'`,
        );
      }
    }
    if (chunks.length === 0) return;
    this.write(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
  }

  override canWriteEof(): boolean {
    return this._canWriteEof && this._writable;
  }

  /** Close the write side after the buffered data is sent; the peer sees EOF, reading goes on. */
  override writeEof(): void {
    if (this._closing || this._eof) return;
    this._eof = true;
    (this._stream as Writable).end();
  }

  /** Bytes buffered for writing. */
  override getWriteBufferSize(): number {
    return this._writeBufferSize();
  }

  private _writeBufferSize(): number {
    return this._writable ? (this._stream as Writable).writableLength : 0;
  }

  /** [low, high] (CPython's get_write_buffer_limits). */
  override getWriteBufferLimits(): [number, number] {
    return [this._lowWater, this._highWater];
  }

  /** Set the write flow-control marks (CPython's defaults: high 64 KiB, low high/4). */
  override setWriteBufferLimits(high?: number | null, low?: number | null): void {
    [this._highWater, this._lowWater] = writeBufferLimits(high, low);
    if (!this._protocolPaused && this._writeBufferSize() > this._highWater) this._pauseProtocol();
  }

  private _pauseProtocol(): void {
    this._protocolPaused = true;
    notifyFlowControl(this._loop, this, this._protocol, 'pauseWriting');
    this._armFlushNotification();
  }

  /**
   * Make sure Node will tell us when the buffer has flushed: it emits 'drain' only after a write that
   * reached its own high-water mark; below it, an empty write's callback runs once everything before it
   * is flushed.
   */
  private _armFlushNotification(): void {
    const stream = this._stream as Writable;
    if (this._flushArmed || stream.writableNeedDrain || this._closing) return;
    this._flushArmed = true;
    stream.write(EMPTY, (err?: unknown) => this._hostFlushed(err));
  }

  /**
   * Close: stop reading now, send what is buffered, then close the connection; the protocol's
   * connectionLost(null) follows.
   */
  override close(): void {
    if (this._closing) return;
    this._closing = true;
    const stream = this._stream;
    if (this._readable) (stream as Readable).pause();
    if (!this._writable) {
      this._forceClose(null);
      return;
    }
    const w = stream as Writable;
    // A stream Node has already failed (its 'error' event may still be on the way) is lost with that
    // error, as CPython's transport after _fatal_error: never as if it had closed cleanly.
    const failed = this._error ?? w.errored;
    if (failed) {
      this._forceClose(fromNodeError(failed));
      return;
    }
    if (!w.writableEnded) w.end();
    if (w.writableFinished) stream.destroy();
    else w.once('finish', () => stream.destroy());
    // Nothing left to send: the connection is lost for the protocol on the next iteration, as in
    // CPython (otherwise when Node reports the stream closed, after the flush).
    if (w.writableLength === 0 && !this._loop.isClosed()) this._loop.callSoon(connectionLostSoon, this, null);
  }

  /** Close at once, dropping buffered data; the protocol's connectionLost(null) follows. */
  override abort(): void {
    this._forceClose(null);
  }

  /** @internal startTls: hand the stream over to a TLS socket; undelivered bytes go back to it. */
  _detachForTls(): NodeStream {
    this._detached = true;
    const stream = this._stream as Readable;
    stream.pause();
    stream.off('data', this._onHostData);
    stream.off('end', this._onHostEnd);
    stream.off('drain', this._onHostDrain);
    stream.off('close', this._onHostClose);
    const pending = this._chunk === null ? [] : [this._chunk, ...(this._more ?? [])];
    this._chunk = null;
    this._more = null;
    for (let i = pending.length - 1; i >= 0; i--) stream.unshift(pending[i]!);
    return stream;
  }

  override toString(): string {
    const info = ['StreamTransport'];
    if (this._lost) info.push('closed');
    else if (this._closing) info.push('closing');
    const peer = this._extra.peername;
    if (peer !== undefined && peer !== null) info.push(`peername=${formatAddress(peer)}`);
    if (!this._lost) {
      info.push(`read=${this.isReading() ? 'polling' : 'idle'}`);
      info.push(`write=<bufsize=${this._writeBufferSize()}>`);
    }
    return `<${info.join(' ')}>`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

// The loop-side entry points of StreamTransport, posted with the transport as their argument (module
// functions, so that no closure is made per transport).
function deliverData(t: StreamTransport): void {
  t._deliverData();
}
function deliverEof(t: StreamTransport): void {
  t._deliverEof();
}
function deliverClose(t: StreamTransport): void {
  t._deliverClose();
}
function deliverError(t: StreamTransport): void {
  t._deliverError();
}
function deliverFlushed(t: StreamTransport): void {
  t._deliverFlushed();
}
function connectionLostSoon(t: StreamTransport, exc: unknown): void {
  t._connectionLost(exc);
}

/** An address as Python prints it: ('127.0.0.1', 8888), or a Unix path as a quoted string. */
export function formatAddress(addr: unknown): string {
  if (Array.isArray(addr)) {
    const parts = addr.map((p) => (typeof p === 'string' ? `'${p}'` : String(p)));
    return `(${parts.join(', ')}${parts.length === 1 ? ',' : ''})`;
  }
  if (typeof addr === 'string') return `'${addr}'`;
  return String(addr);
}
