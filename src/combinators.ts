/**
 * The waiting combinators of CPython's tasks.py: wait, asCompleted, shield (and their constants), and
 * waitFor, which is built on timeout() exactly as CPython 3.12+ does.
 * They are built on Futures and done-callbacks only; gather lives in tasks.ts beside Task.
 *
 * Callback ordering matters here as much as in the loop: every wake-up goes through a done-callback,
 * which the loop runs on the *next* iteration. Each function below registers its callbacks in the same
 * order as CPython, so the number of iterations between "a child finished" and "the waiter resumed" is
 * the same, and tests can state CPython's orderings exactly.
 */
import { checkOptions, notAwaitable } from './_internal/args.js';
import type { EventLoop } from './base_events.js';
import type { Awaitable, Instruction } from './coroutines.js';
import { Coroutine, isCoroutine } from './coroutines.js';
import { getEventLoop, getRunningLoop } from './events.js';
import { CancelledError, StopAsyncIteration, TimeoutError, ValueError } from './exceptions.js';
import { pyTypeName, repr, setReprName } from './format_helpers.js';
import { type Future, futureAddToAwaitedBy, futureDiscardFromAwaitedBy, isFuture } from './futures.js';
import { Queue } from './queues.js';
import { asyncWith } from './syntax.js';
import { type AwaitedOf, ensureFuture, isAwaitableObject } from './tasks.js';
import { timeout as makeTimeout } from './timeouts.js';

/** wait(): return when any future finishes or is cancelled. */
export const FIRST_COMPLETED = 'FIRST_COMPLETED';
/** wait(): return when any future finishes by raising (or all finish); like ALL_COMPLETED otherwise. */
export const FIRST_EXCEPTION = 'FIRST_EXCEPTION';
/** wait(): return when every future has finished or was cancelled (the default). */
export const ALL_COMPLETED = 'ALL_COMPLETED';

export type ReturnWhen = typeof FIRST_COMPLETED | typeof FIRST_EXCEPTION | typeof ALL_COMPLETED;

export interface WaitOptions {
  /** Seconds to wait at most; `null`/`undefined` waits without limit. wait() never raises TimeoutError. */
  timeout?: number | null;
  /** When to return (default ALL_COMPLETED). */
  returnWhen?: ReturnWhen;
}

function isIterable(x: unknown): x is Iterable<unknown> {
  return (
    x !== null &&
    (typeof x === 'object' || typeof x === 'string') &&
    typeof (x as Iterable<unknown>)[Symbol.iterator] === 'function'
  );
}

/**
 * An awaitable that is not a collection: a Future/Task, or a coroutine object. A plain generator object
 * is iterated as a collection (JS's lazy sequence, Python's generator expression), not taken for a
 * generator-based coroutine.
 */
function isSingleAwaitable(x: unknown): boolean {
  return isFuture(x) || x instanceof Coroutine;
}

/** A `timeout` option: a number, or null/undefined for none (checked before anything is started). */
function checkTimeout(timeout: unknown): void {
  if (timeout !== null && timeout !== undefined && typeof timeout !== 'number') {
    throw new TypeError(`timeout must be a number or None, got ${repr(timeout)}`);
  }
}

/**
 * callLater for a timeout in seconds, with CPython's rule for NaN: its loop runs a NaN deadline as due at
 * once (our callLater refuses NaN, which a timer heap cannot order).
 */
function callAfter<A extends unknown[]>(
  loop: EventLoop,
  timeout: number,
  callback: (...args: A) => unknown,
  ...args: A
): { cancel(): void } {
  return Number.isNaN(timeout)
    ? loop.callSoon(callback, ...args)
    : loop.callLater(timeout, callback, ...args);
}

function releaseWaiter(waiter: Future<void>): void {
  if (!waiter.done()) waiter.setResult(undefined);
}

// ---------------------------------------------------------------------------------------------
// wait

const WAIT_INFO = { name: 'wait' };

/**
 * Wait for the Futures and Tasks in `fs` and return `[done, pending]` (two Sets). Nothing is cancelled
 * and TimeoutError is never raised: when `timeout` passes, the unfinished futures are in `pending`.
 *
 * `const [done, pending] = yield* wait([t1, t2], { returnWhen: FIRST_COMPLETED });`
 *
 * Coroutines are refused (TypeError, Python 3.11+): wrap them in tasks so that you can tell which one
 * finished. Validation happens when the returned coroutine is awaited, as in Python.
 */
export function wait<F extends Future<any>>(
  fs: Iterable<F>,
  options?: WaitOptions,
): Coroutine<[Set<F>, Set<F>]> {
  checkOptions('wait', options);
  return new Coroutine(waitGen(fs, options?.timeout, options?.returnWhen ?? ALL_COMPLETED), WAIT_INFO);
}

