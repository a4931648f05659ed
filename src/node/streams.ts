/**
 * Streams: StreamReader, StreamWriter, StreamReaderProtocol and the high-level openConnection /
 * startServer / openUnixConnection / startUnixServer (CPython's streams.py, behaviour for behaviour).
 *
 * The layering is CPython's: a transport (transports.ts, over a Node stream) calls a protocol
 * (StreamReaderProtocol) from loop callbacks; the protocol feeds a StreamReader and does the write flow
 * control that StreamWriter.drain() waits on. Connections and servers are made in base_events.ts.
 *
 * Bytes are Uint8Array; what the reader returns is a Node Buffer (a Uint8Array subclass). A StreamReader
 * works without any transport too (feedData / feedEof / setException), as in Python.
 */

import { isRecyclable, recycle, Waiter } from '../_internal/waiters.js';
import type { EventLoop } from '../base_events.js';
import type { Context } from '../contextvars.js';
import { Coroutine, type CoroutineIterator, type Instruction, isCoroutine } from '../coroutines.js';
import { getEventLoop, getRunningLoop, isPromiseResult } from '../events.js';
import {
  ConnectionResetError,
  IncompleteReadError,
  LimitOverrunError,
  RuntimeError,
  StopAsyncIteration,
  ValueError,
} from '../exceptions.js';
import { extractStack, repr } from '../format_helpers.js';
import { type Future, suspendBare, suspendOn } from '../futures.js';
import { logger } from '../log.js';
import {
  type ConnectionOptions,
  createConnection,
  createServer,
  createUnixConnection,
  createUnixServer,
  type InetAddress,
  type Server,
  type ServerOptions,
  type StartTlsOptions,
  startTls,
  type TlsOptions,
  type UnixConnectionOptions,
  type UnixServerOptions,
} from './base_events.js';
import { Protocol } from './protocols.js';
import { type ExtraInfo, type NodeStream, type ReadTransport, StreamTransport } from './transports.js';

/** The default buffer limit of a StreamReader: 64 KiB (CPython's _DEFAULT_LIMIT). */
export const DEFAULT_LIMIT = 2 ** 16;

const EMPTY = Buffer.alloc(0);
const noop = (): void => {};

/** What a StreamReader needs from its transport: read flow control. */
type ReaderTransport = Pick<ReadTransport, 'pauseReading' | 'resumeReading'>;

/** The callback startServer calls for each client: a plain function or a coroutine function. */
export type ClientConnectedCallback = (reader: StreamReader, writer: StreamWriter) => unknown;

/** A separator for readuntil(): bytes, or a string (UTF-8). */
export type Separator = Uint8Array | string;

function info(name: string): { name: string; qualname: string } {
  return { name, qualname: `StreamReader.${name}` };
}
const READ_INFO = info('read');
const READLINE_INFO = info('readline');
const READUNTIL_INFO = info('readuntil');
const READEXACTLY_INFO = info('readexactly');
const ANEXT_INFO = info('__anext__');
const DRAIN_INFO = { name: 'drain', qualname: 'StreamWriter.drain' };
const WAIT_CLOSED_INFO = { name: 'wait_closed', qualname: 'StreamWriter.wait_closed' };
const START_TLS_INFO = { name: 'start_tls', qualname: 'StreamWriter.start_tls' };

// ---------------------------------------------------------------------------------------------------
// high-level API

export interface OpenConnectionOptions extends ConnectionOptions {
  /** The StreamReader's buffer limit (default 64 KiB). */
  limit?: number;
}

/**
 * Connect to `host`:`port` and return `[reader, writer]` (Python's `asyncio.open_connection`). TLS with
 * `{ ssl: true }` or TLS options; errors are Python's (ConnectionRefusedError, …).
 */
export function openConnection(
  host?: string | null,
  port?: number | null,
  options?: OpenConnectionOptions,
): Coroutine<[StreamReader, StreamWriter]> {
  return new Coroutine(openConnectionGen(host, port, options), {
    name: 'open_connection',
    qualname: 'open_connection',
  });
}

function* openConnectionGen(
  host: string | null | undefined,
  port: number | null | undefined,
  options: OpenConnectionOptions | undefined,
): Generator<Instruction, [StreamReader, StreamWriter], unknown> {
  const loop = getRunningLoop();
  const { limit = DEFAULT_LIMIT, ...rest } = options ?? {};
  const reader = new StreamReader(limit, loop);
  const protocol = new StreamReaderProtocol(reader, null, loop);
  const [transport] = yield* createConnection(loop, () => protocol, host, port, rest);
  const writer = new StreamWriter(transport, protocol, reader, loop);
  return [reader, writer];
}

export interface StartServerOptions extends ServerOptions {
  /** The buffer limit of each client's StreamReader (default 64 KiB). */
  limit?: number;
}

/**
 * Start a TCP server that calls `clientConnected(reader, writer)` for each connection (a coroutine
 * function's coroutine becomes a Task); returns the Server (Python's `asyncio.start_server`).
 */
export function startServer(
  clientConnected: ClientConnectedCallback,
  host?: string | readonly string[] | null,
  port?: number | null,
  options?: StartServerOptions,
): Coroutine<Server<InetAddress>> {
  return new Coroutine(startServerGen(clientConnected, host, port, options), {
    name: 'start_server',
    qualname: 'start_server',
  });
}

function* startServerGen(
  clientConnected: ClientConnectedCallback,
  host: string | readonly string[] | null | undefined,
  port: number | null | undefined,
  options: StartServerOptions | undefined,
): Generator<Instruction, Server<InetAddress>, unknown> {
  checkClientCallback(clientConnected);
  const loop = getRunningLoop();
  const { limit = DEFAULT_LIMIT, ...rest } = options ?? {};
  checkLimit(limit);
  const factory = (): StreamReaderProtocol =>
    new StreamReaderProtocol(new StreamReader(limit, loop), clientConnected, loop);
  return yield* createServer(loop, factory, host, port, rest);
}

export interface OpenUnixConnectionOptions extends UnixConnectionOptions {
  limit?: number;
}

/** Like openConnection, over a Unix domain socket at `path`. */
export function openUnixConnection(
  path?: string | null,
  options?: OpenUnixConnectionOptions,
): Coroutine<[StreamReader, StreamWriter]> {
  return new Coroutine(openUnixConnectionGen(path, options), {
    name: 'open_unix_connection',
    qualname: 'open_unix_connection',
  });
}

