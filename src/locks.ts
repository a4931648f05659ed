/**
 * Synchronization primitives (CPython's locks.py): Lock, Event, Condition, Semaphore, BoundedSemaphore,
 * Barrier.
 *
 * Each blocking method is a coroutine; `yield* lock.acquire()` is `await lock.acquire()`. Lock, Condition
 * and the semaphores are async context managers (`aenter()` acquires, `aexit()` releases), so
 * `yield* asyncWith(lock, function* () { … })` is `async with lock: …`; Barrier's `aenter()` waits at the
 * barrier and returns the arrival index.
 *
 * FAIRNESS AND CANCELLATION (the invariants CPython's tests pin, kept here line for line):
 *   - Lock and Semaphore are FIFO: a newcomer does not take a free lock or permit while an earlier,
 *     non-cancelled waiter exists — even when the Semaphore's value is > 0 (its waiters were woken but have
 *     not run yet).
 *   - Waking a waiter sets its Future's result; the lock is only taken when that task runs. If the task is
 *     cancelled in between, it passes the wake-up on (Lock) or gives its permit back (Semaphore), so
 *     neither the lock nor a permit is ever lost.
 *   - Condition.wait() always re-acquires the lock before returning or raising, even when cancelled, and
 *     re-raises the very CancelledError it received.
 *
 * Waiters live in WaiterLists (see _internal/waiters.ts): CPython's deques with O(1) removal.
 */

import { Waiter, WaiterList } from './_internal/waiters.js';
import { Coroutine, type Instruction } from './coroutines.js';
import { isAsyncFunction } from './events.js';
import { BrokenBarrierError, CancelledError, RuntimeError, ValueError } from './exceptions.js';
import { objectId, pyTypeName } from './format_helpers.js';
import { LoopBoundMixin } from './mixins.js';

function info(qualname: string): { name: string; qualname: string } {
  return { name: qualname.slice(qualname.lastIndexOf('.') + 1), qualname };
}

/** Python's `<asyncio.locks.Lock object at 0x… [locked]>`; a subclass shows just its own name. */
function objectRepr(obj: object, extra: string): string {
  const cls = obj.constructor;
  const module = BUILTIN_CLASSES.has(cls) ? 'asyncio.locks.' : '';
  return `<${module}${cls.name} object at ${objectId(obj)} [${extra}]>`;
}

function waitersSuffix(extra: string, waiters: WaiterList | null): string {
  return waiters !== null && waiters.length > 0 ? `${extra}, waiters:${waiters.length}` : extra;
}

const LOCK_ACQUIRE = /* @__PURE__ */ info('Lock.acquire');
const AENTER = /* @__PURE__ */ info('_ContextManagerMixin.__aenter__');
const AEXIT = /* @__PURE__ */ info('_ContextManagerMixin.__aexit__');

/** The async-context-manager half shared by Lock, Condition and the semaphores (`async with lock:`). */
abstract class ContextManagerMixin extends LoopBoundMixin {
  abstract acquire(): Coroutine<true>;
  abstract release(): void;

  /** `async with` entry: acquire; the `as` target is undefined (Python: None). */
  aenter(): Coroutine<undefined> {
    return new Coroutine(this._aenter(), AENTER);
  }

  private *_aenter(): Generator<Instruction, undefined, unknown> {
    yield* this.acquire();
    return undefined;
  }

  /** `async with` exit: release; never suppresses the error. */
  aexit(_error?: unknown): Coroutine<undefined> {
    return new Coroutine(this._aexit(), AEXIT);
  }

