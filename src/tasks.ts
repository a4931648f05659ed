/**
 * Task and the functions around it (CPython's tasks.py): Task, createTask, currentTask, allTasks,
 * ensureFuture, sleep, gather. The combinators built on timeouts (waitFor, wait, asCompleted, shield)
 * live in combinators.ts.
 *
 * HOW A TASK STEPS (CPython's `__step` / `__wakeup`):
 *   step(exc?) resumes the coroutine with `next()` or `throw(exc)`; a pending cancellation turns `exc` into
 *   a CancelledError first. What comes back decides what happens next:
 *     - the coroutine returned       → setResult (or cancelled, if a cancel arrived during this step);
 *     - it raised CancelledError     → the task ends cancelled (that very exception is kept for result());
 *     - it raised anything else      → setException;
 *     - it yielded a blocking Future → wait: the future's done-callback is wakeup(), and a pending cancel
 *                                      is forwarded to that future;
 *     - it yielded undefined         → a bare yield (sleep(0)): step again on the next iteration;
 *     - it yielded anything else     → RuntimeError thrown *into* the coroutine on the next step, never
 *                                      raised in place ("Task got bad yield: …").
 *   wakeup(fut) calls step() — or step(exc) when the future failed; the value itself is not passed: the
 *   Future's own iterator returns it to the `yield*` that awaited it.
 */

import { checkOptionKeys, checkOptions, hasAwaitIterator, isCollection, withHint } from './_internal/args.js';
import { Waiter } from './_internal/waiters.js';
import type { EventLoop, TaskFactory } from './base_events.js';
import {
  Context,
  checkContextArg,
  copyContext,
  currentContext,
  exitCurrentContext,
  ownContext,
  replaceCurrentContext,
  SharedContext,
  setOwnContextHook,
  sharedCopyContext,
} from './contextvars.js';
import {
  _coroStates,
  type Awaitable,
  bornCoroutine,
  Coroutine,
  type CoroutineIterator,
  type CoroutineProtocol,
  closeCoroutine,
  driverOf,
  type Instruction,
  isClaimed,
  isCoroutine,
  ProtocolDriver,
} from './coroutines.js';
import {
  _getActiveLoop,
  _getRunningLoop,
  checkLoopArg,
  getEventLoop,
  getRunningLoop,
  H_CANCELLED,
  H_SCHEDULED,
  H_SLEEP,
  type Handle,
  type TimerEntry,
} from './events.js';
import {
  CancelledError,
  InvalidStateError,
  KeyboardInterrupt,
  RuntimeError,
  SystemExit,
  ValueError,
} from './exceptions.js';
import {
  awaitStackFrames,
  extractStack,
  pyTypeName,
  type RawStack,
  repr,
  setReprName,
} from './format_helpers.js';
import {
  _futureStates,
  bareCancelledError,
  DETACHED,
  type DoneCallback,
  F_BLOCKING,
  F_LOG_TRACEBACK,
  F_TASK_CANCELLING_WAITER,
  F_TASK_IS_CORO,
  F_TASK_MUST_CANCEL,
  Future,
  futureAddToAwaitedBy,
  futureDiscardFromAwaitedBy,
  isFuture,
  suspendBare,
  suspendOn,
  wakeTask,
} from './futures.js';

const { PENDING, CANCELLED, FINISHED } = _futureStates;
const {
  CREATED: CORO_CREATED,
  RUNNING: CORO_RUNNING,
  SUSPENDED: CORO_SUSPENDED,
  CLOSED: CORO_CLOSED,
} = _coroStates;

export interface TaskOptions {
  /** The task's name (default `Task-N`). */
  name?: string | null;
  /** The context the task runs in (default: a copy of the current context). */
  context?: Context | null;
  /** Run the coroutine synchronously until its first suspension (Python 3.14's `eager_start`). */
  eagerStart?: boolean;
}

export interface TaskConstructorOptions extends TaskOptions {
  loop?: EventLoop;
}

let taskNameCounter = 0;

/** What a Task drives: a Coroutine, or a plain generator (Python's generator-based coroutines). */
export type Driven<T> = Coroutine<T> | Generator<unknown, T, unknown>;
/** What a Task accepts: a Coroutine, a generator, or an object implementing the coroutine protocol. */
export type TaskCoroutine<T> = Driven<T> | CoroutineProtocol<T>;

// The loop calls these with the task as the (first) argument: no bound function per task.
function taskStep(task: Task<any>): void {
  task._step(undefined, false);
}

function taskStepWithError(task: Task<any>, exc: unknown): void {
  task._step(exc, true);
}

/**
 * @internal The task a loop handle steps or wakes (taskStep, taskStepWithError, futures.ts's wakeTask), else
 * null: debug reports and the tracer show such a handle as its task, as CPython's _format_handle does for a
 * Task's bound methods.
 */
export function handleTask(handle: Handle): Task<any> | null {
  const cb = handle._callback;
  if (cb !== taskStep && cb !== taskStepWithError && cb !== wakeTask) return null;
  const task = handle._firstArg();
  return task instanceof Task ? task : null;
}

// The bad-yield errors thrown into coroutines, with the value yielded (see explainBadYield).
const badYields = new WeakMap<object, unknown>();

/**
 * `yield* 'abc'` or `yield* [t1, t2]` delegates to a string's or array's iterator: the task receives its
 * first item as a bad yield, and the error thrown back never reaches the coroutine — that iterator has no
 * `throw` method, so V8 ends the `yield*` with its own TypeError ("The iterator does not provide a 'throw'
 * method"). Put the task's error back in its place: Python's "'str' object can't be awaited" for a
 * string, the bad-yield error with a hint otherwise. Runs only when a step raised a TypeError.
 */
