/**
 * Queues (CPython's queues.py): Queue (FIFO), PriorityQueue (smallest first), LifoQueue (last in, first
 * out), and QueueEmpty, QueueFull, QueueShutDown.
 *
 * HOW WAITING WORKS: a `get()` on an empty queue parks a waiter Future in `_getters`; `putNowait()` wakes the
 * first pending getter, which then takes an item when its task runs (the item is not handed over
 * directly). A getter cancelled after it was woken, but before it ran, passes the wake-up on to the next
 * getter, so no item is ever left behind with a getter waiting. Putters on a full queue work the same way
 * with `_putters`. Waiter lists are O(1) per operation (see _internal/waiters.ts). A waiter that was woken
 * normally and that no one else can see any more is made pending again for the queue's next blocking get
 * (put) instead of allocating a Future per wait (isRecyclable); cancelled or observed waiters never are.
 *
 * SHUTDOWN (Python 3.13): `shutdown()` makes `put()` raise QueueShutDown at once and `get()` raise once the
 * queue is drained; `shutdown(true)` also drains the queue (counting each dropped item as done for
 * `join()`) so getters raise at once. Every blocked putter and getter is woken to re-check.
 *
 * Queues are also async-iterable (a JavaScript nicety, not in Python): `asyncFor(queue, function* (item)
 * {…})` gets items until the queue is shut down and drained.
 */

import { checkOptions } from './_internal/args.js';
import { type Comparator, PyHeap } from './_internal/compare.js';
import { Deque } from './_internal/deque.js';
import { isRecyclable, recycle, Waiter, WaiterList } from './_internal/waiters.js';
import type { EventLoop } from './base_events.js';
import { Coroutine, type Instruction } from './coroutines.js';
import { RuntimeError, StopAsyncIteration, ValueError } from './exceptions.js';
import { className, objectId, pyTypeName, repr } from './format_helpers.js';
import { suspendOn } from './futures.js';
import { Event } from './locks.js';
import { LoopBoundMixin } from './mixins.js';

/**
 * Give `cls.prototype` the `name` Python shows (writable and configurable, like Error.prototype.name);
 * returns the name. Called from each class's static initializer `_named`, annotated as a pure call:
 * a static initializer marked pure leaves an unused class removable by bundlers (tree-shaking), where a
 * module-level `named(Cls, …)` statement would keep every class (docs/ARCHITECTURE.md §10, bundle size).
 */
function named(cls: abstract new (...args: any[]) => Error, name: string): string {
  Object.defineProperty(cls.prototype, 'name', { value: name, writable: true, configurable: true });
  return name;
}

/** Raised by `getNowait()` on an empty queue. */
export class QueueEmpty extends Error {
  /** @internal */
  static readonly _named: string = /* @__PURE__ */ named(this, 'QueueEmpty');
}

/** Raised by `putNowait()` on a full queue. */
export class QueueFull extends Error {
  /** @internal */
  static readonly _named: string = /* @__PURE__ */ named(this, 'QueueFull');
}

/** Raised when putting on to, or getting from, a queue that has been shut down. */
export class QueueShutDown extends Error {
  /** @internal */
  static readonly _named: string = /* @__PURE__ */ named(this, 'QueueShutDown');
}

const QUEUE_PUT = { name: 'put', qualname: 'Queue.put' };
const QUEUE_GET = { name: 'get', qualname: 'Queue.get' };
const QUEUE_JOIN = { name: 'join', qualname: 'Queue.join' };
const QUEUE_ANEXT = { name: 'anext', qualname: 'QueueIterator.anext' };

/**
 * A FIFO queue for coordinating producer and consumer tasks. With `maxsize` <= 0 (the default) it is
 * unbounded; otherwise `put()` waits while `maxsize` items are queued.
 */