function* waitGen<F extends Future<any>>(
  fs: Iterable<F>,
  timeout: number | null | undefined,
  returnWhen: ReturnWhen,
): Generator<Instruction, [Set<F>, Set<F>], unknown> {
  if (isSingleAwaitable(fs)) {
    throw new TypeError(`expect a list of futures, not ${pyTypeName(fs)}`);
  }
  if (!isIterable(fs)) throw new TypeError(`'${pyTypeName(fs)}' object is not iterable`);
  // Python checks `not fs` before anything else: an empty collection (a Set or an array).
  if ((Array.isArray(fs) && fs.length === 0) || (fs instanceof Set && fs.size === 0)) {
    throw new ValueError('Set of Tasks/Futures is empty.');
  }
  checkTimeout(timeout);
  if (returnWhen !== FIRST_COMPLETED && returnWhen !== FIRST_EXCEPTION && returnWhen !== ALL_COMPLETED) {
    throw new ValueError(
      `Invalid return_when value: ${typeof returnWhen === 'string' ? returnWhen : repr(returnWhen)}`,
    );
  }
  const set = new Set<F>(fs);
  for (const f of set) {
    if (isFuture(f)) continue;
    if (isCoroutine(f)) throw new TypeError('Passing coroutines is forbidden, use tasks explicitly.');
    throw new TypeError(`wait() expects Futures or Tasks, got ${repr(f)}`);
  }
  // An iterator that turned out empty (Python would fail an assert here).
  if (set.size === 0) throw new ValueError('Set of Tasks/Futures is empty.');
  const loop = getRunningLoop();
  return yield* _wait(set, timeout, returnWhen, loop);
}

/** @internal CPython's `_wait`: `fs` is a non-empty Set of futures. Shared with waitFor-style helpers. */
export function* _wait<F extends Future<any>>(
  fs: Set<F>,
  timeout: number | null | undefined,
  returnWhen: ReturnWhen,
  loop: EventLoop,
): Generator<Instruction, [Set<F>, Set<F>], unknown> {
  const waiter = loop.createFuture<void>();
  const timeoutHandle =
    timeout === null || timeout === undefined ? null : callAfter(loop, timeout, releaseWaiter, waiter);
  let counter = fs.size;
  const curTask = loop._currentTask;

  const onCompletion = (f: F): void => {
    counter -= 1;
    if (
      counter <= 0 ||
      returnWhen === FIRST_COMPLETED ||
      (returnWhen === FIRST_EXCEPTION && !f.cancelled() && f.exception() !== undefined)
    ) {
      if (timeoutHandle !== null) timeoutHandle.cancel();
      if (!waiter.done()) waiter.setResult(undefined);
    }
    if (curTask !== null) futureDiscardFromAwaitedBy(f, curTask);
  };
  setReprName(onCompletion, '_wait.<locals>._on_completion');

  for (const f of fs) {
    f.addDoneCallback(onCompletion);
    if (curTask !== null) futureAddToAwaitedBy(f, curTask);
  }
  try {
    yield* waiter;
  } finally {
    if (timeoutHandle !== null) timeoutHandle.cancel();
    for (const f of fs) f.removeDoneCallback(onCompletion);
  }
  const done = new Set<F>();
  const pending = new Set<F>();
  for (const f of fs) {
    if (f.done()) done.add(f);
    else pending.add(f);
  }
  return [done, pending];
}

// ---------------------------------------------------------------------------------------------
// asCompleted

/**
 * The iterator asCompleted returns (CPython's `_AsCompletedIterator`). Two ways to use it:
 *
 * - as a plain iterable of awaitables, each resolving to the result of the *next* awaitable to finish
 *   (`for (const next of asCompleted(aws)) { const r = yield* next; }`);
 * - as an async iterator (`aiter()`/`anext()`, iterated with `asyncFor`), yielding the finished
 *   Futures and Tasks themselves — the very objects passed in, or the Tasks wrapping coroutines.
 *
 * Once the timeout passes, every awaitable still to come raises TimeoutError.
 */
export class AsCompletedIterator<T> implements Iterable<Coroutine<T>>, Iterator<Coroutine<T>, undefined> {
  // Finished futures in completion order; `null` is the timeout's sentinel (an asyncio Queue, as in
  // CPython, so consumers resume on the same iterations).
  /** @internal */ _done = new Queue<Future<T> | null>();
  /** @internal */ _todo: Set<Future<T>>;
  /** @internal */ _todoLeft: number;
  /** @internal */ _timeoutHandle: { cancel(): void } | null = null;
  /** @internal */ _loop: EventLoop;
  private readonly _handleCompletionBound: (f: Future<T>) => void;

