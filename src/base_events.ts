/**
 * EventLoop: the ready queue, the timer heap, runOnce(), run/stop/close, the exception handler, debug
 * mode, the task factory and the executor hooks (CPython's base_events.py, minus all networking — host
 * I/O lives in src/node/ and enters through callSoonThreadsafe).
 *
 * THE ITERATION (docs/ARCHITECTURE.md §3 lists the same phases; keep them in step):
 *   1. prune cancelled timers (rebuild the heap past the thresholds in constants.ts, else pop the head);
 *   2. move every timer whose deadline has passed (when <= time()) to the ready queue, in (when, seq) order;
 *   3. run exactly the handles that were ready when the pass began — anything scheduled by them waits for
 *      the next pass, so a callback that reschedules itself cannot starve the others (or the host).
 * Between passes the driver (`_drive`) decides: run another pass at once; give the host a turn (the
 * budget is spent); sleep until the next timer (real clock) or jump to it (virtual clock); or go idle
 * until host work calls callSoonThreadsafe.
 *
 * Only runOnce() calls callbacks. Everything else appends to the ready queue or the heap.
 */

import { checkOptions } from './_internal/args.js';
import { TimerHeap } from './_internal/heap.js';
import { type ReadyCallback, ReadyQueue } from './_internal/ready.js';
import { TaskList } from './_internal/tasklist.js';
import {
  DEBUG_STACK_DEPTH,
  DEFAULT_SLOW_CALLBACK_DURATION,
  HOST_BUDGET_MS,
  MAXIMUM_SELECT_TIMEOUT,
  MIN_CANCELLED_TIMER_HANDLES_FRACTION,
  MIN_SCHEDULED_TIMER_HANDLES,
} from './constants.js';
import { Context, currentContext, exitCurrentContext } from './contextvars.js';
import {
  coroutineDebug,
  type Instruction,
  isCoroutine,
  isCoroutineFunction,
  sweepNursery,
} from './coroutines.js';
import { onDeadlock } from './deadlock.js';
import {
  _getActiveLoop,
  _registerLoopClass,
  _setActiveLoop,
  _setRunningLoop,
  checkNotAsync,
  H_CANCELLED,
  H_SCHEDULED,
  H_SLEEP,
  Handle,
  isPromiseResult,
  ONE_ARG,
  type TimerEntry,
  TimerHandle,
} from './events.js';
import {
  CancelledError,
  type DeadlockError,
  KeyboardInterrupt,
  NotImplementedError,
  RuntimeError,
  SystemExit,
  ValueError,
} from './exceptions.js';
import { className, pyTypeName, repr, stacksInstalled } from './format_helpers.js';
import { F_LOG_TRACEBACK, Future, isFuture } from './futures.js';
import { defaultHost, type Host, hostPlatform } from './host.js';
import { logger } from './log.js';
import type { Task, TaskOptions } from './tasks.js';
import { ensureFuture, fireSleep, gather, handleTask, Task as TaskClass } from './tasks.js';
import type { WorkerFunction } from './threads.js';
import type { Instrument } from './trace.js';

/** What `callExceptionHandler` receives (Python's context dict; keys keep Python's names). */
export interface ExceptionContext {
  message: string;
  exception?: unknown;
  future?: Future<any>;
  task?: Task<any>;
  handle?: Handle;
  source_traceback?: string[];
  [key: string]: unknown;
}

export type ExceptionHandler = (loop: EventLoop, context: ExceptionContext) => void;

export type TaskFactory = (loop: EventLoop, coro: any, options?: TaskOptions) => Task<any>;

/**
 * What runInExecutor runs work on (Python's concurrent.futures.Executor). `submit` returns a thenable;
 * when it also has `cancel()` (Python's concurrent Future.cancel), cancelling the awaiting Future calls
 * it. On Node the default executor is a worker-thread pool (`ThreadPoolExecutor` in `tsyncio/node`). An
 * executor of your own that runs plain functions (on the same thread, say) declares it as
 * `Executor<(...args: any[]) => unknown>`, and `runInExecutor(yours, closure)` type-checks.
 */
export interface Executor<F = unknown> {
  /** Start `fn(...args)`; `F` is what the executor can run (a WorkerFunction for the thread pool). */
  submit(fn: F, ...args: any[]): PromiseLike<unknown> & { cancel?(): boolean };
  shutdown(wait?: boolean): void | PromiseLike<void>;
}

export interface EventLoopOptions {
  /** 'monotonic' (default): real time. 'virtual': time jumps to the next timer when nothing else can run. */
  clock?: 'monotonic' | 'virtual';
  debug?: boolean;
  /** Where the loop gets time and wake-ups; the default works on Node, Bun, Deno and browsers. */
  host?: Host;
}

// A TimerHandle of the loop's own single-argument fast path, in the heap (Handle._hflags: ONE_ARG | scheduled).
const ONE_ARG_SCHEDULED = ONE_ARG | H_SCHEDULED;

/**
 * The virtual clock never jumps to a deadline at or beyond 2^42 s (about 139,000 years): past it, adding
 * a millisecond no longer changes the clock, so every later sleep would return at once. `sleep(Infinity)`,
 * `sleep(1e308)` and the like wait forever instead, as they do on the real clock.
 */
/** @internal */
export const VIRTUAL_HORIZON = 2 ** 42;

const STOPPED = -1;

const proc = (globalThis as { process?: any }).process;

/** @internal The `clock` option: 'monotonic', 'virtual' or undefined — a typo must not fall back to real time. */
export function checkClock(clock: unknown): void {
  if (clock === undefined || clock === null || clock === 'monotonic' || clock === 'virtual') return;
  if (typeof clock !== 'string') {
    throw new TypeError(`clock must be 'monotonic' or 'virtual', not '${pyTypeName(clock)}'`);
  }
  throw new ValueError(`clock must be 'monotonic' or 'virtual', not ${repr(clock)}`);
}

/** Loops between runForever() and its end (several independent runs may interleave on the host). */
const liveRuns: EventLoop[] = [];

/** What host callbacks see between batches: the running loop if only one runs. */
function idleRunningLoop(): EventLoop | null {
  return liveRuns.length === 1 ? liveRuns[0]! : null;
}

/** Debug mode from the environment, like PYTHONASYNCIODEBUG. */
export function envDebug(): boolean {
  let v: string | undefined;
  try {
    v = proc?.env?.TSYNCIO_DEBUG;
  } catch {
    // Deno without --allow-env throws on reading the environment: no debug mode then.
    return false;
  }
  return v !== undefined && v !== '' && v !== '0';
}

