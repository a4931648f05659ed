/**
 * Subprocesses: createSubprocessExec, createSubprocessShell and Process (CPython's subprocess.py, with
 * base_subprocess.py's transport folded in), over node:child_process.
 *
 * The pipes are streams.ts's transports over the child's Node streams: stdout and stderr feed
 * StreamReaders (which pause the pipe when their buffer is full), stdin is a StreamWriter whose drain()
 * waits on the pipe's back-pressure. Node reports the child's end twice, as CPython's transport sees it:
 * 'exit' (the status is known: `returncode` is set) and 'close' (exit, and stdout/stderr reached EOF:
 * wait() returns — a wait() begun before the exit returns only once the pipes are done, as in CPython).
 * Both enter the loop through callSoonThreadsafe; a wait() in progress counts as host work, so the
 * virtual clock does not jump past a running child.
 *
 * POSIX semantics (as CPython's unix_events): `stderr: STDOUT` with a piped stdout runs the program
 * through `/bin/sh -c 'exec "$@" 2>&1'` (Node cannot give one pipe to two descriptors); returncodes of
 * children killed by a signal are negative (-15 for SIGTERM).
 */
import { type ChildProcess, type StdioOptions, spawn } from 'node:child_process';
import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EventLoop } from '../base_events.js';
import { Coroutine, type Instruction } from '../coroutines.js';
import { getRunningLoop } from '../events.js';
import {
  BrokenPipeError,
  CancelledError,
  ConnectionResetError,
  ProcessLookupError,
  RuntimeError,
  ValueError,
} from '../exceptions.js';
import { repr } from '../format_helpers.js';
import type { Future } from '../futures.js';
import { logger } from '../log.js';
import { gather } from '../tasks.js';
import { fromNodeError, makeOSError } from './errors.js';
import { signalName } from './signals.js';
import { DEFAULT_LIMIT, StreamReader, StreamReaderProtocol, StreamWriter } from './streams.js';
import { StreamTransport } from './transports.js';

/** Make a pipe to the child (Python's subprocess.PIPE). */
export const PIPE = -1;
/** For stderr: write to wherever stdout goes (Python's subprocess.STDOUT). */
export const STDOUT = -2;
/** Connect to the null device (Python's subprocess.DEVNULL). */
export const DEVNULL = -3;

/**
 * Where a standard stream of the child goes: PIPE, DEVNULL, STDOUT (stderr only), a file descriptor
 * of this process (a number ≥ 0), or null/undefined to inherit this process's stream.
 */
export type StdioSpec = typeof PIPE | typeof STDOUT | typeof DEVNULL | number | null | undefined;

export interface SubprocessOptions {
  stdin?: StdioSpec;
  stdout?: StdioSpec;
  stderr?: StdioSpec;
  /** Buffer limit of the stdout/stderr StreamReaders (default 64 KiB). */
  limit?: number;
  /** Working directory of the child. */
  cwd?: string | URL | null;
  /** The child's whole environment (default: this process's). */
  env?: Record<string, string | undefined> | null;
  /** Run the child in a new session (setsid), as Python's `start_new_session`. */
  startNewSession?: boolean;
}

const KNOWN_OPTIONS = new Set(['stdin', 'stdout', 'stderr', 'limit', 'cwd', 'env', 'startNewSession']);

/** The Popen arguments asyncio refuses (it works with bytes and its own pipes), with Python's messages. */
const REFUSED_OPTIONS: Record<string, (v: unknown) => string | null> = {
  text: (v) => (v ? 'text must not be True' : null),
  encoding: (v) => (v !== undefined && v !== null ? 'encoding must be None' : null),
  errors: (v) => (v !== undefined && v !== null ? 'errors must be None' : null),
  universalNewlines: (v) => (v ? 'universal_newlines must be False' : null),
  bufsize: (v) => (v !== undefined && v !== null && v !== 0 ? 'bufsize must be 0' : null),
  shell: (v) => (v ? 'shell must be False' : null),
};