  /** @internal Use asCompleted(). */
  constructor(aws: Iterable<unknown>, timeout: number | null | undefined) {
    const loop = getEventLoop();
    this._loop = loop;
    this._handleCompletionBound = (f) => this._handleCompletion(f);
    setReprName(this._handleCompletionBound, '_AsCompletedIterator._handle_completion');
    const todo = new Set<Future<T>>();
    for (const aw of new Set(aws)) todo.add(ensureFuture(aw as Future<T>, { loop }));
    for (const f of todo) f.addDoneCallback(this._handleCompletionBound);
    if (todo.size > 0 && timeout !== null && timeout !== undefined) {
      this._timeoutHandle = callAfter(loop, timeout, () => this._handleTimeout());
    }
    this._todo = todo;
    this._todoLeft = todo.size;
  }

  // -- plain iteration ---------------------------------------------------------------------------

  [Symbol.iterator](): this {
    return this;
  }

  /** The next awaitable: a coroutine resolving to (or raising) the next finished awaitable's outcome. */
  next(): IteratorResult<Coroutine<T>, undefined> {
    if (this._todoLeft === 0) return { value: undefined, done: true };
    this._todoLeft -= 1;
    return {
      value: new Coroutine(this._waitForOne(true) as Generator<Instruction, T>, WAIT_FOR_ONE_INFO),
      done: false,
    };
  }

  // -- async iteration (asyncFor) ------------------------------------------------------------------

  aiter(): this {
    return this;
  }

  /** A coroutine giving the next finished Future/Task; it raises StopAsyncIteration at the end. */
  anext(): Coroutine<Future<T>> {
    return new Coroutine(this._anextGen(), ANEXT_INFO);
  }

  private *_anextGen(): Generator<Instruction, Future<T>, unknown> {
    if (this._todoLeft === 0) throw new StopAsyncIteration();
    this._todoLeft -= 1;
    return (yield* this._waitForOne(false)) as Future<T>;
  }

  // -- internals -----------------------------------------------------------------------------------

  private _handleTimeout(): void {
    for (const f of this._todo) {
      f.removeDoneCallback(this._handleCompletionBound);
      this._done.putNowait(null); // Sentinel for _waitForOne().
    }
    this._todo.clear();
  }

  private _handleCompletion(f: Future<T>): void {
    if (this._todo.size === 0) return; // _handleTimeout() was here first.
    this._todo.delete(f);
    this._done.putNowait(f);
    if (this._todo.size === 0 && this._timeoutHandle !== null) this._timeoutHandle.cancel();
  }

  private *_waitForOne(resolve: boolean): Generator<Instruction, T | Future<T>, unknown> {
    const f = yield* this._done.get();
    if (f === null) throw new TimeoutError(); // The timeout's sentinel.
    return resolve ? f.result() : f;
  }
}

const WAIT_FOR_ONE_INFO = { name: '_wait_for_one', qualname: '_AsCompletedIterator._wait_for_one' };
const ANEXT_INFO = { name: '__anext__', qualname: '_AsCompletedIterator.__anext__' };

/**
 * Run the awaitables concurrently and iterate over them in completion order (see AsCompletedIterator
 * for the two ways to iterate). Duplicates are collapsed; coroutines are wrapped in Tasks.
 *
 * ```ts
 * for (const next of asCompleted([t1, t2])) console.log(yield* next);   // results, earliest first
 * yield* asyncFor(asCompleted([t1, t2]), function* (task) { … });       // the tasks themselves
 * ```
 */
export function asCompleted<A extends Iterable<unknown>>(
  fs: A,
  options?: { timeout?: number | null },
): AsCompletedIterator<A extends Iterable<infer E> ? AwaitedOf<E> : never> {
  if (isSingleAwaitable(fs)) {
    throw new TypeError(`expects an iterable of awaitables, not ${pyTypeName(fs)}`);
  }
  if (!isIterable(fs)) throw new TypeError(`'${pyTypeName(fs)}' object is not iterable`);
  checkOptions('asCompleted', options);
  // Before the iterator wraps anything in a task: a bad timeout leaves nothing running.
  checkTimeout(options?.timeout);
  return new AsCompletedIterator(fs, options?.timeout);
}

// ---------------------------------------------------------------------------------------------
// shield

function logOnException(fut: Future<any>): void {
  if (fut.cancelled()) return;
  const exc = fut.exception();
  if (exc === undefined) return;
  const context: Parameters<EventLoop['callExceptionHandler']>[0] = {
    message: `${pyTypeName(exc)} exception in shielded future`,
    exception: exc,
    future: fut,
  };
  if (fut._sourceTraceback) context.source_traceback = fut._sourceTraceback;
  fut._loop.callExceptionHandler(context);
}
setReprName(logOnException, '_log_on_exception');

