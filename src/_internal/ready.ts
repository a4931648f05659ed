/**
 * The loop's ready queue: a FIFO of (callback, argument, context) triples in a chain of blocks. [HOT]
 *
 * CPython's ready queue holds Handle objects. Most of what the loop schedules is its own work — a task's
 * next step, a task's wakeup, a future's done-callback — and nobody ever holds or cancels the Handle of
 * such a call. Those are stored here as three slots and cost no allocation at all. A Handle is stored as
 * `(null, handle, null)` when someone can hold it (callSoon returns it, a due TimerHandle) or when the
 * loop is instrumented (debug mode, tracing), where the reports need one.
 */
import type { Context } from '../contextvars.js';
import type { Handle } from '../events.js';

/** Entries per block (three slots each); slot BLOCK_SLOTS links the next block. */
const BLOCK_ENTRIES = 1024;
const BLOCK_SLOTS = BLOCK_ENTRIES * 3;

export type ReadyCallback = (arg: any) => unknown;

type Block = unknown[];

function newBlock(): Block {
  const b = new Array(BLOCK_SLOTS + 1);
  b[BLOCK_SLOTS] = null;
  return b;
}

/**
 * A FIFO of triples in a chain of fixed-size blocks: appending never copies (a burst of 100k tasks started
 * at once links 98 blocks instead of doubling and copying a ring eleven times), and a drained block is
 * dropped — one is kept as a spare, so a queue that stays short never allocates — so a burst's memory is
 * given back as it drains.
 */
export class ReadyQueue {
  /** @internal the block holding the first entry, and that entry's slot index */
  _headBlock: Block;
  /** @internal */ _head = 0;
  /** @internal the block receiving appends, and the slot index of the next one */
  _tailBlock: Block;
  /** @internal */ _tail = 0;
  /** @internal number of entries */ _count = 0;
  /** @internal a drained block kept for the next one needed */ _spare: Block | null = null;
  /** @internal set by shift(): the entry's argument and context */
  _arg: unknown = undefined;
  /** @internal */ _ctx: Context | null = null;

  constructor() {
    this._headBlock = this._tailBlock = newBlock();
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
    let b = this._tailBlock;
    let t = this._tail;
    if (t === BLOCK_SLOTS) {
      const next = this._spare ?? newBlock();
      this._spare = null;
      b[BLOCK_SLOTS] = next;
      this._tailBlock = b = next;
      t = 0;
    }
    b[t] = fn;
    b[t + 1] = arg;
    b[t + 2] = ctx;
    this._tail = t + 3;
    this._count++;
  }

  /**
   * Remove the first entry: returns its callback (null for a Handle) and leaves the argument (or the
   * Handle) in `_arg` and the context in `_ctx`. The caller checks `length` first.
   */
  shift(): ReadyCallback | null {
    const h = this.take();
    const b = this._headBlock;
    const fn = b[h] as ReadyCallback | null;
    this._arg = b[h + 1];
    this._ctx = b[h + 2] as Context | null;
    b[h] = b[h + 1] = b[h + 2] = undefined;
    return fn;
  }

  /**
   * Remove the first entry without reading it: returns the index of its first slot in `_headBlock`, where
   * the caller reads the callback, argument and context and then clears the three slots, before anything
   * else touches the queue. [HOT: the loop's pass] Nothing is stored in the queue object but integers, so a
   * long-lived queue pays no write barrier per entry (shift()'s `_arg`/`_ctx` do).
   */
  take(): number {
    let h = this._head;
    if (h === BLOCK_SLOTS) {
      const b = this._headBlock;
      const next = b[BLOCK_SLOTS] as Block;
      b[BLOCK_SLOTS] = null;
      this._spare = b;
      this._headBlock = next;
      h = 0;
    }
    if (--this._count === 0) {
      // Empty: head and tail meet in this block; start it over (a short queue never leaves its block).
      this._head = this._tail = 0;
    } else {
      this._head = h + 3;
    }
    return h;
  }

  /** The Handle at position i from the head, or undefined (out of range, or a plain triple). Tracing. */
  at(i: number): Handle | undefined {
    if (i < 0 || i >= this._count) return undefined;
    let b = this._headBlock;
    let slot = this._head + i * 3;
    while (slot >= BLOCK_SLOTS) {
      slot -= BLOCK_SLOTS;
      b = b[BLOCK_SLOTS] as Block;
    }
    return b[slot] === null ? (b[slot + 1] as Handle) : undefined;
  }

  clear(): void {
    this._headBlock = this._tailBlock = newBlock();
    this._head = this._tail = this._count = 0;
    this._spare = null;
    this._arg = undefined;
    this._ctx = null;
  }
}