function* openUnixConnectionGen(
  path: string | null | undefined,
  options: OpenUnixConnectionOptions | undefined,
): Generator<Instruction, [StreamReader, StreamWriter], unknown> {
  const loop = getRunningLoop();
  const { limit = DEFAULT_LIMIT, ...rest } = options ?? {};
  const reader = new StreamReader(limit, loop);
  const protocol = new StreamReaderProtocol(reader, null, loop);
  const [transport] = yield* createUnixConnection(loop, () => protocol, path, rest);
  const writer = new StreamWriter(transport, protocol, reader, loop);
  return [reader, writer];
}

export interface StartUnixServerOptions extends UnixServerOptions {
  limit?: number;
}

/** Like startServer, listening on a Unix domain socket at `path`. */
export function startUnixServer(
  clientConnected: ClientConnectedCallback,
  path?: string | null,
  options?: StartUnixServerOptions,
): Coroutine<Server<string>> {
  return new Coroutine(startUnixServerGen(clientConnected, path, options), {
    name: 'start_unix_server',
    qualname: 'start_unix_server',
  });
}

function* startUnixServerGen(
  clientConnected: ClientConnectedCallback,
  path: string | null | undefined,
  options: StartUnixServerOptions | undefined,
): Generator<Instruction, Server<string>, unknown> {
  checkClientCallback(clientConnected);
  const loop = getRunningLoop();
  const { limit = DEFAULT_LIMIT, ...rest } = options ?? {};
  checkLimit(limit);
  const factory = (): StreamReaderProtocol =>
    new StreamReaderProtocol(new StreamReader(limit, loop), clientConnected, loop);
  return yield* createUnixServer(loop, factory, path, rest);
}

/** The task body for a promise-returning client_connected_cb. */
function awaitHandlerPromise(loop: EventLoop, promise: PromiseLike<unknown>): Coroutine<unknown> {
  const fut = loop._wrapHostPromise(promise);
  return new Coroutine(
    (function* client_connected_cb() {
      return yield* fut;
    })(),
    { name: 'client_connected_cb' },
  );
}

function checkClientCallback(cb: unknown): void {
  if (typeof cb !== 'function') {
    throw new TypeError(`client_connected_cb must be a callable, got ${repr(cb)}`);
  }
}

function checkLimit(limit: unknown): asserts limit is number {
  if (typeof limit !== 'number' || Number.isNaN(limit)) {
    throw new TypeError(`limit must be a number, got ${repr(limit)}`);
  }
  if (limit <= 0) throw new ValueError('Limit cannot be <= 0');
}

// ---------------------------------------------------------------------------------------------------
// Node streams as tsyncio streams (subprocess pipes, any Duplex)

export interface NodeStreamOptions {
  /** Buffer limit of the reader (default 64 KiB). */
  limit?: number;
  /** The loop (default: the running loop). */
  loop?: EventLoop;
  /** Values for getExtraInfo(). */
  extra?: Record<string, unknown>;
}

/**
 * A StreamReader fed by a Node Readable (a child process's stdout, a file stream): back-pressure pauses
 * the Readable, its end is EOF, its error becomes the reader's exception (as a Python OSError).
 */
export function readerFromReadable(readable: NodeStream, options?: NodeStreamOptions): StreamReader {
  const loop = options?.loop ?? getRunningLoop();
  const reader = new StreamReader(options?.limit ?? DEFAULT_LIMIT, loop);
  const protocol = new StreamReaderProtocol(reader, null, loop);
  const transport = new StreamTransport(loop, readable, protocol, { extra: options?.extra });
  protocol.connectionMade(transport);
  return reader;
}

/**
 * A StreamWriter over a Node Writable or Duplex (a child process's stdin, a socket you made yourself):
 * drain() waits while more than the high-water mark is buffered; close() ends the stream.
 * With a Duplex, the returned writer's `reader` (and the first element) reads from it.
 */
export function writerFromWritable(writable: NodeStream, options?: NodeStreamOptions): StreamWriter {
  const loop = options?.loop ?? getRunningLoop();
  const protocol = new StreamReaderProtocol(null, null, loop);
  const transport = new StreamTransport(loop, writable, protocol, { extra: options?.extra });
  protocol.connectionMade(transport);
  return new StreamWriter(transport, protocol, null, loop);
}

/** `[reader, writer]` over a Node Duplex (both directions, one transport). */
export function streamsFromDuplex(
  duplex: NodeStream,
  options?: NodeStreamOptions,
): [StreamReader, StreamWriter] {
  const loop = options?.loop ?? getRunningLoop();
  const reader = new StreamReader(options?.limit ?? DEFAULT_LIMIT, loop);
  const protocol = new StreamReaderProtocol(reader, null, loop);
  const transport = new StreamTransport(loop, duplex, protocol, { extra: options?.extra });
  protocol.connectionMade(transport);
  return [reader, new StreamWriter(transport, protocol, reader, loop)];
}

// ---------------------------------------------------------------------------------------------------
// StreamReaderProtocol (with CPython's FlowControlMixin folded in)

/**
 * Adapts a transport's protocol callbacks to a StreamReader, and keeps the write flow-control state that
 * StreamWriter.drain() waits on (CPython's StreamReaderProtocol + FlowControlMixin).
 */
export class StreamReaderProtocol extends Protocol {
  /** @internal */ _loop: EventLoop;
  /** @internal writing is paused: drain() waits */ _paused = false;
  /** @internal */ _drainWaiters: Future<void>[] = [];
  /** @internal */ _connectionLost = false;
  /** @internal */ _streamReader: StreamReader | null;
  /** @internal */ _clientConnectedCb: ClientConnectedCallback | null;
  /** @internal */ _task: Future<unknown> | null = null;
  /** @internal */ _transport: StreamTransport | null = null;
  /** @internal */ _overSsl = false;
  /** @internal resolved (or failed) when the connection is lost: StreamWriter.waitClosed() */
  _closed: Future<void>;
  /** @internal the context new client tasks start from (the server's, as CPython's accept handle) */
  _context: Context | null = null;
  // A server connection whose handler returned without closing its writer (see _closeIfAbandoned).
  /** @internal the handler's task finished (normally: an error or a cancel closes the transport anyway) */
  _handlerDone = false;
  /** @internal the peer closed its end (EOF received) */
  _peerClosed = false;
  /** @internal the connection was used outside any task (a plain callback): held open on purpose */
  _heldOpen = false;
  /** @internal tasks other than the handler's that used the connection (read, write, drain) */
  _users: Set<Future<unknown>> | null = null;