function explainBadYield(thrownIn: unknown, e: TypeError): unknown {
  if (typeof thrownIn !== 'object' || thrownIn === null || !badYields.has(thrownIn)) return e;
  if (!/does not provide a 'throw' method/.test(e.message)) return e;
  const value = badYields.get(thrownIn);
  const err =
    typeof value === 'string' ? new TypeError("'str' object can't be awaited") : (thrownIn as Error);
  (err as { hint?: string }).hint =
    typeof value === 'string'
      ? '`yield*` on a string walks its characters: a string is not awaitable'
      : '`yield*` on an iterable that is not awaitable (an array? await its items with gather(...array))';
  return err;
}

export class Task<T = unknown> extends Future<T> {
  /** @internal the class name reprs show, even in a minified bundle (format_helpers.ts, className) */
  static override readonly _pyName: string = 'Task';
  /** @internal */ _coro: Driven<T> | null;
  /** @internal a number until first asked for: `Task-N` is formatted lazily */
  _name: string | number;
  /** @internal */ _context: Context;
  /** @internal */ _numCancelsRequested = 0;
  /** @internal the future this task waits for */ _futWaiter: Future<any> | null = null;
  // Rare (task.signal; debug mode): declared, not initialised, so that tasks that never use them carry no
  // slot for them. [HOT: memory]
  /** @internal */ declare _abortController: AbortController | undefined;
  /** @internal the JS stack where the task last suspended (only while await stacks are tracked) */
  declare _awaitStack: RawStack | undefined;
  /** @internal links of the loop's pending-task list (TaskList) */
  _prevTask: Task<any> | null = null;
  /** @internal */ _nextTask: Task<any> | null = null;

  constructor(coro: TaskCoroutine<T>, options?: TaskConstructorOptions) {
    super(options); // FutureOptions: only its `loop` is read
    if (!isCoroutine(coro)) {
      throw withHint(new TypeError(`a coroutine was expected, got ${repr(coro)}`), coro);
    }
    const context = options?.context;
    // Checked here: a task that cannot enter its context would fail inside the loop, not at the call.
    checkContextArg(context);
    const name = options?.name;
    this._name = name === undefined || name === null ? ++taskNameCounter : String(name);
    if (coro instanceof Coroutine) {
      this._coro = coro;
      this._flags |= F_TASK_IS_CORO;
      coro._claim();
    } else {
      this._coro = driverOf(coro);
    }
    const loop = this._loop;
    const eager = options?.eagerStart && loop._running;
    // A lazy task shares its creator's values until it sets one (SharedContext); an eager one starts inside
    // its creator's step, where that shared context may be the one entered, so it gets its own now.
    this._context = context ?? (eager ? copyContext() : sharedCopyContext());
    if (loop._tracer !== null) loop._tracer.taskCreated(this);
    if (eager) {
      this._eagerStart();
    } else {
      loop._callSoonFast(taskStep, this, this._context);
      loop._tasks.add(this);
    }
  }

  // -- Future API that a Task forbids ------------------------------------------------------------

  override setResult(_result: T): never {
    throw new RuntimeError('Task does not support set_result operation');
  }

  override setException(_exception: unknown): never {
    throw new RuntimeError('Task does not support set_exception operation');
  }

  // -- introspection -------------------------------------------------------------------------------

  getCoro(): Driven<T> | CoroutineProtocol<T> | undefined {
    const coro = this._coro;
    if (coro instanceof ProtocolDriver) return coro.target as CoroutineProtocol<T>;
    return coro ?? undefined;
  }

  getContext(): Context {
    const ctx = this._context;
    if (!(ctx instanceof SharedContext)) return ctx;
    // Asked for: the task gets a Context of its own (same values), the one its steps enter from now on.
    // ownContext() makes the running task adopt it itself.
    if (this._loop._currentTask === this) return ownContext(ctx);
    return (this._context = new Context(ctx._map));
  }

  getName(): string {
    if (typeof this._name === 'number') this._name = `Task-${this._name}`;
    return this._name;
  }

  setName(value: unknown): void {
    this._name = String(value);
  }

  /**
   * The coroutine frames this task is suspended in, outermost first. JavaScript does not expose a
   * suspended generator's frames, so these are the coroutine objects known to the task (its coroutine);
   * see docs/PYTHON_DIFFERENCES.md.
   */
  getStack(options?: { limit?: number }): string[] {
    const frames: string[] = [];
    if (this._coro !== null && !this.done()) frames.push(String(this._coro));
    const limit = options?.limit;
    return limit === undefined ? frames : frames.slice(0, Math.max(0, limit));
  }

  /** Print the stack (see getStack) or, for a failed task, the exception. */
  printStack(options?: { limit?: number; file?: { write(s: string): unknown } }): void {
    const out = options?.file ?? { write: (s: string) => console.log(s.replace(/\n$/, '')) };
    const frames = this.getStack(options);
    if (frames.length > 0) out.write(`Stack for ${this} (most recent call last):\n`);
    else out.write(`No stack for ${this}\n`);
    for (const f of frames) out.write(`  ${f}\n`);
    if (this._state !== PENDING && this._state !== CANCELLED && this._exception !== undefined) {
      const e = this._exception;
      out.write(`${e instanceof Error ? (e.stack ?? String(e)) : repr(e)}\n`);
    }
  }

  /** An AbortSignal that aborts when the task is cancelled (pass it to fetch & co.). */
  get signal(): AbortSignal {
    if (this._abortController === undefined) {
      this._abortController = new AbortController();
      if (this._numCancelsRequested > 0 || this._state === CANCELLED) {
        this._abortController.abort(new CancelledError(this._cancelMessage));
      }
    }
    return this._abortController.signal;
  }

  // -- cancellation --------------------------------------------------------------------------------