/** The arguments after the program: strings (or file URLs), optionally followed by the options. */
export type ExecArgs = (string | URL)[] | [...(string | URL)[], SubprocessOptions];

const EXEC_INFO = { name: 'create_subprocess_exec', qualname: 'create_subprocess_exec' };
const SHELL_INFO = { name: 'create_subprocess_shell', qualname: 'create_subprocess_shell' };

/**
 * Start `program` with `args` (no shell) and return a Process (Python's
 * `asyncio.create_subprocess_exec`). Options go last: `createSubprocessExec('cat', { stdin: PIPE,
 * stdout: PIPE })`. A program that cannot be started raises FileNotFoundError / PermissionError.
 */
export function createSubprocessExec(program: string | URL, ...args: ExecArgs): Coroutine<Process>;
/** Python's `create_subprocess_exec(*program, …)`: the program and its arguments spread from an array. */
export function createSubprocessExec(...argv: ExecArgs): Coroutine<Process>;
export function createSubprocessExec(...all: unknown[]): Coroutine<Process> {
  if (all.length === 0) {
    throw new TypeError("create_subprocess_exec() missing 1 required positional argument: 'program'");
  }
  let options: SubprocessOptions | undefined;
  let args = all;
  const last = args[args.length - 1];
  if (args.length > 1 && last !== undefined && typeof last === 'object' && !(last instanceof URL)) {
    options = last as SubprocessOptions;
    args = args.slice(0, -1);
  }
  const argv = args.map((a, i) => pathArg(a, i));
  return new Coroutine(createGen(argv, false, options), EXEC_INFO);
}

/**
 * Run `cmd` through the shell (/bin/sh -c) and return a Process (Python's
 * `asyncio.create_subprocess_shell`). Quote what you interpolate into `cmd`.
 */
export function createSubprocessShell(cmd: string, options?: SubprocessOptions): Coroutine<Process> {
  if (typeof cmd !== 'string') throw new TypeError(`cmd must be a string, not ${repr(cmd)}`);
  return new Coroutine(createGen([cmd], true, options), SHELL_INFO);
}

function pathArg(a: unknown, i: number): string {
  if (typeof a === 'string') return a;
  if (a instanceof URL) return fileURLToPath(a);
  throw new TypeError(
    `expected str, bytes or os.PathLike object, not ${describeType(a)} (argument ${i + 1})`,
  );
}

function describeType(x: unknown): string {
  if (x === null) return 'null';
  if (typeof x === 'object') return (x as object).constructor?.name ?? 'object';
  return typeof x;
}

function* createGen(argv: string[], shell: boolean, options: SubprocessOptions | undefined) {
  const loop = getRunningLoop();
  const opts = checkOptions(options);
  if (loop._syncMode) {
    throw new RuntimeError('runSync() cannot wait for host I/O (a subprocess); use run() instead');
  }
  const { file, args, stdio } = commandLine(argv, shell, opts);
  const child = spawnChild(file, args, stdio, argv[0]!, opts);
  const state = new ChildState(loop, child);
  // The pipes are connected now, not after 'spawn': Node discards the output of a child that exits
  // before anyone listens to its stdout (it resumes unlistened streams on exit).
  const proc = new Process(loop, child, state, opts.limit ?? DEFAULT_LIMIT);
  const started = loop._wrapHostPromise(
    new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    }),
    // Python kills a child whose creation was cancelled (and does not leave it running).
    () => state.killNow(),
  );
  try {
    yield* started;
  } catch (e) {
    if (e instanceof CancelledError) throw e;
    proc._abortPipes();
    state.forget();
    throw spawnError(e, argv[0]!, opts);
  }
  if (loop.getDebug()) logger.debug(`process ${repr(argv[0])} created: pid ${proc.pid}`);
  return proc;
}

