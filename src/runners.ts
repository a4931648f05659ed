/**
 * run, runSync and Runner: the loop's life cycle and the shutdown sequence (CPython's runners.py).
 *
 * run(main) = a Runner: new loop → main task → run until done → cancel what is left and wait for it →
 * shut down async generators → shut down the default executor → close the loop.
 */

import { checkOptions } from './_internal/args.js';
import {
  checkClock,
  EventLoop,
  type EventLoopOptions,
  runUntilCompleteSync,
  shutdownAsyncgensCoro,
  shutdownDefaultExecutorCoro,
} from './base_events.js';
import { THREAD_JOIN_TIMEOUT } from './constants.js';
import { type Context, copyContext } from './contextvars.js';
import { type Awaitable, Coroutine, type Instruction, isCoroutine } from './coroutines.js';
import { _getActiveLoop, _getCurrentLoop, setEventLoop } from './events.js';
import { CancelledError, chainContext, KeyboardInterrupt, RuntimeError } from './exceptions.js';
import { pyTypeName } from './format_helpers.js';
import { isFuture } from './futures.js';
import { hostPlatform } from './host.js';
import { allTasks, gather, isAwaitableObject, notAnAwaitable, type Task } from './tasks.js';
import type { ChromeTrace } from './trace.js';

/**
 * What `trace` in RunOptions accepts besides a path or a function: a value that starts the recording itself
 * (`traceTo(fn)` from trace.ts), so a program that traces carries the tracer and one that does not, does not.
 */
export interface TraceRecorder {
  /** @internal Start recording `loop` (called once, when the runner makes its loop). */
  _startTrace(loop: EventLoop): void;
}

/**
 * How a path or a function given as `trace` starts the tracer: installed by `tsyncio/debug` (src/debug.ts,
 * which the Node entry imports), null in a portable program that did not import it.
 */
let traceStarter: ((loop: EventLoop, onClose: (trace: ChromeTrace) => void) => void) | null = null;

/** @internal Installed by src/debug.ts. */
export function installTraceStarter(start: typeof traceStarter): void {
  traceStarter = start;
}

function isTraceRecorder(x: unknown): x is TraceRecorder {
  return typeof x === 'object' && x !== null && typeof (x as TraceRecorder)._startTrace === 'function';
}

export interface RunOptions {
  /** Debug mode (slow callbacks, creation stacks); default: TSYNCIO_DEBUG in the environment. */
  debug?: boolean | null;
  /**
   * Make the loop (default: a new EventLoop with `clock`): a function, or a class, which is called with
   * `new` (`loopFactory: EventLoop`, as Python's `loop_factory=asyncio.EventLoop`).
   */
  loopFactory?: (() => EventLoop) | (new () => EventLoop) | null;
  /** 'virtual': simulated time that jumps to the next timer when every task waits on timers. */
  clock?: EventLoopOptions['clock'];
  /**
   * Record a trace of the run (see startTracing): `traceTo(fn)` (fn receives the trace when the loop
   * closes), or — with the Node entry or `import 'tsyncio/debug'` — a file path (Node: written as Chrome
   * trace-event JSON when the loop closes) or the function itself.
   */
  trace?: string | ((trace: ChromeTrace) => void) | TraceRecorder | null;
}

type State = 'created' | 'initialized' | 'closed';

/**
 * Runs coroutines on one event loop it owns, keeping one context across run() calls (Python's
 * `asyncio.Runner`). Dispose it with `await using runner = new Runner()` or `await runner.close()`.
 */
export class Runner {
  /** @internal */
  _state: State = 'created';
  private _debug: boolean | null;
  private _loopFactory: RunOptions['loopFactory'];
  private _clock: EventLoopOptions['clock'];
  /** @internal */
  _loop: EventLoop | null = null;
  /** @internal */
  _context: Context | null = null;
  private _interruptCount = 0;
  /** @internal */
  _setEventLoop = false;
  private _trace: RunOptions['trace'];

