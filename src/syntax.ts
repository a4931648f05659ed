/**
 * Python's `async with`, `async for` and async generators — language features in Python, functions here
 * (CPython's ceval `BEFORE_ASYNC_WITH` / `GET_AITER` / `GET_ANEXT` and Objects/genobject.c's async
 * generators).
 *
 *   async with cm as v: body        →  yield* asyncWith(cm, function* (v) { body })
 *   async for x in it: body         →  yield* asyncFor(it, function* (x) { body })
 *   aiter(it), await anext(it)      →  aiter(it), yield* anext(it)
 *   async def gen(n): … yield x …   →  const gen = asyncGenerator(function* gen(emit: Emit<T>, n) { … yield* emit(x) … })
 *
 * THE ASYNC GENERATOR DESIGN. A generator's `yield` channel already carries the await protocol (Futures
 * and bare yields going to the Task, see futures.ts), so an async generator cannot also use plain `yield`
 * for its items. Its body instead receives `emit` as first argument: `yield* emit(x)` produces `x` and
 * evaluates to the value sent by `asend` (undefined for `anext`). Every step of the generator (`anext`,
 * `asend`, `athrow`, `aclose`) is a coroutine that drives the body: an emitted item finishes the step; a
 * Future or bare yield is passed through to the Task untouched, and what the Task sends or throws back is
 * passed down. So the body awaits exactly as any coroutine does, and cancellation reaches it at its
 * suspension point. `aclose()` throws `GeneratorExit` at the `yield* emit(…)` point — never the generator's
 * `return()` — so `finally` blocks run to completion even when they await, at any depth of `yield*`.
 *
 * Like Python's, an async generator registers with the running loop on its first step (the `firstiter`
 * hook, `loop._asyncgens`) and unregisters when it finishes; `loop.shutdownAsyncgens()` (called by `run()`)
 * closes whatever is left. Python's loop holds them weakly and finalizes abandoned ones when they are
 * collected; JavaScript cannot run code of a collected object, so tsyncio's loop holds unfinished async
 * generators strongly until they finish, are closed, or the loop shuts them down.
 */

import { hasAwaitIterator } from './_internal/args.js';
import type { EventLoop } from './base_events.js';
import { type Awaitable, Coroutine, type Instruction } from './coroutines.js';
import { _getRunningLoop, getRunningLoop } from './events.js';
import {
  chainContext,
  GeneratorExit,
  RuntimeError,
  StopAsyncIteration,
  StopIteration,
} from './exceptions.js';
import { objectId, pyTypeName } from './format_helpers.js';
import { logger } from './log.js';

// ---------------------------------------------------------------------------------------------
// Protocols

/**
 * The asynchronous context manager protocol (`__aenter__` / `__aexit__`). `aexit` receives the error that
 * ended the body (undefined when it ended normally); a truthy result suppresses that error.
 */
export interface AsyncContextManager<V> {
  aenter(): Awaitable<V>;
  aexit(error: unknown): Awaitable<unknown>;
}

/** The asynchronous iterator protocol (`__anext__`): the end is signalled by throwing StopAsyncIteration. */
export interface AsyncIteratorProtocol<T> {
  anext(): Awaitable<T>;
}

/** The asynchronous iterable protocol (`__aiter__`). */
export interface AsyncIterableProtocol<T> {
  aiter(): AsyncIteratorProtocol<T>;
}

/**
 * `undefined` when an `aexit` returning X may suppress the error (X can be truthy), else `never`: a
 * context manager whose aexit never suppresses (Timeout) makes asyncWith return exactly the body's type.
 */
export type Suppressed<X> = [X] extends [false | undefined | null | void | 0 | ''] ? never : undefined;

/** What a body passed to asyncWith/asyncFor may be: a generator function or a coroutine function. */
export type Body<A, R> = (arg: A) => Awaitable<R>;