  constructor(
    streamReader: StreamReader | null,
    clientConnectedCb?: ClientConnectedCallback | null,
    loop?: EventLoop | null,
  ) {
    super();
    this._loop = loop ?? getEventLoop();
    this._streamReader = streamReader;
    this._clientConnectedCb = clientConnectedCb ?? null;
    this._closed = this._loop.createFuture<void>();
  }

  /** @internal startTls swapped the transport under this protocol. */
  _replaceTransport(transport: StreamTransport): void {
    this._transport = transport;
    this._overSsl = transport.getExtraInfo('sslcontext') !== undefined;
    if (this._streamReader !== null) this._streamReader._transport = transport;
  }

  override connectionMade(transport: StreamTransport): void {
    this._transport = transport;
    const reader = this._streamReader;
    if (reader !== null) reader.setTransport(transport);
    this._overSsl = transport.getExtraInfo('sslcontext') !== undefined;
    const cb = this._clientConnectedCb;
    if (cb === null) return;
    const writer = new StreamWriter(transport, this, reader, this._loop);
    // Track who uses this connection, so that a writer the handler abandoned can be closed.
    writer._watch = this;
    if (reader !== null) reader._watch = this;
    abandonedWriters.register(writer, this, this);
    const res = cb(reader!, writer);
    // An async function (or any promise-returning handler) is treated like a coroutine handler: its
    // failure is reported and the connection closed; the promise is awaited by a task, so its rejection
    // is never unhandled.
    const promised = !isCoroutine(res) && isPromiseResult(res);
    if (isCoroutine(res) || promised) {
      const loop = this._loop;
      const task = loop.createTask(
        promised ? awaitHandlerPromise(loop, res as PromiseLike<unknown>) : (res as Coroutine<unknown>),
      );
      this._task = task;
      task.addDoneCallback((t) => {
        if (t.cancelled()) {
          transport.close();
          return;
        }
        const exc = t.exception();
        if (exc !== undefined) {
          loop.callExceptionHandler({
            message: 'Unhandled exception in client_connected_cb',
            exception: exc,
            transport,
          });
          transport.close();
          return;
        }
        this._handlerDone = true;
        this._closeIfAbandoned();
      });
    }
  }

  /**
   * @internal The connection is being used (a read waits for data, a write, a drain). By the handler's
   * task: nothing to note. By another task: it is a user until it finishes. Outside any task: someone
   * holds the connection on purpose; it is never closed for them.
   */
  _noteUse(): void {
    const t = this._loop._currentTask;
    if (t === this._task) return;
    if (t === null) {
      this._heldOpen = true;
      return;
    }
    const users = (this._users ??= new Set());
    if (users.has(t)) return;
    users.add(t);
    t.addDoneCallback(() => this._closeIfAbandoned());
  }

  /**
   * @internal CPython 3.13+ closes a StreamWriter when it is garbage-collected (StreamWriter.__del__, with a
   * ResourceWarning): once the handler's coroutine has finished, nothing references the writer any more
   * unless the program kept it. JavaScript's collection is not deterministic, so the rule here is: close the
   * transport when the handler's task has finished normally, the peer has closed its end (EOF), the writer
   * is not closed, and no other task that used the connection is still running (nor anything outside a
   * task). A writer the program stored on purpose stays open while the peer is connected. In debug mode
   * the close is reported as CPython's ResourceWarning (`unclosed <StreamWriter …>`). The writer being
   * collected also closes it (abandonedWriters).
   */
  _closeIfAbandoned(): void {
    if (!this._handlerDone || !this._peerClosed || this._heldOpen) return;
    const transport = this._transport;
    if (transport === null || transport.isClosing()) return;
    if (this._users !== null) {
      for (const t of this._users) if (!t.done()) return;
    }
    closeAbandoned(this);
  }

  override connectionLost(exc: unknown): void {
    const reader = this._streamReader;
    if (reader !== null) {
      if (exc === null || exc === undefined) reader.feedEof();
      else reader.setException(exc);
    }
    const closed = this._closed;
    if (!closed.done()) {
      if (exc === null || exc === undefined) {
        closed.setResult(undefined);
      } else {
        closed.setException(exc);
        // Nobody may ever call waitClosed(): don't report this as never retrieved (CPython's __del__).
        closed.exception();
      }
    }
    // FlowControlMixin.connection_lost: wake up the writers if they are paused.
    this._connectionLost = true;
    if (this._paused) {
      for (const waiter of this._drainWaiters) {
        if (waiter.done()) continue;
        if (exc === null || exc === undefined) waiter.setResult(undefined);
        else waiter.setException(exc);
      }
    }
    this._streamReader = null;
    this._task = null;
    this._transport = null;
    this._users = null;
    abandonedWriters.unregister(this);
  }

  override dataReceived(data: Buffer): void {
    this._streamReader?._feedOwned(data);
  }

  override eofReceived(): boolean | undefined {
    this._streamReader?.feedEof();
    if (this._clientConnectedCb !== null) {
      this._peerClosed = true;
      this._closeIfAbandoned();
    }
    // Over TLS, keeping a half-open connection makes no sense: let the transport close.
    return !this._overSsl;
  }

  override pauseWriting(): void {
    this._paused = true;
    if (this._loop._debug) logger.debug(`${this} pauses writing`);
  }

  override resumeWriting(): void {
    this._paused = false;
    if (this._loop._debug) logger.debug(`${this} resumes writing`);
    for (const waiter of this._drainWaiters) {
      if (!waiter.done()) waiter.setResult(undefined);
    }
  }

  /** @internal What drain() waits on (FlowControlMixin._drain_helper). */
  *_drainHelper(): Generator<Instruction, void, unknown> {
    if (this._connectionLost) throw new ConnectionResetError('Connection lost');
    if (!this._paused) return;
    const loop = this._loop;
    const waiter = loop.createFuture<void>();
    this._drainWaiters.push(waiter);
    // The transport's flush is host I/O: the virtual clock must not jump past it.
    const host = this._transport !== null;
    if (host) loop._hostPending++;
    try {
      yield* waiter;
    } finally {
      if (host) loop._hostPending--;
      const i = this._drainWaiters.indexOf(waiter);
      if (i !== -1) this._drainWaiters.splice(i, 1);
    }
  }