export class EventLoop {
  /** @internal */ _ready = new ReadyQueue();
  /** @internal TimerHandles and sleep futures (TimerEntry), ordered by (deadline, scheduling order) */
  /** @internal */ _scheduled = new TimerHeap<TimerEntry>();
  /** @internal */ _timerCancelledCount = 0;
  /** @internal */ _stopping = false;
  /** @internal */ _closed = false;
  /** @internal */ _running = false;
  /** @internal */ _debug = false;
  /** Debug mode reports callbacks and task steps slower than this many seconds. */
  slowCallbackDuration = DEFAULT_SLOW_CALLBACK_DURATION;
  /** @internal */ _exceptionHandler: ExceptionHandler | null = null;
  /** @internal */ _taskFactory: TaskFactory | null = null;
  /** @internal `{ loop: this }`, shared by every createTask() without options (no object per task) */
  _taskOptions: { loop: EventLoop } | null = null;
  /** @internal the task whose step is running (Python's `_current_tasks[loop]`) */
  _currentTask: Task<any> | null = null;
  /** @internal pending tasks of this loop, for allTasks() */
  _tasks = new TaskList<Task<any>>();
  /** @internal */ _virtual: boolean;
  /** @internal */ _virtualNow = 0;
  /**
   * @internal Host operations in flight (fromPromise, executors, streams). While > 0 the virtual clock
   * does not jump: the host may still deliver something before the next timer.
   */
  _hostPending = 0;
  /**
   * @internal Host operations known to be stuck: the process had nothing left to do while they were
   * pending (see deadlock.ts's hostIdle). The virtual clock may jump while `_hostPending <= _hostStuck`.
   */
  _hostStuck = 0;
  /**
   * @internal Host sources that can schedule work on this loop at any time (signal handlers, listening
   * servers). While > 0 the virtual clock gives the host a turn before each jump, so what the program
   * just caused (a signal it sent itself, a connection it opened) arrives at the current virtual time.
   */
  _hostSources = 0;
  /** @internal a virtual jump waits for the host turn _drive asked for */
  _jumpAfterHostTurn = false;
  /** @internal */ _host: Host;
  /** @internal */ _inPump = false;
  /** @internal pump count, to tell whether the loop ran between two idle checks (deadlock.ts's hostIdle) */
  _pumps = 0;
  /** @internal `_pumps` at the first idle check that found nothing to do; -1 when none */
  _idleMark = -1;
  /** @internal the deadlock found during this run (its tasks are being cancelled), or null */
  _deadlock: DeadlockError | null = null;
  /** @internal set by the Runner while its shutdown waits for the tasks it cancelled (no second cancel) */
  _shutdownRun = false;
  /** @internal the future runUntilComplete waits for (cancelled on a deadlock); 'run()' etc. for reports */
  _runFuture: Future<any> | null = null;
  /**
   * @internal Pending futures of this loop whose native promise exists (`await fut`, a Promise that
   * adopted the future), with that promise's reject: close() rejects them, since they can never settle.
   */
  _adopted: Map<Future<any>, (e: unknown) => void> | null = null;
  /** @internal how this run was started, for the deadlock report */
  _runEntry = 'runForever()';
  /** @internal set by the Runner just before runUntilComplete: the entry point the user called */
  _nextRunEntry: string | null = null;
  /** @internal cancels the pending immediate (null: none pending) */
  _cancelWake: (() => void) | null = null;
  /**
   * @internal The host timer for the next deadline, kept across wake-ups while its deadline still fits
   * (host I/O arriving while a timer is pending no longer clears and re-arms it), and when (host.now()) it fires.
   */
  _cancelTimer: (() => void) | null = null;
  /** @internal */ _timerAt = Infinity;
  /** @internal */ _runResolve: (() => void) | null = null;
  /** @internal */ _runReject: ((e: unknown) => void) | null = null;
  /** @internal true while runSync drives the loop: host promises cannot settle */
  _syncMode = false;
  /** @internal async generators first iterated on this loop (for shutdownAsyncgens) */
  _asyncgens = new Set<{ aclose(): any }>();
  /** @internal */ _asyncgensShutdownCalled = false;
  /** @internal */ _defaultExecutor: Executor | null = null;
  /** @internal */ _executorShutdownCalled = false;
  /** @internal handle currently running (debug reports) */
  _currentHandle: Handle | null = null;
  /** @internal the installed Instrument (trace.ts), or null: when tracing is off it costs one field test */
  _tracer: Instrument | null = null;
  // Failed futures whose exception nobody retrieved yet: reported when collected, or at close().
  private _unretrieved = new Map<number, WeakRef<Future<any>>>();
  private _unretrievedIds = new WeakMap<Future<any>, number>();
  private _nextUnretrievedId = 1;
  private _registry:
    | FinalizationRegistry<{
        id: number;
        message: string;
        exception: unknown;
        sourceTraceback?: string[];
        context: Context | null;
      }>
    | undefined;
  private readonly _pumpBound: () => void;
  private readonly _pumpTimerBound: () => void;

  constructor(options?: EventLoopOptions) {
    checkOptions('EventLoop', options);
    checkClock(options?.clock);
    const host = options?.host;
    if (
      host !== undefined &&
      (host === null ||
        typeof host !== 'object' ||
        typeof host.now !== 'function' ||
        typeof host.timer !== 'function' ||
        typeof host.immediate !== 'function')
    ) {
      throw new TypeError(
        `host must be a Host (an object with now, immediate, timer and block), got ${repr(host)}`,
      );
    }
    this._virtual = options?.clock === 'virtual';
    this._host = options?.host ?? defaultHost;
    this._pumpBound = () => {
      this._cancelWake = null;
      this._pump();
    };
    this._pumpTimerBound = () => {
      this._cancelTimer = null;
      this._timerAt = Infinity;
      this._pump();
    };
    const debug = options?.debug ?? envDebug();
    if (debug) this.setDebug(true);
  }

  // -- time --------------------------------------------------------------------------------------

  /** The loop's clock in seconds (monotonic; under the virtual clock, simulated time starting at 0). */
  time(): number {
    return this._virtual ? this._virtualNow : this._host.now() / 1000;
  }

  /** True when this loop runs on the virtual clock. */
  isVirtualTime(): boolean {
    return this._virtual;
  }

  // -- scheduling ----------------------------------------------------------------------------------

  /**
   * Run `callback(...args)` on the next iteration, in a copy of the current context. FIFO. Called from a
   * host callback (a timer, an event listener), it wakes the loop. An `async function` is refused with
   * TypeError (as CPython refuses coroutine functions); a plain function that returns a promise has the
   * promise's rejection reported to the exception handler.
   */
  callSoon<A extends unknown[]>(callback: (...args: A) => unknown, ...args: A): Handle {
    this._checkClosed();
    checkCallback(callback, 'callSoon');
    if (this._debug) this._checkThread();
    const h = new Handle(callback, args, this, currentContext().copy());
    this._ready.pushHandle(h);
    if (!this._inPump) this._wakeup();
    return h;
  }

  /** @internal callSoon with one argument and a given context, no checks; returns a cancellable Handle. */
  _callSoonOne(callback: (arg: any) => unknown, arg: unknown, context: Context): Handle {
    const h = Handle._one(callback, arg, this, context);
    this._ready.pushHandle(h);
    if (!this._inPump) this._wakeup();
    return h;
  }

  /**
   * @internal Schedule `callback(arg)` in `context` when nobody needs the Handle (a task's step or
   * wakeup, a future's done-callbacks): no allocation at all (see ReadyQueue). Debug mode and tracing
   * still get a Handle, which their reports are made of. Scheduled from outside the loop's callbacks (a
   * host callback resolving a future), it wakes the loop: one field test on the hot path. [HOT]
   */
  _callSoonFast(callback: (arg: any) => unknown, arg: unknown, context: Context): void {
    if (this._debug || this._tracer !== null)
      this._ready.pushHandle(Handle._one(callback, arg, this, context));
    else this._ready.push(callback, arg, context);
    if (!this._inPump) this._wakeup();
  }

