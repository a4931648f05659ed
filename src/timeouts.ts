/**
 * timeout(), timeoutAt() and Timeout (CPython's timeouts.py).
 *
 * A Timeout is an async context manager that cancels *its own task* at the deadline and, on exit, turns
 * that cancellation — and only that one — into TimeoutError. It is built entirely from Task.cancel() and
 * the cancel/uncancel bookkeeping:
 *   - aenter records `task.cancelling()`;
 *   - at the deadline, `task.cancel()` (state `expiring`): the body sees CancelledError at its suspension
 *     point and its `finally` blocks run;
 *   - aexit calls `task.uncancel()`. If the count is back to what aenter saw, no one else asked for a
 *     cancellation since, so the CancelledError was ours: raise TimeoutError from it. If it is higher, an
 *     outer timeout or an explicit `task.cancel()` also wants the task cancelled: let CancelledError through
 *     (that is how nested timeouts with the same deadline leave the TimeoutError to the outermost one).
 *
 * Exception chaining. Python sets `__cause__` and `__context__`; tsyncio uses `cause` (ES2022) and a
 * `context` property. When the block ends with another error after the timeout's cancellation was
 * delivered (an error raised in a `finally` during the cancellation), CPython splices a TimeoutError into
 * that error's implicit `__context__` chain just before the CancelledError. JavaScript keeps no implicit
 * chain, so tsyncio splices it before a CancelledError found on the `context` chain or, when there is none,
 * appends it at the end of the chain (see docs/PYTHON_DIFFERENCES.md).
 */

import { refuseAwait } from './_internal/args.js';
import type { EventLoop } from './base_events.js';
import { currentContext } from './contextvars.js';
import { Coroutine, type Instruction } from './coroutines.js';
import type { Handle } from './events.js';
import { getRunningLoop } from './events.js';
import { CancelledError, ExceptionGroup, RuntimeError, TimeoutError } from './exceptions.js';
import { repr } from './format_helpers.js';
import type { AsyncContextManager } from './syntax.js';
import type { Task } from './tasks.js';

/** Timeout's life cycle; the strings are Python's `_State` values. */
export type TimeoutState = 'created' | 'active' | 'expiring' | 'expired' | 'finished';

const AENTER_INFO = { name: 'aenter', qualname: 'Timeout.aenter' };
const AEXIT_INFO = { name: 'aexit', qualname: 'Timeout.aexit' };

function checkWhen(value: unknown, what: string): number | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'number') {
    throw new TypeError(`${what} must be a number or None, got ${repr(value)}`);
  }
  return value;
}

/**
 * An asynchronous context manager that cancels the enclosed block at a deadline on the loop's clock and
 * raises TimeoutError in its place. Use `timeout()` or `timeoutAt()` rather than the constructor.
 *
 * ```ts
 * yield* asyncWith(timeout(10), function* () {
 *   yield* longRunningTask();
 * });
 * ```
 */
export class Timeout implements AsyncContextManager<Timeout> {
  /** @internal */ _state: TimeoutState = 'created';
  /** @internal */ _timeoutHandler: Handle | null = null;
  /** @internal */ _task: Task<any> | null = null;
  /** @internal */ _when: number | null;
  /** @internal `task.cancelling()` at entry */ _cancelling = 0;

  /**
   * A timeout at loop time `when`: null or undefined never expires; a deadline already passed expires on
   * the next loop iteration.
   */
  constructor(when: number | null | undefined) {
    this._when = checkWhen(when, 'when');
  }

  /** The current deadline (undefined when disabled). */
  when(): number | undefined {
    return this._when ?? undefined;
  }

  /** Move the deadline (null/undefined disables it). RuntimeError unless the timeout is active. */
  reschedule(when: number | null | undefined): void {
    if (this._state !== 'active') {
      if (this._state === 'created') throw new RuntimeError('Timeout has not been entered');
      throw new RuntimeError(`Cannot change state of ${this._state} Timeout`);
    }
    const deadline = checkWhen(when, 'when');
    this._when = deadline;
    if (this._timeoutHandler !== null) this._timeoutHandler.cancel();
    if (deadline === null || deadline === Infinity) {
      // An infinite deadline never comes: no timer (one would also pull a virtual clock to infinity).
      this._timeoutHandler = null;
    } else {
      const loop: EventLoop = getRunningLoop();
      // The callback touches no context variable: the current context is used as is, without a copy.
      // `!(deadline > now)` rather than `deadline <= now`: a NaN deadline expires at once, as in CPython
      // (whose loop treats a NaN timer as due).
      this._timeoutHandler = !(deadline > loop.time())
        ? loop._callSoonOne(onTimeout, this, currentContext())
        : loop._callAtOne(deadline, onTimeout, this, currentContext());
    }
  }