  /** @internal */
  _getCloseWaiter(): Future<void> {
    return this._closed;
  }

  override toString(): string {
    return `<StreamReaderProtocol${this._paused ? ' paused' : ''}>`;
  }
}

/** Close an abandoned server connection; debug mode reports it as CPython does. */
function closeAbandoned(protocol: StreamReaderProtocol): void {
  const transport = protocol._transport;
  if (transport === null || transport.isClosing()) return;
  const text = writerRepr(transport, protocol._streamReader);
  transport.close();
  if (protocol._loop._debug) emitResourceWarning(`unclosed ${text}`);
}

/** Python's `warnings.warn(msg, ResourceWarning)`: Node prints `(node:PID) ResourceWarning: msg`. */
function emitResourceWarning(message: string): void {
  process.emitWarning(message, { type: 'ResourceWarning' });
}

/**
 * A server connection's writer that was garbage-collected while its transport was open: nothing can write
 * to it any more, so close it (CPython's StreamWriter.__del__), on the loop.
 */
const abandonedWriters = new FinalizationRegistry<StreamReaderProtocol>((protocol) => {
  const loop = protocol._loop;
  if (loop.isClosed() || protocol._transport === null) return;
  loop.callSoonThreadsafe(() => closeAbandoned(protocol));
});

function writerRepr(transport: StreamTransport, reader: StreamReader | null): string {
  const parts = ['StreamWriter', `transport=${transport}`];
  if (reader !== null) parts.push(`reader=${reader}`);
  return `<${parts.join(' ')}>`;
}

// ---------------------------------------------------------------------------------------------------
// StreamWriter

/**
 * Wraps a transport: write(), writelines(), writeEof(), canWriteEof(), getExtraInfo(), close(), and
 * drain(), which waits while the transport's write buffer is over its high-water mark.
 */
export class StreamWriter {
  /** @internal */ _transport: StreamTransport;
  /** @internal */ _protocol: StreamReaderProtocol;
  /** @internal */ _reader: StreamReader | null;
  /** @internal */ _loop: EventLoop;
  /** @internal a server connection's protocol, told who uses the writer (_noteUse); null otherwise */
  _watch: StreamReaderProtocol | null = null;

  constructor(
    transport: StreamTransport,
    protocol: StreamReaderProtocol,
    reader: StreamReader | null,
    loop: EventLoop,
  ) {
    this._transport = transport;
    this._protocol = protocol;
    this._reader = reader;
    this._loop = loop;
  }

  /** The underlying transport. */
  get transport(): StreamTransport {
    return this._transport;
  }

  /** Write bytes (a string is written as UTF-8). Never blocks: follow with `yield* writer.drain()`. */
  write(data: Uint8Array | string): void {
    if (this._watch !== null) this._watch._noteUse();
    this._transport.write(data);
  }

  /** Write each chunk of `data`. */
  writelines(data: Iterable<Uint8Array | string>): void {
    if (this._watch !== null) this._watch._noteUse();
    this._transport.writelines(data);
  }

  /** Close the write end after flushing; reading goes on (not over TLS). */
  writeEof(): void {
    if (this._watch !== null) this._watch._noteUse();
    this._transport.writeEof();
  }

  canWriteEof(): boolean {
    return this._transport.canWriteEof();
  }

  /** Close the stream (buffered data is still sent); wait with `yield* writer.waitClosed()`. */
  close(): void {
    this._transport.close();
  }

  isClosing(): boolean {
    return this._transport.isClosing();
  }

  /** Wait until the connection is closed; raises the error that closed it, if any. */
  waitClosed(): Coroutine<void> {
    return new Coroutine(waitClosedGen(this), WAIT_CLOSED_INFO);
  }

  /**
   * 'peername' ([host, port], kept after close), 'sockname', 'socket' (the Node socket), 'sslcontext'
   * (the TLS options), 'peercert', 'cipher', 'ssl_object' (the TLSSocket); `defaultValue` otherwise.
   */
  getExtraInfo<K extends keyof ExtraInfo>(name: K): ExtraInfo[K] | undefined;
  getExtraInfo<K extends keyof ExtraInfo, D>(name: K, defaultValue: D): ExtraInfo[K] | D;
  getExtraInfo(name: string, defaultValue?: unknown): unknown;
  getExtraInfo(name: string, defaultValue?: unknown): unknown {
    return this._transport.getExtraInfo(name, defaultValue);
  }

  /**
   * Wait until it is appropriate to write more: returns at once unless the write buffer is over the
   * high-water mark; raises the reader's exception, or ConnectionResetError once the connection is lost.
   */
  drain(): Coroutine<void> {
    return new Coroutine(new DrainOperation(this), DRAIN_INFO);
  }

  /** Upgrade the connection to TLS (Python 3.11 `start_tls`); the writer and reader keep working. */
  startTls(ssl: TlsOptions | true, options?: StartTlsOptions): Coroutine<void> {
    return new Coroutine(startTlsGen(this, ssl, options), START_TLS_INFO);
  }

  /** `asyncWith(writer, …)`: the writer itself. */
  aenter(): Coroutine<StreamWriter> {
    const self = this;
    return new Coroutine(
      (function* () {
        return self;
      })(),
      { name: '__aenter__', qualname: 'StreamWriter.__aenter__' },
    );
  }

  /** Close and wait; an error while closing is raised only if the body did not fail. */
  aexit(error?: unknown): Coroutine<boolean> {
    return new Coroutine(aexitGen(this, error), { name: '__aexit__', qualname: 'StreamWriter.__aexit__' });
  }