  /**
   * Request cancellation: CancelledError(msg) is thrown into the coroutine at its suspension point.
   * Returns false if the task is already done. Every call counts (see `cancelling()`).
   */
  override cancel(msg?: unknown): boolean {
    if ((this._flags & F_LOG_TRACEBACK) !== 0) this._silenceUnretrieved();
    if (this._state !== PENDING) return false;
    // Our own cancel() came back to us through the futures we wait for: tasks awaiting each other.
    if ((this._flags & F_TASK_CANCELLING_WAITER) !== 0) return this._breakCancelCycle(msg);
    this._numCancelsRequested += 1;
    if (this._loop._tracer !== null) this._loop._tracer.taskCancelRequested(this, msg);
    if (this._abortController !== undefined && !this._abortController.signal.aborted) {
      this._abortController.abort(new CancelledError(msg));
    }
    const waiter = this._futWaiter;
    if (waiter !== null) {
      this._flags |= F_TASK_CANCELLING_WAITER;
      let cancelled: boolean;
      try {
        cancelled = waiter.cancel(msg);
      } finally {
        this._flags &= ~F_TASK_CANCELLING_WAITER;
      }
      // Leave _mustCancel unset: the waiter's cancellation wakes us with a CancelledError.
      if (cancelled) return true;
    }
    // It must be cancelled on the next step.
    this._flags |= F_TASK_MUST_CANCEL;
    this._cancelMessage = msg;
    return true;
  }

  /**
   * @internal A cycle of tasks awaiting each other (t1 awaits t2, which awaits t1): t1's cancel() reached
   * t1 again. CPython recurses until RecursionError, logs it, and loses the cancellation (the tasks stay
   * deadlocked); here the cycle is broken where it closes: this task stops waiting and is woken with the
   * CancelledError directly (the request was counted by the outer call), and the cycle is reported.
   */
  _breakCancelCycle(msg: unknown): boolean {
    const waiter = this._futWaiter!;
    waiter._removeTaskWakeup(this);
    futureDiscardFromAwaitedBy(waiter, this);
    this._futWaiter = null;
    this._flags |= F_TASK_MUST_CANCEL;
    this._cancelMessage = msg;
    this._loop._callSoonFast(taskStep, this, this._context);
    this._loop.callExceptionHandler({
      message: `Task.cancel() found tasks awaiting each other in a cycle: ${this} was cancelled directly`,
      task: this,
    });
    return true;
  }

  /** The number of pending cancellation requests (cancel() calls minus uncancel() calls). */
  cancelling(): number {
    return this._numCancelsRequested;
  }

  /**
   * Decrement the pending cancellation count; when it reaches 0, a cancellation that has not been
   * delivered yet is withdrawn (Python 3.14). Returns the new count.
   */
  uncancel(): number {
    if (this._numCancelsRequested > 0) {
      this._numCancelsRequested -= 1;
      if (this._numCancelsRequested === 0) this._flags &= ~F_TASK_MUST_CANCEL;
    }
    return this._numCancelsRequested;
  }

  // -- stepping [HOT] ------------------------------------------------------------------------------

  /** @internal */
  _step(exc: unknown, hasExc: boolean): void {
    if (this._state !== PENDING) {
      throw new InvalidStateError(`_step(): already done: ${this}, ${repr(exc)}`);
    }
    if ((this._flags & F_TASK_MUST_CANCEL) !== 0) {
      if (!(exc instanceof CancelledError)) {
        exc = this._makeCancelledError(true);
        hasExc = true;
      }
      this._flags &= ~F_TASK_MUST_CANCEL;
    }
    this._futWaiter = null;
    // A recorded await stack describes the suspension that this step ends.
    if (this._awaitStack !== undefined) this._awaitStack = undefined;
    const loop = this._loop;
    const prev = loop._currentTask;
    if (prev !== null) {
      throw new RuntimeError(`Cannot enter into task ${this} while another task ${prev} is being executed.`);
    }
    loop._currentTask = this;
    // Queued with the SharedContext the task has exchanged for its own since (getContext()): enter its own.
    if (currentContext() !== this._context) replaceCurrentContext(this._context);
    try {
      this._stepRun(exc, hasExc);
    } finally {
      loop._currentTask = null;
    }
  }