export class Queue<T = unknown> extends LoopBoundMixin {
  /** @internal the class name reprs show, even in a minified bundle (format_helpers.ts, className) */
  static readonly _pyName: string = 'Queue';
  /** @internal */ _maxsize: number;
  /** @internal the items; subclasses choose the container in `_init` */ _queue!: { readonly length: number };
  /** @internal */ _getters = new WaiterList();
  /** @internal */ _putters = new WaiterList();
  /** @internal */ _unfinishedTasks = 0;
  /** @internal */ _finished = new Event();
  /** @internal */ _isShutdown = false;
  /**
   * @internal A woken getter (putter) waiter that nobody else can see any more, kept for the next get()
   * (put()) that has to wait, so that a blocked get costs no Future allocation [HOT: pingpong]. See
   * isRecyclable for when a waiter qualifies.
   */
  _spareGetter: Waiter<undefined> | null = null;
  /** @internal */ _sparePutter: Waiter<undefined> | null = null;

  constructor(maxsize = 0) {
    super();
    if (typeof maxsize !== 'number') {
      throw new TypeError(`maxsize must be a number, not '${pyTypeName(maxsize)}'`);
    }
    this._maxsize = maxsize;
    this._finished.set();
    this._init(maxsize);
  }

  // These four are overridable in subclasses (CPython's _init/_get/_put, plus the items for reprs).

  /** @internal Create the container. */
  protected _init(_maxsize: number): void {
    this._queue = new Deque<T>();
  }

  /** @internal Remove and return the next item (the queue is not empty). */
  protected _get(): T {
    return (this._queue as Deque<T>).shift() as T;
  }

  /** @internal Add an item. */
  protected _put(item: T): void {
    (this._queue as Deque<T>).push(item);
  }

  /** @internal The items in container order, for reprs. */
  protected _items(): T[] {
    return [...(this._queue as Deque<T>)];
  }

  // End of the overridable methods.

  /** @internal Wake the next waiter that is not done (cancelled ones are dropped on the way). */
  _wakeupNext(waiters: WaiterList): void {
    for (;;) {
      const waiter = waiters.shift();
      if (waiter === null) return;
      if (!waiter.done()) {
        waiter.setResult(undefined);
        return;
      }
    }
  }

  /** @internal CPython's `_format`. */
  _format(): string {
    let result = `maxsize=${repr(this._maxsize)}`;
    if (this._queue !== undefined && this._queue.length > 0) result += ` _queue=${repr(this._items())}`;
    if (this._getters.length > 0) result += ` _getters[${this._getters.length}]`;
    if (this._putters.length > 0) result += ` _putters[${this._putters.length}]`;
    if (this._unfinishedTasks) result += ` tasks=${this._unfinishedTasks}`;
    if (this._isShutdown) result += ' shutdown';
    return result;
  }

  /** Python's `repr(queue)`: `<Queue at 0x… maxsize=0 _queue=[1, 2] tasks=2>`. */
  override toString(): string {
    return `<${className(this.constructor)} at ${objectId(this)} ${this._format()}>`;
  }

  /** The number of items in the queue. */
  qsize(): number {
    return this._queue.length;
  }

  /** The number of items allowed in the queue (<= 0: unbounded). */
  get maxsize(): number {
    return this._maxsize;
  }

  /** True if the queue is empty. */
  empty(): boolean {
    return this._queue.length === 0;
  }

  /** True if there are `maxsize` items in the queue; never true for an unbounded queue. */
  full(): boolean {
    if (this._maxsize <= 0) return false;
    return this.qsize() >= this._maxsize;
  }

  /** Put an item into the queue, waiting for a free slot if it is full. QueueShutDown after shutdown. */
  put(item: T): Coroutine<void> {
    return new Coroutine<void>(new PutOperation(this, item), QUEUE_PUT);
  }

  /** Put an item without waiting: QueueFull if there is no free slot, QueueShutDown after shutdown. */
  putNowait(item: T): void {
    if (this._isShutdown) throw new QueueShutDown();
    if (this.full()) throw new QueueFull();
    this._put(item);
    this._unfinishedTasks += 1;
    this._finished.clear();
    this._wakeupNext(this._getters);
  }

