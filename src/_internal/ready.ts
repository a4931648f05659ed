/**
 * The loop's ready queue: a ring buffer of (callback, argument, context) triples. [HOT]
 *
 * CPython's ready queue holds Handle objects. Most of what the loop schedules is its own work — a task's
 * next step, a task's wakeup, a future's done-callback — and nobody ever holds or cancels the Handle of
 * such a call. Those are stored here as three slots and cost no allocation at all. A Handle is stored as
 * `(null, handle, null)` when someone can hold it (callSoon returns it, a due TimerHandle) or when the
 * loop is instrumented (debug mode, tracing), where the reports need one.
 */
import type { Context } from '../contextvars.js';
import type { Handle } from '../events.js';

const INITIAL_SLOTS = 64 * 3;
// Keep up to 65536 entries' worth of buffer (1.5 MB) when the queue drains: bursts of that size (timers
// falling due together, a gather of many tasks) do not re-grow it each time; a bigger burst's buffer is
// given back.
const SHRINK_SLOTS = 65536 * 3;

export type ReadyCallback = (arg: any) => unknown;

export class ReadyQueue {
  /** @internal three slots per entry: callback (null for a Handle), argument (or the Handle), context */
  _buf: unknown[];
  /** @internal slot index of the first entry */ _head = 0;
  /** @internal slot index one past the last entry */ _tail = 0;
  /** @internal number of entries */ _count = 0;
  /** @internal set by shift(): the entry's argument and context */
  _arg: unknown = undefined;
  /** @internal */ _ctx: Context | null = null;

  constructor() {
    this._buf = new Array(INITIAL_SLOTS);
  }

  get length(): number {
    return this._count;
  }

  /** Append a call of `fn(arg)` in `ctx`. */
  push(fn: ReadyCallback, arg: unknown, ctx: Context): void {
    this._put(fn, arg, ctx);
  }

  /** Append a Handle (run with `handle._run()` unless cancelled by then). */
  pushHandle(handle: Handle): void {
    this._put(null, handle, null);
  }

  private _put(fn: ReadyCallback | null, arg: unknown, ctx: Context | null): void {
    let buf = this._buf;
    if (this._count * 3 === buf.length) buf = this._grow();
    const t = this._tail;
    buf[t] = fn;
    buf[t + 1] = arg;
    buf[t + 2] = ctx;
    this._tail = t + 3 === buf.length ? 0 : t + 3;
    this._count++;
  }

  /**
   * Remove the first entry: returns its callback (null for a Handle) and leaves the argument (or the
   * Handle) in `_arg` and the context in `_ctx`. The caller checks `length` first.
   */
  shift(): ReadyCallback | null {
    const buf = this._buf;
    const h = this._head;
    const fn = buf[h] as ReadyCallback | null;
    this._arg = buf[h + 1];
    this._ctx = buf[h + 2] as Context | null;
    buf[h] = undefined;
    buf[h + 1] = undefined;
    buf[h + 2] = undefined;
    this._head = h + 3 === buf.length ? 0 : h + 3;
    if (--this._count === 0 && buf.length > SHRINK_SLOTS) {
      // Drained after a burst (100k tasks started at once): give the big buffer back.
      this._buf = new Array(INITIAL_SLOTS);
      this._head = this._tail = 0;
    }
    return fn;
  }

  /** The Handle at position i from the head, or undefined (out of range, or a plain triple). Tracing. */
  at(i: number): Handle | undefined {
    if (i < 0 || i >= this._count) return undefined;
    const slot = (this._head + i * 3) % this._buf.length;
    return this._buf[slot] === null ? (this._buf[slot + 1] as Handle) : undefined;
  }

  clear(): void {
    this._buf = new Array(INITIAL_SLOTS);
    this._head = this._tail = this._count = 0;
    this._arg = undefined;
    this._ctx = null;
  }

  private _grow(): unknown[] {
    // Full: unroll into a buffer twice the size, oldest entry first.
    const old = this._buf;
    const len = old.length;
    const next = new Array(len * 2);
    // Oldest first: the run from the head to the end, then the wrapped part from 0.
    const head = this._head;
    let j = 0;
    for (let i = head; i < len; i++) next[j++] = old[i];
    for (let i = 0; i < head; i++) next[j++] = old[i];
    this._buf = next;
    this._head = 0;
    this._tail = len;
    return next;
  }
}
