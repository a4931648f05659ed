/**
 * Coroutine objects (CPython's coroutines.py plus the interpreter's coroutine type).
 *
 * `coroutine(function* square(n) { … })` returns a coroutine function; calling it runs nothing and
 * returns a `Coroutine<T>` — a lazy object with Python's `send`/`throw`/`close`, a name and a state.
 * `yield* coro` is `await coro`: the Coroutine hands its underlying generator to the `yield*`, so plain
 * delegation is V8's own generator delegation and never touches the event loop (deep await chains cost
 * one generator frame per level and nothing else).
 *
 * What a coroutine may yield (the await protocol, see futures.ts): a Future (wait for it), or `undefined`
 * (a bare yield: give up the rest of this loop iteration, what `sleep(0)` does). Users never `yield`
 * directly; they `yield*` awaitables that yield these on their behalf.
 *
 * Never-awaited detection. Python warns when an unstarted coroutine is collected. Registering every
 * coroutine with a FinalizationRegistry would cost more than creating it, and nearly all coroutines are
 * awaited at once. So new coroutines go to a *nursery* (a plain array); when it fills up, or the loop goes
 * idle, or the process exits, the nursery is swept: started coroutines are dropped, unstarted ones are
 * registered (weakly). A coroutine is therefore held strongly only until the next sweep.
 */
import { RuntimeError, StopIteration, ValueError } from './exceptions.js';
import { extractStack, objectId } from './format_helpers.js';

/** The states of `inspect.getcoroutinestate`, as a string-literal union. */
export type CoroutineState = 'created' | 'running' | 'suspended' | 'closed';

/**
 * The compile-time type of what a coroutine body yields: an opaque instruction to its Task that only
 * tsyncio's own awaitables produce (at run time a pending Future, or `undefined` for `sleep(0)`'s bare
 * yield). A body never writes `yield x` itself: it writes `yield* awaitable`, which yields these on its
 * behalf. So `yield coro`, `yield fut`, `yield promise`, `yield 42` and a bare `yield;` do not compile,
 * and the type's text is what tsc prints: `Type 'Coroutine<number>' is not assignable to type
 * '"tsyncio: use yield*, not yield"'`. A string literal type, not a `unique symbol` brand, so two
 * installed copies of tsyncio accept each other's awaitables.
 */
export type Instruction = 'tsyncio: use yield*, not yield';

/**
 * @internal The bare yield of `sleep(0)` (give up the rest of this loop iteration), typed as what it is
 * to the compiler: an instruction.
 */
export const YIELD_NOW = undefined as unknown as Instruction;

/**
 * What a coroutine's generator yields at run time (a Future to wait for, or undefined), as seen by code
 * that drives coroutines by hand (`send`, `throw`): not narrowed to `Instruction`, which is a compile-time
 * marker only.
 */
export type Yielded = unknown;

/**
 * Anything `yield*` can await: a Coroutine, a Future/Task, or any iterable whose iterator yields
 * instructions (Futures or `undefined` at run time) and returns T. `yield* x` evaluates to T.
 */
export interface Awaitable<T> {
  [Symbol.iterator](): Iterator<Instruction, T, unknown>;
}

/**
 * The type to annotate a coroutine body or an awaitable helper generator with:
 * `function* retry(): CoroutineGenerator<number> { … }`. (`Generator<unknown, T>` no longer fits: a
 * coroutine body must yield `Instruction`s, see there.)
 */
export type CoroutineGenerator<T> = Generator<Instruction, T, unknown>;

/**
 * What a Coroutine drives: a generator, or any object with the generator's three methods (library code
 * may write hot operations as hand-made iterators). Structural, so it does not depend on the lib's
 * Generator/IteratorObject details (e.g. esnext.disposable adds [Symbol.dispose] to generators).
 */
export interface CoroutineIterator<T> extends Iterator<Instruction, T, unknown> {
  next(value?: unknown): IteratorResult<Instruction, T>;
  throw(error: unknown): IteratorResult<Instruction, T>;
  return(value: T): IteratorResult<Instruction, T>;
}