  /** @internal callSoon with arguments and a given context (CPython's `call_soon(..., context=ctx)`). */
  _callSoonWithContext(callback: (...args: any[]) => unknown, args: unknown[], context: Context): Handle {
    this._checkClosed();
    const h = new Handle(callback, args, this, context);
    this._ready.pushHandle(h);
    if (!this._inPump) this._wakeup();
    return h;
  }

  /**
   * Like callSoon, for code running outside the loop's own callbacks (host events: promise settlements,
   * sockets, workers): also wakes the loop if it is waiting on the host.
   */
  callSoonThreadsafe<A extends unknown[]>(callback: (...args: A) => unknown, ...args: A): Handle {
    this._checkClosed();
    checkCallback(callback, 'callSoonThreadsafe');
    const h = new Handle(callback, args, this, currentContext().copy());
    this._ready.pushHandle(h);
    this._wakeup();
    return h;
  }

  /** Run `callback(...args)` after `delay` seconds. Equal deadlines run in scheduling order. */
  callLater<A extends unknown[]>(delay: number, callback: (...args: A) => unknown, ...args: A): TimerHandle {
    if (typeof delay !== 'number') throw new TypeError(`delay must be a number, got ${repr(delay)}`);
    return this.callAt(this.time() + delay, callback, ...args);
  }

  /** Run `callback(...args)` at `when` on the loop's clock (`loop.time()`). */
  callAt<A extends unknown[]>(when: number, callback: (...args: A) => unknown, ...args: A): TimerHandle {
    if (typeof when !== 'number') throw new TypeError(`when must be a number, got ${repr(when)}`);
    if (Number.isNaN(when)) throw new ValueError('Invalid time: NaN');
    this._checkClosed();
    checkCallback(callback, 'callAt');
    if (this._debug) this._checkThread();
    const h = new TimerHandle(when, callback, args, this, currentContext().copy());
    h._hflags |= H_SCHEDULED;
    this._scheduled.push(h, when);
    if (!this._inPump) this._wakeup();
    return h;
  }

  /** @internal callLater for the library's own timers (sleep, timeouts): given context, no checks. [HOT] */
  _callLaterOne(delay: number, callback: (arg: any) => unknown, arg: unknown, context: Context): TimerHandle {
    return this._callAtOne(this.time() + delay, callback, arg, context);
  }

  /** @internal */
  _callAtOne(when: number, callback: (arg: any) => unknown, arg: unknown, context: Context): TimerHandle {
    const h = new TimerHandle(when, callback, null, this, context);
    h._args = arg;
    h._hflags = ONE_ARG_SCHEDULED;
    this._scheduled.push(h, when);
    if (!this._inPump) this._wakeup();
    return h;
  }

  /**
   * @internal Schedule a sleep's future as its own timer entry (see TimerEntry) [HOT: every timed sleep].
   * The caller has set H_SLEEP | H_SCHEDULED in its `_hflags`; at `when` the loop runs `fireSleep(entry)`.
   */
  _scheduleSleep(entry: TimerEntry, when: number): void {
    this._scheduled.push(entry, when);
    if (!this._inPump) this._wakeup();
  }

  /** @internal Called as a timer entry is cancelled: counts dead heap entries for the compaction rule. */
  _timerHandleCancelled(entry: TimerEntry): void {
    if ((entry._hflags & H_SCHEDULED) !== 0) this._timerCancelledCount++;
  }

  // -- the iteration ---------------------------------------------------------------------------------

  /**
   * @internal One pass of the loop (phases 1–3 in the header). This is the only place where callbacks
   * are actually called. [HOT]
   */
  _runOnce(): void {
    const sched = this._scheduled;
    if (sched.items.length > 0) {
      // Phase 1: prune cancelled timers.
      if (
        sched.length > MIN_SCHEDULED_TIMER_HANDLES &&
        this._timerCancelledCount / sched.length > MIN_CANCELLED_TIMER_HANDLES_FRACTION
      ) {
        sched.filter((h) => {
          if ((h._hflags & H_CANCELLED) !== 0) {
            h._hflags &= ~H_SCHEDULED;
            return false;
          }
          return true;
        });
        this._timerCancelledCount = 0;
      } else {
        this._popCancelledTimers();
      }
      // Phase 2: due timers, in (when, seq) order. `<=`: a timer never runs before its deadline.
      if (sched.items.length > 0) {
        const now = this.time();
        const ready = this._ready;
        while (sched.items.length > 0 && sched.peekWhen() <= now) {
          const top = sched.pop()!;
          const flags = top._hflags & ~H_SCHEDULED;
          top._hflags = flags;
          // A sleep's future is fired by a plain ready entry: a Handle is made for it only if debug mode or
          // a tracer needs one (phase 3), exactly as for the loop's other plain entries.
          if ((flags & H_SLEEP) !== 0) ready.push(fireSleep, top, SLEEP_TIMER_CONTEXT);
          else ready.pushHandle(top as TimerHandle);
        }
      }
    }
    // Phase 3: run the snapshot. Handles added now run on the next pass (the starvation argument).
    const ready = this._ready;
    let ntodo = ready.length;
    if (this._debug || this._tracer !== null) {
      // Installed by whatever switched these on (debug mode needs tsyncio/debug; startTracing installs it).
      instrumentedPass!(this, ntodo);
      return;
    }
    while (ntodo-- > 0) {
      const h = ready.take();
      const b = ready._headBlock;
      const fn = b[h] as ReadyCallback | null;
      const arg = b[h + 1];
      const ctx = b[h + 2] as Context;
      b[h] = b[h + 1] = b[h + 2] = undefined;
      if (fn === null) {
        if (((arg as Handle)._hflags & H_CANCELLED) === 0) (arg as Handle)._run();
      } else {
        runCallback(this, fn, arg, ctx);
      }
    }
  }

  /** @internal Pop cancelled timers off the head of the heap; returns the first live one. */
  _popCancelledTimers(): TimerEntry | undefined {
    const sched = this._scheduled;
    let top = sched.peek();
    while (top !== undefined && (top._hflags & H_CANCELLED) !== 0) {
      this._timerCancelledCount--;
      sched.pop();
      top._hflags &= ~H_SCHEDULED;
      top = sched.peek();
    }
    return top;
  }

  /**
   * @internal Run passes until the loop must wait. Returns STOPPED, 0 (give the host a turn), the seconds
   * until the next timer, or Infinity (nothing scheduled: wait for host work).
   */
  _drive(): number {
    const host = this._host;
    const start = host.now();
    let n = 0;
    for (;;) {
      this._runOnce();
      if (this._stopping) return STOPPED;
      // The host budget: check the clock every 16 passes, not every pass (it is the costly part).
      if ((++n & 15) === 0 && host.now() - start >= HOST_BUDGET_MS) return 0;
      if (this._ready.length > 0) continue;
      if (this._popCancelledTimers() === undefined) return Infinity;
      const when = this._scheduled.peekWhen();
      const wait = when - this.time();
      if (wait <= 0) continue;
      if (this._virtual) {
        // A deadline the clock can never reach is a wait forever, never a jump: see VIRTUAL_HORIZON.
        if (!(when < VIRTUAL_HORIZON)) return Infinity;
        // Autojump: every task is blocked on timers alone, so nothing can happen before the next one.
        if (this._hostPending <= this._hostStuck) {
          if (this._hostSources > 0 && !this._syncMode) {
            // A signal (or another host source) may already be on its way, caused by what just ran
            // (`process.kill(process.pid, …)`): let the host deliver it first; _pump jumps afterwards.
            this._jumpAfterHostTurn = true;
            return 0;
          }
          this._virtualNow = when;
          continue;
        }
        return Infinity;
      }
      return Math.min(wait, MAXIMUM_SELECT_TIMEOUT);
    }
  }