  /**
   * Remove and return an item, waiting for one if the queue is empty. QueueShutDown if the queue has been
   * shut down and is empty, or shut down immediately.
   */
  get(): Coroutine<T> {
    return new Coroutine<T>(new GetOperation(this), QUEUE_GET);
  }

  /**
   * Remove and return an item if one is available, else raise QueueEmpty. QueueShutDown if the queue has
   * been shut down and is empty, or shut down immediately.
   */
  getNowait(): T {
    if (this.empty()) {
      if (this._isShutdown) throw new QueueShutDown();
      throw new QueueEmpty();
    }
    const item = this._get();
    this._wakeupNext(this._putters);
    return item;
  }

  /**
   * Indicate that a formerly enqueued item is processed: each `get()` is followed by one `taskDone()`.
   * `join()` returns when every item put has been marked done. ValueError if called too many times.
   */
  taskDone(): void {
    if (this._unfinishedTasks <= 0) throw new ValueError('task_done() called too many times');
    this._unfinishedTasks -= 1;
    if (this._unfinishedTasks === 0) this._finished.set();
  }

  /** Wait until every item put into the queue has been gotten and marked done with `taskDone()`. */
  join(): Coroutine<void> {
    return new Coroutine(this._joinCoro(), QUEUE_JOIN);
  }

  private *_joinCoro(): Generator<Instruction, void, unknown> {
    if (this._unfinishedTasks > 0) yield* this._finished.wait();
  }

  /**
   * Shut the queue down: `put()` raises QueueShutDown, and `get()` does once the queue is empty. With
   * `immediate`, the queue is drained first (each dropped item counts as done for `join()`), so `get()`
   * raises at once. Every blocked `put()` and `get()` is woken.
   */
  shutdown(immediate = false): void {
    this._isShutdown = true;
    if (immediate) {
      while (!this.empty()) {
        this._get();
        if (this._unfinishedTasks > 0) this._unfinishedTasks -= 1;
      }
      if (this._unfinishedTasks === 0) this._finished.set();
    }
    // Every getter must re-check whether the queue is empty, to raise QueueShutDown.
    for (let getter = this._getters.shift(); getter !== null; getter = this._getters.shift()) {
      if (!getter.done()) getter.setResult(undefined);
    }
    for (let putter = this._putters.shift(); putter !== null; putter = this._putters.shift()) {
      if (!putter.done()) putter.setResult(undefined);
    }
  }

  /**
   * The async-iterator protocol (`aiter(queue)`): an iterator whose `anext()` is `get()`, ending with
   * StopAsyncIteration once the queue is shut down and drained. Items still need `taskDone()`.
   */
  aiter(): QueueIterator<T> {
    return new QueueIterator(this);
  }
}

/** The async iterator over a queue: each `anext()` gets one item; the end is the queue's shutdown. */
export class QueueIterator<T> {
  /** @internal */ readonly _queue: Queue<T>;

  constructor(queue: Queue<T>) {
    this._queue = queue;
  }

  aiter(): this {
    return this;
  }

  /** The next item; StopAsyncIteration (caused by the QueueShutDown) when the queue is shut down and empty. */
  anext(): Coroutine<T> {
    return new Coroutine(this._anext(), QUEUE_ANEXT);
  }

  private *_anext(): Generator<Instruction, T, unknown> {
    try {
      return yield* this._queue.get();
    } catch (e) {
      if (e instanceof QueueShutDown) {
        const stop = new StopAsyncIteration();
        stop.cause = e;
        throw stop;
      }
      throw e;
    }
  }
}

export interface PriorityQueueOptions<T> {
  /** The size bound (default 0: unbounded), when the options come first: `new PriorityQueue({ maxsize: 10 })`. */
  maxsize?: number;
  /**
   * Orders items that are not ordering values (numbers, strings, bigints, arrays of them): negative when
   * `a` comes out first, as for `Array.prototype.sort`.
   */
  comparator?: Comparator<T> | null;
}