export function checkOptions(options: SubprocessOptions | undefined): SubprocessOptions {
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object') throw new TypeError(`options must be an object, not ${repr(options)}`);
  for (const [key, value] of Object.entries(options)) {
    if (KNOWN_OPTIONS.has(key)) continue;
    const refused = REFUSED_OPTIONS[key]?.(value);
    if (refused) throw new ValueError(refused);
    if (refused === null) continue;
    throw new TypeError(`create_subprocess got an unexpected option ${repr(key)}`);
  }
  for (const name of ['stdin', 'stdout', 'stderr'] as const) {
    const v = options[name];
    if (v === undefined || v === null || v === PIPE || v === DEVNULL) continue;
    if (v === STDOUT) {
      if (name === 'stderr') continue;
      throw new ValueError(`STDOUT can only be used for stderr, not ${name}`);
    }
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
      throw new ValueError(`${name} must be PIPE, DEVNULL, a file descriptor or None, not ${repr(v)}`);
    }
  }
  const limit = options.limit;
  if (limit !== undefined) {
    if (typeof limit !== 'number' || Number.isNaN(limit)) {
      throw new TypeError(`limit must be a number, got ${repr(limit)}`);
    }
    if (limit <= 0) throw new ValueError('Limit cannot be <= 0');
  }
  return options;
}

function stdioOf(v: StdioSpec): 'pipe' | 'ignore' | 'inherit' | number {
  if (v === PIPE) return 'pipe';
  if (v === DEVNULL) return 'ignore';
  if (v === undefined || v === null) return 'inherit';
  return v;
}

/** The file, arguments and stdio to give spawn() for `argv` (exec) or `argv[0]` (a shell command). */
export function commandLine(
  argv: string[],
  shell: boolean,
  opts: SubprocessOptions,
): { file: string; args: string[]; stdio: StdioOptions } {
  const stdin = stdioOf(opts.stdin);
  const stdout = stdioOf(opts.stdout);
  let stderr = opts.stderr === STDOUT ? stdout : stdioOf(opts.stderr);
  let file: string;
  let args: string[];
  if (shell) {
    file = '/bin/sh';
    args = ['-c', argv[0]!];
  } else {
    file = argv[0]!;
    args = argv.slice(1);
  }
  if (opts.stderr === STDOUT && stdout === 'pipe') {
    // One pipe for two descriptors: let the shell dup stdout onto stderr, then exec the program (same
    // pid). execvp's errors must still be Python's, so the program is looked up here first.
    if (shell) {
      args = ['-c', `exec 2>&1\n${argv[0]}`];
    } else {
      resolveProgram(file, opts);
      args = ['-c', 'exec "$@" 2>&1', 'sh', file, ...args];
      file = '/bin/sh';
    }
    stderr = 'inherit';
  }
  return { file, args, stdio: [stdin, stdout, stderr] };
}