  toString(): string {
    return writerRepr(this._transport, this._reader);
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

function* waitClosedGen(w: StreamWriter): Generator<Instruction, void, unknown> {
  const closed = w._protocol._getCloseWaiter();
  if (closed.done()) {
    yield* closed;
    return;
  }
  const loop = w._loop;
  loop._hostPending++;
  try {
    yield* closed;
  } finally {
    loop._hostPending--;
  }
}

/** The finished step of a body that returns undefined: shared (yield* and Task only read it). */
const DONE_VOID: IteratorReturnResult<void> = Object.freeze({ value: undefined, done: true });

// DrainOperation's phases.
const DRAIN_NEW = 0;
/** after the bare yield that lets connectionLost() run (the transport was closing) */
const DRAIN_YIELDED = 1;
/** waiting for the protocol's drain waiter (writing is paused) */
const DRAIN_WAITING = 2;
const DRAIN_DONE = 3;

/**
 * The body of drain(), as an iterator [HOT: echo, one drain per write]: CPython's drain() with
 * FlowControlMixin._drain_helper inlined, step by step:
 *
 *     if self._reader is not None and (exc := self._reader.exception()) is not None: raise exc
 *     if self._transport.is_closing(): await sleep(0)        # let connection_lost() run first
 *     if self._connection_lost: raise ConnectionResetError('Connection lost')
 *     if not self._paused: return
 *     waiter = create_future(); self._drain_waiters.append(waiter)
 *     try: await waiter
 *     finally: self._drain_waiters.remove(waiter)
 *
 * The usual drain (open transport, writing not paused) ends in the first step: one small object instead
 * of two generators. Each suspension is made right here (suspendBare, suspendOn), so call graphs show
 * the awaiting coroutines above it (a generator resumed from this object's next() would hide them).
 */
class DrainOperation implements CoroutineIterator<void> {
  private readonly w: StreamWriter;
  private phase = DRAIN_NEW;
  private waiter: Future<void> | null = null;
  /** the wait is counted in loop._hostPending */
  private host = false;

  constructor(w: StreamWriter) {
    this.w = w;
  }

  [Symbol.iterator](): this {
    return this;
  }

  next(): IteratorResult<Instruction, void> {
    const phase = this.phase;
    const w = this.w;
    if (phase === DRAIN_NEW) {
      this.phase = DRAIN_DONE;
      if (w._watch !== null) w._watch._noteUse();
      const reader = w._reader;
      if (reader !== null) {
        const exc = reader.exception();
        if (exc !== undefined) throw exc;
      }
      if (w._transport.isClosing()) {
        // Let connectionLost() run before checking: code that writes and drains in a loop on a closed
        // connection must see an error rather than spin (CPython's comment in drain()).
        this.phase = DRAIN_YIELDED;
        return suspendBare(DRAIN_INFO.qualname);
      }
    } else if (phase === DRAIN_WAITING) {
      const waiter = this.waiter!;
      // Resumed while the waiter is pending (a hand-driven send()): wait on.
      if (!waiter.done()) return suspendOn(waiter, DRAIN_INFO.qualname);
      this.endWait();
      this.phase = DRAIN_DONE;
      waiter.result();
      return DONE_VOID;
    } else if (phase === DRAIN_DONE) {
      return DONE_VOID;
    }
    this.phase = DRAIN_DONE;
    // FlowControlMixin._drain_helper
    const protocol = w._protocol;
    if (protocol._connectionLost) throw new ConnectionResetError('Connection lost');
    if (!protocol._paused) return DONE_VOID;
    const loop = protocol._loop;
    const waiter = loop.createFuture<void>();
    protocol._drainWaiters.push(waiter);
    // The transport's flush is host I/O: the virtual clock must not jump past it.
    this.host = protocol._transport !== null;
    if (this.host) loop._hostPending++;
    this.waiter = waiter;
    this.phase = DRAIN_WAITING;
    return suspendOn(waiter, DRAIN_INFO.qualname);
  }

  throw(error: unknown): IteratorResult<Instruction, void> {
    if (this.phase === DRAIN_WAITING) this.endWait();
    this.phase = DRAIN_DONE;
    throw error;
  }

  return(value: void): IteratorResult<Instruction, void> {
    if (this.phase === DRAIN_WAITING) this.endWait();
    this.phase = DRAIN_DONE;
    return { value, done: true };
  }

  /** _drain_helper's `finally`. */
  private endWait(): void {
    const protocol = this.w._protocol;
    const waiter = this.waiter!;
    this.waiter = null;
    if (this.host) protocol._loop._hostPending--;
    const i = protocol._drainWaiters.indexOf(waiter);
    if (i !== -1) protocol._drainWaiters.splice(i, 1);
  }
}

function* aexitGen(w: StreamWriter, error: unknown): Generator<Instruction, boolean, unknown> {
  w.close();
  try {
    yield* w.waitClosed();
  } catch (e) {
    if (error === undefined) throw e;
  }
  return false;
}

function* startTlsGen(
  w: StreamWriter,
  ssl: TlsOptions | true,
  options: StartTlsOptions | undefined,
): Generator<Instruction, void, unknown> {
  const protocol = w._protocol;
  const serverSide = protocol._clientConnectedCb !== null;
  yield* w.drain();
  // gh-142352: bytes the peer sent right after its plaintext request (a ClientHello that arrived before
  // startTls was called) may already sit in the reader's buffer; they belong to the TLS layer, not to
  // the application, or the handshake waits forever for them.
  const reader = protocol._streamReader;
  const buffered = reader !== null && reader._buffered > 0 ? reader._take(reader._buffered) : null;
  const transport = yield* startTls(w._loop, w._transport, protocol, ssl, {
    ...options,
    serverSide,
    initialData: buffered,
  });
  w._transport = transport;
  protocol._replaceTransport(transport);
}

// ---------------------------------------------------------------------------------------------------
// StreamReader

/**
 * A buffer of received bytes with coroutines to read from it: read(n), readline(), readexactly(n),
 * readuntil(separator). Fed by a protocol (or by hand: feedData, feedEof, setException).
 *
 * The buffer is one Buffer with a window [start, end). A chunk that arrives into an empty buffer is
 * adopted as is and reads return views of it (no copy: transports hand over fresh Buffers); bytes are
 * copied only when data accumulates. [HOT: the echo path is read() on an adopted chunk.]
 */
export class StreamReader {
  /** @internal */ _limit: number;
  /** @internal */ _loop: EventLoop;
  /** @internal */ _buf: Buffer = EMPTY;
  /** @internal */ _start = 0;
  /** @internal */ _end = 0;
  /** @internal _buf was allocated here (it may be written into; reads from it are copied out) */
  _owned = false;
  /** @internal feedEof() was called */ _eof = false;
  /** @internal the future a read*() coroutine waits on (_waitForData) */
  _waiter: Future<void> | null = null;
  /** @internal readline's last waiter, woken and seen by nobody else: its next wait reuses it */
  _spareWaiter: Waiter<void> | null = null;
  /** @internal */ _exception: unknown = undefined;
  /** @internal */ _transport: ReaderTransport | null = null;
  /** @internal reading is paused on the transport (buffer over 2 × limit) */
  _paused = false;
  /** @internal */ _sourceTraceback: string[] | undefined;
  /** @internal a server connection's protocol, told who waits for data (_noteUse); null otherwise */
  _watch: StreamReaderProtocol | null = null;

  /** `limit` bounds a line (and half the buffer); `loop` defaults to the current event loop. */
  constructor(limit: number = DEFAULT_LIMIT, loop?: EventLoop | null) {
    checkLimit(limit);
    this._limit = limit;
    this._loop = loop ?? getEventLoop();
    if (this._loop._debug) this._sourceTraceback = extractStack(1);
  }

  /** The buffer limit. */
  get limit(): number {
    return this._limit;
  }

  /** The exception set by setException (or the connection's error), or undefined. */
  exception(): unknown {
    return this._exception;
  }

  /** Fail every current and future read with `exc`. */
  setException(exc: unknown): void {
    this._exception = exc;
    const waiter = this._waiter;
    if (waiter !== null) {
      this._waiter = null;
      if (!waiter.cancelled()) waiter.setException(exc);
    }
  }

  /** @internal Wake up the read*() coroutine waiting for data or EOF. */
  _wakeupWaiter(): void {
    const waiter = this._waiter;
    if (waiter !== null) {
      this._waiter = null;
      if (!waiter.cancelled()) waiter.setResult(undefined);
    }
  }

  /** Attach the transport whose reading is paused while the buffer is over 2 × limit. */
  setTransport(transport: Pick<ReadTransport, 'pauseReading' | 'resumeReading'>): void {
    if (this._transport !== null) throw new RuntimeError('Transport already set');
    this._transport = transport;
  }

  /** @internal */
  _maybeResumeTransport(): void {
    if (this._paused && this._end - this._start <= this._limit) {
      this._paused = false;
      this._transport!.resumeReading();
    }
  }

  /** Signal the end of the stream: reads return what is buffered, then empty. */
  feedEof(): void {
    this._eof = true;
    this._wakeupWaiter();
  }

  /** True when the buffer is empty and feedEof() was called. */
  atEof(): boolean {
    return this._eof && this._end === this._start;
  }

  /** Add bytes to the buffer (copied), waking a waiting reader. */
  feedData(data: Uint8Array): void {
    if (!(data instanceof Uint8Array)) {
      throw new TypeError(`data must be a bytes-like object (Uint8Array), not ${repr(data)}`);
    }
    this._feed(data, false);
  }

  /** @internal feedData for a Buffer nobody else holds (a chunk from a Node stream): adopted, not copied. */
  _feedOwned(data: Buffer): void {
    this._feed(data, true);
  }

  private _feed(data: Uint8Array, adopt: boolean): void {
    if (this._eof) throw new RuntimeError('feed_data after feed_eof');
    const n = data.length;
    if (n === 0) return;
    this._append(data, adopt);
    this._wakeupWaiter();
    const transport = this._transport;
    if (transport !== null && !this._paused && this._end - this._start > 2 * this._limit) {
      try {
        transport.pauseReading();
        this._paused = true;
      } catch (e) {
        // A transport that cannot pause: buffer everything, and stop trying.
        if (!(e instanceof Error && e.name === 'NotImplementedError')) throw e;
        this._transport = null;
      }
    }
  }

  private _append(data: Uint8Array, adopt: boolean): void {
    const n = data.length;
    const len = this._end - this._start;
    if (len === 0) {
      this._buf = adopt ? (data as Buffer) : Buffer.from(data);
      this._start = 0;
      this._end = n;
      this._owned = false;
      return;
    }
    let buf = this._buf;
    if (this._owned && buf.length - this._end >= n) {
      buf.set(data, this._end);
      this._end += n;
      return;
    }
    if (this._owned && buf.length >= len + n) {
      buf.copyWithin(0, this._start, this._end);
    } else {
      const grown = Buffer.allocUnsafe(Math.max(len + n, 2 * len, 1024));
      buf.copy(grown, 0, this._start, this._end);
      buf = grown;
      this._buf = grown;
      this._owned = true;
    }
    this._start = 0;
    this._end = len;
    buf.set(data, len);
    this._end = len + n;
  }

  /** @internal Remove and return the first n buffered bytes (n ≤ buffered). */
  _take(n: number): Buffer {
    const start = this._start;
    const end = start + n;
    let out: Buffer;
    if (this._owned) {
      out = Buffer.allocUnsafe(n);
      this._buf.copy(out, 0, start, end);
    } else if (start === 0 && end === this._buf.length && n > 0) {
      // The whole adopted chunk (a line that came in one piece): hand it over as it is, no view of it.
      // [HOT: echo, one line per chunk]
      out = this._buf;
    } else {
      out = this._buf.subarray(start, end);
    }
    if (end === this._end) {
      this._buf = EMPTY;
      this._start = this._end = 0;
      this._owned = false;
    } else {
      this._start = end;
    }
    return out;
  }

  /** @internal A copy of the buffered bytes (CPython's `_buffer`, for tests and debugging). */
  get _buffer(): Buffer {
    return Buffer.from(this._buf.subarray(this._start, this._end));
  }

  /** @internal Bytes buffered. */
  get _buffered(): number {
    return this._end - this._start;
  }

  /** @internal Wait until feedData() or feedEof() is called; resume the transport if it was paused. */
  *_waitForData(funcName: string): Generator<Instruction, void, unknown> {
    this._checkWaitForData(funcName);
    const waiter = this._loop.createFuture<void>();
    this._waiter = waiter;
    // Data from a transport is host I/O: the virtual clock must not jump while we wait for it.
    const loop = this._loop;
    const host = this._transport !== null;
    if (host) loop._hostPending++;
    try {
      yield* waiter;
    } finally {
      if (this._waiter === waiter) this._waiter = null;
      if (host) loop._hostPending--;
    }
  }

  /** @internal _waitForData's checks before it waits (ReadlineOperation makes them too). */
  _checkWaitForData(funcName: string): void {
    // Two readers at once would race for the same bytes: CPython forbids it, and so do we.
    if (this._waiter !== null) {
      throw new RuntimeError(
        `${funcName}() called while another coroutine is already waiting for incoming data`,
      );
    }
    if (this._eof) throw new RuntimeError('_wait_for_data after EOF');
    if (this._watch !== null) this._watch._noteUse();
    // Waiting while paused would deadlock (readexactly(n) with n > limit needs more than the buffer).
    if (this._paused) {
      this._paused = false;
      this._transport!.resumeReading();
    }
  }

  /**
   * Read one line, ending with '\n'. At EOF, the partial line (possibly empty). A line longer than the
   * limit raises ValueError (and is discarded up to its newline, or the whole buffer).
   */
  readline(): Coroutine<Buffer> {
    return new Coroutine(new ReadlineOperation(this), READLINE_INFO);
  }

  /**
   * Read up to and including `separator` (bytes or a string; or a list of them: the shortest match
   * wins). IncompleteReadError at EOF without it; LimitOverrunError past the limit (data stays buffered).
   */
  readuntil(separator: Separator | readonly Separator[] = '\n'): Coroutine<Buffer> {
    return new Coroutine(readuntilGen(this, separator), READUNTIL_INFO);
  }

  /**
   * Read up to `n` bytes (n < 0: until EOF). Returns as soon as any byte is available; empty at EOF.
   */
  read(n = -1): Coroutine<Buffer> {
    if (typeof n !== 'number' || !Number.isInteger(n)) {
      throw new TypeError(`read() argument must be an integer, not ${repr(n)}`);
    }
    return new Coroutine(readGen(this, n), READ_INFO);
  }

  /** Read exactly `n` bytes; IncompleteReadError (with `partial`) if EOF comes first. */
  readexactly(n: number): Coroutine<Buffer> {
    if (typeof n !== 'number' || !Number.isInteger(n)) {
      throw new TypeError(`readexactly() argument must be an integer, not ${repr(n)}`);
    }
    return new Coroutine(readexactlyGen(this, n), READEXACTLY_INFO);
  }

  /** `asyncFor(reader, …)` iterates by line (Python's `async for line in reader`). */
  aiter(): this {
    return this;
  }

  /** The next line; StopAsyncIteration at EOF. */
  anext(): Coroutine<Buffer> {
    return new Coroutine(anextGen(this), ANEXT_INFO);
  }

  /** `for await (const line of reader)` from plain async code, while the reader's loop runs. */
  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer, void, undefined> {
    const loop = this._loop;
    for (;;) {
      const task = loop.createTask(this.readline());
      // We run in a microtask, outside the loop's callbacks: wake the loop in case it is idle.
      loop.callSoonThreadsafe(noop);
      const line = await task;
      if (line.length === 0) return;
      yield line;
    }
  }

  toString(): string {
    const parts = ['StreamReader'];
    const n = this._end - this._start;
    if (n > 0) parts.push(`${n} bytes`);
    if (this._eof) parts.push('eof');
    if (this._limit !== DEFAULT_LIMIT) parts.push(`limit=${this._limit}`);
    if (this._waiter !== null) parts.push(`waiter=${this._waiter}`);
    if (this._exception !== undefined) parts.push(`exception=${repr(this._exception)}`);
    if (this._transport !== null) parts.push(`transport=${this._transport}`);
    if (this._paused) parts.push('paused');
    return `<${parts.join(' ')}>`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

const NEWLINE = Buffer.from('\n');

/**
 * The body of readline(), as an iterator [HOT: the echo benchmark's read path]. The fast path looks for
 * '\n' only, waiting for data (as _waitForData: one waiter future, counted as host I/O) as long as the
 * line stays within the limit and no error is in sight; at EOF it returns the partial line (what
 * readuntil's IncompleteReadError carries, which readline returns). Anything else (the limit, an
 * exception) continues in readlineSlow, readuntil's general path, which gives CPython's exact outcome.
 * One object instead of readline's, readuntil's and _wait_for_data's frames.
 */
class ReadlineOperation implements CoroutineIterator<Buffer> {
  private readonly r: StreamReader;
  /** bytes from the start of the buffer known to hold no '\n' */
  private offset = 0;
  /** the future this body waits on (it is r._waiter until woken) */
  private waiter: Waiter<void> | null = null;
  /** the wait is counted in loop._hostPending */
  private host = false;
  private slow: Generator<Instruction, Buffer, unknown> | null = null;
  private finished = false;

  constructor(r: StreamReader) {
    this.r = r;
  }

  [Symbol.iterator](): this {
    return this;
  }

  next(value?: unknown): IteratorResult<Instruction, Buffer> {
    if (this.slow !== null) return this.slow.next(value);
    if (this.finished) return { value: undefined as unknown as Buffer, done: true };
    const waiter = this.waiter;
    if (waiter !== null) {
      // Resumed while the waiter is pending (a hand-driven send()): `yield* waiter` yields it again.
      if (!waiter.done())
        return suspendOn(waiter, READLINE_INFO.qualname) as IteratorResult<Instruction, Buffer>;
      this.endWait();
      try {
        waiter.result();
      } catch (e) {
        this.finished = true;
        throw e;
      }
      // Woken by data or EOF, and only we still know the waiter: the reader's next wait reuses it.
      if (isRecyclable(waiter)) this.r._spareWaiter = waiter;
    }
    const r = this.r;
    let offset = this.offset;
    try {
      while (r._exception === undefined) {
        const start = r._start;
        const end = r._end;
        if (end - start > offset) {
          // An owned buffer has spare capacity after `end`: search the window only.
          const i = r._owned
            ? r._buf.subarray(start, end).indexOf(0x0a, offset) + start
            : r._buf.indexOf(0x0a, start + offset);
          if (i >= start && i < end) {
            if (i - start > r._limit) break;
            this.finished = true;
            const line = r._take(i - start + 1);
            r._maybeResumeTransport();
            return { value: line, done: true };
          }
          offset = end - start;
        }
        if (offset > r._limit) break;
        if (r._eof) {
          // No newline before EOF, the partial line within the limit: readuntil would raise
          // IncompleteReadError(partial), which readline catches and returns. No Error is built: every
          // connection's last readline ends here. [HOT: echo_short's teardown]
          this.finished = true;
          return { value: r._take(end - start), done: true };
        }
        this.offset = offset;
        // Named for call graphs: this body is no generator frame of its own (see suspendOn).
        return suspendOn(this.startWait(), READLINE_INFO.qualname) as IteratorResult<Instruction, Buffer>;
      }
    } catch (e) {
      this.finished = true;
      throw e;
    }
    this.slow = readlineSlow(r);
    return this.slow.next();
  }

  throw(error: unknown): IteratorResult<Instruction, Buffer> {
    if (this.slow !== null) return this.slow.throw(error);
    this.finished = true;
    if (this.waiter !== null) this.endWait();
    throw error;
  }

  return(value: Buffer): IteratorResult<Instruction, Buffer> {
    if (this.slow !== null) return this.slow.return(value);
    this.finished = true;
    if (this.waiter !== null) this.endWait();
    return { value, done: true };
  }

  /** StreamReader._waitForData up to its `yield* waiter`: the waiter. */
  private startWait(): Waiter<void> {
    const r = this.r;
    r._checkWaitForData('readuntil');
    const loop = r._loop;
    const spare = r._spareWaiter;
    let waiter: Waiter<void>;
    // Debug mode may have been switched on since the spare was kept: a debug future needs its traceback.
    if (spare !== null && !loop._debug) {
      r._spareWaiter = null;
      waiter = recycle(spare);
    } else {
      waiter = new Waiter<void>(loop);
    }
    r._waiter = waiter;
    this.waiter = waiter;
    // Data from a transport is host I/O: the virtual clock must not jump while we wait for it.
    this.host = r._transport !== null;
    if (this.host) loop._hostPending++;
    return waiter;
  }

  /** _waitForData's `finally`. */
  private endWait(): void {
    const r = this.r;
    if (r._waiter === this.waiter) r._waiter = null;
    this.waiter = null;
    if (this.host) r._loop._hostPending--;
  }
}

/** readline() past its fast path: readuntil('\n'), its errors turned into readline's (CPython). */
function* readlineSlow(r: StreamReader): Generator<Instruction, Buffer, unknown> {
  try {
    return yield* readuntilGen(r, NEWLINE);
  } catch (e) {
    if (e instanceof IncompleteReadError) return e.partial as Buffer;
    if (e instanceof LimitOverrunError) {
      const consumed = e.consumed;
      if (r._buffered > consumed && r._buf[r._start + consumed] === 0x0a) r._take(consumed + 1);
      else if (r._buffered > 0) r._take(r._buffered);
      r._maybeResumeTransport();
      throw new ValueError(e.message);
    }
    throw e;
  }
}

function toSeparator(sep: unknown): Buffer {
  if (typeof sep === 'string') return Buffer.from(sep, 'utf8');
  if (sep instanceof Uint8Array) return Buffer.from(sep.buffer, sep.byteOffset, sep.length);
  throw new TypeError(`separator must be bytes (Uint8Array) or str, not ${repr(sep)}`);
}

function* readuntilGen(
  r: StreamReader,
  separator: Separator | readonly Separator[],
): Generator<Instruction, Buffer, unknown> {
  // A list of separators: sorted so that the shortest match wins (CPython 3.13).
  const seps = Array.isArray(separator)
    ? (separator as readonly Separator[]).map(toSeparator).sort((a, b) => a.length - b.length)
    : [toSeparator(separator)];
  if (seps.length === 0) throw new ValueError('Separator should contain at least one element');
  const minSeplen = seps[0]!.length;
  const maxSeplen = seps[seps.length - 1]!.length;
  if (minSeplen === 0) throw new ValueError('Separator should be at least one-byte string');
  if (r._exception !== undefined) throw r._exception;

  // `offset`: how many bytes from the start of the buffer are known to hold no separator. Only the
  // last maxSeplen - 1 bytes are searched again when more data arrives.
  let offset = 0;
  let matchStart = -1;
  let matchEnd = -1;
  for (;;) {
    const buflen = r._end - r._start;
    if (buflen - offset >= minSeplen) {
      const view = r._buf.subarray(r._start, r._end);
      for (const sep of seps) {
        const i = view.indexOf(sep, offset);
        if (i !== -1) {
          const end = i + sep.length;
          if (matchEnd === -1 || end < matchEnd) {
            matchEnd = end;
            matchStart = i;
          }
        }
      }
      if (matchEnd !== -1) break;
      offset = Math.max(0, buflen + 1 - maxSeplen);
      if (offset > r._limit) {
        throw new LimitOverrunError('Separator is not found, and chunk exceed the limit', offset);
      }
    }
    // The last chunk may complete a separator even when EOF is set: check EOF after the search.
    if (r._eof) {
      const chunk = r._take(r._end - r._start);
      throw new IncompleteReadError(chunk, null);
    }
    yield* r._waitForData('readuntil');
  }
  if (matchStart > r._limit) {
    throw new LimitOverrunError('Separator is found, but chunk is longer than limit', matchStart);
  }
  const chunk = r._take(matchEnd);
  r._maybeResumeTransport();
  return chunk;
}

function* readGen(r: StreamReader, n: number): Generator<Instruction, Buffer, unknown> {
  if (r._exception !== undefined) throw r._exception;
  if (n === 0) return Buffer.alloc(0);
  if (n < 0) {
    // Read limit-sized blocks until EOF, so that a paused transport is resumed as we go (waiting for
    // all of it at once would deadlock once the buffer passes 2 × limit).
    const blocks: Buffer[] = [];
    for (;;) {
      const block = yield* readGen(r, r._limit);
      if (block.length === 0) break;
      blocks.push(block);
    }
    return blocks.length === 1 ? blocks[0]! : Buffer.concat(blocks);
  }
  if (r._end === r._start && !r._eof) yield* r._waitForData('read');
  const available = r._end - r._start;
  const data = available === 0 ? Buffer.alloc(0) : r._take(Math.min(n, available));
  r._maybeResumeTransport();
  return data;
}

function* readexactlyGen(r: StreamReader, n: number): Generator<Instruction, Buffer, unknown> {
  if (n < 0) throw new ValueError('readexactly size can not be less than zero');
  if (r._exception !== undefined) throw r._exception;
  if (n === 0) return Buffer.alloc(0);
  while (r._end - r._start < n) {
    if (r._eof) {
      const incomplete = r._take(r._end - r._start);
      throw new IncompleteReadError(incomplete, n);
    }
    yield* r._waitForData('readexactly');
  }
  const data = r._take(n);
  r._maybeResumeTransport();
  return data;
}

function* anextGen(r: StreamReader): Generator<Instruction, Buffer, unknown> {
  const line = yield* new ReadlineOperation(r);
  if (line.length === 0) throw new StopAsyncIteration();
  return line;
}
