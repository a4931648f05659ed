/**
 * Waiter futures and the FIFO lists that hold them (locks.py and queues.py keep `collections.deque`s of
 * futures).
 *
 * WHY NOT A DEQUE: CPython removes a waiter from the middle of its deque (`deque.remove(fut)`, O(n)) when the
 * waiting task is cancelled or finishes, and scans from the head for the first waiter that is not done yet
 * (`_wake_up_next`, `_notify`), also O(n) when many woken or cancelled waiters sit at the head. tsyncio
 * keeps the same FIFO semantics with O(1) operations:
 *   - the list is intrusive and doubly linked through the waiter itself: push, remove and shift are O(1)
 *     and allocate nothing beyond the waiter Future the primitive needs anyway;
 *   - `cursor` points at the first waiter that may still be pending. A waiter never becomes pending again
 *     once done while in a list (a recycled one re-enters at the tail, like a new one), and new waiters
 *     are appended behind it, so the cursor only moves forward: finding the
 *     first pending waiter is amortised O(1);
 *   - `cancelled` counts the cancelled waiters still in the list (a Waiter reports its own cancellation),
 *     which answers Lock's "are all waiters cancelled?" and Semaphore's "is any waiter not cancelled?" in
 *     O(1) instead of CPython's `all(...)`/`any(...)` scans.
 */
import type { EventLoop } from '../base_events.js';
import type { Context } from '../contextvars.js';
import { _futureStates, type DoneCallback, F_BLOCKING, F_LOG_TRACEBACK, Future } from '../futures.js';

const { PENDING, FINISHED } = _futureStates;
/**
 * Waiter._flags: a done-callback was added through the public API. Bit 8, the first of the range futures.ts
 * reserves for subclasses (its bit table).
 */
const W_OBSERVED = 1 << 8;
/** The _flags bits that keep a waiter from being recycled: every bit a Future or a Waiter may have. */
const NOT_RECYCLABLE = F_LOG_TRACEBACK | F_BLOCKING | W_OBSERVED;

/** A Future that can sit in one WaiterList. Looks like a plain Future from outside. */
export class Waiter<T = unknown> extends Future<T> {
  /** @internal the list holding this waiter, or null */ _list: WaiterList | null = null;
  /** @internal */ _prev: Waiter<any> | null = null;
  /** @internal */ _next: Waiter<any> | null = null;

  constructor(loop: EventLoop) {
    super({ loop });
  }

  override addDoneCallback(fn: DoneCallback<this>, options?: { context?: Context | null }): void {
    // Someone besides the awaiting Task will see this future when its callbacks run: never recycle it.
    this._flags |= W_OBSERVED;
    super.addDoneCallback(fn, options);
  }

  override cancel(msg?: unknown): boolean {
    if (!super.cancel(msg)) return false;
    if (this._list !== null) this._list.cancelled++;
    return true;
  }

  override toString(): string {
    // A waiter is an ordinary Future as far as anyone can tell (Task reprs show `wait_for=<Future …>`).
    return `<Future ${this._reprInfo().join(' ')}>`;
  }
}

/**
 * @internal True if `w` — a waiter its owner just saw done — can be made pending again for the owner's next
 * wait instead of allocating a new one [HOT: pingpong]. That is safe only when no one else can still see
 * the future: it finished with a plain result (not cancelled: a cancelled waiter's CancelledError and the
 * cancellation bookkeeping stay as they are), the Task that awaited it took it (the await flag is clear)
 * and was woken (the callback slot and the awaited-by link are empty), nobody added a done-callback
 * (W_OBSERVED: its callback receives the future after we move on) or asked for a promise, it is in no
 * list, and neither debug mode (creation tracebacks) nor a tracer is on.
 */
export function isRecyclable(w: Waiter<any>): boolean {
  return (
    w._state === FINISHED &&
    (w._flags & NOT_RECYCLABLE) === 0 &&
    w._exception === undefined &&
    w._cb0 === null &&
    w._cbs === null &&
    w._awaitedBy === null &&
    w._list === null &&
    w._promise === undefined &&
    !w._loop._debug &&
    w._loop._tracer === null
  );
}

/** @internal Make a waiter that passed `isRecyclable` pending again (its result was `undefined`). */
export function recycle<T>(w: Waiter<T>): Waiter<T> {
  w._state = PENDING;
  w._result = undefined;
  return w;
}

/** A FIFO of waiters with O(1) push/remove/shift and amortised O(1) "first pending waiter". */
export class WaiterList {
  /** @internal */ head: Waiter<any> | null = null;
  /** @internal */ tail: Waiter<any> | null = null;
  /** Number of waiters in the list (done or not), like `len(deque)`. */
  length = 0;
  /** Number of cancelled waiters in the list. */
  cancelled = 0;
  // Every waiter before `cursor` is done; null means every waiter is done.
  private cursor: Waiter<any> | null = null;

  push(w: Waiter<any>): void {
    w._list = this;
    w._next = null;
    w._prev = this.tail;
    if (this.tail === null) this.head = w;
    else this.tail._next = w;
    this.tail = w;
    this.length++;
    if (w.cancelled()) this.cancelled++;
    if (this.cursor === null && !w.done()) this.cursor = w;
  }

  /** Remove `w` if it is in this list; returns whether it was (CPython's remove without the ValueError). */
  remove(w: Waiter<any>): boolean {
    if (w._list !== this) return false;
    const prev = w._prev;
    const next = w._next;
    if (prev === null) this.head = next;
    else prev._next = next;
    if (next === null) this.tail = prev;
    else next._prev = prev;
    if (this.cursor === w) this.cursor = next;
    w._list = null;
    w._prev = null;
    w._next = null;
    this.length--;
    if (w.cancelled()) this.cancelled--;
    return true;
  }

  /** Remove and return the first waiter (`deque.popleft()`), or null when empty. */
  shift(): Waiter<any> | null {
    const w = this.head;
    if (w !== null) this.remove(w);
    return w;
  }

  /** The first waiter, done or not (`next(iter(deque))`), or null. */
  first(): Waiter<any> | null {
    return this.head;
  }

  /** The first waiter that is not done yet, or null. */
  firstPending(): Waiter<any> | null {
    let w = this.cursor;
    while (w !== null && w.done()) w = w._next;
    this.cursor = w;
    return w;
  }

  /** True if some waiter in the list is not cancelled (it may be done: woken and about to run). */
  hasUncancelled(): boolean {
    return this.length > this.cancelled;
  }

  /**
   * Set `result` on up to `n` pending waiters, oldest first; returns how many were woken. Setting a result
   * only schedules callbacks, so the list cannot change under this loop.
   */
  wakePending(n: number, result: unknown): number {
    let woken = 0;
    let w = this.firstPending();
    while (w !== null && woken < n) {
      if (!w.done()) {
        w.setResult(result);
        woken++;
      }
      w = w._next;
    }
    return woken;
  }
}