/** execvp's lookup, for the STDOUT case: FileNotFoundError / PermissionError as spawn would raise. */
function resolveProgram(program: string, opts: SubprocessOptions): void {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd instanceof URL ? fileURLToPath(opts.cwd) : (opts.cwd ?? process.cwd());
  const candidates = program.includes('/')
    ? [program.startsWith('/') ? program : join(cwd, program)]
    : (env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(delimiter).map((d) => join(d || '.', program));
  let denied = false;
  for (const path of candidates) {
    try {
      if (!statSync(path).isFile()) continue;
      accessSync(path, fsConstants.X_OK);
      return;
    } catch (e) {
      if ((e as { code?: string }).code === 'EACCES') denied = true;
    }
  }
  throw spawnError({ code: denied ? 'EACCES' : 'ENOENT' }, program, opts);
}

/** Start the child for a commandLine(); spawn's synchronous failure becomes Python's OSError (spawnError). */
export function spawnChild(
  file: string,
  args: string[],
  stdio: StdioOptions,
  program: string,
  opts: SubprocessOptions,
): ChildProcess {
  try {
    return spawn(file, args, {
      stdio,
      cwd: opts.cwd instanceof URL ? fileURLToPath(opts.cwd) : (opts.cwd ?? undefined),
      env: opts.env ?? undefined,
      detached: opts.startNewSession === true,
    });
  } catch (e) {
    throw spawnError(e, program, opts);
  }
}

/** spawn's failure as Python's OSError: `[Errno 2] No such file or directory: 'prog'`. */
export function spawnError(e: unknown, program: string, opts: SubprocessOptions): unknown {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return e;
  // Node reports a missing cwd as a missing program; Python names the directory.
  let filename = program;
  if (code === 'ENOENT' && opts.cwd !== undefined && opts.cwd !== null) {
    const cwd = opts.cwd instanceof URL ? fileURLToPath(opts.cwd) : opts.cwd;
    try {
      statSync(cwd);
    } catch {
      filename = cwd;
    }
  }
  const err = makeOSError(code, undefined, e instanceof Error ? e : undefined);
  err.message += `: ${repr(filename)}`;
  (err as { filename?: string }).filename = filename;
  return err;
}

// ---------------------------------------------------------------------------------------------------

/** What Node tells about a child, recorded from the start (before the Process exists). */
class ChildState {
  /** @internal */ returncode: number | undefined = undefined;
  /** @internal 'close' was delivered: exited and stdout/stderr done (CPython's _call_connection_lost) */
  finished = false;
  /** @internal */ process: Process | null = null;

  constructor(
    private readonly loop: EventLoop,
    private readonly child: ChildProcess,
  ) {
    child.on('exit', (code, signal) => {
      const rc = code ?? -((osConstants.signals as Record<string, number>)[signal ?? ''] ?? 0);
      // Node has just destroyed the child's stdin (synchronously, before this event, without an error):
      // what it still held for the child is lost. Say so now, before the exit is posted.
      this.process?._pipes.stdin?._hostPeerGone();
      this.post(() => this.exited(rc));
    });
    child.on('close', () => this.post(() => this.closed()));
    // After a successful spawn Node reports kill() failures here; sendSignal uses process.kill instead,
    // so this only keeps a stray 'error' from crashing the process.
    child.on('error', () => {});
    liveChildren(loop).add(this);
  }

  private post(cb: () => void): void {
    if (this.loop.isClosed()) return;
    this.loop.callSoonThreadsafe(cb);
  }

  private exited(returncode: number): void {
    this.returncode = returncode;
    liveChildren(this.loop).delete(this);
    if (this.loop.getDebug())
      logger.info(`${this.process ?? 'process'} exited with return code ${returncode}`);
  }

  private closed(): void {
    this.finished = true;
    this.process?._finished();
  }

  /** The child never started: nothing to watch. */
  forget(): void {
    liveChildren(this.loop).delete(this);
  }

  /** True once Node has reaped the child: its pid may belong to another process now. */
  reaped(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  killNow(): void {
    if (this.reaped() || this.child.pid === undefined) return;
    try {
      process.kill(this.child.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
}

const childrenByLoop = new WeakMap<EventLoop, Set<ChildState>>();

function liveChildren(loop: EventLoop): Set<ChildState> {
  let set = childrenByLoop.get(loop);
  if (set === undefined) childrenByLoop.set(loop, (set = new Set()));
  return set;
}

// A closed loop can no longer watch its children: kill the ones still running, as CPython's subprocess
// transport does when it is closed or collected ("Close running child process: kill …").
export function killLoopChildren(loop: EventLoop): void {
  const set = childrenByLoop.get(loop);
  if (set === undefined) return;
  for (const state of set) {
    if (loop.getDebug()) logger.warning(`Close running child process: kill ${state.process ?? 'process'}`);
    state.killNow();
  }
  childrenByLoop.delete(loop);
}

const WAIT_INFO = { name: 'wait', qualname: 'Process.wait' };
const COMMUNICATE_INFO = { name: 'communicate', qualname: 'Process.communicate' };

/** A child process started by createSubprocessExec / createSubprocessShell (Python's asyncio Process). */
export class Process {
  /** A StreamWriter to the child's stdin, when it is PIPE. */
  readonly stdin: StreamWriter | undefined;
  /** A StreamReader of the child's stdout, when it is PIPE. */
  readonly stdout: StreamReader | undefined;
  /** A StreamReader of the child's stderr, when it is PIPE. */
  readonly stderr: StreamReader | undefined;
  /** @internal */ _loop: EventLoop;
  /** @internal */ _child: ChildProcess;
  /** @internal */ _state: ChildState;
  /** @internal */ _exitWaiters: Future<number>[] = [];
  /** @internal the read pipes' transports, closed by communicate() once read */
  _pipes: { stdout?: StreamTransport; stderr?: StreamTransport; stdin?: StreamTransport } = {};

  /** @internal Use createSubprocessExec or createSubprocessShell. */
  constructor(loop: EventLoop, child: ChildProcess, state: ChildState, limit: number) {
    this._loop = loop;
    this._child = child;
    this._state = state;
    state.process = this;
    if (child.stdout) {
      this.stdout = new StreamReader(limit, loop);
      this._pipes.stdout = connectReader(loop, this.stdout, child.stdout);
    }
    if (child.stderr) {
      this.stderr = new StreamReader(limit, loop);
      this._pipes.stderr = connectReader(loop, this.stderr, child.stderr);
    }
    if (child.stdin) {
      const protocol = new StreamReaderProtocol(null, null, loop);
      const transport = new StreamTransport(loop, child.stdin, protocol, { extra: { pipe: child.stdin } });
      protocol.connectionMade(transport);
      this._pipes.stdin = transport;
      this.stdin = new StreamWriter(transport, protocol, null, loop);
    }
    if (state.finished) this._finished();
  }

  /** The child's process id. */
  get pid(): number {
    return this._child.pid!;
  }

  /** The exit status once the child has exited: negative for a signal (-15: SIGTERM); else undefined. */
  get returncode(): number | undefined {
    return this._state.returncode;
  }

  /**
   * Wait for the child to exit and return its returncode. Begun before the exit, it also waits until
   * stdout and stderr are done. With stdout/stderr PIPE, read them (or use communicate()): a child
   * blocked on a full pipe never exits.
   */
  wait(): Coroutine<number> {
    return new Coroutine(waitGen(this), WAIT_INFO);
  }

  /**
   * Send `input` to stdin (then close it), read stdout and stderr to EOF, wait for the exit, and return
   * `[stdout, stderr]` (undefined where not PIPE). All at once, so neither side can block the other.
   */
  communicate(input?: Uint8Array | string | null): Coroutine<[Buffer | undefined, Buffer | undefined]> {
    if (
      input !== undefined &&
      input !== null &&
      typeof input !== 'string' &&
      !(input instanceof Uint8Array)
    ) {
      throw new TypeError(
        `input must be a bytes-like object (Uint8Array) or str, not ${describeType(input)}`,
      );
    }
    return new Coroutine(communicateGen(this, input ?? null), COMMUNICATE_INFO);
  }

  /**
   * Send the signal `sig` (a name like 'SIGHUP' or a number) to the child. A child that has exited is
   * not signalled; once wait() has returned, ProcessLookupError is raised, as CPython.
   */
  sendSignal(sig: string | number): void {
    const name = signalName(sig, true);
    if (this._state.finished) throw new ProcessLookupError();
    if (this._state.reaped()) return;
    try {
      process.kill(this.pid, name);
    } catch (e) {
      if ((e as { code?: string }).code === 'ESRCH') return;
      throw fromNodeError(e);
    }
  }

  /** Send SIGTERM. */
  terminate(): void {
    this.sendSignal('SIGTERM');
  }

  /** Send SIGKILL. */
  kill(): void {
    this.sendSignal('SIGKILL');
  }

  /** @internal The child could not be started: drop its pipes. */
  _abortPipes(): void {
    this._pipes.stdin?.abort();
    this._pipes.stdout?.abort();
    this._pipes.stderr?.abort();
  }

  /** @internal Node's 'close': the child exited and its output pipes are done. */
  _finished(): void {
    const rc = this._state.returncode!;
    for (const waiter of this._exitWaiters) {
      if (!waiter.done()) waiter.setResult(rc);
    }
    this._exitWaiters = [];
    // The child cannot read stdin any more: CPython's write pipe sees the peer close (_read_ready), and
    // fails with BrokenPipeError if data was still waiting to be written (a pending drain() raises it).
    // The exit handler has already failed a stdin that Node dropped bytes of; close() keeps an error
    // Node reported and has not delivered yet.
    const stdin = this._pipes.stdin;
    if (stdin !== undefined && !stdin.isClosing()) {
      if (stdin.getWriteBufferSize() > 0) stdin._forceClose(new BrokenPipeError());
      else stdin.close();
    }
  }

  toString(): string {
    return `<Process ${this.pid}>`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

function connectReader(loop: EventLoop, reader: StreamReader, pipe: NonNullable<ChildProcess['stdout']>) {
  const protocol = new StreamReaderProtocol(reader, null, loop);
  const transport = new StreamTransport(loop, pipe, protocol, { extra: { pipe } });
  protocol.connectionMade(transport);
  return transport;
}

function* waitGen(p: Process): Generator<Instruction, number, unknown> {
  const rc = p._state.returncode;
  if (rc !== undefined) return rc;
  const loop = p._loop;
  const waiter = loop.createFuture<number>();
  p._exitWaiters.push(waiter);
  // A running child is host work: the virtual clock must not jump while we wait for it.
  loop._hostPending++;
  try {
    return yield* waiter;
  } finally {
    loop._hostPending--;
    const i = p._exitWaiters.indexOf(waiter);
    if (i !== -1) p._exitWaiters.splice(i, 1);
  }
}

function* feedStdin(p: Process, input: Uint8Array | string | null): Generator<Instruction, void, unknown> {
  const stdin = p.stdin!;
  const debug = p._loop.getDebug();
  try {
    if (input !== null) {
      stdin.write(input);
      if (debug) logger.debug(`${p} communicate: feed stdin (${input.length} bytes)`);
    }
    yield* stdin.drain();
  } catch (e) {
    // communicate() ignores BrokenPipeError and ConnectionResetError: the child did not want it all.
    if (!(e instanceof BrokenPipeError || e instanceof ConnectionResetError)) throw e;
    if (debug) logger.debug(`${p} communicate: stdin got ${repr(e)}`);
  }
  if (debug) logger.debug(`${p} communicate: close stdin`);
  stdin.close();
}

function* readStream(p: Process, which: 'stdout' | 'stderr'): Generator<Instruction, Buffer, unknown> {
  const debug = p._loop.getDebug();
  if (debug) logger.debug(`${p} communicate: read ${which}`);
  const output = yield* p[which]!.read();
  if (debug) logger.debug(`${p} communicate: close ${which}`);
  p._pipes[which]!.close();
  return output;
}

function* noop(): Generator<Instruction, undefined, unknown> {
  return undefined;
}

function* communicateGen(
  p: Process,
  input: Uint8Array | string | null,
): Generator<Instruction, [Buffer | undefined, Buffer | undefined], unknown> {
  const stdin = p.stdin !== undefined ? feedStdin(p, input) : noop();
  const stdout = p.stdout !== undefined ? readStream(p, 'stdout') : noop();
  const stderr = p.stderr !== undefined ? readStream(p, 'stderr') : noop();
  const [, out, err] = (yield* gather(
    new Coroutine(stdin, { name: '_feed_stdin' }),
    new Coroutine(stdout, { name: '_read_stream' }),
    new Coroutine(stderr, { name: '_read_stream' }),
  )) as [unknown, Buffer | undefined, Buffer | undefined];
  yield* p.wait();
  return [out, err];
}
