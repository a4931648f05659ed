/**
 * Future<T>: a result slot whose done-callbacks run through the loop (CPython's futures.py).
 *
 * THE AWAIT PROTOCOL — the only values that ever reach a Task from its coroutine:
 *   - a Future whose F_BLOCKING flag is set: the Task waits for it (`yield* fut` sets the flag through
 *     `next()`, below, then yields the future itself — CPython's `yield self  # This tells Task to wait`);
 *   - `undefined` (a bare yield): the Task gives up the rest of this loop iteration (`sleep(0)`);
 *   - anything else: "Task got bad yield" (a Future yielded with plain `yield` has F_BLOCKING unset:
 *     "yield was used instead of yield from").
 * Both suspensions are made by one primitive each, `suspendOn(fut)` and `suspendBare()` (end of this
 * file): Future's own iterator and every hand-written awaitable body (queues, sleep) use them, so the flag,
 * the yielded value and the await-stack recording (call graphs, Task reprs) are written once.
 *
 * A Future is its own iterator, so `yield* fut` allocates nothing but the iterator results. It is also
 * PromiseLike: `await fut` in ordinary async code works, and the native Promise behind it is only created
 * when `then` is first called, so a failed future nobody awaits natively never becomes an unhandled
 * rejection (which would kill a Node process).
 */
import { badLoop, checkOptions, isRaisable } from './_internal/args.js';
import type { EventLoop } from './base_events.js';
import { type Context, checkContextArg, currentContext } from './contextvars.js';
import { type Awaitable, coroutineDebug, type Instruction, YIELD_NOW } from './coroutines.js';
import { _getRunningLoop, checkNotAsync, getEventLoop } from './events.js';
import { CancelledError, InvalidStateError, RuntimeError, StopIteration } from './exceptions.js';
import {
  callbackName,
  captureRawStack,
  className,
  createdAt,
  extractStack,
  type RawStack,
  repr,
  setReprName,
} from './format_helpers.js';

const PENDING = 0;
// Future._flags, one packed field [HOT: memory — every Task and Future]. The only table of its bits:
//   bit 0  F_LOG_TRACEBACK           an exception is set and nobody retrieved it yet
//   bit 1  F_BLOCKING                awaited with yield* (suspendOn), not yet taken by the Task
//   bit 2  F_TASK_IS_CORO            (Task) it drives a Coroutine, not a plain generator
//   bit 3  F_TASK_MUST_CANCEL        (Task) cancel on the next step
//   bit 4  F_TASK_CANCELLING_WAITER  (Task) its cancel() is propagating to the future it waits for
//   bits 8-15  reserved for the library's Future subclasses: _internal/waiters.ts's W_OBSERVED is bit 8.
// A new bit must also decide whether it keeps a Waiter from being recycled (waiters.ts isRecyclable,
// which requires the bits it names to be clear).
/** @internal Future._flags: an exception is set and nobody retrieved it yet */
export const F_LOG_TRACEBACK = 1;
/** @internal Future._flags: set by next() when the future is awaited with yield*, cleared by the Task */
export const F_BLOCKING = 2;
/** @internal Future._flags of a Task: it drives a Coroutine (not a plain generator) */
export const F_TASK_IS_CORO = 4;
/** @internal Future._flags of a Task: cancel on the next step (CPython's `_must_cancel`) */
export const F_TASK_MUST_CANCEL = 8;
/** @internal Future._flags of a Task: its cancel() is propagating to the future it waits for */
export const F_TASK_CANCELLING_WAITER = 16;
const CANCELLED = 1;
const FINISHED = 2;
const STATE_NAMES = ['PENDING', 'CANCELLED', 'FINISHED'] as const;

/** A future's state, as CPython names it. */
export type FutureState = 'PENDING' | 'CANCELLED' | 'FINISHED';

export type DoneCallback<F> = (fut: F) => unknown;

export interface FutureOptions {
  loop?: EventLoop;
}

/**
 * @internal Constructor option of library futures that exist before their loop is known and bind it
 * before anyone sees them (sleep's future is created with its coroutine, which may happen outside a
 * running loop, and joins the running loop on its first step).
 */
export const DETACHED: FutureOptions = Object.freeze({});

/** Brand checked by `isFuture` (Python's `_asyncio_future_blocking` attribute presence). */
export const FUTURE_BRAND: unique symbol = Symbol.for('tsyncio.Future');