  /** @internal The async driver: one batch, then arrange the next wake-up with the host. */
  private _pump(): void {
    if (!this._running) return;
    this._pumps++;
    if (this._jumpAfterHostTurn) this._jumpAfterTurn();
    this._inPump = true;
    _setActiveLoop(this);
    _setRunningLoop(this);
    let r: number;
    try {
      r = this._drive();
    } catch (e) {
      this._inPump = false;
      _setActiveLoop(null);
      _setRunningLoop(idleRunningLoop());
      this._finishRun(e, true);
      return;
    }
    this._inPump = false;
    _setActiveLoop(null);
    _setRunningLoop(idleRunningLoop());
    if (r === STOPPED) {
      // After a deadlock the run ends with its error (runForever too), once the cancelled tasks are done.
      const deadlock = this._deadlock;
      this._finishRun(deadlock, deadlock !== null);
    } else if (r === 0) {
      if (this._cancelWake === null) this._cancelWake = this._host.immediate(this._pumpBound);
    } else if (r === Infinity) {
      sweepNursery();
      this._cancelHostTimer();
    } else {
      sweepNursery();
      const ms = Math.ceil(r * 1000);
      const at = this._host.now() + ms;
      // The armed timer fires no later than needed: keep it (if it fires early, that pass arms the next).
      if (this._cancelTimer === null || this._timerAt > at) {
        this._cancelHostTimer();
        this._cancelTimer = this._host.timer(this._pumpTimerBound, ms);
        this._timerAt = at;
      }
    }
  }

  /** @internal Disarm the host timer, if armed. */
  _cancelHostTimer(): void {
    if (this._cancelTimer === null) return;
    this._cancelTimer();
    this._cancelTimer = null;
    this._timerAt = Infinity;
  }

  /**
   * @internal The host had its turn before a virtual jump (see _drive): if it delivered nothing, and still
   * nothing is pending, jump to the next timer now.
   */
  private _jumpAfterTurn(): void {
    this._jumpAfterHostTurn = false;
    if (this._ready.length > 0 || this._hostPending > this._hostStuck) return;
    if (this._popCancelledTimers() === undefined) return;
    const when = this._scheduled.peekWhen();
    if (when > this._virtualNow && when < VIRTUAL_HORIZON) this._virtualNow = when;
  }

  /**
   * @internal Work was scheduled from outside the loop's callbacks (host work arrived, a host callback
   * set an Event or resolved a Future, stop() was requested): make sure the loop runs soon.
   */
  _wakeup(): void {
    if (!this._running || this._inPump || this._syncMode || this._cancelWake !== null) return;
    // A pending host timer stays armed: the pass this immediate runs keeps it if its deadline still fits.
    this._cancelWake = this._host.immediate(this._pumpBound);
  }

  /** @internal */
  _finishRun(error: unknown, failed: boolean): void {
    if (this._cancelWake !== null) this._cancelWake();
    this._cancelWake = null;
    this._cancelHostTimer();
    this._stopping = false;
    this._running = false;
    runningLoops.delete(this);
    const i = liveRuns.indexOf(this);
    if (i >= 0) liveRuns.splice(i, 1);
    _setRunningLoop(idleRunningLoop());
    setDebugTracking(liveRuns.some((l) => l._debug));
    hostPlatform()?.loopRunning(this, false);
    const resolve = this._runResolve;
    const reject = this._runReject;
    this._runResolve = this._runReject = null;
    if (failed) reject?.(error);
    else resolve?.();
  }

  /** @internal */
  _startRun(): void {
    this._checkClosed();
    this._checkRunning();
    this._running = true;
    liveRuns.push(this);
    this._deadlock = null;
    this._hostStuck = 0;
    this._idleMark = -1;
    _setRunningLoop(this);
    if (this._debug) setDebugTracking(true);
  }

  /**
   * Run until `stop()` is called. Returns a Promise because the host must be able to run while the loop
   * waits; errors of misuse (closed, already running) are thrown synchronously.
   */
  runForever(): Promise<void> {
    this._startRun();
    this._runEntry = 'runForever()';
    runningLoops.add(this);
    hostExitWatch?.();
    hostPlatform()?.loopRunning(this, true);
    return new Promise<void>((resolve, reject) => {
      this._runResolve = resolve;
      this._runReject = reject;
      this._pump();
    });
  }

  /**
   * Run until `future` (a Future, Task or coroutine, wrapped in a Task) is done; resolves to its result
   * or rejects with its exception.
   */
  runUntilComplete<T>(
    future: Future<T> | Iterable<unknown> | { [Symbol.iterator](): Iterator<unknown, T> },
  ): Promise<T> {
    this._checkClosed();
    this._checkRunning();
    const newTask = !isFuture(future);
    const fut = ensureFuture(future as any, { loop: this }) as Future<T>;
    fut.addDoneCallback(runUntilCompleteCb, { context: currentContext() });
    const entry = this._nextRunEntry ?? 'runUntilComplete()';
    this._nextRunEntry = null;
    let running: Promise<void>;
    try {
      running = this.runForever();
    } catch (e) {
      fut.removeDoneCallback(runUntilCompleteCb);
      throw e;
    }
    this._runEntry = entry;
    this._runFuture = fut;
    return running.then(
      () => {
        fut.removeDoneCallback(runUntilCompleteCb);
        this._runFuture = null;
        if (!fut.done()) throw new RuntimeError('Event loop stopped before Future completed.');
        return runResult(fut, this._deadlock, entry);
      },
      (e) => {
        fut.removeDoneCallback(runUntilCompleteCb);
        this._runFuture = null;
        // The future's exception is the loop's exception: don't also log it as never retrieved.
        if (newTask && fut.done() && !fut.cancelled()) fut.exception();
        throw e;
      },
    );
  }

  /** Stop after the current iteration (callbacks scheduled now run when the loop runs again). */
  stop(): void {
    this._stopping = true;
    this._wakeup();
  }

  isRunning(): boolean {
    return this._running;
  }

  isClosed(): boolean {
    return this._closed;
  }

  /**
   * Close the loop: drop pending callbacks and timers and shut the default executor down without
   * waiting. Synchronous, as in Python. Reports failed futures whose exception was never retrieved.
   */
  close(): void {
    if (this._running) throw new RuntimeError('Cannot close a running event loop');
    if (this._closed) return;
    if (this._debug) logger.debug(`Close ${this}`);
    this._closed = true;
    this._ready.clear();
    this._scheduled.items.length = 0;
    this._timerCancelledCount = 0;
    this._executorShutdownCalled = true;
    const executor = this._defaultExecutor;
    if (executor !== null) {
      this._defaultExecutor = null;
      void executor.shutdown(false);
    }
    hostPlatform()?.loopClosed(this);
    this._rejectAdopted();
    this._reportUnretrievedAtClose();
    // A trace started with an onClose callback (run(main(), { trace })) is written now.
    if (this._tracer !== null) this._tracer.loopClosed();
  }