  constructor(options?: RunOptions) {
    checkOptions('Runner', options);
    checkClock(options?.clock);
    const loopFactory = options?.loopFactory;
    if (loopFactory !== undefined && loopFactory !== null && typeof loopFactory !== 'function') {
      throw new TypeError(`loopFactory must be a callable or None, not '${pyTypeName(loopFactory)}'`);
    }
    const trace = options?.trace ?? null;
    if (
      trace !== null &&
      typeof trace !== 'string' &&
      typeof trace !== 'function' &&
      !isTraceRecorder(trace)
    ) {
      throw new TypeError(`trace must be a file path or a function, got ${String(trace)}`);
    }
    if (typeof trace === 'string' && hostPlatform() === null) {
      throw new RuntimeError(
        "writing a trace file needs the Node entry: import from 'tsyncio/node' (or pass traceTo(fn))",
      );
    }
    if (trace !== null && !isTraceRecorder(trace) && traceStarter === null) {
      throw new RuntimeError(
        "the trace option's path and function forms need the tracer: pass trace: traceTo(fn) (import { traceTo } " +
          "from 'tsyncio'), or import 'tsyncio/debug' once",
      );
    }
    this._trace = trace;
    this._debug = options?.debug ?? null;
    this._loopFactory = options?.loopFactory ?? null;
    this._clock = options?.clock;
  }

  /**
   * Run `coro` (a coroutine or any awaitable) in the runner's loop and resolve to its result.
   * Misuse (called from a running loop, not awaitable, runner closed) throws synchronously.
   */
  run<T>(coro: Awaitable<T>, options?: { context?: Context | null }): Promise<T> {
    if (_getActiveLoop() !== null) {
      throw new RuntimeError('Runner.run() cannot be called from a running event loop');
    }
    hostPlatform()?.checkLoopStart('Runner.run()');
    checkOptions('Runner.run', options);
    this._lazyInit();
    const main = toCoroutine(coro);
    const context = options?.context ?? this._context!;
    const loop = this._loop!;
    const task = loop.createTask(main, { context }) as Task<T>;
    this._interruptCount = 0;
    const uninstall = hostPlatform()?.installSigint(() => this._onSigint(task)) ?? (() => {});
    let result: Promise<T>;
    try {
      loop._nextRunEntry = 'run()';
      result = loop.runUntilComplete(task);
    } catch (e) {
      uninstall();
      throw e;
    }
    return result.then(
      (v) => {
        uninstall();
        return v;
      },
      (e) => {
        uninstall();
        if (e instanceof CancelledError && this._interruptCount > 0) {
          // gh-95097: a custom task factory's task may have no uncancel() (CPython's getattr(…, None)).
          const uncancel = (task as { uncancel?: unknown }).uncancel;
          if (typeof uncancel === 'function' && uncancel.call(task) === 0) throw new KeyboardInterrupt();
        }
        throw e;
      },
    );
  }

  private _onSigint(task: Task<unknown>): void {
    this._interruptCount += 1;
    if (this._interruptCount === 1 && !task.done()) {
      task.cancel();
      // Wake the loop if it is waiting for a long timer.
      this._loop?.callSoonThreadsafe(() => {});
      return;
    }
    // A second Ctrl-C (or one after the task is done): Python's handler raises KeyboardInterrupt right
    // where the loop is. Ours runs between loop iterations, so a callback raises it inside the loop: it
    // propagates out of runUntilComplete without waiting for the main task to finish cleaning up.
    const loop = this._loop;
    if (loop !== null && !loop.isClosed()) loop.callSoonThreadsafe(raiseKeyboardInterrupt);
  }