export class Future<T = unknown> implements Awaitable<T>, PromiseLike<T>, Iterator<Instruction, T, unknown> {
  /** @internal */ _state: number = PENDING;
  /** @internal */ _result: T | undefined = undefined;
  /**
   * @internal The exception of a FINISHED future; for a CANCELLED one, the CancelledError instance that
   * ended a task (CPython's `_cancelled_exc`), re-raised once by result(). One field serves both: a
   * future is never both.
   */
  _exception: unknown = undefined;
  /** @internal Boolean state packed in one field: see the bit table at the top of this module. */
  _flags = 0;
  /** @internal */ _loop: EventLoop;
  // Done callbacks: the first is stored inline (nearly every future has exactly one awaiter), the rest
  // in an array of [fn, context] pairs. [HOT] Next to `taskWakeup` the context slot holds the waiting
  // Task itself (see _addTaskWakeup), hence its type.
  /** @internal */ _cb0: DoneCallback<any> | null = null;
  /** @internal */ _ctx0: CallbackSlot | null = null;
  /** @internal */ _cbs: (DoneCallback<any> | CallbackSlot)[] | null = null;
  /** @internal */ _cancelMessage: unknown = undefined;
  /** @internal who awaits this future (call graph): a Future or a Set of them */
  _awaitedBy: Future<any> | Set<Future<any>> | null = null;
  // Rarely set (debug mode; `await fut` from async code): declared, not initialised, so that the
  // millions of futures that never need them carry no slot for them (-16 B each). [HOT: memory]
  /** @internal */ declare _sourceTraceback: string[] | undefined;
  /** @internal */ declare _promise: Promise<T> | undefined;

  constructor(options?: FutureOptions) {
    if (options === DETACHED) {
      // A future whose loop is bound later (sleep's, at its first step): see DETACHED.
      this._loop = null as unknown as EventLoop;
      return;
    }
    const loop = options?.loop ?? getEventLoop();
    this._loop = loop;
    // Every EventLoop has a boolean `_debug`: anything else given as `loop` is not a loop, and reading it
    // is the check, for free. [HOT: every Future and Task]
    const debug = loop._debug;
    if (debug !== false) {
      if (debug !== true) throw badLoop(loop);
      this._sourceTraceback = extractStack(1);
    }
  }

  static readonly [FUTURE_BRAND] = true;
  /** @internal the class name reprs show, even in a minified bundle (see className) */
  static readonly _pyName: string = 'Future';

  /** The loop the future is bound to. */
  getLoop(): EventLoop {
    return this._loop;
  }

  done(): boolean {
    return this._state !== PENDING;
  }

  cancelled(): boolean {
    return this._state === CANCELLED;
  }

  /**
   * Cancel the future and schedule its callbacks. Returns false if it is already done.
   * `msg` becomes the CancelledError's message.
   */
  cancel(msg?: unknown): boolean {
    if ((this._flags & F_LOG_TRACEBACK) !== 0) this._silenceUnretrieved();
    if (this._state !== PENDING) return false;
    this._state = CANCELLED;
    this._cancelMessage = msg;
    this._scheduleCallbacks();
    return true;
  }

  /**
   * @internal cancel() on a failed future: its exception is never reported as unretrieved, neither at
   * loop.close() nor when the future is collected (CPython's `__log_traceback = False`).
   */
  _silenceUnretrieved(): void {
    this._flags &= ~F_LOG_TRACEBACK;
    this._loop._forgetUnretrieved(this);
  }

  /**
   * @internal The CancelledError to raise for a cancelled future (CPython's `_make_cancelled_error`).
   * `internal`: the loop itself raises it (a task's wakeup, gather), so its creation stack would only show
   * the loop's frames: skip capturing it (see bareCancelledError). User calls of result() keep theirs.
   */
  _makeCancelledError(internal = false): CancelledError {
    // gather asks a child that finished normally too (CPython's results-loop quirk): only a cancelled
    // future's _exception is a CancelledError.
    if (this._state === CANCELLED && this._exception !== undefined) {
      const exc = this._exception as CancelledError;
      this._exception = undefined;
      return exc;
    }
    if (internal && !this._loop._debug) return bareCancelledError(this._cancelMessage);
    return new CancelledError(this._cancelMessage);
  }