// Coroutine._flags:
/** handed to a `yield*` or a Task: it has an awaiter, so it is not "never awaited" */
const C_AWAITED = 1;
/** the nursery sweep registered it for a never-awaited warning */
const C_REGISTERED = 2;
/** handed to a native `yield*`: its progress is no longer observable */
const C_DELEGATED = 4;

const CREATED = 0;
const RUNNING = 1;
const SUSPENDED = 2;
const CLOSED = 3;
/** @internal Coroutine._state values, for Task's inlined stepping. */
export const _coroStates = { CREATED, RUNNING, SUSPENDED, CLOSED } as const;
const STATES: readonly CoroutineState[] = ['created', 'running', 'suspended', 'closed'];

/** Options shared by the never-awaited machinery; set by debug mode (like coroutine origin tracking). */
export const coroutineDebug = {
  /** When > 0, each coroutine records where it was created, up to this many frames. */
  originTrackingDepth: 0,
  /**
   * When true, a task records the JS stack each time it suspends (its await chain, for the call graph and
   * Task reprs). On while a debug-mode loop runs, or after `trackAwaitStacks(true)`.
   */
  awaitStacks: false,
  /** @internal set by trackAwaitStacks(); debug mode turns awaitStacks on by itself */
  awaitStacksRequested: false,
};

/**
 * A coroutine object: the lazy result of calling a coroutine function.
 *
 * `send`/`throw`/`close` behave like Python's: `send(v)` and `throw(e)` return the next yielded value and
 * throw `StopIteration` (carrying the return value) when the coroutine finishes.
 */
export class Coroutine<T> implements Awaitable<T> {
  /** @internal the class name reprs show, even in a minified bundle (format_helpers.ts, className) */
  static readonly _pyName: string = 'Coroutine';
  /** @internal */ _gen: CoroutineIterator<T>;
  /** @internal */ _fn: { name: string; qualname?: string };
  /** @internal 0 created, 1 running, 2 suspended, 3 closed; see STATES. */
  _state = CREATED;
  /** @internal C_AWAITED | C_REGISTERED | C_DELEGATED, one field [HOT: memory — every coroutine] */
  _flags = 0;
  /** @internal creation stack (debug mode only). */
  declare _origin: string[] | undefined;

  constructor(gen: CoroutineIterator<T>, fn: { name: string; qualname?: string }) {
    this._gen = gen;
    this._fn = fn;
    bornCoroutine(this);
  }

  /** The coroutine function's name (Python's `__name__`). */
  get name(): string {
    return this._fn.name;
  }

  /** The qualified name (`Class.method` for coroutine methods; Python's `__qualname__`). */
  get qualname(): string {
    return this._fn.qualname ?? this._fn.name;
  }

  /** `inspect.getcoroutinestate()`: created, running, suspended or closed. */
  get state(): CoroutineState {
    return STATES[this._state]!;
  }

  /** Where the coroutine was created, in debug mode (Python's `cr_origin`). */
  get origin(): readonly string[] | undefined {
    return this._origin;
  }

  /**
   * `yield* coro` — await this coroutine. Hands over the underlying generator, so delegation is native.
   * A coroutine can be awaited once (Python's "cannot reuse already awaited coroutine").
   */
  [Symbol.iterator](): CoroutineIterator<T> {
    this._claim();
    this._state = RUNNING;
    this._flags |= C_DELEGATED;
    return this._gen;
  }

  /** @internal Mark as owned by an awaiter (yield* or a Task). */
  _claim(): void {
    if ((this._flags & C_AWAITED) !== 0 || this._state !== CREATED) {
      // A coroutine handed to `yield*` is driven natively, so whether it finished is unknown: Python's
      // message for the common case (awaiting a finished coroutine again) is used for both.
      if (this._state === CLOSED || (this._flags & C_DELEGATED) !== 0) {
        throw new RuntimeError('cannot reuse already awaited coroutine');
      }
      throw new RuntimeError('coroutine is being awaited already');
    }
    this._flags |= C_AWAITED;
    if ((this._flags & C_REGISTERED) !== 0) unregister(this);
    // Claimed right after creation (`yield* f()`, `createTask(f())`, the usual case): take it back out
    // of the nursery, so the nursery stays nearly empty and does not keep it alive. [HOT]
    else if (nurseryCount > 0 && nursery[nurseryCount - 1] === this) nursery[--nurseryCount] = undefined;
  }