  /** @internal CPython's `__step_run_and_handle_result`. */
  _stepRun(exc: unknown, hasExc: boolean): void {
    const coro = this._coro!;
    const loop = this._loop;
    const tracer = loop._tracer;
    if (tracer !== null) tracer.taskStepStart(this);
    let r: IteratorResult<unknown, T>;
    // Coroutine._step, inlined [HOT]: one call and — when the step raises — one catch-and-rethrow less.
    let entered: Coroutine<T> | null = null;
    try {
      if ((this._flags & F_TASK_IS_CORO) !== 0) {
        const c = coro as Coroutine<T>;
        if (c._state === CORO_RUNNING) {
          r = c._step(undefined, exc, hasExc); // raises "coroutine already executing"
        } else {
          c._state = CORO_RUNNING;
          entered = c;
          r = hasExc ? c._gen.throw(exc) : c._gen.next(undefined);
          c._state = r.done ? CORO_CLOSED : CORO_SUSPENDED;
        }
      } else {
        r = hasExc ? (coro as Generator<unknown, T>).throw(exc) : (coro as Generator<unknown, T>).next();
      }
    } catch (caught) {
      let e = caught;
      if (entered !== null) entered._state = CORO_CLOSED;
      if (tracer !== null) tracer.taskStepEnd(this);
      if (hasExc && e !== exc && e instanceof TypeError) e = explainBadYield(exc, e);
      if (e instanceof CancelledError) {
        // Keep this exact exception: result() re-raises it (with its message and chain) once.
        super.cancel();
        this._exception = e; // what _makeCancelledError() hands out (see Future._exception)
      } else if (e instanceof KeyboardInterrupt || e instanceof SystemExit) {
        this._setException(e);
        this._finished();
        throw e;
      } else {
        this._setException(e);
      }
      this._finished();
      return;
    }
    if (tracer !== null) tracer.taskStepEnd(this);
    if (r.done) {
      if ((this._flags & F_TASK_MUST_CANCEL) !== 0) {
        // Task is cancelled right before coro stops.
        this._flags &= ~F_TASK_MUST_CANCEL;
        super.cancel(this._cancelMessage);
      } else {
        super.setResult(r.value);
      }
      this._finished();
      return;
    }
    const result = r.value;
    if (result === undefined) {
      // Bare yield (sleep(0)): relinquish control for one iteration.
      loop._callSoonFast(taskStep, this, this._context);
      return;
    }
    if (result instanceof Future || isFuture(result)) {
      const fut = result as Future<any>;
      let newExc: RuntimeError;
      if (fut._loop !== loop) {
        newExc = new RuntimeError(`Task ${this} got Future ${fut} attached to a different loop`);
      } else if ((fut._flags & F_BLOCKING) !== 0) {
        if (fut === this) {
          newExc = new RuntimeError(`Task cannot await on itself: ${this}`);
        } else {
          fut._flags &= ~F_BLOCKING;
          futureAddToAwaitedBy(fut, this);
          // _futWaiter is what _wakeup() reads: set it before anything can complete the future.
          this._futWaiter = fut;
          // CPython's fast path is for the library's own futures only: a subclass that overrides
          // addDoneCallback gets the wakeup through it (it may count, log or refuse registrations).
          const add = fut.addDoneCallback;
          if (add === FUTURE_ADD_DONE_CALLBACK || add === WAITER_ADD_DONE_CALLBACK) fut._addTaskWakeup(this);
          else fut.addDoneCallback(wakeupCallback(this), { context: this._context });
          if (tracer !== null) tracer.taskWaits(this, fut);
          if ((this._flags & F_TASK_MUST_CANCEL) !== 0) {
            if (fut.cancel(this._cancelMessage)) this._flags &= ~F_TASK_MUST_CANCEL;
          }
          return;
        }
      } else {
        newExc = new RuntimeError(`yield was used instead of yield from in task ${this} with ${fut}`);
        (newExc as { hint?: string }).hint = YIELD_STAR_HINT;
        badYields.set(newExc, fut);
      }
      loop._callSoonWithContext(taskStepWithError, [this, newExc], this._context);
      return;
    }
    let newExc: RuntimeError;
    if (isCoroutine(result)) {
      newExc = new RuntimeError(
        `yield was used instead of yield from for generator in task ${this} with ${repr(result)}`,
      );
      (newExc as { hint?: string }).hint = YIELD_STAR_HINT;
    } else {
      newExc = new RuntimeError(`Task got bad yield: ${repr(result)}`);
      badYields.set(newExc, result);
      // A JS hint beside Python's message, never inside it (printed with the error: formatException,
      // and Node shows own properties of an uncaught error).
      (newExc as { hint?: string }).hint =
        result !== null && typeof (result as PromiseLike<unknown>).then === 'function'
          ? `${YIELD_STAR_HINT}; a Promise is awaited with \`yield* fromPromise(promise)\``
          : YIELD_STAR_HINT;
    }
    loop._callSoonWithContext(taskStepWithError, [this, newExc], this._context);
  }

  /**
   * @internal CPython's `__wakeup`, run by the loop when the future this task waits for is done. That
   * future is `_futWaiter`: only `_step` clears it, and a waiting task does not step until woken. [HOT]
   */
  _wakeup(): void {
    const fut = this._futWaiter!;
    futureDiscardFromAwaitedBy(fut, this);
    if (fut._state === CANCELLED) {
      this._step(fut._makeCancelledError(true), true);
    } else if (fut._exception !== undefined) {
      let error: unknown;
      try {
        fut.result();
      } catch (e) {
        error = e;
      }
      this._step(error, true);
    } else {
      this._step(undefined, false);
    }
  }

  private _finished(): void {
    this._loop._tasks.delete(this);
    if (this._awaitStack !== undefined) this._awaitStack = undefined;
    if (this._loop._tracer !== null) this._loop._tracer.taskDone(this);
  }

  /**
   * @internal Python 3.12's eager start (CPython's `__eager_start`): run the first step now, inside
   * createTask, as the current task and in the task's context. The task is registered while it runs,
   * so allTasks() sees it; if the step finished it, it is never scheduled and drops its coroutine
   * (getCoro() is then undefined, as in CPython).
   */
  _eagerStart(): void {
    const loop = this._loop;
    const ctx = this._context;
    // Python's context.run() refuses an entered context; check before touching any state.
    if (ctx._entered) throw new RuntimeError(`cannot enter context: ${ctx} is already entered`);
    const prev = loop._currentTask;
    loop._currentTask = this;
    loop._tasks.add(this);
    ctx._enter();
    try {
      this._stepRun(undefined, false);
    } finally {
      exitCurrentContext();
      loop._currentTask = prev;
      if (this._state !== PENDING) this._coro = null;
    }
  }

  // -- repr ------------------------------------------------------------------------------------------

  override _reprInfo(): string[] {
    const info = super._reprInfo();
    if (this._numCancelsRequested > 0 && !this.done()) info[0] = 'cancelling';
    info.splice(1, 0, `name=${repr(this.getName())}`);
    if (this._futWaiter !== null) info.splice(2, 0, `wait_for=${this._futWaiter}`);
    if (this._coro !== null) info.splice(2, 0, `coro=<${formatCoroutine(this._coro, this)}>`);
    return info;
  }
}

const FUTURE_ADD_DONE_CALLBACK = Future.prototype.addDoneCallback;
// A Waiter's override only marks the waiter as seen by someone else, which the awaiting task is not.
const WAITER_ADD_DONE_CALLBACK = Waiter.prototype.addDoneCallback;