/**
 * Wait for `aw`, shielding it from cancellation: cancelling the task that awaits `shield(aw)` raises
 * CancelledError in that task, but `aw` keeps running. If `aw` later fails, nobody is left to retrieve
 * its exception, so it is reported to the loop's exception handler (once).
 *
 * Keep a reference to the shielded task: the shield is what cancellation cannot reach.
 */
export function shield<T>(aw: Future<T> | Awaitable<T>): Future<T> {
  const inner = ensureFuture(aw);
  if (inner.done()) return inner; // Shortcut.
  const loop = inner._loop;
  const outer = loop.createFuture<T>();
  const curTask = loop._currentTask;
  if (curTask !== null) futureAddToAwaitedBy(inner, curTask);

  const clearAwaitedBy = (f: Future<T>): void => {
    futureDiscardFromAwaitedBy(f, curTask!);
  };
  const innerDone = (f: Future<T>): void => {
    if (outer.cancelled()) return;
    if (f.cancelled()) {
      outer.cancel();
    } else {
      const exc = f.exception();
      if (exc !== undefined) outer._setException(exc);
      else outer.setResult(f.result());
    }
  };
  setReprName(innerDone, 'shield.<locals>._inner_done_callback');
  const outerDone = (_outer: Future<T>): void => {
    if (!inner.done()) {
      inner.removeDoneCallback(innerDone);
      // Keep only one callback to log on cancel.
      inner.removeDoneCallback(logOnException);
      inner.addDoneCallback(logOnException);
    }
  };
  setReprName(outerDone, 'shield.<locals>._outer_done_callback');

  if (curTask !== null) inner.addDoneCallback(clearAwaitedBy);
  inner.addDoneCallback(innerDone);
  outer.addDoneCallback(outerDone);
  return outer;
}

// ---------------------------------------------------------------------------------------------
// waitFor (built on timeout(), as CPython 3.12+ does)

const WAIT_FOR_INFO = { name: 'wait_for' };

/**
 * Wait for `aw` (a coroutine, Task, Future or other awaitable) to complete, with a timeout in seconds
 * (null or undefined: no timeout). On timeout `aw` is cancelled, waitFor waits for the cancellation to
 * finish, and raises TimeoutError; if `aw` swallows the cancellation and returns a value, that value is
 * returned. Cancelling the waitFor cancels `aw`. To keep `aw` running on timeout, wrap it in `shield()`.
 *
 * A coroutine is awaited directly in the calling task (Python 3.12+) — except with a timeout of 0 or less,
 * where it is wrapped in a task, cancelled before it starts, and TimeoutError is raised at once.
 */
export function waitFor<T>(aw: Future<T> | Awaitable<T>, timeout: number | null | undefined): Coroutine<T> {
  checkTimeout(timeout);
  // CPython raises this when the wait_for coroutine awaits `aw`; here it is raised at the call.
  if (!isFuture(aw) && !isCoroutine(aw) && !isAwaitableObject(aw)) throw notAwaitable(aw);
  return new Coroutine(waitForGen(aw, timeout ?? null), WAIT_FOR_INFO);
}

function* waitForGen<T>(
  aw: Future<T> | Awaitable<T>,
  timeout: number | null,
): Generator<Instruction, T, unknown> {
  if (timeout !== null && timeout <= 0) {
    // No time at all: a coroutine must not even start (wrapped in a task and cancelled before its first
    // step); a future that is already done still gives its result.
    const fut = ensureFuture(aw);
    if (fut.done()) return fut.result();
    yield* cancelAndWait(fut);
    try {
      return fut.result();
    } catch (exc) {
      if (!(exc instanceof CancelledError)) throw exc;
      const te = new TimeoutError();
      te.cause = exc;
      (te as { context?: unknown }).context = exc;
      throw te;
    }
  }
  return yield* asyncWith(makeTimeout(timeout), function* () {
    return yield* aw;
  });
}

/** CPython's `_cancel_and_wait`: cancel `fut` and wait until it is done, staying cancellable ourselves. */
function* cancelAndWait(fut: Future<unknown>): Generator<Instruction, void, unknown> {
  const waiter = getRunningLoop().createFuture<void>();
  const releaseWaiter = (): void => {
    if (!waiter.done()) waiter.setResult(undefined);
  };
  fut.addDoneCallback(releaseWaiter);
  try {
    fut.cancel();
    // Not `yield* fut`: waiting on our own waiter keeps this coroutine reliably cancellable.
    yield* waiter;
  } finally {
    fut.removeDoneCallback(releaseWaiter);
  }
}