/**
 * A Queue that retrieves the smallest item first, by Python's ordering (arrays compare like tuples, so
 * `[priority, data]` entries work), by the items' own `lt(other)` method (Python's `__lt__`, see
 * {@link Ordered}) or by a `comparator`. TypeError when two items cannot be ordered.
 *
 * `new PriorityQueue()`, `new PriorityQueue(10)`, `new PriorityQueue({ comparator })` or
 * `new PriorityQueue(10, { comparator })`.
 */
export class PriorityQueue<T = unknown> extends Queue<T> {
  /** @internal the class name reprs show, even in a minified bundle (format_helpers.ts, className) */
  static override readonly _pyName: string = 'PriorityQueue';
  declare _queue: PyHeap<T>;

  constructor(maxsize?: number | PriorityQueueOptions<T>, options?: PriorityQueueOptions<T>) {
    if (typeof maxsize === 'object' && maxsize !== null) {
      if (options !== undefined) {
        throw new TypeError('PriorityQueue() takes the options once: (maxsize, options) or (options)');
      }
      options = maxsize;
      maxsize = maxsize.maxsize;
    }
    checkOptions('PriorityQueue', options);
    super(maxsize ?? 0);
    const comparator = options?.comparator;
    if (comparator !== undefined && comparator !== null) {
      if (typeof comparator !== 'function') {
        throw new TypeError(`comparator must be a function, not '${pyTypeName(comparator)}'`);
      }
      this._queue = new PyHeap<T>(comparator);
    }
  }

  protected override _init(_maxsize: number): void {
    this._queue = new PyHeap<T>();
  }

  protected override _put(item: T): void {
    this._queue.push(item);
  }

  protected override _get(): T {
    return this._queue.pop();
  }

  protected override _items(): T[] {
    return [...this._queue.items];
  }
}

/** A Queue that retrieves the most recently added item first. */
export class LifoQueue<T = unknown> extends Queue<T> {
  /** @internal the class name reprs show, even in a minified bundle (format_helpers.ts, className) */
  static override readonly _pyName: string = 'LifoQueue';
  declare _queue: T[];

  protected override _init(_maxsize: number): void {
    this._queue = [];
  }

  protected override _put(item: T): void {
    this._queue.push(item);
  }

  protected override _get(): T {
    return this._queue.pop() as T;
  }

  protected override _items(): T[] {
    return [...this._queue];
  }
}

/**
 * The body of `Queue.get()`, written as an iterator instead of a generator function [HOT: pingpong]. It is
 * CPython's loop, step by step (PutOperation below is its mirror image):
 *
 *     while self.empty():
 *         if self._is_shutdown and self.empty(): raise QueueShutDown
 *         getter = create_future(); self._getters.append(getter)
 *         try: await getter
 *         except: cancel getter, remove it, pass a wake-up on if we cannot take it; raise
 *     return self.get_nowait()
 *
 * `next()` runs one pass of the loop: it returns the item, or parks a getter and yields it (the await);
 * the task calls `next()` again once the getter is done. `throw(e)` is an exception at the await
 * (cancellation); `return()` is `coro.close()`, whose GeneratorExit CPython's bare `except:` also catches.
 * Being a plain object, it costs one small allocation instead of a generator and its frame.
 */
class GetOperation<T> implements Iterator<Instruction, T, unknown> {
  private readonly queue: Queue<T>;
  private getter: Waiter<undefined> | null = null;
  private finished = false;

  constructor(queue: Queue<T>) {
    this.queue = queue;
  }

  [Symbol.iterator](): this {
    return this;
  }