/** The done-callback a Task registers through an overridden addDoneCallback (CPython's bound `__wakeup`). */
function wakeupCallback(task: Task<any>): DoneCallback<Future<any>> {
  const wakeup = (_fut: Future<any>): void => task._wakeup();
  return setReprName(wakeup, 'Task.task_wakeup');
}

/**
 * The `coro=<…>` part of a Task repr: the coroutine object's repr (`coroutine object main at 0x…`; JS
 * cannot show a suspended generator's line or a function's definition site, docs/PYTHON_DIFFERENCES.md). Where the suspension point is known (await stacks are recorded in
 * debug mode), CPython's ` running at file:line` follows, so slow-step reports say where the task was.
 */
function formatCoroutine(coro: Driven<unknown>, task: Task<any>): string {
  if (!(coro instanceof Coroutine)) {
    return `generator object at ${repr(coro)
      .replace(/^.* at /, '')
      .replace(/>$/, '')}`;
  }
  const name = String(coro).slice(1, -1);
  if (coro.state === 'closed') return name;
  if (!(coro.state === 'running' && task._loop._currentTask === task)) {
    const frames = awaitStackFrames(task._awaitStack);
    const outer = frames[frames.length - 1];
    if (outer !== undefined && outer.filename !== null) {
      return `${name} running at ${outer.filename}:${outer.lineno}`;
    }
  }
  return name;
}

// ---------------------------------------------------------------------------------------------
// Eager task factories (Python 3.12)

/** What createEagerTaskFactory accepts: a Task class, or a function returning a Task. */
export type TaskConstructor =
  | (new (
      coro: any,
      options?: TaskConstructorOptions,
    ) => Task<any>)
  | ((coro: any, options?: TaskConstructorOptions) => Task<any>);

/**
 * A task factory for `loop.setTaskFactory()` whose tasks start eagerly: `customTaskConstructor(coro,
 * { loop, eagerStart: true, ...options })` — `eagerStart: false` in the options still wins. A coroutine
 * that finishes without suspending is then never scheduled on the loop at all.
 */
export function createEagerTaskFactory(customTaskConstructor: TaskConstructor): TaskFactory {
  if (typeof customTaskConstructor !== 'function') {
    throw new TypeError(`a callable was expected, got ${repr(customTaskConstructor)}`);
  }
  // Classes (and ordinary functions) are called with `new`; arrow functions cannot be.
  const construct = customTaskConstructor.prototype !== undefined;
  return function factory(loop: EventLoop, coro: any, options?: TaskOptions): Task<any> {
    const opts: TaskConstructorOptions = { ...options, loop, eagerStart: options?.eagerStart ?? true };
    return construct
      ? new (customTaskConstructor as new (c: any, o?: TaskConstructorOptions) => Task<any>)(coro, opts)
      : (customTaskConstructor as (c: any, o?: TaskConstructorOptions) => Task<any>)(coro, opts);
  };
}

// A task step that sets a context variable while its SharedContext is entered: the task adopts the private
// Context that took that context's place (contextvars.ts, ownContext).
setOwnContextHook((shared, own) => {
  const task = _getActiveLoop()?._currentTask;
  if (task != null && task._context === shared) task._context = own;
});

/** `loop.setTaskFactory(eagerTaskFactory)`: every task created on the loop starts eagerly. */
export const eagerTaskFactory: TaskFactory = /* @__PURE__ */ createEagerTaskFactory(Task);

// ---------------------------------------------------------------------------------------------

/** Schedule a coroutine as a Task on the running loop (RuntimeError when none). */
export function createTask<T>(coro: Awaitable<T> & Iterable<unknown>, options?: TaskOptions): Task<T> {
  const loop = getRunningLoop();
  return loop.createTask(coro as any, options) as Task<T>;
}

/** The task running now, or undefined (RuntimeError when no loop runs and none is given). */
export function currentTask(loop?: EventLoop): Task<any> | undefined {
  checkLoopArg(loop);
  const l = loop ?? getRunningLoop();
  return l._currentTask ?? undefined;
}

/** The loop's tasks that are not done yet. */
export function allTasks(loop?: EventLoop): Set<Task<any>> {
  checkLoopArg(loop);
  const l = loop ?? getRunningLoop();
  const result = new Set<Task<any>>();
  for (const t of l._tasks) if (!t.done()) result.add(t);
  return result;
}

/**
 * A Future for `obj`: a Future or Task is returned as is; a coroutine (or plain generator, or any
 * `yield*`-able object) is wrapped in a Task.
 */
export function ensureFuture<T>(obj: Future<T> | Awaitable<T>, options?: { loop?: EventLoop }): Future<T> {
  checkOptions('ensureFuture', options);
  const loop = options?.loop ?? undefined;
  checkLoopArg(loop);
  return ensureFutureOn(obj, loop);
}

/** ensureFuture() with its arguments checked already (gather calls it per child). [HOT] */
function ensureFutureOn<T>(obj: Future<T> | Awaitable<T>, loop: EventLoop | undefined): Future<T> {
  if (isFuture(obj)) {
    if (loop !== undefined && loop !== obj._loop) {
      throw new ValueError(
        'The future belongs to a different loop than the one specified as the loop argument',
      );
    }
    return obj as Future<T>;
  }
  if (isCoroutine(obj)) {
    const target = loop ?? getEventLoop();
    try {
      return target.createTask(obj as any) as Task<T>;
    } catch (e) {
      // CPython's _ensure_future: a coroutine that cannot become a task (closed loop) is closed, so it is
      // not reported as never awaited later. (loop.createTask itself leaves it alone, as CPython's does.)
      if (e instanceof RuntimeError) closeCoroutine(obj);
      throw e;
    }
  }
  if (isAwaitableObject(obj)) {
    return (loop ?? getEventLoop()).createTask(wrapAwaitable(obj as Awaitable<T>) as any) as Task<T>;
  }
  throw notAnAwaitable(obj);
}