  // biome-ignore lint/correctness/useYield: a coroutine that never suspends, like CPython's __aexit__.
  private *_aexit(): Generator<Instruction, undefined, unknown> {
    this.release();
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Lock

/**
 * A primitive lock, not owned by any task. `acquire()` waits until it is unlocked, then locks it;
 * `release()` unlocks it and lets the longest-waiting task proceed. Releasing an unlocked lock raises
 * RuntimeError.
 */
export class Lock extends ContextManagerMixin {
  /** @internal created on first contention, like CPython's `_waiters = None` */
  _waiters: WaiterList | null = null;
  /** @internal */ _locked = false;

  /** True if the lock is held. */
  locked(): boolean {
    return this._locked;
  }

  /** Acquire the lock, waiting for it if needed; returns true. */
  acquire(): Coroutine<true> {
    return new Coroutine(this._acquire(), LOCK_ACQUIRE);
  }

  private *_acquire(): Generator<Instruction, true, unknown> {
    // Fair scheduling: wait our turn. Jumping the queue when every waiter is cancelled is an optimisation.
    const waiters = this._waiters;
    if (!this._locked && (waiters === null || waiters.length === waiters.cancelled)) {
      this._locked = true;
      return true;
    }
    const list = waiters ?? (this._waiters = new WaiterList());
    const fut = new Waiter<true>(this._getLoop());
    list.push(fut);
    try {
      try {
        yield* fut;
      } finally {
        list.remove(fut);
      }
    } catch (e) {
      if (e instanceof CancelledError) {
        // Keep the invariant: if the lock is not claimed (or about to be claimed by us) and a task is
        // waiting, the one at the head must run.
        if (!this._locked) this._wakeUpFirst();
      }
      throw e;
    }
    this._locked = true;
    return true;
  }

  /** Release the lock and wake the first waiter; RuntimeError if it is not locked. */
  release(): void {
    if (this._locked) {
      this._locked = false;
      this._wakeUpFirst();
    } else {
      throw new RuntimeError('Lock is not acquired.');
    }
  }

  /** Make sure the first waiter wakes up (a done first waiter is already on its way). */
  private _wakeUpFirst(): void {
    const fut = this._waiters?.first() ?? null;
    if (fut !== null && !fut.done()) fut.setResult(true);
  }

  override toString(): string {
    return objectRepr(this, waitersSuffix(this._locked ? 'locked' : 'unlocked', this._waiters));
  }
}

// ---------------------------------------------------------------------------------------------
// Event

const EVENT_WAIT = /* @__PURE__ */ info('Event.wait');

/**
 * An event flag: `wait()` blocks until `set()` makes it true; `clear()` makes it false again. Tasks already
 * woken by `set()` return true even if the flag is cleared before they run.
 */
export class Event extends LoopBoundMixin {
  /** @internal */ _waiters = new WaiterList();
  /** @internal */ _value = false;

  /** True if and only if the flag is set. */
  isSet(): boolean {
    return this._value;
  }

  /** Set the flag and wake every waiting task; later `wait()` calls return at once. */
  set(): void {
    if (!this._value) {
      this._value = true;
      this._waiters.wakePending(Number.POSITIVE_INFINITY, true);
    }
  }

  /** Reset the flag: later `wait()` calls block until `set()`. */
  clear(): void {
    this._value = false;
  }

  /** Wait until the flag is set; returns true. */
  wait(): Coroutine<true> {
    return new Coroutine(this._wait(), EVENT_WAIT);
  }

  private *_wait(): Generator<Instruction, true, unknown> {
    if (this._value) return true;
    const fut = new Waiter<true>(this._getLoop());
    this._waiters.push(fut);
    try {
      yield* fut;
      return true;
    } finally {
      this._waiters.remove(fut);
    }
  }

  override toString(): string {
    return objectRepr(this, waitersSuffix(this._value ? 'set' : 'unset', this._waiters));
  }
}

// ---------------------------------------------------------------------------------------------
// Condition

const CONDITION_WAIT = /* @__PURE__ */ info('Condition.wait');
const CONDITION_WAIT_FOR = /* @__PURE__ */ info('Condition.wait_for');

/**
 * A condition variable: tasks holding the lock `wait()` until another task `notify()`s them. Uses the
 * given Lock (share one between several conditions) or a new one.
 */
/** A predicate that returned a promise (or any thenable) is always truthy: refuse it. */
function checkPredicateResult<R>(result: R): R {
  if (
    (typeof result === 'object' || typeof result === 'function') &&
    result !== null &&
    typeof (result as unknown as PromiseLike<unknown>).then === 'function'
  ) {
    // Its rejection (if any) is ours to handle now: no unhandled rejection.
    Promise.resolve(result).then(undefined, () => {});
    throw new TypeError(
      'Condition.waitFor() predicate returned a thenable: it must return its answer synchronously',
    );
  }
  return result;
}

export class Condition extends ContextManagerMixin {
  /** @internal */ _lock: Lock;
  /** @internal */ _waiters = new WaiterList();

  constructor(lock?: Lock | null) {
    super();
    if (lock === undefined || lock === null) lock = new Lock();
    else if (!(lock instanceof Lock)) throw new TypeError(`lock must be a Lock, not ${pyTypeName(lock)}`);
    this._lock = lock;
  }

  /** The underlying lock's `locked()`. */
  locked(): boolean {
    return this._lock._locked;
  }

  /** The underlying lock's `acquire()`. */
  acquire(): Coroutine<true> {
    return this._lock.acquire();
  }

  /** The underlying lock's `release()`. */
  release(): void {
    this._lock.release();
  }

  /**
   * Release the lock, wait until notified, re-acquire the lock, return true. RuntimeError if the lock is
   * not held. The lock is held again whenever this returns or raises — a cancellation waits for it.
   */
  wait(): Coroutine<true> {
    return new Coroutine(this._wait(), CONDITION_WAIT);
  }

  private *_wait(): Generator<Instruction, true, unknown> {
    if (!this.locked()) throw new RuntimeError('cannot wait on un-acquired lock');
    const fut = new Waiter<boolean>(this._getLoop());
    this.release();
    let waitError: unknown;
    let waitFailed = false;
    try {
      this._waiters.push(fut);
      try {
        yield* fut;
      } finally {
        this._waiters.remove(fut);
      }
    } catch (e) {
      waitError = e;
      waitFailed = true;
    }
    // Re-acquire the lock even if the wait was cancelled. Only CancelledError is retried: any other error
    // from acquire must not make us spin. (CPython does this in a `finally`, so an error here replaces the
    // wait's own error.)
    let cancelled: CancelledError | undefined;
    for (;;) {
      try {
        yield* this.acquire();
        break;
      } catch (e) {
        if (!(e instanceof CancelledError)) {
          waitError = e;
          waitFailed = true;
          cancelled = undefined;
          break;
        }
        cancelled = e; // keep the most recent instance
      }
    }
    if (cancelled !== undefined) {
      waitError = cancelled;
      waitFailed = true;
    }
    if (waitFailed) {
      // Whatever is raised here may have happened after this task was notified: notify another one
      // instead (a spurious wake-up, which the condition variable protocol allows).
      this._notify(1);
      throw waitError;
    }
    return true;
  }

  /**
   * Wait until `predicate()` is truthy (JavaScript truthiness), re-checking after each wake-up; returns
   * its last value. The predicate answers synchronously: an async function is refused with TypeError, and
   * a predicate that returns a promise raises TypeError in the waiting coroutine.
   */
  waitFor<R>(predicate: () => R): Coroutine<R> {
    if (typeof predicate !== 'function') {
      throw new TypeError(`'${pyTypeName(predicate)}' object is not callable`);
    }
    if (isAsyncFunction(predicate)) {
      // Its Promise is always truthy: waitFor would return at once, without waiting.
      throw new TypeError('Condition.waitFor() predicate must be a plain function, not an async function');
    }
    return new Coroutine(this._waitFor(predicate), CONDITION_WAIT_FOR);
  }

  private *_waitFor<R>(predicate: () => R): Generator<Instruction, R, unknown> {
    let result = checkPredicateResult(predicate());
    while (!result) {
      yield* this.wait();
      result = checkPredicateResult(predicate());
    }
    return result;
  }

  /** Wake up to `n` waiting tasks (default 1); RuntimeError if the lock is not held. */
  notify(n = 1): void {
    if (!this.locked()) throw new RuntimeError('cannot notify on un-acquired lock');
    this._notify(n);
  }

  /** @internal */
  _notify(n: number): void {
    this._waiters.wakePending(n, false);
  }

  /** Wake every waiting task; RuntimeError if the lock is not held. */
  notifyAll(): void {
    this.notify(this._waiters.length);
  }

  override toString(): string {
    return objectRepr(this, waitersSuffix(this.locked() ? 'locked' : 'unlocked', this._waiters));
  }
}

// ---------------------------------------------------------------------------------------------
// Semaphore and BoundedSemaphore

const SEMAPHORE_ACQUIRE = /* @__PURE__ */ info('Semaphore.acquire');

/**
 * A counter of permits: `acquire()` takes one, waiting while none is free; `release()` gives one back.
 * FIFO: while earlier tasks wait, `locked()` is true and a newcomer waits too, even if permits are free.
 */
export class Semaphore extends ContextManagerMixin {
  /** @internal */ _waiters: WaiterList | null = null;
  /** @internal */ _value: number;

  constructor(value = 1) {
    super();
    if (typeof value !== 'number') {
      throw new TypeError(`'<' not supported between instances of '${pyTypeName(value)}' and 'int'`);
    }
    if (value < 0) throw new ValueError('Semaphore initial value must be >= 0');
    this._value = value;
  }

  /** True if `acquire()` would wait: no permit is free, or other tasks are waiting first. */
  locked(): boolean {
    return this._value === 0 || (this._waiters !== null && this._waiters.hasUncancelled());
  }

  /** Take a permit, waiting for one if needed; returns true. */
  acquire(): Coroutine<true> {
    return new Coroutine(this._acquire(), SEMAPHORE_ACQUIRE);
  }

  private *_acquire(): Generator<Instruction, true, unknown> {
    if (!this.locked()) {
      // Keep FIFO order: this path is only taken when nobody is waiting.
      this._value -= 1;
      return true;
    }
    const waiters = this._waiters ?? (this._waiters = new WaiterList());
    const fut = new Waiter<true>(this._getLoop());
    waiters.push(fut);
    try {
      try {
        yield* fut;
      } finally {
        waiters.remove(fut);
      }
    } catch (e) {
      if (e instanceof CancelledError && fut.done() && !fut.cancelled()) {
        // We were woken by _wakeUpNext (which took a permit for us) but will not acquire: give it back.
        this._value += 1;
      }
      throw e;
    } finally {
      // New waiters may have arrived and had to wait because of FIFO: wake as many as there are permits.
      while (this._value > 0) {
        if (!this._wakeUpNext()) break;
      }
    }
    return true;
  }

  /** Give a permit back, waking the first waiting task if any. */
  release(): void {
    this._value += 1;
    this._wakeUpNext();
  }

  /** Wake the first waiter that is not done, taking a permit on its behalf; false if there was none. */
  private _wakeUpNext(): boolean {
    const fut = this._waiters?.firstPending() ?? null;
    if (fut === null) return false;
    this._value -= 1;
    fut.setResult(true);
    return true;
  }

  override toString(): string {
    const extra = this.locked() ? 'locked' : `unlocked, value:${this._value}`;
    return objectRepr(this, waitersSuffix(extra, this._waiters));
  }
}

/** A Semaphore that raises ValueError when released more times than it was acquired. */
export class BoundedSemaphore extends Semaphore {
  /** @internal */ _boundValue: number;

  constructor(value = 1) {
    super(value);
    this._boundValue = value;
  }

  override release(): void {
    if (this._value >= this._boundValue) throw new ValueError('BoundedSemaphore released too many times');
    super.release();
  }
}

// ---------------------------------------------------------------------------------------------
// Barrier

/** The states of a Barrier (CPython's `_BarrierState`). */
export type BarrierState = 'filling' | 'draining' | 'resetting' | 'broken';

const BARRIER_WAIT = /* @__PURE__ */ info('Barrier.wait');
const BARRIER_RESET = /* @__PURE__ */ info('Barrier.reset');
const BARRIER_ABORT = /* @__PURE__ */ info('Barrier.abort');
const BARRIER_AENTER = /* @__PURE__ */ info('Barrier.__aenter__');
const BARRIER_AEXIT = /* @__PURE__ */ info('Barrier.__aexit__');

/**
 * A barrier for a fixed number of tasks (`parties`): each `wait()` blocks until that many tasks are
 * waiting, then all are released together and each gets a distinct index in 0..parties-1. `abort()`
 * breaks it and `reset()` returns it to the initial state; tasks waiting then get BrokenBarrierError.
 */
export class Barrier extends LoopBoundMixin {
  /** @internal notifies every task when the state changes */ _cond = new Condition();
  /** @internal */ _parties: number;
  /** @internal */ _state: BarrierState = 'filling';
  /** @internal tasks inside wait() */ _count = 0;

  constructor(parties: number) {
    super();
    if (typeof parties !== 'number') {
      throw new TypeError(`'<' not supported between instances of '${pyTypeName(parties)}' and 'int'`);
    }
    if (parties < 1) throw new ValueError('parties must be >= 1');
    this._parties = parties;
  }

  /** `async with barrier as index:` — waits at the barrier and returns the arrival index. */
  aenter(): Coroutine<number> {
    return new Coroutine(this._aenter(), BARRIER_AENTER);
  }

  private *_aenter(): Generator<Instruction, number, unknown> {
    return yield* this.wait();
  }

  /** `async with` exit: nothing to undo. */
  aexit(_error?: unknown): Coroutine<undefined> {
    return new Coroutine(noop(), BARRIER_AEXIT);
  }

  /**
   * Wait until `parties` tasks are waiting; returns this task's index (0 … parties-1). Raises
   * BrokenBarrierError if the barrier is broken or reset while waiting.
   */
  wait(): Coroutine<number> {
    return new Coroutine(this._wait(), BARRIER_WAIT);
  }

  private *_wait(): Generator<Instruction, number, unknown> {
    const cond = this._cond;
    yield* cond.acquire();
    try {
      yield* this._block(); // Block while the barrier drains or resets.
      try {
        const index = this._count;
        this._count += 1;
        if (index + 1 === this._parties) {
          // We release the barrier.
          this._release();
        } else {
          yield* this._waitReleased();
        }
        return index;
      } finally {
        this._count -= 1;
        // Wake any task waiting for the barrier to drain.
        this._exit();
      }
    } finally {
      cond.release();
    }
  }

  // Block until the barrier is ready for us, or raise if it is broken.
  private *_block(): Generator<Instruction, void, unknown> {
    // Draining or resetting: wait until done (unless cancelled).
    yield* this._cond.waitFor(() => this._state !== 'draining' && this._state !== 'resetting');
    if (this._state === 'broken') throw new BrokenBarrierError('Barrier aborted');
  }

  // Release the tasks waiting in the barrier: later arrivals block until draining ends.
  private _release(): void {
    this._state = 'draining';
    this._cond.notifyAll();
  }

  // Wait in the barrier until released; raise if the barrier is reset or broken meanwhile.
  private *_waitReleased(): Generator<Instruction, void, unknown> {
    yield* this._cond.waitFor(() => this._state !== 'filling');
    if (this._state === 'broken' || this._state === 'resetting') {
      throw new BrokenBarrierError('Abort or reset of barrier');
    }
  }

  // The last task out of the barrier lets waiting tasks in again.
  private _exit(): void {
    if (this._count === 0) {
      if (this._state === 'resetting' || this._state === 'draining') this._state = 'filling';
      this._cond.notifyAll();
    }
  }

  /** Return the barrier to its initial state; tasks waiting in it get BrokenBarrierError. */
  reset(): Coroutine<void> {
    return new Coroutine(this._reset(), BARRIER_RESET);
  }

  private *_reset(): Generator<Instruction, void, unknown> {
    const cond = this._cond;
    yield* cond.acquire();
    try {
      if (this._count > 0) {
        // Reset the barrier, waking the tasks in it.
        if (this._state !== 'resetting') this._state = 'resetting';
      } else {
        this._state = 'filling';
      }
      cond.notifyAll();
    } finally {
      cond.release();
    }
  }

  /** Break the barrier: waiting tasks, and any later `wait()`, get BrokenBarrierError. */
  abort(): Coroutine<void> {
    return new Coroutine(this._abort(), BARRIER_ABORT);
  }

  private *_abort(): Generator<Instruction, void, unknown> {
    const cond = this._cond;
    yield* cond.acquire();
    try {
      this._state = 'broken';
      cond.notifyAll();
    } finally {
      cond.release();
    }
  }

  /** The number of tasks required to trip the barrier. */
  get parties(): number {
    return this._parties;
  }

  /** The number of tasks waiting at the barrier (0 unless it is filling). */
  get nWaiting(): number {
    return this._state === 'filling' ? this._count : 0;
  }

  /** True if the barrier is broken. */
  get broken(): boolean {
    return this._state === 'broken';
  }

  override toString(): string {
    let extra: string = this._state;
    if (!this.broken) extra += `, waiters:${this.nWaiting}/${this.parties}`;
    return objectRepr(this, extra);
  }
}

// biome-ignore lint/correctness/useYield: an `async def` with nothing to await.
function* noop(): Generator<Instruction, undefined, unknown> {
  return undefined;
}

const BUILTIN_CLASSES: ReadonlySet<unknown> = new Set([
  Lock,
  Event,
  Condition,
  Semaphore,
  BoundedSemaphore,
  Barrier,
]);
