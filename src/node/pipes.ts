/**
 * Pipes, subprocess transports and sendfile (CPython's unix_events pipe transports, base_subprocess.py
 * and base_events.sendfile's fallback path), for `loop.connectReadPipe` / `connectWritePipe` /
 * `subprocessExec` / `subprocessShell` / `sendfile`.
 *
 * A pipe is a Node stream (or a file descriptor, opened as one) driven by the same StreamTransport as
 * sockets. A subprocess transport runs the child with node:child_process and connects one pipe
 * transport per PIPE'd descriptor, whose protocols forward to the SubprocessProtocol with the fd
 * (CPython's ReadSubprocessPipeProto / WriteSubprocessPipeProto); calls that arrive before
 * connectionMade are queued, as CPython's _pending_calls.
 */
import type { ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { open as openFile } from 'node:fs/promises';
import * as net from 'node:net';
import { constants as osConstants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { EventLoop } from '../base_events.js';
import { type Instruction, YIELD_NOW } from '../coroutines.js';
import {
  CancelledError,
  ConnectionError,
  ProcessLookupError,
  RuntimeError,
  ValueError,
} from '../exceptions.js';
import { repr } from '../format_helpers.js';
import type { Future } from '../futures.js';
import { logger } from '../log.js';
import { fromNodeError } from './errors.js';
import { type BaseProtocol, Protocol, type SubprocessProtocol } from './protocols.js';
import { signalName } from './signals.js';
import {
  checkOptions,
  commandLine,
  PIPE,
  type SubprocessOptions,
  spawnChild,
  spawnError,
} from './subprocess.js';
import {
  type BaseTransport,
  type NodeStream,
  type StreamProtocol,
  StreamTransport,
  SubprocessTransport,
} from './transports.js';

/** A pipe for connectReadPipe/connectWritePipe: a Node stream, or a file descriptor of a pipe/socket/tty. */
export type PipeLike = NodeStream | number;

/** Options of subprocessExec/subprocessShell: stdin, stdout, stderr default to PIPE. */
export type SubprocessTransportOptions = Omit<SubprocessOptions, 'limit'>;

export interface SendfileOptions {
  /** Read and write the file by blocks when no zero-copy path exists (the only path here). Default true. */
  fallback?: boolean;
}

/** A Node stream over file descriptor `fd` (CPython accepts pipes, sockets and character devices only). */
function streamOfFd(fd: number, readable: boolean): NodeStream {
  let stat: fs.Stats;
  try {
    stat = fs.fstatSync(fd);
  } catch (e) {
    throw fromNodeError(e);
  }
  if (!(stat.isFIFO() || stat.isSocket() || stat.isCharacterDevice())) {
    throw new ValueError('Pipe transport is for pipes/sockets only.');
  }
  if (stat.isCharacterDevice()) {
    return readable ? fs.createReadStream('', { fd, autoClose: true }) : fs.createWriteStream('', { fd });
  }
  return new net.Socket({ fd, readable, writable: !readable, allowHalfOpen: true });
}

function pipeStream(pipe: unknown, readable: boolean): NodeStream {
  if (typeof pipe === 'number') return streamOfFd(pipe, readable);
  const s = pipe as Partial<Readable & Writable> | null;
  const ok = readable ? typeof s?.read === 'function' : typeof s?.write === 'function';
  if (!ok)
    throw new TypeError(
      `pipe must be a Node ${readable ? 'Readable' : 'Writable'} or a file descriptor, got ${repr(pipe)}`,
    );
  return pipe as NodeStream;
}

/** Python's loop.connect_read_pipe. */
export function* connectReadPipe<P extends StreamProtocol>(
  loop: EventLoop,
  protocolFactory: () => P,
  pipe: PipeLike,
): Generator<Instruction, [StreamTransport, P], unknown> {
  const stream = pipeStream(pipe, true);
  const protocol = protocolFactory();
  const transport = new StreamTransport(loop, stream, protocol, { extra: { pipe: stream } });
  protocol.connectionMade(transport);
  yield* sleepZero();
  return [transport, protocol];
}

/** Python's loop.connect_write_pipe. */
export function* connectWritePipe<P extends BaseProtocol>(
  loop: EventLoop,
  protocolFactory: () => P,
  pipe: PipeLike,
): Generator<Instruction, [StreamTransport, P], unknown> {
  const stream = pipeStream(pipe, false);
  const protocol = protocolFactory();
  const transport = new StreamTransport(loop, stream, protocol as unknown as StreamProtocol, {
    extra: { pipe: stream },
    // A write pipe only writes: EOF from the other end is its reader going away.
    halfOpen: false,
  });
  protocol.connectionMade(transport);
  yield* sleepZero();
  return [transport, protocol];
}

/** One loop iteration, as CPython's waiter that connectionMade has been called. */
function* sleepZero(): Generator<Instruction, void, unknown> {
  yield YIELD_NOW;
}

// ---------------------------------------------------------------------------------------------------
// subprocess transports

/** Forwards one pipe's events to the subprocess transport (CPython's Read/WriteSubprocessPipeProto). */
class SubprocessPipeProto extends Protocol {
  pipe: StreamTransport | null = null;
  disconnected = false;

  constructor(
    readonly proc: ChildTransport,
    readonly fd: number,
  ) {
    super();
  }

  override connectionMade(transport: StreamTransport): void {
    this.pipe = transport;
  }

  override connectionLost(exc: unknown): void {
    this.disconnected = true;
    this.proc._pipeConnectionLost(this.fd, exc);
  }

  override pauseWriting(): void {
    this.proc._protocol?.pauseWriting();
  }

  override resumeWriting(): void {
    this.proc._protocol?.resumeWriting();
  }

  override dataReceived(data: Buffer): void {
    this.proc._call(() => this.proc._protocol?.pipeDataReceived(this.fd, data));
  }

  override toString(): string {
    return `<SubprocessPipeProto fd=${this.fd} pipe=${this.pipe}>`;
  }
}

/** A child process as a SubprocessTransport (CPython's BaseSubprocessTransport on Unix). */
export class ChildTransport extends SubprocessTransport {
  /** @internal */ _loop: EventLoop;
  /** @internal */ _protocol: SubprocessProtocol | null;
  /** @internal */ _proc: ChildProcess | null;
  /** @internal */ _pid: number | undefined;
  /** @internal */ _returncode: number | null = null;
  /** @internal */ _closed = false;
  /** @internal */ _finished = false;
  /** @internal */ _pipesConnected = false;
  /** @internal */ _pipes = new Map<number, SubprocessPipeProto>();
  /** @internal calls to make once connectionMade has run (CPython's _pending_calls) */
  _pendingCalls: (() => void)[] | null = [];
  /** @internal */ _exitWaiters: Future<number>[] = [];

  /** @internal */
  constructor(loop: EventLoop, protocol: SubprocessProtocol, child: ChildProcess) {
    super({ subprocess: child });
    this._loop = loop;
    this._protocol = protocol;
    this._proc = child;
    this._pid = child.pid;
    const streams: [number, NodeStream | null][] = [
      [0, child.stdin],
      [1, child.stdout],
      [2, child.stderr],
    ];
    // The pipes are connected at once: Node drops the output of a child nobody listens to yet.
    for (const [fd, stream] of streams) {
      if (stream === null) continue;
      const proto = new SubprocessPipeProto(this, fd);
      const transport = new StreamTransport(loop, stream, proto, {
        extra: { pipe: stream },
        halfOpen: false,
      });
      proto.connectionMade(transport);
      this._pipes.set(fd, proto);
    }
    child.on('exit', (code, signal) => {
      const rc = code ?? -((osConstants.signals as Record<string, number>)[signal ?? ''] ?? 0);
      // Node has just destroyed the child's stdin: what it still held is lost (a broken pipe).
      this._pipes.get(0)?.pipe?._hostPeerGone();
      if (!loop.isClosed()) loop.callSoonThreadsafe(() => this._processExited(rc));
    });
    child.on('error', () => {});
  }

  /** @internal spawn succeeded: tell the protocol, then replay what arrived before. */
  _connected(): void {
    const protocol = this._protocol!;
    this._loop.callSoon(() => protocol.connectionMade(this));
    for (const cb of this._pendingCalls!) this._loop.callSoon(cb);
    this._pendingCalls = null;
    this._pipesConnected = true;
  }

  /** @internal */
  _call(cb: () => void): void {
    if (this._pendingCalls !== null) this._pendingCalls.push(cb);
    else this._loop.callSoon(cb);
  }

  /** @internal */
  _pipeConnectionLost(fd: number, exc: unknown): void {
    this._call(() => this._protocol?.pipeConnectionLost(fd, exc));
    this._tryFinish();
  }

  private _processExited(returncode: number): void {
    if (this._returncode !== null) return;
    if (this._loop.getDebug()) logger.info(`${this} exited with return code ${returncode}`);
    this._returncode = returncode;
    this._call(() => this._protocol?.processExited());
    this._tryFinish();
  }

  private _tryFinish(): void {
    if (this._finished || this._returncode === null) return;
    if (!this._pipesConnected) {
      for (const w of this._exitWaiters) if (!w.cancelled()) w.setResult(this._returncode);
    }
    for (const p of this._pipes.values()) if (!p.disconnected) return;
    this._finished = true;
    this._call(() => this._callConnectionLost(null));
  }

  private _callConnectionLost(exc: unknown): void {
    try {
      this._protocol?.connectionLost(exc);
    } finally {
      for (const w of this._exitWaiters) if (!w.cancelled()) w.setResult(this._returncode!);
      this._exitWaiters = [];
      this._proc = null;
      this._protocol = null;
    }
  }

  /** @internal Wait for the exit status (CPython's _wait). */
  *_wait(): Generator<Instruction, number, unknown> {
    if (this._returncode !== null) return this._returncode;
    const waiter = this._loop.createFuture<number>();
    this._exitWaiters.push(waiter);
    this._loop._hostPending++;
    try {
      return yield* waiter;
    } finally {
      this._loop._hostPending--;
    }
  }

  override getPid(): number | undefined {
    return this._pid;
  }

  override getReturncode(): number | null {
    return this._returncode;
  }

  override getPipeTransport(fd: number): StreamTransport | null {
    return this._pipes.get(fd)?.pipe ?? null;
  }

  override getProtocol(): SubprocessProtocol | null {
    return this._protocol;
  }

  override setProtocol(protocol: SubprocessProtocol): void {
    this._protocol = protocol;
  }

  override isClosing(): boolean {
    return this._closed;
  }

  override sendSignal(sig: string | number): void {
    if (this._proc === null) throw new ProcessLookupError();
    const name = signalName(sig, true);
    // Never signal a pid Node has reaped: it may belong to another process by now.
    if (this._proc.exitCode !== null || this._proc.signalCode !== null) return;
    try {
      process.kill(this._pid!, name);
    } catch (e) {
      if ((e as { code?: string }).code !== 'ESRCH') throw fromNodeError(e);
    }
  }

  override terminate(): void {
    this.sendSignal('SIGTERM');
  }

  override kill(): void {
    this.sendSignal('SIGKILL');
  }

  /** Close the pipes and kill the child if it still runs. */
  override close(): void {
    if (this._closed) return;
    this._closed = true;
    if (!this._loop.isClosed()) for (const p of this._pipes.values()) p.pipe?.close();
    const proc = this._proc;
    if (proc !== null && this._returncode === null && proc.exitCode === null && proc.signalCode === null) {
      if (this._loop.getDebug()) logger.warning(`Close running child process: kill ${this}`);
      try {
        process.kill(this._pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }

  override toString(): string {
    const info = ['ChildTransport'];
    if (this._closed) info.push('closed');
    if (this._pid !== undefined) info.push(`pid=${this._pid}`);
    if (this._returncode !== null) info.push(`returncode=${this._returncode}`);
    else if (this._pid !== undefined) info.push('running');
    else info.push('not started');
    return `<${info.join(' ')}>`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

const REFUSED_EXEC: Record<string, string> = {
  universalNewlines: 'universal_newlines must be False',
  shell: 'shell must be False',
  text: 'text must be False',
};

function* spawnTransport<P extends SubprocessProtocol>(
  loop: EventLoop,
  protocolFactory: () => P,
  argv: string[],
  shell: boolean,
  options: SubprocessTransportOptions | undefined,
): Generator<Instruction, [ChildTransport, P], unknown> {
  const given = (options ?? {}) as Record<string, unknown>;
  for (const [key, message] of Object.entries(REFUSED_EXEC)) {
    if (key === 'shell' && shell) {
      if (key in given && !given[key]) throw new ValueError('shell must be True');
      continue;
    }
    if (given[key]) throw new ValueError(message);
  }
  const { shell: _s, universalNewlines: _u, text: _t, ...rest } = given;
  const opts = checkOptions({ stdin: PIPE, stdout: PIPE, stderr: PIPE, ...rest } as SubprocessOptions);
  if (loop._syncMode)
    throw new RuntimeError('runSync() cannot wait for host I/O (a subprocess); use run() instead');
  const { file, args, stdio } = commandLine(argv, shell, opts);
  const protocol = protocolFactory();
  const child = spawnChild(file, args, stdio, argv[0]!, opts);
  const transport = new ChildTransport(loop, protocol, child);
  const started = loop._wrapHostPromise(
    new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    }),
    () => transport.close(),
  );
  try {
    yield* started;
  } catch (e) {
    transport.close();
    if (e instanceof CancelledError) throw e;
    throw spawnError(e, argv[0]!, opts);
  }
  if (loop.getDebug()) logger.debug(`process ${repr(argv[0])} created: pid ${transport._pid}`);
  transport._connected();
  // Return once connectionMade has run (CPython awaits its waiter).
  yield YIELD_NOW;
  return [transport, protocol];
}

/** Python's loop.subprocess_exec. */
export function* subprocessExec<P extends SubprocessProtocol>(
  loop: EventLoop,
  protocolFactory: () => P,
  program: string,
  args: (string | SubprocessTransportOptions)[],
): Generator<Instruction, [ChildTransport, P], unknown> {
  let options: SubprocessTransportOptions | undefined;
  const last = args[args.length - 1];
  if (last !== undefined && typeof last === 'object' && !(last instanceof URL)) {
    options = last;
    args = args.slice(0, -1);
  }
  const argv = [program, ...args].map((a, i) => {
    if (typeof a === 'string') return a;
    if (a instanceof URL) return fileURLToPath(a);
    throw new TypeError(`expected str, bytes or os.PathLike object, not ${repr(a)} (argument ${i + 1})`);
  });
  return yield* spawnTransport(loop, protocolFactory, argv, false, options);
}

/** Python's loop.subprocess_shell. */
export function* subprocessShell<P extends SubprocessProtocol>(
  loop: EventLoop,
  protocolFactory: () => P,
  cmd: string,
  options: SubprocessTransportOptions | undefined,
): Generator<Instruction, [ChildTransport, P], unknown> {
  if (typeof cmd !== 'string') throw new ValueError('cmd must be a string');
  return yield* spawnTransport(loop, protocolFactory, [cmd], true, options);
}

// ---------------------------------------------------------------------------------------------------
// sendfile

/**
 * Stands in for the transport's protocol while a file is sent (CPython's _SendfileFallbackProtocol):
 * reading is paused, and pauseWriting/resumeWriting gate the next block.
 */
class SendfileFallbackProtocol extends Protocol {
  readonly _transport: StreamTransport;
  readonly _proto: StreamProtocol;
  readonly _shouldResumeReading: boolean;
  readonly _shouldResumeWriting: boolean;
  _writeReadyFut: Future<boolean> | null;

  constructor(transport: StreamTransport) {
    super();
    this._transport = transport;
    this._proto = transport.getProtocol()!;
    this._shouldResumeReading = transport.isReading();
    this._shouldResumeWriting = transport._protocolPaused;
    transport.pauseReading();
    transport.setProtocol(this);
    this._writeReadyFut = this._shouldResumeWriting ? transport._loop.createFuture<boolean>() : null;
  }

  *drain(): Generator<Instruction, void, unknown> {
    if (this._transport.isClosing()) throw new ConnectionError('Connection closed by peer');
    const fut = this._writeReadyFut;
    if (fut === null) return;
    const loop = this._transport._loop;
    loop._hostPending++;
    try {
      yield* fut;
    } finally {
      loop._hostPending--;
    }
  }

  override connectionMade(): void {
    throw new RuntimeError('Invalid state: connection should have been established already.');
  }

  override connectionLost(exc: unknown): void {
    const fut = this._writeReadyFut;
    if (fut !== null && !fut.done()) {
      fut.setException(exc ?? new ConnectionError('Connection is closed by peer'));
      fut.exception();
    }
    this._proto.connectionLost(exc);
  }

  override pauseWriting(): void {
    if (this._writeReadyFut !== null) return;
    this._writeReadyFut = this._transport._loop.createFuture<boolean>();
  }

  override resumeWriting(): void {
    const fut = this._writeReadyFut;
    if (fut === null) return;
    fut.setResult(false);
    this._writeReadyFut = null;
  }

  override dataReceived(): void {
    throw new RuntimeError('Invalid state: reading should be paused');
  }

  override eofReceived(): boolean {
    throw new RuntimeError('Invalid state: reading should be paused');
  }

  restore(): void {
    this._transport.setProtocol(this._proto);
    if (this._shouldResumeReading) this._transport.resumeReading();
    this._writeReadyFut?.cancel();
    if (this._shouldResumeWriting) this._proto.resumeWriting();
  }
}

/** Python's loop.sendfile (its fallback: blocks of 16 KiB read from the file and written). */
export function* sendfile(
  loop: EventLoop,
  transport: BaseTransport,
  file: string | number | FileHandle,
  offset = 0,
  count: number | null = null,
  options?: SendfileOptions,
): Generator<Instruction, number, unknown> {
  if (transport.isClosing()) throw new RuntimeError('Transport is closing');
  if (!(transport instanceof StreamTransport) || !transport._writable) {
    throw new RuntimeError(`sendfile is not supported for transport ${transport}`);
  }
  if (options?.fallback === false) {
    throw new RuntimeError(
      `fallback is disabled and native sendfile is not supported for transport ${transport}`,
    );
  }
  if (count !== null && count !== undefined) {
    if (typeof count !== 'number' || !Number.isInteger(count)) {
      throw new TypeError(`count must be a positive integer (got ${repr(count)})`);
    }
    if (count <= 0) throw new ValueError(`count must be a positive integer (got ${repr(count)})`);
  }
  if (typeof offset !== 'number' || !Number.isInteger(offset)) {
    throw new TypeError(`offset must be a non-negative integer (got ${repr(offset)})`);
  }
  if (offset < 0) throw new ValueError(`offset must be a non-negative integer (got ${repr(offset)})`);
  const wait = <T>(p: Promise<T>): Future<T> => loop._wrapHostPromise(p);
  let handle: FileHandle | null = null;
  let fd: number;
  if (typeof file === 'string') {
    handle = yield* wait(openFile(file, 'r').catch((e) => Promise.reject(fromNodeError(e))));
    fd = handle.fd;
  } else if (typeof file === 'number') {
    fd = file;
  } else if (file !== null && typeof file === 'object' && typeof (file as FileHandle).fd === 'number') {
    fd = (file as FileHandle).fd;
  } else {
    throw new TypeError(`file must be a path, a file descriptor or a FileHandle, got ${repr(file)}`);
  }
  let blocksize = count ? Math.min(count, 16384) : 16384;
  let totalSent = 0;
  const proto = new SendfileFallbackProtocol(transport);
  try {
    for (;;) {
      if (count) {
        blocksize = Math.min(count - totalSent, blocksize);
        if (blocksize <= 0) return totalSent;
      }
      const buf = Buffer.allocUnsafe(blocksize);
      const position = offset + totalSent;
      const read = yield* wait(
        new Promise<number>((resolve, reject) =>
          fs.read(fd, buf, 0, blocksize, position, (err, n) =>
            err ? reject(fromNodeError(err)) : resolve(n),
          ),
        ),
      );
      if (read === 0) return totalSent;
      yield* proto.drain();
      transport.write(read === blocksize ? buf : buf.subarray(0, read));
      totalSent += read;
    }
  } finally {
    proto.restore();
    if (handle !== null) yield* wait(handle.close());
  }
}