  /**
   * A Promise that adopted a pending Future of this loop (`await fut` in async code, an async function that
   * returned it) would wait forever once the loop is closed: it is rejected with a RuntimeError saying so.
   * The Future itself stays pending, as in CPython.
   */
  private _rejectAdopted(): void {
    const adopted = this._adopted;
    if (adopted === null) return;
    this._adopted = null;
    for (const [fut, reject] of adopted) {
      if (!fut.done()) {
        reject(
          new RuntimeError(
            `Event loop is closed: ${fut} can never complete, so the Promise waiting for it (an \`await\` of ` +
              'the Future, or a Promise that adopted it because an async function returned it) is rejected',
          ),
        );
      }
    }
  }

  /** @internal */
  _checkClosed(): void {
    if (this._closed) throw new RuntimeError('Event loop is closed');
  }

  private _checkRunning(): void {
    if (this._running) throw new RuntimeError('This event loop is already running');
    hostPlatform()?.checkLoopStart('EventLoop.runForever()/runUntilComplete()');
    if (_getActiveLoop() !== null) {
      throw new RuntimeError('Cannot run the event loop while another loop is running');
    }
  }

  // -- futures and tasks -------------------------------------------------------------------------------

  /** A new Future bound to this loop. */
  createFuture<T = unknown>(): Future<T> {
    return new Future<T>({ loop: this });
  }

  /** Wrap a coroutine in a Task scheduled on this loop (through the task factory, if set). */
  createTask<T>(
    coro: Iterable<unknown> | { [Symbol.iterator](): Iterator<unknown, T> },
    options?: TaskOptions,
  ): Task<T> {
    this._checkClosed();
    if (options !== undefined) checkOptions('createTask', options);
    if (this._taskFactory !== null) {
      const task = this._taskFactory(this, coro, options);
      if (!isFuture(task)) throw new TypeError(`the task factory must return a Task, got ${repr(task)}`);
      return task as Task<T>;
    }
    if (options === undefined) return new TaskClass<T>(coro as any, (this._taskOptions ??= { loop: this }));
    return new TaskClass<T>(coro as any, { ...options, loop: this });
  }

  setTaskFactory(factory: TaskFactory | null | undefined): void {
    if (factory !== null && factory !== undefined && typeof factory !== 'function') {
      throw new TypeError('task factory must be a callable or None');
    }
    this._taskFactory = factory ?? null;
  }

  getTaskFactory(): TaskFactory | undefined {
    return this._taskFactory ?? undefined;
  }

  // -- errors ------------------------------------------------------------------------------------------

  /**
   * Report what cannot be raised (see callExceptionHandler) to `handler(loop, context)` instead of the
   * default handler; null restores the default. An async function is refused (TypeError); if a plain
   * handler returns a promise that rejects, that is logged as an error in the handler.
   */
  setExceptionHandler(handler: ExceptionHandler | null | undefined): void {
    if (handler !== null && handler !== undefined && typeof handler !== 'function') {
      throw new TypeError(`A callable object or None is expected, got ${repr(handler)}`);
    }
    checkNotAsync(handler, 'setExceptionHandler');
    this._exceptionHandler = handler ?? null;
  }

  getExceptionHandler(): ExceptionHandler | undefined {
    return this._exceptionHandler ?? undefined;
  }

  /** Log the context: the message, the other keys (sorted, as Python), and the exception's stack. */
  defaultExceptionHandler(context: ExceptionContext): void {
    const message = context.message || 'Unhandled exception in event loop';
    const lines = [message];
    for (const key of Object.keys(context).sort()) {
      if (key === 'message' || key === 'exception') continue;
      let value = context[key];
      if (key === 'source_traceback' && Array.isArray(value)) {
        value = `Object created at (most recent call last):\n${value.join('\n')}`;
      } else {
        value = typeof value === 'string' ? value : repr(value);
      }
      lines.push(`${key}: ${value}`);
    }
    const exc = context.exception;
    if (exc !== undefined) lines.push(formatException(exc));
    logger.error(lines.join('\n'));
  }

  /**
   * Report something that cannot be raised (a callback's error, a never-retrieved exception) to the
   * exception handler, or to the default handler.
   */
  callExceptionHandler(context: ExceptionContext): void {
    this._callExceptionHandlerIn(context, reportContext(context));
  }

  /**
   * @internal callExceptionHandler with the Context a custom handler runs in (gh-96704: the context of
   * what the report is about, so the handler sees that code's context variables; see reportContext).
   */
  _callExceptionHandlerIn(context: ExceptionContext, ctx: Context | null): void {
    if (this._exceptionHandler === null) {
      try {
        this.defaultExceptionHandler(context);
      } catch (e) {
        if (e instanceof KeyboardInterrupt || e instanceof SystemExit) throw e;
        logger.error(`Exception in default exception handler\n${formatException(e)}`);
      }
      return;
    }
    try {
      // Already inside it (an error reported while its callback's context is entered): just call it.
      const r: unknown =
        ctx === null || ctx === currentContext() || ctx._entered
          ? this._exceptionHandler(this, context)
          : ctx.run(this._exceptionHandler, this, context);
      // A handler that returned a promise: its rejection is handled like a throw, later.
      if (r !== undefined && isPromiseResult(r)) {
        r.then(undefined, (e: unknown) => this._exceptionHandlerFailed(e, context));
      }
    } catch (e) {
      if (e instanceof KeyboardInterrupt || e instanceof SystemExit) throw e;
      this._exceptionHandlerFailed(e, context);
    }
  }

  private _exceptionHandlerFailed(e: unknown, context: ExceptionContext): void {
    try {
      this.defaultExceptionHandler({
        message: 'Unhandled error in exception handler',
        exception: e,
        context,
      });
    } catch (e2) {
      if (e2 instanceof KeyboardInterrupt || e2 instanceof SystemExit) throw e2;
      logger.error(
        'Exception in default exception handler while handling an unexpected error in custom exception handler\n' +
          formatException(e2),
      );
    }
  }

  /** @internal A future failed: report it if nobody retrieves the exception. */
  _trackUnretrieved(fut: Future<any>): void {
    const exc = fut._exception;
    // Format the stack now: V8 keeps what an unformatted stack references alive.
    if (exc instanceof Error) void exc.stack;
    this._registry ??= new FinalizationRegistry((held) => {
      this._unretrieved.delete(held.id);
      const context: ExceptionContext = { message: held.message, exception: held.exception };
      if (held.sourceTraceback !== undefined) context.source_traceback = held.sourceTraceback;
      this._callExceptionHandlerIn(context, held.context);
    });
    const id = this._nextUnretrievedId++;
    this._unretrievedIds.set(fut, id);
    this._unretrieved.set(id, new WeakRef(fut));
    const message = `${className(fut.constructor)} exception was never retrieved`;
    // The creation stack (debug mode) is plain strings: holding it keeps nothing else alive.
    // A task's Context too: the handler runs in it (CPython's __del__ report names the task). Like the
    // exception, it is held until the report (a context variable referring back to the task would keep the
    // task from being collected, and reported, until the loop closes).
    const held = {
      id,
      message,
      exception: exc,
      sourceTraceback: fut._sourceTraceback,
      context: reportContext({ message, future: fut }),
    };
    this._registry.register(fut, held, fut);
  }