  /**
   * @internal Iterator-protocol step used by Task (no StopIteration allocation on the hot path).
   * Keeps `state` exact for coroutines driven by a Task.
   */
  _step(value: unknown, error: unknown, isError: boolean): IteratorResult<Yielded, T> {
    if (this._state === RUNNING) throw new ValueError('coroutine already executing');
    this._state = RUNNING;
    let r: IteratorResult<Yielded, T>;
    try {
      r = isError ? this._gen.throw(error) : this._gen.next(value);
    } catch (e) {
      this._state = CLOSED;
      throw e;
    }
    this._state = r.done ? CLOSED : SUSPENDED;
    return r;
  }

  /** Python's `coro.send(value)`: resume; returns the next yielded value, or throws StopIteration. */
  send(value?: unknown): Yielded {
    if (this._state === CREATED && value !== undefined) {
      throw new TypeError("can't send non-None value to a just-started coroutine");
    }
    if (this._state === CLOSED) throw new RuntimeError('cannot reuse already awaited coroutine');
    this._startByHand();
    const r = this._step(value, undefined, false);
    if (r.done) throw new StopIteration(r.value);
    return r.value;
  }

  /** Python's `coro.throw(exc)`: raise `exc` at the suspension point; like `send` otherwise. */
  throw(error: unknown): Yielded {
    if (this._state === CLOSED) throw error;
    this._startByHand();
    const r = this._step(undefined, error, true);
    if (r.done) throw new StopIteration(r.value);
    return r.value;
  }

  /**
   * Python's `coro.close()`: raise GeneratorExit at the suspension point. tsyncio uses the generator's
   * `return()`, which runs `finally` blocks; a `finally` that awaits is an error here, as in Python
   * ("coroutine ignored GeneratorExit").
   */
  close(): void {
    if (this._state === CLOSED) return;
    if (this._state === RUNNING) throw new ValueError('coroutine already executing');
    const wasCreated = this._state === CREATED;
    this._flags |= C_AWAITED;
    if ((this._flags & C_REGISTERED) !== 0) unregister(this);
    this._state = RUNNING;
    try {
      const r = this._gen.return(undefined as T);
      if (!r.done && !wasCreated) {
        this._state = CLOSED;
        throw new RuntimeError('coroutine ignored GeneratorExit');
      }
    } finally {
      this._state = CLOSED;
    }
  }

  /** @internal Started by hand (send/throw), or thrown into by a subclass: it has been awaited. */
  _startByHand(): void {
    if ((this._flags & C_AWAITED) === 0) {
      this._flags |= C_AWAITED;
      if ((this._flags & C_REGISTERED) !== 0) unregister(this);
    }
  }