/**
 * @internal An object `yield*` can await: anything iterable except the built-in collections (an array of
 * tasks is not an awaitable; Python's `await [t]` fails the same way).
 */
export function isAwaitableObject(obj: unknown): boolean {
  return obj !== null && typeof obj === 'object' && hasAwaitIterator(obj) && !isCollection(obj);
}

/** @internal CPython's TypeError from ensure_future(), with a hint for the JavaScript slips. */
export function notAnAwaitable(obj: unknown): TypeError {
  return withHint(new TypeError('An asyncio.Future, a coroutine or an awaitable is required'), obj);
}

const wrapAwaitable = (() => {
  const info = { name: '_wrap_awaitable' };
  return <T>(aw: Awaitable<T>): Coroutine<T> =>
    new Coroutine(
      (function* _wrap_awaitable() {
        return yield* aw as unknown as Generator<Instruction, T, unknown>;
      })(),
      info,
    );
})();

/** The fix for a plain `yield` of an awaitable, beside CPython's message (the compiler catches it too). */
const YIELD_STAR_HINT = 'use `yield*`, not `yield`';

// ---------------------------------------------------------------------------------------------
// sleep

// sleep's checks, in CPython's order and words (both bodies below use them).
function checkDelayType(delay: unknown): void {
  if (typeof delay === 'bigint') throw new TypeError(`delay must be a number, not a bigint (${delay}n)`);
  if (typeof delay !== 'number') {
    throw new TypeError(`'<=' not supported between instances of '${pyTypeName(delay)}' and 'int'`);
  }
}

function checkDelayNaN(delay: number): void {
  if (Number.isNaN(delay)) throw new ValueError('Invalid delay: NaN (not a number)');
}

const SLEEP_NEW = 0;
const SLEEP_WAITING = 1;
const SLEEP_DONE = 2;

// An iterator result that carries nothing: shared, never allocated per step (yield* and Task only read it).
const RETURN_NONE: IteratorReturnResult<undefined> = { value: undefined, done: true };

const SLEEP_INFO = { name: 'sleep' };

/**
 * `sleep(delay <= 0)`: CPython's `yield; return result` — a coroutine object that is its own body
 * [HOT: every sleep(0)]: one object instead of a generator (or a body object) and its Coroutine. Its
 * `next`/`throw`/`return` are the body's iterator methods, following a generator's rules (after the end,
 * next() returns `{ value: undefined, done: true }`). Python's `coro.throw(exc)` and the iterator's
 * `throw` meet in one method: both raise `exc`, since the body never catches.
 */
// A Coroutine by its prototype chain, built by a base-class constructor of its own: a derived class's
// constructor (`extends Coroutine` + `super()`) cost ~250 more instructions per sleep(0) than the
// allocation it saves (bench/icount.mjs, switch).
interface SleepZeroCoroutine<T> extends Coroutine<T> {}
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: the prototype chain below makes it a Coroutine at run time
class SleepZeroCoroutine<T> implements CoroutineIterator<T> {
  /** @internal a coroutine to pyTypeName and reprs, like every Coroutine (format_helpers.ts, className) */
  static readonly _pyName: string = 'Coroutine';

  constructor(result: T) {
    this._gen = this;
    this._fn = SLEEP_INFO;
    this._state = CORO_CREATED;
    this._flags = 0;
    this._result = result;
    this._phase = SLEEP_NEW;
    bornCoroutine(this);
  }

  /** @internal */ declare _result: T;
  /** @internal */ declare _phase: number;

  next(): IteratorResult<Instruction, T> {
    const phase = this._phase;
    if (phase === SLEEP_NEW) {
      this._phase = SLEEP_WAITING;
      return suspendBare('sleep');
    }
    this._phase = SLEEP_DONE;
    const result = this._result;
    if (phase === SLEEP_DONE || result === undefined) return RETURN_NONE as IteratorReturnResult<T>;
    return { value: result, done: true };
  }

  throw(error: unknown): never {
    this._phase = SLEEP_DONE;
    // Not from the `yield*` or Task driving it (they mark it running): Python's coro.throw() by hand.
    if (this._state !== CORO_RUNNING) {
      this._startByHand();
      this._state = CORO_CLOSED;
    }
    throw error;
  }

  return(value?: T): IteratorResult<Instruction, T> {
    this._phase = SLEEP_DONE;
    return { value: value as T, done: true };
  }
}
Object.setPrototypeOf(SleepZeroCoroutine.prototype, Coroutine.prototype);

/**
 * The body of `sleep(delay)` for any other delay, and at the same time the future it waits for
 * [HOT: every timed sleep]. CPython's coroutine is
 *   `future = loop.create_future(); h = loop.call_later(delay, _set_result_unless_cancelled, future,
 *    result); try: return await future finally: h.cancel()`;
 * here the future is its own body: one object instead of a body and a Future. The delay is validated
 * on the first step (TypeError, ValueError for NaN, as CPython's), where the future also joins the
 * running loop. The sleep's `result` waits in `_result`, which the timer then just marks FINISHED.
 * Awaited, it is a plain Future (its class name is `Future`: the task repr reads `wait_for=<Future
 * pending cb=[Task.task_wakeup()]>` as CPython's does).
 */
class SleepFuture<T> extends Future<T> implements CoroutineIterator<T>, TimerEntry {
  /** @internal the class name reprs show, even in a minified bundle (format_helpers.ts, className) */
  static override readonly _pyName: string = 'Future';
  /** @internal */ _delay: number;
  /**
   * @internal The future is also its own timer entry in the loop's heap (TimerEntry): H_SLEEP, the heap's
   * H_SCHEDULED/H_CANCELLED bits, and the sleep's phase above them (SLEEP_*_BITS) — one field instead of a
   * phase, a TimerHandle and its boxed deadline [HOT: memory, mem_tasks].
   */
  _hflags = H_SLEEP;