  /** @internal The exception was retrieved: no report. */
  _forgetUnretrieved(fut: Future<any>): void {
    const id = this._unretrievedIds.get(fut);
    if (id === undefined) return;
    this._unretrievedIds.delete(fut);
    this._unretrieved.delete(id);
    this._registry?.unregister(fut);
  }

  private _reportUnretrievedAtClose(): void {
    for (const [id, ref] of this._unretrieved) {
      this._unretrieved.delete(id);
      const fut = ref.deref();
      if (fut === undefined) continue;
      this._registry?.unregister(fut);
      this._unretrievedIds.delete(fut);
      if ((fut._flags & F_LOG_TRACEBACK) === 0) continue;
      fut._flags &= ~F_LOG_TRACEBACK;
      const context: ExceptionContext = {
        message: `${className(fut.constructor)} exception was never retrieved`,
        exception: fut._exception,
        future: fut,
      };
      if (fut._sourceTraceback) context.source_traceback = fut._sourceTraceback;
      this.callExceptionHandler(context);
    }
  }

  // -- debug -----------------------------------------------------------------------------------------

  getDebug(): boolean {
    return this._debug;
  }

  setDebug(enabled: boolean): void {
    if (enabled && !stacksInstalled) {
      throw new RuntimeError(
        "debug mode needs tsyncio/debug (its creation stacks): import 'tsyncio/debug' once (the Node entry does)",
      );
    }
    this._debug = Boolean(enabled);
    if (this._running) setDebugTracking(this._debug);
  }

  /**
   * @internal CPython's `_check_thread` (debug mode only): a non-threadsafe method was called on a running
   * loop from inside *another* loop's callbacks. JavaScript has one thread per realm, so host callbacks
   * (a raw setTimeout, a Node event) are the loop's own thread: what they schedule wakes the loop and is
   * not flagged. A loop cannot be reached from a worker thread at all (objects are copied, not shared).
   */
  _checkThread(): void {
    if (!this._running) return;
    const active = _getActiveLoop();
    if (active === null || active === this) return;
    throw new RuntimeError('Non-thread-safe operation invoked on an event loop other than the current one');
  }

  // -- host work ---------------------------------------------------------------------------------------

  /**
   * @internal Adopt a host promise as a Future of this loop. The settlement re-enters through
   * callSoonThreadsafe; while it is pending the virtual clock does not jump.
   */
  _wrapHostPromise<T>(promise: PromiseLike<T>, onCancel?: () => void): Future<T> {
    if (this._syncMode) {
      // The host operation has started (a socket connecting, a server listening, a fetch): stop it the
      // way cancelling would, and drop its outcome quietly, so nothing outlives the refusal (a rejection
      // nobody handles would end the process; a listening socket would keep it alive).
      promise.then(undefined, () => {});
      if (onCancel !== undefined) {
        try {
          onCancel();
        } catch {
          // Best effort: the RuntimeError below is what the caller must see.
        }
      }
      throw new RuntimeError('runSync() cannot wait for host I/O (a Promise); use run() instead');
    }
    const fut = new Future<T>({ loop: this });
    this._hostPending++;
    let settled = false;
    const settle = (ok: boolean, value: unknown): void => {
      if (settled) return;
      settled = true;
      this._hostPending--;
      if (this._closed) return;
      this.callSoonThreadsafe(() => {
        if (fut.done()) return;
        if (ok) fut.setResult(value as T);
        else fut._setException(value ?? new RuntimeError('promise rejected with undefined'));
      });
    };
    promise.then(
      (v) => settle(true, v),
      (e) => settle(false, e),
    );
    if (onCancel !== undefined) {
      fut._addCallback((f: Future<T>) => {
        if (f.cancelled()) onCancel();
      }, currentContext());
    }
    return fut;
  }

  // -- async generators and executors ------------------------------------------------------------------

  /**
   * Close every async generator first iterated on this loop (Python's `shutdown_asyncgens`). On a running
   * loop it returns a Task (await it with `yield*` or `await`); otherwise it runs the loop until done.
   */
  shutdownAsyncgens(): PromiseLike<void> {
    const work = shutdownAsyncgensCoro(this);
    if (this._running) return this.createTask(work);
    return this.runUntilComplete(work);
  }

  /**
   * Run `fn(...args)` in `executor` (or the default executor) and return a Future of its result.
   * Cancelling the Future cancels the job if it has not started (Python's `wrap_future`).
   *
   * With the default executor (`null`) or a `ThreadPoolExecutor`, `fn` must be a `WorkerFunction`: a
   * plain closure is a type error, as for `toThread` (it cannot cross to another thread). An executor
   * declared as `Executor<F>` takes what its `submit` takes.
   */
  runInExecutor<A extends unknown[], R>(
    executor: Executor | null | undefined,
    fn: WorkerFunction<A, R>,
    ...args: A
  ): Future<R>;
  runInExecutor<F extends (...args: any[]) => unknown>(
    executor: Executor<NoInfer<F>>,
    fn: F,
    ...args: Parameters<F>
  ): Future<Awaited<ReturnType<F>>>;
  runInExecutor<T = unknown>(
    executor: Executor | null | undefined,
    fn: unknown,
    ...args: unknown[]
  ): Future<T> {
    this._checkClosed();
    if (isCoroutine(fn)) throw new TypeError('coroutines cannot be used with runInExecutor()');
    if (this._syncMode) {
      // Before anything is submitted: runSync could not wait for the job anyway.
      throw new RuntimeError('runSync() cannot wait for host I/O (an executor); use run() instead');
    }
    if (executor === null || executor === undefined) {
      if (this._executorShutdownCalled) throw new RuntimeError('Executor shutdown has been called');
      if (this._defaultExecutor === null) {
        const platform = hostPlatform();
        if (platform === null) {
          throw new RuntimeError(
            'no default executor on this host: import tsyncio from Node (tsyncio/node) or pass an executor',
          );
        }
        this._defaultExecutor = platform.createDefaultExecutor();
      }
      executor = this._defaultExecutor;
    }
    if (executor === null || typeof executor !== 'object' || typeof executor.submit !== 'function') {
      throw new TypeError(
        `executor must be an executor (an object with submit and shutdown), got ${repr(executor)}`,
      );
    }
    const job = executor.submit(fn, ...args);
    if (job === null || typeof (job as { then?: unknown } | undefined)?.then !== 'function') {
      throw new TypeError(`executor.submit() must return a Promise (a thenable), got ${repr(job)}`);
    }
    return this._wrapHostPromise(
      job as PromiseLike<T>,
      typeof job.cancel === 'function' ? () => job.cancel!() : undefined,
    );
  }

  /** Use `executor` as the default executor of runInExecutor/toThread. */
  setDefaultExecutor(executor: Executor): void {
    if (executor === null || typeof executor !== 'object' || typeof executor.submit !== 'function') {
      throw new TypeError('executor must be an executor (an object with submit and shutdown)');
    }
    this._defaultExecutor = executor;
  }