  /** True once the deadline has passed while the block was running. */
  expired(): boolean {
    return this._state === 'expiring' || this._state === 'expired';
  }

  /** Enter: bind to the current task and schedule the deadline. */
  aenter(): Coroutine<this> {
    return new Coroutine(this._aenter(), AENTER_INFO);
  }

  /** Exit: convert this timeout's own cancellation into TimeoutError (see the module header). */
  aexit(error: unknown): Coroutine<undefined> {
    return new Coroutine(this._aexit(error), AEXIT_INFO);
  }

  private *_aenter(): Generator<Instruction, this, unknown> {
    if (this._state !== 'created') throw new RuntimeError('Timeout has already been entered');
    const task = getRunningLoop()._currentTask;
    if (task === null) throw new RuntimeError('Timeout should be used inside a task');
    this._state = 'active';
    this._task = task;
    this._cancelling = task.cancelling();
    this.reschedule(this._when);
    return this;
  }

  private *_aexit(error: unknown): Generator<Instruction, undefined, unknown> {
    if (this._state !== 'active' && this._state !== 'expiring') {
      throw new RuntimeError(`Timeout.aexit() called in state ${this._state}`);
    }
    if (this._timeoutHandler !== null) {
      this._timeoutHandler.cancel();
      this._timeoutHandler = null;
    }
    if (this._state === 'expiring') {
      this._state = 'expired';
      if (this._task!.uncancel() <= this._cancelling && error !== undefined) {
        // No new cancel requests since entry: the cancellation was ours, we handle it.
        if (error instanceof CancelledError) {
          const te = new TimeoutError();
          te.cause = error;
          (te as { context?: unknown }).context = error;
          throw te;
        }
        insertTimeoutError(error);
        if (error instanceof ExceptionGroup) {
          for (const exc of error.exceptions) insertTimeoutError(exc);
        }
      }
    } else {
      this._state = 'finished';
    }
    this._task = null;
    return undefined;
  }

  toString(): string {
    let info = '';
    if (this._state === 'active') {
      info = ` when=${this._when === null ? 'None' : formatFloat(Math.round(this._when * 1000) / 1000)}`;
    }
    return `<Timeout [${this._state}]${info}>`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

function onTimeout(self: Timeout): void {
  self._task!.cancel();
  self._state = 'expiring';
  // Drop the reference early.
  self._timeoutHandler = null;
}

/** Python's float repr for the values a deadline takes (`5` prints as `5.0`). */
function formatFloat(x: number): string {
  const s = String(x);
  return Number.isInteger(x) && !s.includes('e') ? `${s}.0` : s;
}

/**
 * CPython's `_insert_timeout_error`: put a TimeoutError (caused by the CancelledError) into `exc`'s context
 * chain just before the first CancelledError; without one (JavaScript keeps no implicit chain), at the end.
 */
function insertTimeoutError(exc: unknown): void {
  if (typeof exc !== 'object' || exc === null) return;
  let cur = exc as { context?: unknown };
  const seen = new Set<unknown>();
  for (;;) {
    seen.add(cur);
    const ctx = cur.context;
    if (ctx instanceof CancelledError) {
      const te = new TimeoutError();
      te.cause = ctx;
      (te as { context?: unknown }).context = ctx;
      cur.context = te;
      return;
    }
    if (typeof ctx !== 'object' || ctx === null || seen.has(ctx)) break;
    cur = ctx as { context?: unknown };
  }
  if (cur.context === undefined || cur.context === null) {
    try {
      cur.context = new TimeoutError();
    } catch {
      // A frozen error object: nothing to record.
    }
  }
}

/**
 * A Timeout `delay` seconds from now (null or undefined: no deadline). A delay of 0 or less expires on
 * the next loop iteration, so even `yield* sleep(0)` inside raises TimeoutError.
 *
 * ```ts
 * yield* asyncWith(timeout(10), function* () {
 *   yield* longRunningTask();
 * });
 * ```
 */
export function timeout(delay: number | null | undefined): Timeout {
  const loop = getRunningLoop();
  const d = checkWhen(delay, 'delay');
  return new Timeout(d === null ? null : loop.time() + d);
}

/** A Timeout at `when` on the loop's clock (`loop.time()`; null or undefined: no deadline). */
export function timeoutAt(when: number | null | undefined): Timeout {
  return new Timeout(when);
}

// `yield* timeout(1)`: CPython's "'Timeout' object can't be awaited".
refuseAwait(Timeout);