  /** @internal */
  _lazyInit(): void {
    if (this._state === 'closed') throw new RuntimeError('Runner is closed');
    if (this._state === 'initialized') return;
    if (this._loopFactory === null) {
      this._loop = new EventLoop({ clock: this._clock });
      if (!this._setEventLoop) {
        setEventLoop(this._loop);
        this._setEventLoop = true;
      }
    } else {
      const factory = this._loopFactory;
      this._loop = isClass(factory) ? new (factory as new () => EventLoop)() : (factory as () => EventLoop)();
    }
    if (this._debug !== null) this._loop.setDebug(this._debug);
    const trace = this._trace;
    if (trace !== null && trace !== undefined) {
      if (isTraceRecorder(trace)) trace._startTrace(this._loop);
      else
        traceStarter!(
          this._loop,
          typeof trace === 'function'
            ? trace
            : (t: ChromeTrace) => hostPlatform()!.writeTraceFile(trace, JSON.stringify(t)),
        );
    }
    this._context = copyContext();
    this._state = 'initialized';
  }

  /** The runner's loop (created on first use). */
  getLoop(): EventLoop {
    this._lazyInit();
    return this._loop!;
  }

  /**
   * Shut down and close the loop: cancel the remaining tasks and wait for them, shut down async
   * generators and the default executor, close the loop.
   */
  async close(): Promise<void> {
    if (this._state !== 'initialized') return;
    const loop = this._loop!;
    try {
      await cancelAllTasks(loop);
      await loop.shutdownAsyncgens();
      await loop.shutdownDefaultExecutor(THREAD_JOIN_TIMEOUT);
    } finally {
      if (this._setEventLoop && _getCurrentLoop() === loop) setEventLoop(null);
      loop.close();
      this._loop = null;
      this._state = 'closed';
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** A class (which only `new` can call), told from a function by its source text. */
function isClass(f: unknown): boolean {
  return typeof f === 'function' && /^class\b/.test(Function.prototype.toString.call(f));
}

function raiseKeyboardInterrupt(): never {
  throw new KeyboardInterrupt();
}
function toCoroutine<T>(coro: Awaitable<T>): Coroutine<T> | Generator<Instruction, T, unknown> {
  if (isCoroutine(coro)) return coro as Coroutine<T>;
  if (isFuture(coro) || isAwaitableObject(coro)) {
    return new Coroutine(
      (function* _wrap_awaitable() {
        return yield* coro as unknown as Generator<Instruction, T, unknown>;
      })(),
      { name: '_wrap_awaitable' },
    );
  }
  throw notAnAwaitable(coro);
}

async function cancelAllTasks(loop: EventLoop): Promise<void> {
  // The run ended in a deadlock: its tasks were cancelled and waited for then — that was the shutdown's
  // cancellation (tasks spawned meanwhile are left, as CPython's shutdown leaves those it did not see;
  // tasks whose cleanup deadlocked can never finish, and waiting for them again would deadlock again).
  if (loop._deadlock !== null) return;
  const toCancel = [...allTasks(loop)];
  if (toCancel.length === 0) return;
  for (const t of toCancel) t.cancel();
  loop._nextRunEntry = 'run()';
  loop._shutdownRun = true;
  try {
    await loop.runUntilComplete(gather(...toCancel, { returnExceptions: true }));
  } finally {
    loop._shutdownRun = false;
  }
  reportShutdownErrors(loop, toCancel);
}

function reportShutdownErrors(loop: EventLoop, tasks: Task<unknown>[]): void {
  for (const task of tasks) {
    if (task.cancelled()) continue;
    const exc = task.exception();
    if (exc !== undefined) {
      loop.callExceptionHandler({
        message: 'unhandled exception during asyncio.run() shutdown',
        exception: exc,
        task,
      });
    }
  }
}

/**
 * Run `main` (a coroutine) on a new event loop and resolve to its result: Python's `asyncio.run()`.
 * Leftover tasks are cancelled and awaited, async generators and the default executor are shut down,
 * and the loop is closed. SIGINT (Ctrl-C) cancels the main task and surfaces as KeyboardInterrupt.
 */
export function run<T>(main: Awaitable<T>, options?: RunOptions): Promise<T> {
  if (_getActiveLoop() !== null) {
    throw new RuntimeError('run() cannot be called from a running event loop');
  }
  hostPlatform()?.checkLoopStart('run()');
  checkOptions('run', options);
  const coro = toCoroutine(main);
  const runner = new Runner(options);
  let result: Promise<T>;
  try {
    result = runner.run(coro);
  } catch (e) {
    return runner.close().then(() => {
      throw e;
    });
  }
  return result.then(
    async (v) => {
      await runner.close();
      return v;
    },
    async (e) => {
      try {
        await runner.close();
      } catch (closeError) {
        // The shutdown failed too (a DeadlockError): Python's implicit context keeps the run's error.
        chainContext(closeError, e);
        throw closeError;
      }
      throw e;
    },
  );
}

/** The synchronous twin of Runner.run() for runSync (a function: only runSync() programs bundle it). */
function runnerRunSync<T>(runner: Runner, coro: Awaitable<T>): T {
  if (_getActiveLoop() !== null) {
    throw new RuntimeError('Runner.run() cannot be called from a running event loop');
  }
  runner._lazyInit();
  const main = toCoroutine(coro);
  const loop = runner._loop!;
  const task = loop.createTask(main, { context: runner._context }) as Task<T>;
  return runUntilCompleteSync(loop, task);
}

/** Runner.close() for runSync, synchronously (no executor can have been used). */
function runnerCloseSync(runner: Runner): void {
  if (runner._state !== 'initialized') return;
  const loop = runner._loop!;
  try {
    // See cancelAllTasks: after a deadlock, its cancellation was the shutdown's.
    const toCancel = loop._deadlock !== null ? [] : [...allTasks(loop)];
    if (toCancel.length > 0) {
      for (const t of toCancel) t.cancel();
      loop._shutdownRun = true;
      try {
        runUntilCompleteSync(loop, gather(...toCancel, { returnExceptions: true }));
      } finally {
        loop._shutdownRun = false;
      }
      reportShutdownErrors(loop, toCancel);
    }
    // As CPython's Runner.close(): each shutdown step is a run_until_complete of its own, even when it has
    // nothing to do. Their loop iterations also run what the cancelled tasks scheduled meanwhile (a task
    // spawned by a `finally` during shutdown runs there, in CPython as here).
    runUntilCompleteSync(loop, loop.createTask(shutdownAsyncgensCoro(loop)));
    // A default executor exists under runSync only if a job was refused; it cannot be waited for
    // synchronously, so close() shuts it down without waiting.
    if (loop._defaultExecutor === null) {
      runUntilCompleteSync(loop, loop.createTask(shutdownDefaultExecutorCoro(loop, THREAD_JOIN_TIMEOUT)));
    }
  } finally {
    if (runner._setEventLoop && _getCurrentLoop() === loop) setEventLoop(null);
    loop.close();
    runner._loop = null;
    runner._state = 'closed';
  }
}

/**
 * Run `main` to completion synchronously, for programs that touch no host I/O: timers are waited for by
 * blocking the thread. Awaiting a host promise inside raises RuntimeError (use run()).
 */
export function runSync<T>(main: Awaitable<T>, options?: RunOptions): T {
  if (_getActiveLoop() !== null) {
    throw new RuntimeError('runSync() cannot be called from a running event loop');
  }
  hostPlatform()?.checkLoopStart('runSync()');
  checkOptions('runSync', options);
  const coro = toCoroutine(main);
  const runner = new Runner(options);
  let result: T;
  try {
    result = runnerRunSync(runner, coro);
  } catch (e) {
    try {
      runnerCloseSync(runner);
    } catch (closeError) {
      chainContext(closeError, e);
      throw closeError;
    }
    throw e;
  }
  runnerCloseSync(runner);
  return result;
}