  /** Shut the default executor down and wait for it (Python's `shutdown_default_executor`). */
  shutdownDefaultExecutor(timeout?: number | null): PromiseLike<void> {
    if (timeout !== undefined && timeout !== null && typeof timeout !== 'number') {
      throw new TypeError(`timeout must be a number or None, got ${repr(timeout)}`);
    }
    const work = shutdownDefaultExecutorCoro(this, timeout ?? null);
    if (this._running) return this.createTask(work);
    return this.runUntilComplete(work);
  }

  // -- signals (Node) ------------------------------------------------------------------------------------

  /**
   * Call `callback(...args)` on the loop when the process receives `sig` (a name like 'SIGTERM', or its
   * number). Replaces this loop's previous handler for `sig`. Needs the Node entry (`tsyncio/node`).
   */
  addSignalHandler<A extends unknown[]>(
    sig: string | number,
    callback: (...args: A) => unknown,
    ...args: A
  ): void {
    if (isCoroutine(callback) || isCoroutineFunction(callback)) {
      throw new TypeError('coroutines cannot be used with addSignalHandler()');
    }
    checkCallback(callback, 'addSignalHandler');
    const platform = hostPlatform();
    if (platform === null) {
      throw new NotImplementedError('signal handlers need the Node entry point: import from tsyncio/node');
    }
    const ctx = currentContext().copy();
    // The platform checks `sig`, then that the loop is open (Python's order), then installs the handler.
    platform.addSignalHandler(this, sig, () => {
      if (this._closed) return;
      this._callSoonWithContext(callback as any, args, ctx);
      this._wakeup();
    });
  }

  /** Remove the handler for `sig`; returns whether one was installed. The signal's default comes back. */
  removeSignalHandler(sig: string | number): boolean {
    const platform = hostPlatform();
    return platform !== null && platform.removeSignalHandler(this, sig);
  }

  toString(): string {
    return `<EventLoop running=${this._running ? 'True' : 'False'} closed=${this._closed ? 'True' : 'False'} debug=${this._debug ? 'True' : 'False'}>`;
  }
}

/**
 * The Context a custom exception handler runs in (CPython's call_exception_handler): that of
 * `context.task`, else of `context.future`, else of `context.handle` — whichever is set first and has a
 * `getContext()` (a plain Future has none).
 */
function reportContext(context: ExceptionContext): Context | null {
  const thing = context.task ?? context.future ?? context.handle;
  if (thing === undefined || thing === null) return null;
  const getContext = (thing as { getContext?: unknown }).getContext;
  if (typeof getContext !== 'function') return null;
  const ctx: unknown = getContext.call(thing);
  return ctx instanceof Context ? ctx : null;
}

/**
 * Run one (callback, argument, context) entry of the ready queue: what Handle._run does for a Handle,
 * without one. The Handle is made only if the callback fails (the exception handler's context names it).
 * [HOT]
 */
/**
 * The context a sleep's timer fires in. `fireSleep` reads no context variable (it marks the future done and
 * schedules its callbacks, each with its own context), so one shared, never-written context stands in for
 * the copy CPython's `call_later` takes: no Context per timed sleep. Only one loop pass runs at a time in a
 * realm, so it is never entered twice.
 */
const SLEEP_TIMER_CONTEXT = new Context();

function runCallback(loop: EventLoop, fn: (arg: any) => unknown, arg: unknown, ctx: Context): void {
  if (ctx._entered) {
    Handle._one(fn, arg, loop, ctx)._reportError(
      new RuntimeError(`cannot enter context: ${ctx} is already entered`),
    );
    return;
  }
  ctx._enter();
  try {
    const r = fn(arg);
    // A done-callback that returned a promise: its rejection is reported, not left unhandled.
    if (r !== undefined && isPromiseResult(r)) Handle._one(fn, arg, loop, ctx)._watchPromise(r);
  } catch (e) {
    if (e instanceof KeyboardInterrupt || e instanceof SystemExit) throw e;
    Handle._one(fn, arg, loop, ctx)._reportError(e);
  } finally {
    exitCurrentContext();
  }
}

function checkCallback(callback: unknown, method: string): void {
  // CPython checks only in debug mode; a typeof test is cheap enough to always give the clear error.
  if (isCoroutine(callback) || isCoroutineFunction(callback)) {
    throw new TypeError(`coroutines cannot be used with ${method}()`);
  }
  checkNotAsync(callback, method);
  if (typeof callback !== 'function') {
    throw new TypeError(`a callable object was expected by ${method}(), got ${repr(callback)}`);
  }
}

/**
 * What runUntilComplete resolves to. After a deadlock, the DeadlockError. A pending Future as the result cannot be handed to a
 * Promise: it is a thenable, so the Promise would adopt it and wait forever (the loop has stopped).
 */
function runResult<T>(fut: Future<T>, deadlock: DeadlockError | null, entry: string): T {
  // Whatever the future's outcome after the deadlock's cancellation (a coroutine that catches it and
  // returns, an error from a finally block — reported as never retrieved), the run was deadlocked: say so.
  if (deadlock !== null) throw deadlock;
  const result = fut.result();
  if (isFuture(result) && !result.done()) {
    throw new RuntimeError(
      `${entry}: the result is a pending ${className(result.constructor)} (${result}). A Promise cannot resolve ` +
        'to it: Futures are thenables, so the Promise would adopt it and wait for it forever, since the ' +
        'loop has stopped. Await it before returning (`return yield* fut`), or return it inside an object ' +
        '(`return { fut }`) to hand the Future itself over (Python returns the Future object).',
    );
  }
  return result;
}

/** @internal Loops whose runForever() is active, for the host's exit check (deadlock.ts). */
export const runningLoops = new Set<EventLoop>();

/**
 * Detecting a run that can never finish (deadlock.ts's watchHostExit: Node's 'beforeExit'), installed by
 * `tsyncio/debug`, which the Node entry imports. Browsers have no such event: there a deadlocked run never
 * settles, with or without it, so a portable program does not carry the detection unless it asks.
 */
let hostExitWatch: (() => void) | null = null;

/** @internal Installed by src/debug.ts. */
export function installHostExitWatch(watch: () => void): void {
  hostExitWatch = watch;
}

/** @internal */
export function runUntilCompleteCb(fut: Future<any>): void {
  if (!fut.cancelled()) {
    const exc = fut.exception();
    // run_forever() already finished for these (CPython issue #22429): no need to stop it.
    if (exc instanceof KeyboardInterrupt || exc instanceof SystemExit) return;
  }
  fut.getLoop().stop();
}

/**
 * @internal runSync's driver: like runUntilComplete, but blocks the thread while waiting for timers and
 * refuses host work. A function, not a method, so programs that never call runSync() do not bundle it.
 */