  toString(): string {
    return `<coroutine object ${this.qualname} at ${objectId(this)}>`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

/**
 * A function returning a Coroutine: what `coroutine(function* …)` produces. (Its runtime brand,
 * IS_COROUTINE_FUNCTION, is left out of the type so that modules exporting coroutine functions can emit
 * declarations.)
 */
export type CoroutineFunction<A extends unknown[], T> = (...args: A) => Coroutine<T>;

/**
 * The brand on coroutine functions (`isCoroutineFunction`). Exported so that declaration files of modules
 * that export coroutine functions can name it.
 */
export const IS_COROUTINE_FUNCTION: unique symbol = Symbol.for('tsyncio.coroutineFunction');

/**
 * Make a coroutine function from a generator function. Calling it returns a lazy `Coroutine<T>`.
 *
 * ```ts
 * const square = coroutine(function* square(n: number) { return n * n; });
 * const x: number = yield* square(10);
 * ```
 *
 * `this` is passed through, so methods work: `fetch = coroutine(function* fetch(this: Client, url: string) {…})`
 * as a class field or prototype property (see `coroutineMethod` for the decorator form).
 */
export function coroutine<A extends unknown[], T, This = unknown>(
  fn: (this: This, ...args: A) => Generator<Instruction, T, any>,
  options?: { name?: string; qualname?: string },
): CoroutineFunction<A, T> & ((this: This, ...args: A) => Coroutine<T>) {
  if (typeof fn !== 'function') throw new TypeError('coroutine() expects a generator function');
  if (!isGeneratorFunction(fn)) {
    throw new TypeError(
      `coroutine() expects a generator function (function*), got ${fn.name || 'a function'}`,
    );
  }
  const info = { name: options?.name ?? (fn.name || '<lambda>'), qualname: options?.qualname };
  // `arguments`, not a rest parameter: V8 forwards it to apply() without building an array. [HOT: every
  // coroutine call]
  const wrapper = function (this: This): Coroutine<T> {
    // biome-ignore lint/complexity/noArguments: the allocation-free forwarding described above
    return new Coroutine(fn.apply(this, arguments as unknown as A), info);
  } as (this: This, ...args: A) => Coroutine<T>;
  Object.defineProperty(wrapper, 'name', { value: info.name });
  Object.defineProperty(wrapper, IS_COROUTINE_FUNCTION, { value: true });
  return wrapper as CoroutineFunction<A, T> & ((this: This, ...args: A) => Coroutine<T>);
}

/**
 * A method decorator (TC39 decorators, TypeScript ≥ 5) that turns a generator method into a coroutine
 * method; its qualname is `Class.method`.
 *
 * ```ts
 * class Client {
 *   @coroutineMethod *fetch(url: string) { yield* sleep(1); return url; }
 * }
 * ```
 */
export function coroutineMethod<
  This,
  M extends (this: This, ...args: any[]) => Generator<Instruction, unknown, any>,
>(method: M, context: ClassMethodDecoratorContext<This, M>): M {
  const name = String(context.name);
  // The method's own type is returned (a method that awaits nothing is a Generator<never, …>, and
  // must stay assignable to itself: TS1270 otherwise).
  let wrapped: ((this: This, ...args: unknown[]) => Coroutine<unknown>) | undefined;
  const replacement = function (this: This, ...args: unknown[]): Coroutine<unknown> {
    if (wrapped === undefined) {
      const owner = (this as object)?.constructor?.name;
      wrapped = coroutine(method, { name, qualname: owner ? `${owner}.${name}` : name });
    }
    return wrapped.apply(this, args);
  };
  Object.defineProperty(replacement, IS_COROUTINE_FUNCTION, { value: true });
  // A Coroutine is iterable like a generator, so the method's declared type stays usable with yield*.
  return replacement as unknown as M;
}

const GeneratorFunction = Object.getPrototypeOf(function* () {}).constructor;

function isGeneratorFunction(fn: unknown): boolean {
  return fn instanceof GeneratorFunction;
}

/**
 * True for coroutine objects, plain generator objects (Python's generator-based coroutines), and objects
 * implementing the coroutine protocol — `send`, `throw`, `close` and an await iterator
 * (`[Symbol.iterator]`), as `collections.abc.Coroutine` recognises them.
 */
export function isCoroutine(
  obj: unknown,
): obj is Coroutine<unknown> | Generator | CoroutineProtocol<unknown> {
  if (obj instanceof Coroutine) return true;
  return isGenerator(obj) || isCoroutineProtocol(obj);
}

/** Python's `collections.abc.Coroutine`: what a Task can drive besides Coroutines and generators. */
export interface CoroutineProtocol<T> {
  /** The next instruction; throws StopIteration (its `value` is the result) when the coroutine returns. */
  send(value: unknown): unknown;
  /** Raise `error` at the suspension point; the next instruction, or StopIteration as send(). */
  throw(error: unknown): unknown;
  close(): unknown;
  [Symbol.iterator](): Iterator<Instruction, T, unknown>;
}

function isCoroutineProtocol(obj: unknown): obj is CoroutineProtocol<unknown> {
  return (
    typeof obj === 'object' &&
    obj !== null &&
    typeof (obj as CoroutineProtocol<unknown>).send === 'function' &&
    typeof (obj as CoroutineProtocol<unknown>).throw === 'function' &&
    typeof (obj as CoroutineProtocol<unknown>).close === 'function' &&
    typeof (obj as CoroutineProtocol<unknown>)[Symbol.iterator] === 'function'
  );
}

/**
 * @internal Drives a CoroutineProtocol object with the generator methods a Task uses (send/throw with
 * StopIteration become next/throw results; return is close).
 */
export class ProtocolDriver<T> implements CoroutineIterator<T> {
  readonly target: CoroutineProtocol<T>;
  constructor(target: CoroutineProtocol<T>) {
    this.target = target;
  }
  [Symbol.iterator](): this {
    return this;
  }
  next(value?: unknown): IteratorResult<Instruction, T> {
    return this._resume(() => this.target.send(value));
  }
  throw(error: unknown): IteratorResult<Instruction, T> {
    return this._resume(() => this.target.throw(error));
  }
  return(value: T): IteratorResult<Instruction, T> {
    this.target.close();
    return { value, done: true };
  }
  private _resume(step: () => unknown): IteratorResult<Instruction, T> {
    try {
      return { value: step() as Instruction, done: false };
    } catch (e) {
      if (e instanceof StopIteration) return { value: e.value as T, done: true };
      throw e;
    }
  }
}

/** @internal What a Task steps: a plain generator as it is, a coroutine-protocol object through a driver. */
export function driverOf<T>(
  coro: Generator<unknown, T, unknown> | CoroutineProtocol<T>,
): Generator<unknown, T, unknown> {
  return (isGenerator(coro) ? coro : new ProtocolDriver(coro)) as Generator<unknown, T, unknown>;
}

/** @internal A generator object, or any object with the generator methods (duck-typed like CPython). */
export function isGenerator(obj: unknown): obj is Generator {
  return (
    typeof obj === 'object' &&
    obj !== null &&
    typeof (obj as Generator).next === 'function' &&
    typeof (obj as Generator).throw === 'function' &&
    typeof (obj as Generator).return === 'function' &&
    typeof (obj as Generator)[Symbol.iterator] === 'function'
  );
}

/** True for functions made by `coroutine()` or `@coroutineMethod`, and for generator functions. */
export function isCoroutineFunction(fn: unknown): boolean {
  if (typeof fn !== 'function') return false;
  return (fn as any)[IS_COROUTINE_FUNCTION] === true || isGeneratorFunction(fn);
}

// ---------------------------------------------------------------------------------------------
// Never-awaited detection

const NURSERY_SIZE = 1024;
// A fixed array and a fill count: no array is allocated or grown per sweep. [HOT: every coroutine]
const nursery: (Coroutine<unknown> | undefined)[] = new Array(NURSERY_SIZE).fill(undefined);
let nurseryCount = 0;

/**
 * A registered coroutine's record: what its never-awaited warning needs. It replaces the coroutine's `_fn`
 * (same `name`/`qualname`), so the coroutine finds its record without a WeakMap or an extra slot.
 */
interface Unstarted {
  name: string;
  qualname?: string | undefined;
  origin?: string[] | undefined;
  /** links of the list of live records (null when unlinked) */
  prev: Unstarted | null;
  next: Unstarted | null;
}

/**
 * The records of unstarted coroutines registered by a sweep and not yet started, collected or reported —
 * never the coroutines themselves, which must stay collectable — as a doubly linked list (unlinking costs
 * no hashing). The exit report warns for every record left, as Python does, whose shutdown collects every
 * coroutine still unawaited.
 */
const liveUnstarted: Unstarted = { name: '', prev: null, next: null };
liveUnstarted.prev = liveUnstarted.next = liveUnstarted;

/** Take a record out of the live list: true if it was in it. */
function unlink(record: Unstarted): boolean {
  const prev = record.prev;
  if (prev === null) return false;
  const next = record.next!;
  prev.next = next;
  next.prev = prev;
  record.prev = record.next = null;
  return true;
}

// The held value is the record. No unregister token: a coroutine started after its registration only
// unlinks its record, and the registry's callback for it finds it unlinked — registering with a token and
// unregistering costs several times more (measured: 100k coroutines, 65 ms against 240 ms with the
// collection included).
const registry =
  typeof FinalizationRegistry === 'function'
    ? new FinalizationRegistry<Unstarted>((record) => {
        if (unlink(record)) warnNeverAwaited(record, false);
      })
    : undefined;

function unregister(c: Coroutine<unknown>): void {
  c._flags &= ~C_REGISTERED;
  unlink(c._fn as Unstarted);
}

/** @internal True once the coroutine has an awaiter (a Task or a `yield*`). */
export function isClaimed(c: Coroutine<unknown>): boolean {
  return (c._flags & C_AWAITED) !== 0;
}

/**
 * @internal Move unstarted coroutines from the nursery to the weak registry. Called when the nursery is
 * full and by the loop when it goes idle; cheap when the nursery is empty.
 */
export function sweepNursery(): void {
  const n = nurseryCount;
  nurseryCount = 0;
  for (let i = 0; i < n; i++) {
    const c = nursery[i]!;
    nursery[i] = undefined;
    if ((c._flags & (C_AWAITED | C_REGISTERED)) !== 0 || c._state !== CREATED) continue;
    // [HOT: `gather(...items.map(work))` registers every coroutine but the last 1,024 before any starts]
    const fn = c._fn;
    const last = liveUnstarted.prev!;
    const record: Unstarted = {
      name: fn.name,
      qualname: fn.qualname,
      origin: c._origin,
      prev: last,
      next: liveUnstarted,
    };
    last.next = liveUnstarted.prev = record;
    c._fn = record;
    c._flags |= C_REGISTERED;
    registry?.register(c, record);
  }
}

/**
 * @internal What every new coroutine goes through: its origin in debug mode, then the nursery. (A class that
 * builds coroutine objects without Coroutine's constructor calls it too: tasks.ts's SleepZeroCoroutine.)
 */
export function bornCoroutine(c: Coroutine<unknown>): void {
  if (coroutineDebug.originTrackingDepth > 0) {
    c._origin = extractStack(3, coroutineDebug.originTrackingDepth);
  }
  nursery[nurseryCount++] = c;
  if (nurseryCount === NURSERY_SIZE) sweepNursery();
}

/** @internal True if anything is waiting in the nursery (for tests and the exit sweep). */
export function nurserySize(): number {
  return nurseryCount;
}

type WarnSink = (message: string, detail: string | undefined, sync: boolean) => void;

const proc = (globalThis as { process?: any }).process;

const defaultSink: WarnSink = (message, detail, sync) => {
  if (proc && typeof proc.emitWarning === 'function') {
    if (sync) {
      // An 'exit' handler cannot use the asynchronous emitWarning: write Node's format ourselves.
      let text = `(node:${proc.pid}) RuntimeWarning: ${message}\n`;
      if (detail) text += detail + '\n';
      proc.stderr?.write?.(text);
    } else {
      proc.emitWarning(message, { type: 'RuntimeWarning', detail });
    }
  } else {
    console.warn(`RuntimeWarning: ${message}${detail ? '\n' + detail : ''}`);
  }
};

let warnSink: WarnSink = defaultSink;

/** @internal Tests replace the sink to observe warnings; pass undefined to restore. */
export function setNeverAwaitedSink(sink: WarnSink | undefined): void {
  warnSink = sink ?? defaultSink;
}

function warnNeverAwaited(record: Unstarted, sync: boolean): void {
  const message = `coroutine '${record.qualname ?? record.name}' was never awaited`;
  const origin = record.origin;
  const detail =
    origin && origin.length > 0
      ? `Coroutine created at (most recent call last)\n${origin.join('\n')}`
      : '(Set TSYNCIO_DEBUG=1 to show where the coroutine was created)';
  warnSink(message, detail, sync);
}

/** @internal Warn, synchronously, for every unstarted coroutine still alive (the process is exiting). */
export function reportUnstartedAtExit(): void {
  sweepNursery();
  while (liveUnstarted.next !== liveUnstarted) {
    const record = liveUnstarted.next!;
    unlink(record);
    warnNeverAwaited(record, true);
  }
}

if (proc && typeof proc.on === 'function') {
  proc.on('exit', reportUnstartedAtExit);
}

/** @internal Close a coroutine (or generator) that will never run, so it is not reported as never awaited. */
export function closeCoroutine(coro: unknown): void {
  if (coro instanceof Coroutine) coro.close();
  else if (coro !== null && typeof (coro as Generator).return === 'function')
    (coro as Generator).return(undefined);
}