  next(): IteratorResult<Instruction, T> {
    if (this.finished) return { value: undefined as T, done: true };
    const queue = this.queue;
    const woken = this.getter;
    if (woken !== null) {
      // Resumed while the getter is still pending (a hand-driven send()): Future.__await__'s error, which
      // the operation's bare `except:` handles like any other.
      if (!woken.done()) return this.throw(new RuntimeError("await wasn't used with future"));
      // Back from the await: the getter is done and only we still know it.
      this.getter = null;
      if (isRecyclable(woken)) queue._spareGetter = woken;
    }
    if (!queue.empty()) {
      this.finished = true;
      return { value: queue.getNowait(), done: true };
    }
    if (queue._isShutdown) {
      this.finished = true;
      throw new QueueShutDown();
    }
    let loop: EventLoop;
    try {
      loop = queue._getLoop(); // binds the queue, or raises if it belongs to another loop
    } catch (e) {
      this.finished = true;
      throw e;
    }
    const spare = queue._spareGetter;
    let getter: Waiter<undefined>;
    // Debug mode may have been switched on since the spare was kept: a debug future needs its traceback.
    if (spare !== null && !loop._debug) {
      queue._spareGetter = null;
      getter = recycle(spare);
    } else {
      getter = new Waiter<undefined>(loop);
    }
    queue._getters.push(getter);
    this.getter = getter;
    return suspendOn(getter, QUEUE_GET.qualname); // `await getter`
  }

  throw(error: unknown): IteratorResult<Instruction, T> {
    this.abandon();
    throw error;
  }

  return(value?: unknown): IteratorResult<Instruction, T> {
    this.abandon();
    return { value: value as T, done: true };
  }

  private abandon(): void {
    this.finished = true;
    const getter = this.getter;
    if (getter === null) return;
    this.getter = null;
    const queue = this.queue;
    getter.cancel(); // Just in case getter is not done yet.
    // Drop it from _getters (a putNowait() or shutdown() may have removed it already).
    queue._getters.remove(getter);
    if (!queue.empty() && !getter.cancelled()) {
      // We were woken up by putNowait(), but can't take the call: wake up the next in line.
      queue._wakeupNext(queue._getters);
    }
  }
}

/** The body of `Queue.put(item)`, the mirror image of GetOperation [HOT]. */
class PutOperation<T> implements Iterator<Instruction, void, unknown> {
  private readonly queue: Queue<T>;
  private readonly item: T;
  private putter: Waiter<undefined> | null = null;
  private finished = false;

  constructor(queue: Queue<T>, item: T) {
    this.queue = queue;
    this.item = item;
  }

  [Symbol.iterator](): this {
    return this;
  }

  next(): IteratorResult<Instruction, void> {
    if (this.finished) return { value: undefined, done: true };
    const queue = this.queue;
    const woken = this.putter;
    if (woken !== null) {
      // Resumed while the putter is still pending (a hand-driven send()): Future.__await__'s error, which
      // the operation's bare `except:` handles like any other.
      if (!woken.done()) return this.throw(new RuntimeError("await wasn't used with future"));
      this.putter = null;
      if (isRecyclable(woken)) queue._sparePutter = woken;
    }
    if (!queue.full()) {
      this.finished = true;
      queue.putNowait(this.item);
      return { value: undefined, done: true };
    }
    if (queue._isShutdown) {
      this.finished = true;
      throw new QueueShutDown();
    }
    let loop: EventLoop;
    try {
      loop = queue._getLoop();
    } catch (e) {
      this.finished = true;
      throw e;
    }
    const spare = queue._sparePutter;
    let putter: Waiter<undefined>;
    if (spare !== null && !loop._debug) {
      queue._sparePutter = null;
      putter = recycle(spare);
    } else {
      putter = new Waiter<undefined>(loop);
    }
    queue._putters.push(putter);
    this.putter = putter;
    return suspendOn(putter, QUEUE_PUT.qualname); // `await putter`
  }

  throw(error: unknown): IteratorResult<Instruction, void> {
    this.abandon();
    throw error;
  }

  return(value?: unknown): IteratorResult<Instruction, void> {
    this.abandon();
    return { value: value as undefined, done: true };
  }

  private abandon(): void {
    this.finished = true;
    const putter = this.putter;
    if (putter === null) return;
    this.putter = null;
    const queue = this.queue;
    putter.cancel(); // Just in case putter is not done yet.
    // Drop it from _putters (a getNowait() or shutdown() may have removed it already).
    queue._putters.remove(putter);
    if (!queue.full() && !putter.cancelled()) {
      // We were woken up by getNowait(), but can't take the call: wake up the next in line.
      queue._wakeupNext(queue._putters);
    }
  }
}