  /** The result; raises the exception if one was set, CancelledError if cancelled, InvalidStateError if pending. */
  result(): T {
    if (this._state === CANCELLED) throw this._makeCancelledError();
    if (this._state !== FINISHED) throw new InvalidStateError('Result is not set.');
    this._flags &= ~F_LOG_TRACEBACK;
    if (this._exception !== undefined) {
      this._loop._forgetUnretrieved(this);
      throw this._exception;
    }
    return this._result as T;
  }

  /** The exception set on the future (undefined if none); raises like `result()` when cancelled or pending. */
  exception(): unknown {
    if (this._state === CANCELLED) throw this._makeCancelledError();
    if (this._state !== FINISHED) throw new InvalidStateError('Exception is not set.');
    this._flags &= ~F_LOG_TRACEBACK;
    if (this._exception !== undefined) this._loop._forgetUnretrieved(this);
    return this._exception;
  }

  /**
   * Call `fn(this)` when the future is done, through the loop (never synchronously), in `context`
   * (default: a copy of the current context). An `async function` is refused (TypeError); a promise
   * returned by `fn` has its rejection reported to the loop's exception handler.
   */
  addDoneCallback(fn: DoneCallback<this>, options?: { context?: Context | null }): void {
    if (typeof fn !== 'function')
      throw new TypeError(`a callable object was expected by addDoneCallback(), got ${repr(fn)}`);
    checkNotAsync(fn, 'addDoneCallback');
    if (options !== undefined) {
      checkOptions('addDoneCallback', options);
      checkContextArg(options?.context);
    }
    const context = options?.context ?? currentContext().copy();
    if (this._state !== PENDING) {
      this._loop._callSoonFast(fn, this, context);
    } else {
      this._addCallback(fn, context);
    }
  }

  /** @internal Register without copying the context (the caller passes one). [HOT] */
  _addCallback(fn: DoneCallback<any>, context: CallbackSlot): void {
    if (this._cb0 === null && this._cbs === null) {
      this._cb0 = fn;
      this._ctx0 = context;
    } else {
      (this._cbs ??= []).push(fn, context);
    }
  }

  /** Remove every registration of `fn`; returns how many were removed. */
  removeDoneCallback(fn: DoneCallback<this>): number {
    let removed = 0;
    if (this._cb0 === fn) {
      this._cb0 = null;
      this._ctx0 = null;
      removed++;
    }
    const cbs = this._cbs;
    if (cbs !== null) {
      const kept: (DoneCallback<any> | CallbackSlot)[] = [];
      for (let i = 0; i < cbs.length; i += 2) {
        if (cbs[i] === fn) removed++;
        else kept.push(cbs[i]!, cbs[i + 1]!);
      }
      this._cbs = kept.length > 0 ? kept : null;
    }
    return removed;
  }

  /** @internal The registered callbacks, in order (for reprs and tests). */
  _callbackList(): DoneCallback<any>[] {
    const list: DoneCallback<any>[] = [];
    if (this._cb0 !== null) list.push(this._cb0);
    if (this._cbs !== null)
      for (let i = 0; i < this._cbs.length; i += 2) list.push(this._cbs[i] as DoneCallback<any>);
    return list;
  }

  /**
   * @internal Register the wakeup of a Task that waits for this future: the callback slot holds the shared
   * `taskWakeup` and the context slot the task itself (it runs in the task's context). [HOT] A closure per
   * waiting task would cost ~360 bytes (function, scope, and the property array its repr name needs).
   */
  _addTaskWakeup(task: WakeableTask): void {
    this._addCallback(taskWakeup, task);
  }

  /** @internal Unregister a waiting Task's wakeup (a cancellation cycle wakes it directly instead). */
  _removeTaskWakeup(task: WakeableTask): void {
    const slot = task;
    if (this._cb0 === taskWakeup && this._ctx0 === slot) {
      this._cb0 = null;
      this._ctx0 = null;
      return;
    }
    const cbs = this._cbs;
    if (cbs === null) return;
    for (let i = 0; i < cbs.length; i += 2) {
      if (cbs[i] === taskWakeup && cbs[i + 1] === slot) {
        cbs.splice(i, 2);
        if (cbs.length === 0) this._cbs = null;
        return;
      }
    }
  }