  constructor(delay: number, result: T) {
    super(DETACHED);
    this._delay = delay;
    this._result = result;
  }

  override next(): IteratorResult<Instruction, T> {
    const phase = this._hflags & SLEEP_PHASE_BITS;
    if (phase === SLEEP_NEW) return this._start();
    if (phase === SLEEP_DONE_BITS) return RETURN_NONE as IteratorReturnResult<T>;
    this._cancelTimer();
    // Resumed by hand (send()) before the timer fired: CPython's Future.__await__ says so.
    if (this._state === PENDING) throw new RuntimeError("await wasn't used with future");
    if (this._state === CANCELLED) throw this._makeCancelledError();
    const result = this._result;
    return result === undefined
      ? (RETURN_NONE as IteratorReturnResult<T>)
      : { value: result as T, done: true };
  }

  override throw(error: unknown): never {
    this._cancelTimer();
    throw error;
  }

  override return(value: T): IteratorResult<Instruction, T> {
    this._cancelTimer();
    return { value, done: true };
  }

  /** Leave the heap (lazily: the entry is marked dead, as TimerHandle.cancel() does) and end the sleep. */
  private _cancelTimer(): void {
    const flags = this._hflags;
    if ((flags & SLEEP_PHASE_BITS) === SLEEP_WAITING_BITS && (flags & H_CANCELLED) === 0) {
      this._loop._timerHandleCancelled(this);
    }
    this._hflags = (flags & ~SLEEP_PHASE_BITS) | SLEEP_DONE_BITS | H_CANCELLED;
  }

  private _start(): IteratorResult<Instruction, T> {
    this._hflags = H_SLEEP | SLEEP_DONE_BITS; // until the checks pass: a failed first step ends the coroutine
    const delay = this._delay;
    checkDelayType(delay);
    checkDelayNaN(delay);
    const loop = getRunningLoop();
    this._loop = loop;
    if (loop._debug) this._sourceTraceback = extractStack(1);
    this._hflags = H_SLEEP | SLEEP_WAITING_BITS | H_SCHEDULED;
    loop._scheduleSleep(this, loop.time() + delay);
    return suspendOn(this, 'sleep');
  }
}
// CPython's sleep awaits a plain Future: reprs, traces and reports name it so.
Object.defineProperty(SleepFuture, 'name', { value: 'Future' });

// SleepFuture's phase, kept in `_hflags` above the timer-entry bits (events.ts: H_ARGMODE … H_SLEEP).
const SLEEP_WAITING_BITS = 32;
const SLEEP_DONE_BITS = 64;
const SLEEP_PHASE_BITS = SLEEP_WAITING_BITS | SLEEP_DONE_BITS; // SLEEP_NEW is 0

/**
 * @internal The timer of a SleepFuture (the loop calls it when the future's deadline has come): its result
 * is already in place (CPython's `_set_result_unless_cancelled`).
 */
export function fireSleep(fut: SleepFuture<unknown>): void {
  if (fut._state !== PENDING) return;
  fut._state = FINISHED;
  fut._scheduleCallbacks();
}

/**
 * Suspend the current task for `delay` seconds and return `result`. `sleep(0)` gives up exactly one loop
 * iteration. A sleep never returns before `delay` seconds have passed on `loop.time()`.
 */
export function sleep(delay: number): Coroutine<void>;
export function sleep<T>(delay: number, result: T): Coroutine<T>;
export function sleep<T>(delay: number, result?: T): Coroutine<T | undefined> {
  if (typeof delay === 'number' && delay <= 0) return new SleepZeroCoroutine(result);
  return new Coroutine(new SleepFuture(delay, result), SLEEP_INFO);
}

// ---------------------------------------------------------------------------------------------
// gather

/** The result type of awaiting A. */
export type AwaitedOf<A> = A extends Awaitable<infer R> ? R : never;

export interface GatherOptions {
  /** Put exceptions (and CancelledErrors of cancelled children) in the result list instead of raising. */
  returnExceptions?: boolean;
}

/** The Future gather() returns: cancelling it cancels every child. */
export class GatheringFuture<T> extends Future<T> {
  /** @internal the class name reprs show, even in a minified bundle (format_helpers.ts, className) */
  static override readonly _pyName: string = 'GatheringFuture';
  /** @internal */ _children: Future<any>[];
  /** @internal */ _cancelRequested = false;

  constructor(children: Future<any>[], loop: EventLoop) {
    super({ loop });
    this._children = children;
  }

  override cancel(msg?: unknown): boolean {
    if (this.done()) return false;
    let ret = false;
    for (const child of this._children) {
      if (child.cancel(msg)) ret = true;
    }
    // If any child was actually cancelled, propagate the cancellation whatever returnExceptions says.
    if (ret) this._cancelRequested = true;
    return ret;
  }
}

const GATHER_OPTION_KEYS = ['returnExceptions'];

function isGatherOptions(x: unknown): x is GatherOptions {
  return (
    typeof x === 'object' &&
    x !== null &&
    !isFuture(x) &&
    typeof (x as { [Symbol.iterator]?: unknown })[Symbol.iterator] !== 'function' &&
    typeof (x as PromiseLike<unknown>).then !== 'function'
  );
}

/**
 * gather's duplicate test without a Map: true when `arg` cannot have been processed by this gather call
 * already — a coroutine no one has claimed yet, or a pending future whose few callbacks do not include
 * this gather's. False means "cannot tell cheaply" (then gather builds its Map).
 */
function evidentlyNew(arg: unknown, doneCallback: DoneCallbackFn): boolean {
  if (!(arg instanceof Future)) return arg instanceof Coroutine && !isClaimed(arg);
  if (arg._state !== PENDING) return false;
  if (arg._cb0 === doneCallback) return false;
  const cbs = arg._cbs;
  if (cbs === null) return true;
  if (cbs.length > 16) return false;
  for (let i = 0; i < cbs.length; i += 2) if (cbs[i] === doneCallback) return false;
  return true;
}