export function runUntilCompleteSync<T>(loop: EventLoop, future: Future<T>): T {
  loop._startRun();
  loop._syncMode = true;
  // Nothing else runs while the thread is blocked here: the loop is active throughout.
  loop._inPump = true;
  _setActiveLoop(loop);
  loop._runEntry = 'runSync()';
  loop._runFuture = future;
  future.addDoneCallback(runUntilCompleteCb, { context: currentContext() });
  try {
    for (;;) {
      const r = loop._drive();
      if (r === STOPPED) break;
      if (r === 0) continue;
      if (r === Infinity) {
        // Nothing is ready, no timer it can reach (the virtual clock never jumps beyond its horizon),
        // and runSync refuses host work: nothing can ever wake a task.
        if (onDeadlock(loop)) continue;
        throw loop._deadlock;
      }
      if (!loop._host.block(r * 1000)) {
        throw new RuntimeError('runSync(): this host cannot block to wait for timers; use run() instead');
      }
    }
  } finally {
    future.removeDoneCallback(runUntilCompleteCb);
    endSyncRun(loop);
  }
  if (!future.done()) throw new RuntimeError('Event loop stopped before Future completed.');
  const deadlock = loop._deadlock;
  if (deadlock !== null) throw deadlock;
  return future.result();
}

function endSyncRun(loop: EventLoop): void {
  loop._runFuture = null;
  loop._syncMode = false;
  loop._inPump = false;
  _setActiveLoop(null);
  loop._stopping = false;
  loop._running = false;
  const i = liveRuns.indexOf(loop);
  if (i >= 0) liveRuns.splice(i, 1);
  _setRunningLoop(idleRunningLoop());
  setDebugTracking(liveRuns.some((l) => l._debug));
}

/** @internal the work of shutdownAsyncgens (runners.ts runs it as one task, like CPython's Runner.close). */
export function* shutdownAsyncgensCoro(loop: EventLoop): Generator<Instruction, void, unknown> {
  loop._asyncgensShutdownCalled = true;
  if (loop._asyncgens.size === 0) return;
  const closing = [...loop._asyncgens];
  loop._asyncgens.clear();
  const results = (yield* gather(...closing.map((ag) => ag.aclose()), {
    returnExceptions: true,
  })) as unknown[];
  results.forEach((result, i) => {
    if (result instanceof Error) {
      loop.callExceptionHandler({
        message: `an error occurred during closing of asynchronous generator ${closing[i]}`,
        exception: result,
        asyncgen: closing[i],
      });
    }
  });
}

/** @internal the work of shutdownDefaultExecutor (runners.ts runs it as one task, like CPython). */
export function* shutdownDefaultExecutorCoro(
  loop: EventLoop,
  timeout: number | null,
): Generator<Instruction, void, unknown> {
  loop._executorShutdownCalled = true;
  const executor = loop._defaultExecutor;
  if (executor === null) return;
  try {
    const joined = loop._wrapHostPromise(Promise.resolve(executor.shutdown(true)).then(() => true));
    if (timeout !== null) {
      // Whichever comes first: the executor joined, or the timeout.
      const timer = loop._callLaterOne(
        timeout,
        (f: Future<boolean>) => {
          if (!f.done()) f.cancel();
        },
        joined,
        currentContext(),
      );
      try {
        yield* joined;
      } catch (e) {
        if (!(e instanceof CancelledError) || !joined.cancelled() || currentTaskCancelling(loop)) throw e;
        logger.warning(`The executor did not finishing joining its threads within ${timeout} seconds.`);
        void executor.shutdown(false);
      } finally {
        timer.cancel();
      }
    } else {
      yield* joined;
    }
  } finally {
    loop._defaultExecutor = null;
  }
}

function currentTaskCancelling(loop: EventLoop): boolean {
  return (loop._currentTask?.cancelling() ?? 0) > 0;
}

/**
 * Phase 3 of a loop iteration while debug mode or a tracer is on: each callback runs as a Handle, timed
 * (debug mode's slow-callback report) and traced. A hook, installed by what switches these on — tsyncio/debug
 * (debug mode refuses to start without it) and startTracing() — so a program that does neither does not
 * carry it.
 */
let instrumentedPass: ((loop: EventLoop, ntodo: number) => void) | null = null;

/** @internal Called by src/debug.ts and trace.ts's startTracing. */
export function installInstrumentedPass(): void {
  instrumentedPass = runInstrumentedPass;
}

function runInstrumentedPass(loop: EventLoop, ntodo: number): void {
  const ready = loop._ready;
  while (ntodo-- > 0) {
    const fn = ready.shift();
    // A plain triple scheduled before the instrumentation was switched on gets its Handle now.
    const handle = fn === null ? (ready._arg as Handle) : Handle._one(fn, ready._arg, loop, ready._ctx!);
    if ((handle._hflags & H_CANCELLED) !== 0) continue;
    runHandleInstrumented(loop, handle);
  }
}

function runHandleInstrumented(loop: EventLoop, handle: Handle): void {
  loop._currentHandle = handle;
  const tracer = loop._tracer;
  const t0 = loop._host.now();
  try {
    if (tracer !== null) tracer.beforeHandle(handle);
    handle._run();
  } finally {
    loop._currentHandle = null;
    if (tracer !== null) tracer.afterHandle(handle);
    const dt = (loop._host.now() - t0) / 1000;
    if (loop._debug && dt >= loop.slowCallbackDuration) {
      logger.warning(`Executing ${formatHandle(handle)} took ${dt.toFixed(3)} seconds`);
    }
  }
}
/** @internal "Executing <Task …> took …": tasks are shown as the task, other handles as themselves. */
export function formatHandle(handle: Handle): string {
  return String(handleTask(handle) ?? handle);
}

/**
 * @internal Debug mode's creation stacks for coroutines and await stacks for tasks are on while a debug
 * loop runs (CPython's coroutine origin tracking); trackAwaitStacks() keeps await stacks on regardless.
 */
export function setDebugTracking(on: boolean): void {
  coroutineDebug.originTrackingDepth = on ? DEBUG_STACK_DEPTH : 0;
  coroutineDebug.awaitStacks = on || coroutineDebug.awaitStacksRequested;
}

/** @internal Python-style rendering of an exception for logs: the JS stack, or `Name: message`. */
export function formatException(e: unknown): string {
  if (e instanceof Error) {
    let text = e.stack ?? `${e.name}: ${e.message}`;
    // tsyncio's JS-side advice beside Python's message (e.g. "use `yield*`, not `yield`").
    const hint = (e as { hint?: unknown }).hint;
    if (typeof hint === 'string') text += `\n  hint: ${hint}`;
    if (e instanceof AggregateError && e.errors?.length) {
      text += e.errors
        .map(
          (sub, i) =>
            `\n  +---------------- ${i + 1} ----------------\n  | ${formatException(sub).split('\n').join('\n  | ')}`,
        )
        .join('');
    }
    return text;
  }
  return repr(e);
}

_registerLoopClass(EventLoop);

/**
 * A new event loop (not set as current): Python's `new_event_loop()`, taking the options of
 * `new EventLoop(options)` — `newEventLoop({ clock: 'virtual', debug: true })` gives 3.11-era code
 * (`loop = new_event_loop(); loop.run_until_complete(main())`) the virtual clock.
 *
 * Defined here, beside the class it constructs (not in events.ts through a factory this module would
 * register at load): a bundler that keeps `newEventLoop` then keeps EventLoop too. A registration is a
 * module-level side effect, which `package.json` "sideEffects" would let a bundler drop.
 */
export function newEventLoop(options?: EventLoopOptions): EventLoop {
  return new EventLoop(options);
}
