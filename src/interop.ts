/**
 * Interop with promises and AbortSignal (beyond asyncio).
 *
 * `fromPromise(p)` adopts a host promise as a Future of the running loop, so a coroutine can
 * `yield* fromPromise(fetch(url))`. `abortable(signal => fetch(url, { signal }))` does the same and
 * aborts the host operation when the Future (or the task awaiting it) is cancelled.
 * The settlement re-enters the loop through callSoonThreadsafe, in the context current at the call.
 */
import { getRunningLoop } from './events.js';
import { CancelledError, RuntimeError } from './exceptions.js';
import type { Future } from './futures.js';

/** A Future that settles like `promise` (any thenable). Must be called with a running loop. */
export function fromPromise<T>(promise: PromiseLike<T> | T): Future<Awaited<T>> {
  const loop = getRunningLoop();
  const p = isThenable(promise) ? promise : Promise.resolve(promise);
  return loop._wrapHostPromise(p as PromiseLike<Awaited<T>>);
}

/**
 * Start `start(signal)` and return a Future of its result; cancelling the Future aborts `signal`
 * (with a CancelledError as the reason), so the host operation stops too.
 */
export function abortable<T>(start: (signal: AbortSignal) => PromiseLike<T>): Future<Awaited<T>> {
  if (typeof start !== 'function') throw new TypeError('abortable() expects a function (signal) => promise');
  const loop = getRunningLoop();
  if (loop._syncMode) {
    // Refuse before the host operation starts: runSync could not wait for it.
    throw new RuntimeError('runSync() cannot wait for host I/O (a Promise); use run() instead');
  }
  const controller = new AbortController();
  let promise: PromiseLike<T>;
  try {
    promise = start(controller.signal);
  } catch (e) {
    promise = Promise.reject(e);
  }
  const fut = loop._wrapHostPromise(promise as PromiseLike<Awaited<T>>, () => {
    controller.abort(new CancelledError(fut._cancelMessage));
  });
  return fut;
}

function isThenable(x: unknown): x is PromiseLike<unknown> {
  return (
    (typeof x === 'object' || typeof x === 'function') &&
    x !== null &&
    typeof (x as PromiseLike<unknown>).then === 'function'
  );
}