type DoneCallbackFn = (fut: Future<any>) => void;

/**
 * Run awaitables concurrently and return a Future of their results, in argument order. Coroutines are
 * wrapped in tasks. The first exception is raised (the other children keep running), unless
 * `returnExceptions` is set. Cancelling the gather cancels every child.
 *
 * `const [a, b] = yield* gather(fa(), fb());` — typed as a tuple.
 */
export function gather<A extends readonly Awaitable<unknown>[]>(
  ...aws: A
): GatheringFuture<{ -readonly [K in keyof A]: AwaitedOf<A[K]> }>;
export function gather<A extends readonly Awaitable<unknown>[]>(
  ...args: [...A, { returnExceptions: true }]
): GatheringFuture<{ -readonly [K in keyof A]: AwaitedOf<A[K]> | Error }>;
export function gather<A extends readonly Awaitable<unknown>[]>(
  ...args: [...A, GatherOptions]
): GatheringFuture<{ -readonly [K in keyof A]: AwaitedOf<A[K]> | Error }>;
export function gather(...args: unknown[]): Future<unknown[]> {
  let returnExceptions = false;
  if (args.length > 0 && isGatherOptions(args[args.length - 1])) {
    const options = args.pop() as GatherOptions;
    // A plain object is taken for the options: it must not be an awaitable mistaken for them.
    checkOptionKeys('gather', options, GATHER_OPTION_KEYS);
    returnExceptions = Boolean(options.returnExceptions);
  }
  // Every argument is checked before any is wrapped in a task: a bad one leaves nothing running.
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg instanceof Future || arg instanceof Coroutine) continue;
    if (!isFuture(arg) && !isCoroutine(arg) && !isAwaitableObject(arg)) throw notAnAwaitable(arg);
  }
  if (args.length === 0) {
    const loop = _getRunningLoop() ?? getEventLoop();
    const outer = new Future<unknown[]>({ loop });
    outer.setResult([]);
    return outer;
  }
  let loop: EventLoop | null = _getRunningLoop();
  const curTask = loop !== null ? (loop._currentTask ?? null) : null;
  const children: Future<any>[] = [];
  const doneFuts: Future<any>[] = [];
  let nfuts = 0;
  let nfinished = 0;
  let outer: GatheringFuture<unknown[]> | null = null;

  const doneCallback = (fut: Future<any>): void => {
    nfinished += 1;
    if (curTask !== null) futureDiscardFromAwaitedBy(fut, curTask);
    if (outer === null || outer.done()) {
      // Mark the exception retrieved.
      if (!fut.cancelled()) fut.exception();
      return;
    }
    if (!returnExceptions) {
      if (fut.cancelled()) {
        // fut.exception() would *raise* the CancelledError: make it instead.
        outer.setException(fut._makeCancelledError(true));
        return;
      }
      const exc = fut.exception();
      if (exc !== undefined) {
        outer._setException(exc);
        return;
      }
    }
    if (nfinished === nfuts) {
      // One read-only pass over the children [HOT: gather of 100k tasks, where every pass over them is
      // memory-bound]: a child that finished with a result is only read; exception() (which marks the
      // exception retrieved) is called only for the others.
      const n = children.length;
      const results: unknown[] = new Array(n);
      for (let i = 0; i < n; i++) {
        const child = children[i]!;
        const state = child._state;
        if (state === FINISHED && child._exception === undefined) {
          results[i] = child._result;
        } else if (state === CANCELLED) {
          results[i] = loop!._debug
            ? new CancelledError(child._cancelMessage ?? '')
            : bareCancelledError(child._cancelMessage ?? '');
        } else {
          results[i] = child.exception();
        }
      }
      if (outer._cancelRequested) {
        // The gather itself was cancelled: propagate it whatever returnExceptions says (bpo-32684).
        // CPython takes the error from the *last* child (its results loop rebinds `fut`): when that
        // child finished normally the cancel message is lost — reproduced, as CPython 3.14 does it.
        outer.setException(children[children.length - 1]!._makeCancelledError(true));
      } else {
        outer.setResult(results);
      }
    }
  };
  setReprName(doneCallback, 'gather.<locals>._done_callback');

  // CPython copies the context for each child's done-callback; the callback is this function, which
  // never touches a context variable, so one copy serves them all (a gather of 100k tasks: 100k fewer
  // objects). [HOT]
  const cbContext = currentContext().copy();

  // Python's `arg_to_fut` dict collapses repeated arguments into one child. Building it costs a Map entry
  // per argument, so it is built only once an argument comes whose novelty is not evident [HOT: gather of
  // many tasks]: a fresh coroutine, or a pending future whose callbacks (few) do not include ours, was
  // certainly not seen before.
  let argToFut: Map<unknown, Future<any>> | null = null;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    let fut: Future<any> | undefined;
    if (argToFut === null && !evidentlyNew(arg, doneCallback)) {
      argToFut = new Map();
      for (let j = 0; j < i; j++) argToFut.set(args[j], children[j]!);
    }
    if (argToFut !== null) fut = argToFut.get(arg);
    if (fut === undefined) {
      fut = ensureFutureOn(arg as Awaitable<unknown>, loop ?? undefined);
      if (loop === null) loop = fut._loop;
      nfuts += 1;
      if (argToFut !== null) argToFut.set(arg, fut);
      if (fut.done()) {
        doneFuts.push(fut);
      } else {
        if (curTask !== null) futureAddToAwaitedBy(fut, curTask);
        fut._addCallback(doneCallback, cbContext);
      }
    }
    children.push(fut);
  }
  outer = new GatheringFuture(children, loop!);
  // Done callbacks of children finished already (eager tasks) run now that `outer` exists.
  for (const fut of doneFuts) doneCallback(fut);
  return outer;
}