/** `yield*`-able view of what a protocol method returned, or TypeError naming the method. */
function awaitableFrom<T>(value: unknown, where: string, method: string): Awaitable<T> {
  if (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    hasAwaitIterator(value)
  ) {
    return value as Awaitable<T>;
  }
  const err = new TypeError(
    `'${where}' received an object from ${method}() that is not awaitable: ${pyTypeName(value)}`,
  );
  if (value !== null && typeof (value as PromiseLike<unknown>)?.then === 'function') {
    (err as { hint?: string }).hint = 'a Promise cannot be awaited with yield*: wrap it with fromPromise()';
  }
  throw err;
}

// ---------------------------------------------------------------------------------------------
// async with

const ASYNC_WITH_INFO = { name: 'asyncWith' };

/**
 * Python's `async with cm as value: body`. Calls `cm.aenter()`, runs `body(value)`, then `cm.aexit(error)`
 * (error is undefined when the body completed). A truthy `aexit` result suppresses the body's error.
 * Returns the body's return value, or undefined when an error was suppressed.
 *
 * ```ts
 * const n = yield* asyncWith(new TaskGroup(), function* (tg) {
 *   tg.createTask(work());
 *   return 1;
 * });
 * ```
 */
export function asyncWith<V, R, X = unknown>(
  cm: { aenter(): Awaitable<V>; aexit(error: unknown): Awaitable<X> },
  body: Body<V, R>,
): Coroutine<R | Suppressed<X>> {
  // Checked at the call, like Python's BEFORE_ASYNC_WITH (which looks up __aexit__ first).
  for (const method of ['aexit', 'aenter'] as const) {
    if (cm === null || cm === undefined || typeof (cm as any)[method] !== 'function') {
      throw new TypeError(
        `'${pyTypeName(cm)}' object does not support the asynchronous context manager protocol ` +
          `(missed ${method} method)`,
      );
    }
  }
  if (typeof body !== 'function') {
    throw new TypeError(`asyncWith() body must be a generator function, got ${pyTypeName(body)}`);
  }
  return new Coroutine(asyncWithGen(cm, body), ASYNC_WITH_INFO) as Coroutine<R | Suppressed<X>>;
}

function* asyncWithGen<V, R>(
  cm: AsyncContextManager<V>,
  body: Body<V, R>,
): Generator<Instruction, R | undefined, unknown> {
  const value = yield* awaitableFrom<V>(cm.aenter(), 'async with', 'aenter');
  let result: R;
  try {
    result = yield* awaitableFrom<R>(body(value), 'async with', 'the body');
  } catch (error) {
    let suppress: unknown;
    try {
      suppress = yield* awaitableFrom<unknown>(cm.aexit(error), 'async with', 'aexit');
    } catch (exitError) {
      // Raised while handling the body's error: Python chains it as __context__.
      chainContext(exitError, error);
      throw exitError;
    }
    if (suppress) return undefined;
    throw error;
  }
  yield* awaitableFrom<unknown>(cm.aexit(undefined), 'async with', 'aexit');
  return result;
}

// ---------------------------------------------------------------------------------------------
// async for, aiter, anext

/** Python's `aiter(obj)`: `obj.aiter()`, checked to be an async iterator. */
export function aiter<T>(obj: AsyncIterableProtocol<T>): AsyncIteratorProtocol<T> {
  if (obj === null || obj === undefined || typeof (obj as any).aiter !== 'function') {
    throw new TypeError(`'${pyTypeName(obj)}' object is not an async iterable`);
  }
  const it = obj.aiter();
  if (it === null || it === undefined || typeof (it as any).anext !== 'function') {
    throw new TypeError(`aiter() returned not an async iterator of type '${pyTypeName(it)}'`);
  }
  return it;
}

const ANEXT_INFO = { name: 'anext' };
const NO_DEFAULT: unique symbol = Symbol('NO_DEFAULT');

