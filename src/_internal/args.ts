/**
 * Argument checks for the public entry points: cheap typeof/instanceof tests whose errors say, in
 * Python's words where CPython has them, which argument is wrong. They run once per call, never per
 * task step.
 */
import { pyTypeName } from '../format_helpers.js';

/**
 * A built-in collection (array, string object, Map, Set, typed array): iterable, so `yield*` would walk
 * it, but never an awaitable. `yield* [a, b]` is the classic slip for `yield* gather(a, b)`.
 */
export function isCollection(x: unknown): boolean {
  return (
    Array.isArray(x) || x instanceof Map || x instanceof Set || x instanceof String || ArrayBuffer.isView(x)
  );
}

/**
 * The `[Symbol.iterator]` of the library's objects that are not awaitable (locks, queues, TaskGroup,
 * Timeout): `yield* lock` then fails with CPython's "'Lock' object can't be awaited" instead of V8's
 * "lock is not iterable". Installed at runtime only (refuseAwait), so TypeScript still rejects `yield* lock`
 * at compile time, and the awaitable checks (isAwaitableObject) still say it is not one.
 */
function refuseAwaitIterator(this: unknown): never {
  throw notAwaitable(this);
}

/** Make instances of `cls` refuse `yield*` with CPython's message (see refuseAwaitIterator). */
export function refuseAwait(cls: abstract new (...args: any[]) => object): void {
  Object.defineProperty(cls.prototype, Symbol.iterator, {
    value: refuseAwaitIterator,
    writable: true,
    configurable: true,
  });
}

/** True for an object whose `[Symbol.iterator]` is a real await iterator (not refuseAwait's). */
export function hasAwaitIterator(x: object): boolean {
  const it = (x as { [Symbol.iterator]?: unknown })[Symbol.iterator];
  return typeof it === 'function' && it !== refuseAwaitIterator;
}

/** CPython's TypeError for `await x` on something that is not awaitable. */
export function notAwaitable(x: unknown): TypeError {
  return withHint(new TypeError(`'${pyTypeName(x)}' object can't be awaited`), x);
}

/**
 * Add a `hint` property (beside Python's message, never in it) for the JavaScript slips: an array of
 * awaitables, a Promise, a coroutine function instead of its coroutine (`run(main)` for `run(main())`).
 */
export function withHint<E extends Error>(err: E, x: unknown): E {
  let hint: string | undefined;
  if (isCollection(x)) hint = 'an array is not awaitable: await all of its items with gather(...array)';
  else if (typeof x === 'function') hint = 'a function is not awaitable: call it (main(), not main)';
  else if (x !== null && typeof (x as PromiseLike<unknown> | undefined)?.then === 'function') {
    hint = 'wrap a Promise with fromPromise(promise)';
  }
  if (hint !== undefined) (err as { hint?: string }).hint = hint;
  return err;
}

/**
 * An options argument must be an object (or undefined/null): `run(main, 'x')` is an error, not "no
 * options". Python's keyword arguments cannot be given a wrong shape; this is their JS counterpart.
 */
export function checkOptions(fn: string, options: unknown): void {
  if (options === undefined || options === null) return;
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw new TypeError(`${fn}() options must be an object, not '${pyTypeName(options)}'`);
  }
}

/** The TypeError for a `loop` argument that is not an event loop (CPython fails later, with AttributeError). */
export function badLoop(loop: unknown): TypeError {
  return new TypeError(`loop must be an instance of EventLoop or None, not '${pyTypeName(loop)}'`);
}

/**
 * What may be raised: an object (an Error, or whatever else a JavaScript library throws) — not a string
 * or other primitive (`setException('message')` is the slip this catches), nor a plain function.
 */
export function isRaisable(x: unknown): boolean {
  return typeof x === 'object' && x !== null;
}

/**
 * Python's TypeError for an unknown keyword argument, for options objects whose keys are a closed set
 * (`gather(t, { returnException: true })` must not silently mean "no options"), with its "Did you mean".
 */
export function checkOptionKeys(fn: string, options: object, allowed: readonly string[]): void {
  for (const key in options) {
    if (allowed.includes(key)) continue;
    let msg = `${fn}() got an unexpected keyword argument '${key}'`;
    const prefix = key.toLowerCase().slice(0, 4);
    const near = key.length >= 4 ? allowed.find((a) => a.toLowerCase().startsWith(prefix)) : undefined;
    if (near !== undefined) msg += `. Did you mean '${near}'?`;
    throw new TypeError(msg);
  }
}