  /** @internal Schedule every callback with callSoon, in registration order. [HOT] */
  _scheduleCallbacks(): void {
    const loop = this._loop;
    const cb0 = this._cb0;
    if (cb0 !== null) {
      const ctx0 = this._ctx0!;
      this._cb0 = null;
      this._ctx0 = null;
      if (cb0 === taskWakeup) {
        const task = ctx0 as WakeableTask;
        loop._callSoonFast(wakeTask, task, task._context);
      } else {
        loop._callSoonFast(cb0, this, ctx0 as Context);
      }
    }
    const cbs = this._cbs;
    if (cbs !== null) {
      this._cbs = null;
      for (let i = 0; i < cbs.length; i += 2) {
        const cb = cbs[i] as DoneCallback<any>;
        if (cb === taskWakeup) {
          const task = cbs[i + 1] as WakeableTask;
          loop._callSoonFast(wakeTask, task, task._context);
        } else {
          loop._callSoonFast(cb, this, cbs[i + 1] as Context);
        }
      }
    }
  }

  /** Mark the future done with a result; InvalidStateError if it is already done. */
  setResult(result: T): void {
    if (this._state !== PENDING) throw new InvalidStateError('invalid state');
    this._result = result;
    this._state = FINISHED;
    this._scheduleCallbacks();
  }

  /** Mark the future done with an exception (an Error class is instantiated, as Python does). */
  setException(exception: unknown): void {
    if (this._state !== PENDING) throw new InvalidStateError('invalid state');
    if (
      typeof exception === 'function' &&
      (exception as { prototype?: unknown }).prototype instanceof Error
    ) {
      exception = new (exception as new () => Error)();
    }
    // CPython's words. A caught value is forwarded as is (JavaScript can throw anything), but a string or
    // other primitive here is a slip (`setException('message')`), not an exception.
    if (!isRaisable(exception)) throw new TypeError('invalid exception object');
    this._setException(exception);
  }

  /** @internal setException for values caught from JavaScript code, which may be anything thrown. */
  _setException(exception: unknown): void {
    if (this._state !== PENDING) throw new InvalidStateError('invalid state');
    if (exception === undefined || exception === null) {
      throw new TypeError('exception must be an error, not None');
    }
    if (exception instanceof StopIteration) {
      const newExc = new RuntimeError(
        'StopIteration interacts badly with generators and cannot be raised into a Future',
      );
      newExc.cause = exception;
      exception = newExc;
    }
    this._exception = exception;
    this._state = FINISHED;
    this._scheduleCallbacks();
    this._flags |= F_LOG_TRACEBACK;
    this._loop._trackUnretrieved(this);
  }

  // -- the await protocol (see the header) --------------------------------------------------------

  /** `yield* fut` — the future is its own iterator. */
  [Symbol.iterator](): this {
    return this;
  }

  /** @internal Iterator step for `yield*`: yield the future itself while pending, then return the result. */
  next(): IteratorResult<Instruction, T> {
    if (this._state === PENDING) return suspendOn(this);
    return { value: this.result(), done: true };
  }

  /** @internal An error thrown into the awaiting coroutine propagates from the `yield*`. */
  throw(error: unknown): IteratorResult<Instruction, T> {
    throw error;
  }

  /**
   * @internal `value` is typed T, not any: TypeScript derives a `yield*` result type from both next() and
   * return(), and `any` here would make every `yield* future` untyped.
   */
  return(value: T): IteratorResult<Instruction, T> {
    return { value, done: true };
  }

  // -- PromiseLike ---------------------------------------------------------------------------------

  /** `await fut` from ordinary async code. The native promise is created on first use only. */
  then<R1 = T, R2 = never>(
    onfulfilled?: ((value: T) => R1 | PromiseLike<R1>) | null,
    onrejected?: ((reason: any) => R2 | PromiseLike<R2>) | null,
  ): Promise<R1 | R2> {
    return this._asPromise().then(onfulfilled, onrejected);
  }

  /** @internal */
  _asPromise(): Promise<T> {
    let p = this._promise;
    if (p === undefined) {
      p = new Promise<T>((resolve, reject) => {
        const settle = (fut: Future<T>): void => {
          fut._loop._adopted?.delete(fut);
          if (fut._state === CANCELLED) reject(fut._makeCancelledError());
          else if (fut._exception !== undefined) reject(fut.exception());
          else resolve(fut._result as T);
        };
        if (this._state !== PENDING) {
          settle(this);
        } else {
          this._addCallback(settle, currentContext());
          // If the loop closes first, the promise would wait forever: close() rejects it (issue 19 §4).
          (this._loop._adopted ??= new Map()).set(this, reject);
        }
      });
      this._promise = p;
    }
    return p;
  }