/**
 * Python's `anext(it[, default])`: the awaitable of the next item; with a default, the end of the
 * iteration gives the default instead of raising StopAsyncIteration.
 */
export function anext<T>(it: AsyncIteratorProtocol<T>): Awaitable<T>;
export function anext<T, D>(it: AsyncIteratorProtocol<T>, defaultValue: D): Coroutine<T | D>;
export function anext<T, D>(
  it: AsyncIteratorProtocol<T>,
  defaultValue: D | typeof NO_DEFAULT = NO_DEFAULT,
): Awaitable<T | D> {
  if (it === null || it === undefined || typeof (it as any).anext !== 'function') {
    throw new TypeError(`'${pyTypeName(it)}' object is not an async iterator`);
  }
  const aw = awaitableFrom<T>(it.anext(), 'anext', 'anext');
  if (defaultValue === NO_DEFAULT) return aw;
  return new Coroutine(anextWithDefault(aw, defaultValue), ANEXT_INFO);
}

function* anextWithDefault<T, D>(aw: Awaitable<T>, defaultValue: D): Generator<Instruction, T | D, unknown> {
  try {
    return yield* aw;
  } catch (e) {
    if (e instanceof StopAsyncIteration) return defaultValue;
    throw e;
  }
}

const ASYNC_FOR_INFO = { name: 'asyncFor' };

/**
 * Python's `async for item in iterable: body`. Runs `body(item)` for each item of `aiter(iterable)` until
 * `anext()` raises StopAsyncIteration.
 *
 * `break` and `return`: when the body returns a value other than undefined, the loop stops and
 * `asyncFor` returns that value (undefined when the iteration ran to its end). Like Python's `async for`,
 * stopping early does not close the iterator (use `aclosing()` or `aclose()` for that).
 */
export function asyncFor<T, R = undefined>(
  iterable: AsyncIterableProtocol<T>,
  body: Body<T, R | undefined | void>,
): Coroutine<R | undefined> {
  if (iterable === null || iterable === undefined || typeof (iterable as any).aiter !== 'function') {
    throw new TypeError(`'async for' requires an object with aiter method, got ${pyTypeName(iterable)}`);
  }
  if (typeof body !== 'function') {
    throw new TypeError(`asyncFor() body must be a generator function, got ${pyTypeName(body)}`);
  }
  return new Coroutine(asyncForGen(iterable, body), ASYNC_FOR_INFO);
}

function* asyncForGen<T, R>(
  iterable: AsyncIterableProtocol<T>,
  body: Body<T, R | undefined | void>,
): Generator<Instruction, R | undefined, unknown> {
  const it = iterable.aiter();
  if (it === null || it === undefined || typeof (it as any).anext !== 'function') {
    throw new TypeError(
      `'async for' received an object from aiter that does not implement anext: ${pyTypeName(it)}`,
    );
  }
  for (;;) {
    let item: T;
    try {
      item = yield* awaitableFrom<T>(it.anext(), 'async for', 'anext');
    } catch (e) {
      if (e instanceof StopAsyncIteration) return undefined;
      throw e;
    }
    const r = yield* awaitableFrom<R | undefined | void>(body(item), 'async for', 'the body');
    if (r !== undefined) return r as R;
  }
}

const ACLOSING_INFO = { name: 'aclosing' };

/**
 * contextlib's `aclosing(thing)`: an async context manager that calls `thing.aclose()` on exit, so an
 * async generator left early by `asyncFor` is closed at once (its `finally` blocks run).
 */
export function aclosing<A extends { aclose(): Awaitable<unknown> }>(thing: A): AsyncContextManager<A> {
  return {
    aenter: () => new Coroutine(returnValue(thing), ACLOSING_INFO),
    aexit: () => thing.aclose(),
  };
}

function* returnValue<T>(value: T): Generator<Instruction, T, unknown> {
  return value;
}

// ---------------------------------------------------------------------------------------------
// async generators

/**
 * What `yield* emit(x)` yields to the generator's driver: an item. It is its own iterator (one object per
 * item): the first `next()` yields it, the second returns what `asend` passed.
 */
class Emitted {
  value: unknown;
  private _sent = false;
  constructor(value: unknown) {
    this.value = value;
  }
  [Symbol.iterator](): this {
    return this;
  }
  next(sent?: unknown): IteratorResult<Instruction, unknown> {
    if (!this._sent) {
      this._sent = true;
      return { value: this as unknown as Instruction, done: false };
    }
    return { value: sent, done: true };
  }
  throw(error: unknown): IteratorResult<Instruction, unknown> {
    throw error;
  }
  // No return(): with it the marker would pass for a generator object in the Task's error message.
  toString(): string {
    // Seen in "Task got bad yield: …" when emit() is used outside an async generator's body.
    return '<emitted item (yield* emit(…) outside an asyncGenerator body)>';
  }
}

/**
 * The operation an async generator's body uses to produce an item: `const sent = yield* emit(item)`.
 * `S` is the type `asend` passes (undefined for `anext`).
 */
export type Emit<T, S = undefined> = (item: T) => Awaitable<S>;

const emit = (item: unknown): Awaitable<any> => new Emitted(item);

/**
 * A function made by `asyncGenerator()`: calling it creates an AsyncGeneratorType and runs nothing.
 * (Not named AsyncGeneratorFunction: that is a global type of JavaScript's own async generators.)
 */
export type AsyncGeneratorFn<A extends unknown[], T, S> = (...args: A) => AsyncGeneratorType<T, S>;

/**
 * Make an async generator function (Python's `async def` containing `yield`). The body receives `emit` as
 * its first argument, then the call's arguments; it awaits with `yield*` and produces items with
 * `yield* emit(item)`.
 *
 * ```ts
 * const ticker = asyncGenerator(function* ticker(emit: Emit<number>, n: number) {
 *   for (let i = 0; i < n; i++) {
 *     yield* sleep(1);
 *     yield* emit(i);
 *   }
 * });
 * yield* asyncFor(ticker(3), function* (i) { console.log(i); });
 * ```
 */
export function asyncGenerator<T, A extends unknown[], S = undefined, This = unknown>(
  fn: (this: This, emit: Emit<T, S>, ...args: A) => Generator<Instruction, void, any>,
  options?: { name?: string; qualname?: string },
): AsyncGeneratorFn<A, T, S> & ((this: This, ...args: A) => AsyncGeneratorType<T, S>) {
  if (typeof fn !== 'function' || !(fn instanceof GeneratorFunction)) {
    throw new TypeError(
      `asyncGenerator() expects a generator function (function*), got ${pyTypeName(fn)}${
        typeof fn === 'function' && fn.name ? ` ${fn.name}` : ''
      }`,
    );
  }
  const info = { name: options?.name ?? (fn.name || '<lambda>'), qualname: options?.qualname };
  const wrapper = function (this: This, ...args: A): AsyncGeneratorType<T, S> {
    return new AsyncGeneratorType<T, S>(fn.call(this, emit as Emit<T, S>, ...args), info);
  };
  Object.defineProperty(wrapper, 'name', { value: info.name });
  return wrapper;
}

const GeneratorFunction = Object.getPrototypeOf(function* () {}).constructor;

/** The states of an async generator (`inspect.getasyncgenstate`). */
export type AsyncGeneratorState = 'created' | 'running' | 'suspended' | 'closed';

const ANEXT_STEP = { name: 'anext' };
const ASEND_STEP = { name: 'asend' };
const ATHROW_STEP = { name: 'athrow' };
const ACLOSE_STEP = { name: 'aclose' };