  // -- repr ------------------------------------------------------------------------------------------

  /** @internal CPython's `_future_repr_info`. */
  _reprInfo(): string[] {
    const info = [STATE_NAMES[this._state].toLowerCase()];
    if (this._state === FINISHED) {
      if (this._exception !== undefined) info.push(`exception=${repr(this._exception)}`);
      else info.push(`result=${repr(this._result)}`);
    }
    const cbs = this._callbackList();
    if (cbs.length > 0) {
      const names = cbs.map((c) => `${callbackName(c)}()`);
      const shown =
        names.length > 2 ? [names[0], `<${names.length - 2} more>`, names[names.length - 1]] : names;
      info.push(`cb=[${shown.join(', ')}]`);
    }
    const created = createdAt(this._sourceTraceback);
    if (created !== null) info.push(`created at ${created}`);
    return info;
  }

  toString(): string {
    return `<${className(this.constructor)} ${this._reprInfo().join(' ')}>`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

/** @internal A done-callback's second slot: its Context, or, next to `taskWakeup`, the waiting Task. */
type CallbackSlot = Context | WakeableTask;

/** @internal What a Task offers the future it waits for (tasks.ts implements it; no import cycle). */
export interface WakeableTask {
  _context: Context;
  /** CPython's `Task.__wakeup`: the future the task waits for (its `_futWaiter`) is done. */
  _wakeup(): void;
}

/**
 * @internal The done-callback a waiting Task is registered with (see `_addTaskWakeup`); it only marks the
 * slot — the loop calls `wakeTask(task)`. Its repr name is CPython's.
 */
export function taskWakeup(_fut: Future<any>): void {
  throw new RuntimeError('Task.task_wakeup is run by the loop, not called');
}
setReprName(taskWakeup, 'Task.task_wakeup');

/** @internal The loop callback that wakes a waiting task (its argument is the task; see tasks.ts handleTask). */
export function wakeTask(task: WakeableTask): void {
  task._wakeup();
}
setReprName(wakeTask, 'Task.task_wakeup');

/** True for tsyncio Futures and Tasks (and duck-typed futures that carry the brand). */
export function isFuture(obj: unknown): obj is Future<unknown> {
  return (
    obj instanceof Future ||
    (typeof obj === 'object' && obj !== null && (obj.constructor as any)?.[FUTURE_BRAND] === true)
  );
}

/**
 * @internal A CancelledError made by the loop itself (to wake a task whose awaited future was cancelled,
 * or for gather's results), outside debug mode. [HOT: every cancelled task makes one or two]
 *
 * Constructing a real Error costs ~0.5 µs even with `Error.stackTraceLimit = 0` (V8 still records a stack
 * for uncaught-exception reporting, which Node switches on) — a sixth of cancelling a task. Such an error
 * would only list the loop's own frames anyway: there is nothing of the user's in its stack (Python's
 * traceback of it shows the coroutine frames it passes through, which JS cannot show either way). So this
 * is a plain object on CancelledError's prototype chain, ~10x cheaper: `instanceof CancelledError` and
 * `instanceof Error` hold, `name`, `message`, `args`, `stack` (`CancelledError: msg`), `constructor`,
 * `toString()` and Node's `util.inspect` output are those of `new CancelledError(msg)`; only
 * `util.types.isNativeError()` and `Object.prototype.toString` tell it apart (docs/PYTHON_DIFFERENCES.md).
 * Debug mode makes real errors with full stacks.
 */
class LoopCancelledError {
  // Private, so that they stay out of Object.keys, JSON and inspect output, like an Error's own
  // non-enumerable `message` and `stack`.
  #message: string;
  #stack: string | undefined = undefined;
  /** Python's `args`: `[msg]`, or `[]` without a message (an own enumerable field, as CancelledError's). */
  args: unknown[];

  constructor(msg: unknown) {
    const none = msg === undefined || msg === null;
    this.#message = none ? '' : String(msg);
    this.args = none ? [] : [msg];
  }

  get message(): string {
    return this.#message;
  }

  set message(value: string) {
    this.#message = value;
  }

  get stack(): string {
    return this.#stack ?? (this.#message === '' ? 'CancelledError' : `CancelledError: ${this.#message}`);
  }

  set stack(value: string) {
    this.#stack = value;
  }
}
Object.setPrototypeOf(LoopCancelledError.prototype, CancelledError.prototype);
Object.defineProperty(LoopCancelledError.prototype, 'constructor', {
  value: CancelledError,
  writable: true,
  configurable: true,
});

/** @internal See LoopCancelledError. */
export function bareCancelledError(msg: unknown): CancelledError {
  return new LoopCancelledError(msg) as unknown as CancelledError;
}

/** @internal Set the result unless the future was cancelled (CPython's `_set_result_unless_cancelled`). */
export function setResultUnlessCancelled<T>(fut: Future<T>, result: T): void {
  if (fut._state === CANCELLED) return;
  fut.setResult(result);
}

/** @internal Copy the state of a done future into another (CPython's `_copy_future_state`). */
export function copyFutureState<T>(source: Future<T>, dest: Future<T>): void {
  if (dest._state === CANCELLED) return;
  if (source._state === CANCELLED) {
    dest.cancel();
    return;
  }
  const exc = source.exception();
  if (exc !== undefined) dest._setException(exc);
  else dest.setResult(source._result as T);
}

/** @internal Record that `waiter` awaits `fut` (call graph; CPython's `future_add_to_awaited_by`). */
export function futureAddToAwaitedBy(fut: Future<any>, waiter: Future<any>): void {
  const cur = fut._awaitedBy;
  if (cur === null) fut._awaitedBy = waiter;
  else if (cur instanceof Set) cur.add(waiter);
  else if (cur !== waiter) fut._awaitedBy = new Set([cur, waiter]);
}

/** @internal */
export function futureDiscardFromAwaitedBy(fut: Future<any>, waiter: Future<any>): void {
  const cur = fut._awaitedBy;
  if (cur === waiter) fut._awaitedBy = null;
  else if (cur instanceof Set) cur.delete(waiter);
}

/**
 * @internal THE AWAIT PRIMITIVE: suspend the running task on `fut` (CPython's `Future.__await__` up to its
 * `yield self`). An awaitable body's `next()` returns what this returns; the Task then waits for `fut` and
 * calls `next()` again once it is done. It marks the future as awaited with `yield*` (F_BLOCKING, which the
 * Task checks and clears) and, while await stacks are tracked, records the task's await chain.
 *
 * Call it directly from the body's `next()`: the recorded stack starts at that caller. A hand-written body
 * (an iterator object instead of a generator) has no generator frame of its own in the stack, so it names
 * itself with `body` (`'Queue.get'`), and its `next()` frame is shown as that coroutine frame (call graphs
 * list `async Queue.get()` as CPython's do). [HOT: every blocking await; the result object is the only
 * allocation, as `yield` itself would make]
 */
export function suspendOn(fut: Future<any>, body?: string): IteratorYieldResult<Instruction> {
  fut._flags |= F_BLOCKING;
  // Still inside the awaiting coroutines' frames: the JS stack *is* the await chain.
  if (coroutineDebug.awaitStacks) recordAwaitStack(fut._loop._currentTask, body, suspendOn);
  // The Task receives the future itself; the type says Instruction (see coroutines.ts).
  return { value: fut as unknown as Instruction, done: false };
}

/** What a bare yield hands the Task: shared, never allocated per step (yield* and Task only read it). */
const YIELD_BARE: IteratorYieldResult<Instruction> = { value: YIELD_NOW, done: false };

/**
 * @internal The other suspension of the await protocol: a bare yield, which gives up the rest of this loop
 * iteration (`sleep(0)`). Like suspendOn, it records the await chain while await stacks are tracked; call
 * it directly from the body's `next()`. [HOT: every sleep(0); allocates nothing]
 */
export function suspendBare(body?: string): IteratorYieldResult<Instruction> {
  if (coroutineDebug.awaitStacks) {
    recordAwaitStack(_getRunningLoop()?._currentTask ?? null, body, suspendBare);
  }
  return YIELD_BARE;
}

/**
 * Remember where `task` suspends, while the suspending coroutines' generator frames are still on the JS
 * stack; the stack starts at the caller of `primitive`. Unformatted until someone asks.
 */
function recordAwaitStack(
  task: { _awaitStack: RawStack | undefined } | null,
  body: string | undefined,
  primitive: (...args: any[]) => unknown,
): void {
  if (task === null) return;
  const raw = captureRawStack(64, primitive);
  if (body !== undefined) raw.body = body;
  task._awaitStack = raw;
}

/** @internal Internal state access for tasks.ts. */
export const _futureStates = { PENDING, CANCELLED, FINISHED } as const;