/**
 * An async generator object (Python's `async_generator`, `types.AsyncGeneratorType`; not named
 * AsyncGenerator, so that JavaScript's global AsyncGenerator type stays usable beside it): `anext()`,
 * `asend(v)`, `athrow(e)` and `aclose()` each return a coroutine that advances the body to its next
 * item (or to its end).
 * It is its own async iterator (`aiter()` returns it), so `asyncFor` iterates it.
 */
export class AsyncGeneratorType<T, S = undefined>
  implements AsyncIterableProtocol<T>, AsyncIteratorProtocol<T>
{
  /** @internal */ _gen: Generator<Instruction, void, unknown>;
  /** @internal */ _fn: { name: string; qualname?: string | undefined };
  /** @internal a step (anext/asend/athrow/aclose) is in progress: Python's `ag_running` */
  _running = false;
  /** @internal the body has started */ _started = false;
  /** @internal the body has finished (returned, raised, or was closed) */ _closed = false;
  /** @internal the loop it registered with on its first step (firstiter hook) */
  _loop: EventLoop | null = null;
  /** @internal */ _hooksInited = false;

  constructor(
    gen: Generator<Instruction, void, unknown>,
    fn: { name: string; qualname?: string | undefined },
  ) {
    this._gen = gen;
    this._fn = fn;
  }

  get name(): string {
    return this._fn.name;
  }

  get qualname(): string {
    return this._fn.qualname ?? this._fn.name;
  }

  /** `inspect.getasyncgenstate()`: created, running, suspended or closed. */
  get state(): AsyncGeneratorState {
    if (this._closed) return 'closed';
    if (this._running) return 'running';
    return this._started ? 'suspended' : 'created';
  }

  /** `agen.__aiter__()`: the generator itself. */
  aiter(): this {
    return this;
  }

  /** `agen.__anext__()`: a coroutine resolving to the next item; StopAsyncIteration at the end. */
  anext(): Coroutine<T> {
    this._initHooks();
    return new Coroutine(this._step('anext', false, undefined), ANEXT_STEP);
  }

  /** `agen.asend(value)`: resume with `value` as the result of the pending `yield* emit(…)`. */
  asend(value: S): Coroutine<T> {
    this._initHooks();
    return new Coroutine(this._step('asend', false, value), ASEND_STEP);
  }

  /** `agen.athrow(error)`: raise `error` at the pending `yield* emit(…)`; resolves to the next item. */
  athrow(error: unknown): Coroutine<T> {
    this._initHooks();
    return new Coroutine(this._step('athrow', true, error), ATHROW_STEP);
  }

  /**
   * `agen.aclose()`: throw GeneratorExit at the pending `yield* emit(…)` and run the body to its end
   * (its `finally` blocks may await). RuntimeError if the body emits again.
   */
  aclose(): Coroutine<void> {
    this._initHooks();
    return new Coroutine(this._close(), ACLOSE_STEP);
  }

  /** Python's firstiter hook: register with the running loop, for shutdownAsyncgens. */
  private _initHooks(): void {
    if (this._hooksInited) return;
    this._hooksInited = true;
    if (this._closed) return;
    const loop = _getRunningLoop();
    if (loop === null) return;
    if (loop._asyncgensShutdownCalled) {
      logger.warning(
        `ResourceWarning: asynchronous generator ${this} was scheduled after loop.shutdownAsyncgens() call`,
      );
    }
    this._loop = loop;
    loop._asyncgens.add(this);
  }

  private _finish(): void {
    this._closed = true;
    if (this._loop !== null) {
      this._loop._asyncgens.delete(this);
      this._loop = null;
    }
  }

  /**
   * @internal One step of the body: send `value` (or throw it), pass Futures and bare yields through to
   * the Task, and return the next emitted item. [HOT for async-generator heavy code]
   */
  private *_step(op: string, isError: boolean, value: unknown): Generator<Instruction, T, unknown> {
    if (this._running) throw new RuntimeError(`${op}(): asynchronous generator is already running`);
    if (this._closed) {
      // Python: athrow() on a finished generator returns None; anext()/asend() raise StopAsyncIteration.
      if (isError) return undefined as T;
      throw new StopAsyncIteration();
    }
    if (!this._started && !isError && value !== undefined) {
      throw new TypeError("can't send non-None value to a just-started async generator");
    }
    this._running = true;
    this._started = true;
    const gen = this._gen;
    try {
      for (;;) {
        let r: IteratorResult<unknown, void>;
        try {
          r = isError ? gen.throw(value) : gen.next(value);
        } catch (e) {
          this._finish();
          if (e instanceof StopAsyncIteration || e instanceof StopIteration) {
            // PEP 479: a stray StopAsyncIteration must not end the iteration silently.
            const err = new RuntimeError(`async generator raised ${e.name}`);
            err.cause = e;
            chainContext(err, e);
            throw err;
          }
          throw e;
        }
        if (r.done) {
          this._finish();
          throw new StopAsyncIteration();
        }
        const yielded = r.value;
        if (yielded instanceof Emitted) return yielded.value as T;
        // An await inside the body: the Task handles it; its answer goes back down.
        try {
          value = yield yielded as Instruction;
          isError = false;
        } catch (e) {
          value = e;
          isError = true;
        }
      }
    } finally {
      this._running = false;
    }
  }

  private *_close(): Generator<Instruction, void, unknown> {
    if (this._closed) return;
    if (this._running) throw new RuntimeError('aclose(): asynchronous generator is already running');
    if (!this._started) {
      // Never started: nothing to unwind.
      this._gen.return(undefined);
      this._finish();
      return;
    }
    this._running = true;
    const gen = this._gen;
    let value: unknown = new GeneratorExit();
    let isError = true;
    try {
      for (;;) {
        let r: IteratorResult<unknown, void>;
        try {
          r = isError ? gen.throw(value) : gen.next(value);
        } catch (e) {
          this._finish();
          if (e instanceof GeneratorExit || e instanceof StopAsyncIteration) return;
          throw e;
        }
        if (r.done) {
          this._finish();
          return;
        }
        if (r.value instanceof Emitted) throw new RuntimeError('async generator ignored GeneratorExit');
        try {
          value = yield r.value as Instruction;
          isError = false;
        } catch (e) {
          value = e;
          isError = true;
        }
      }
    } finally {
      this._running = false;
    }
  }

  // -- plain JavaScript interop ----------------------------------------------------------------------

  /**
   * `for await (const x of agen)` from ordinary async code while a loop is running: each step runs as a
   * Task on that loop (scheduled thread-safely, so an idle loop wakes up). Leaving the `for await` early
   * closes the generator (JavaScript's rule for `for await`).
   */
  [Symbol.asyncIterator](): AsyncIterator<T, undefined> {
    return {
      next: async (): Promise<IteratorResult<T, undefined>> => {
        try {
          return { value: await this._runOnLoop(() => this.anext()), done: false };
        } catch (e) {
          if (e instanceof StopAsyncIteration) return { value: undefined, done: true };
          throw e;
        }
      },
      return: async (): Promise<IteratorResult<T, undefined>> => {
        await this[Symbol.asyncDispose]();
        return { value: undefined, done: true };
      },
    };
  }

  /** `await using agen = …` from ordinary async code: closes it (as a Task on the running loop). */
  async [Symbol.asyncDispose](): Promise<void> {
    if (this._closed) return;
    await this._runOnLoop(() => this.aclose());
  }

  private _runOnLoop<R>(step: () => Coroutine<R>): Promise<R> {
    const loop = getRunningLoop();
    return new Promise<R>((resolve, reject) => {
      loop.callSoonThreadsafe(() => {
        loop.createTask(step()).then(resolve, reject);
      });
    });
  }

  toString(): string {
    return `<async_generator object ${this.qualname} at ${objectId(this)}>`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}
