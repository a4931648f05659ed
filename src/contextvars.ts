/**
 * Context variables (Python's contextvars module): ContextVar, Token, Context, copyContext.
 *
 * HOW: a Context holds an immutable Map from variable to value. `ContextVar.set` replaces the *current*
 * context's map with a modified copy, so every other Context that shares the old map is unaffected. That
 * makes `copy()` O(1) (the copy shares the map), which matters because every Task and every callSoon
 * copies the current context (Python's HAMT gives the same O(1) copy).
 */
import { checkOptions } from './_internal/args.js';
import { KeyError, LookupError, RuntimeError, ValueError } from './exceptions.js';
import { objectId, pyTypeName, repr } from './format_helpers.js';

const MISSING: unique symbol = Symbol('MISSING');
const EMPTY: ReadonlyMap<ContextVar<any>, unknown> = new Map();

export class Context {
  /** @internal */ _map: ReadonlyMap<ContextVar<any>, unknown>;
  /**
   * @internal While entered, the context that was current before (there always is one); null otherwise.
   * It doubles as the "entered" flag: one field less per Context, i.e. per Task. [HOT: memory]
   */
  _prev: Context | null = null;

  constructor(map?: ReadonlyMap<ContextVar<any>, unknown>) {
    this._map = map ?? EMPTY;
  }

  /** Run `fn(...args)` in this context and return its result; fails if the context is already entered. */
  run<A extends unknown[], R>(fn: (...args: A) => R, ...args: A): R {
    if (this._entered) {
      throw new RuntimeError(`cannot enter context: ${this} is already entered`);
    }
    if (typeof fn !== 'function') throw new TypeError(`'${pyTypeName(fn)}' object is not callable`);
    this._enter();
    try {
      return fn(...args);
    } finally {
      exitCurrentContext();
    }
  }

  /** @internal Python refuses to enter a context twice. */
  get _entered(): boolean {
    return this._prev !== null;
  }

  /** @internal Hot path for the loop: make this the current context. */
  _enter(): void {
    this._prev = current;
    current = this;
  }

  /** A shallow copy sharing the same values (O(1)). */
  copy(): Context {
    return new Context(this._map);
  }

  get<T>(v: ContextVar<T>): T | undefined;
  get<T, D>(v: ContextVar<T>, defaultValue: D): T | D;
  get(v: ContextVar<unknown>, ...rest: unknown[]): unknown {
    checkVar(v);
    if (this._map.has(v)) return this._map.get(v);
    return rest.length > 0 ? rest[0] : undefined;
  }

  has(v: ContextVar<any>): boolean {
    checkVar(v);
    return this._map.has(v);
  }

  /** Python's `ctx[var]`: raises KeyError (a LookupError) when unset. */
  getItem<T>(v: ContextVar<T>): T {
    checkVar(v);
    if (!this._map.has(v)) throw new KeyError(repr(v));
    return this._map.get(v) as T;
  }

  keys(): ContextVar<any>[] {
    return [...this._map.keys()];
  }
  values(): unknown[] {
    return [...this._map.values()];
  }
  items(): [ContextVar<any>, unknown][] {
    return [...this._map.entries()];
  }
  get size(): number {
    return this._map.size;
  }
  [Symbol.iterator](): IterableIterator<ContextVar<any>> {
    return this._map.keys();
  }

  toString(): string {
    return `<Context object at ${objectId(this)}>`;
  }
}

function checkVar(v: unknown): void {
  if (!(v instanceof ContextVar)) {
    throw new TypeError(`a ContextVar key was expected, got ${repr(v)}`);
  }
}

/**
 * @internal The context tasks created from the same context share (copy-on-write): a Task needs a copy of
 * its creator's context, and nearly every task only reads it. Tasks created while the current context's
 * map is the same share one SharedContext [HOT: every createTask — a Context object less per task]; a task
 * gets its own Context, with the same values, the moment it sets a variable (`ContextVar.set` while a
 * SharedContext is current) or someone asks for it (`Task.getContext()`). A SharedContext's map never
 * changes, so sharing it is invisible. It is never handed out to user code (but see Handle.getContext()
 * for a debug-mode handle of a task step).
 */
export class SharedContext extends Context {}

let current: Context = new Context();
let lastShared: SharedContext | null = null;

/** @internal The context the running code sees (Python's `contextvars.copy_context()` without the copy). */
export function currentContext(): Context {
  return current;
}

/** @internal A copy of the current context for a new Task: the SharedContext of its values. [HOT] */
export function sharedCopyContext(): Context {
  const map = current._map;
  let s = lastShared;
  if (s === null || s._map !== map) lastShared = s = new SharedContext(map);
  return s;
}

/** @internal Called when a SharedContext entered for a task step gives way to a private Context (tasks.ts). */
let onOwnContext: ((shared: SharedContext, own: Context) => void) | null = null;

/** @internal */
export function setOwnContextHook(hook: (shared: SharedContext, own: Context) => void): void {
  onOwnContext = hook;
}

/**
 * @internal A private Context with the values of `s`, a SharedContext. If `s` is entered (the running
 * task's step, possibly under a `ctx.run()`), the new Context takes its place in the chain of entered
 * contexts, and the running task adopts it (onOwnContext).
 */
export function ownContext(s: SharedContext): Context {
  const p = new Context(s._map);
  if (current === s) {
    replaceCurrentContext(p);
  } else if (s._prev !== null) {
    for (let c = current; c._prev !== null; c = c._prev) {
      if (c._prev === s) {
        c._prev = p;
        break;
      }
    }
    p._prev = s._prev;
    s._prev = null;
  } else {
    return p;
  }
  onOwnContext?.(s, p);
  return p;
}

/**
 * @internal Enter `ctx` in place of the current context, which was entered for it (a task step queued with
 * the SharedContext its task has since exchanged for its own Context).
 */
export function replaceCurrentContext(ctx: Context): void {
  const s = current;
  ctx._prev = s._prev;
  s._prev = null;
  current = ctx;
}

/**
 * @internal Leave the current context: the one entered last, or the private Context that took its place
 * meanwhile (ownContext, replaceCurrentContext).
 */
export function exitCurrentContext(): void {
  const c = current;
  current = c._prev!;
  c._prev = null;
}

/** A copy of the current context (Python's `contextvars.copy_context()`). */
export function copyContext(): Context {
  return new Context(current._map);
}

export interface ContextVarOptions<T> {
  default?: T;
}

export class ContextVar<T> {
  /** @internal */ readonly _name: string;
  /** @internal */ readonly _default: T | typeof MISSING;

  constructor(name: string, options?: ContextVarOptions<T>) {
    if (typeof name !== 'string') throw new TypeError('context variable name must be a str');
    checkOptions('ContextVar', options);
    this._name = name;
    this._default = options && 'default' in options ? (options.default as T) : MISSING;
  }

  /** The variable's name (read-only, as in Python: assigning to it throws a TypeError). */
  get name(): string {
    return this._name;
  }

  /**
   * The value in the current context; else `defaultValue` if given; else the variable's default;
   * else LookupError (as Python).
   */
  get(): T;
  get<D>(defaultValue: D): T | D;
  get(...rest: unknown[]): unknown {
    const map = current._map;
    if (map.has(this)) return map.get(this);
    if (rest.length > 0) return rest[0];
    if (this._default !== MISSING) return this._default;
    throw new LookupError(String(this));
  }

  /** Set the value in the current context; the Token lets `reset` restore the previous value. */
  set(value: T): Token<T> {
    const ctx = current instanceof SharedContext ? ownContext(current) : current;
    const map = ctx._map;
    const old = map.has(this) ? (map.get(this) as T) : MISSING;
    const next = new Map(map);
    next.set(this, value);
    ctx._map = next;
    return new Token(ctx, this, old);
  }

  /** Restore the value the variable had before the `set` that returned `token`. */
  reset(token: Token<T>): void {
    if (!(token instanceof Token)) throw new TypeError(`expected an instance of Token, got ${repr(token)}`);
    if (token._used) throw new RuntimeError(`${token} has already been used once`);
    if (token.var !== this) throw new ValueError(`${token} was created by a different ContextVar`);
    if (token._context !== current) throw new ValueError(`${token} was created in a different Context`);
    const next = new Map(current._map);
    if (token.oldValue === MISSING) next.delete(this);
    else next.set(this, token.oldValue);
    current._map = next;
    token._used = true;
  }

  toString(): string {
    const d = this._default === MISSING ? '' : ` default=${repr(this._default)}`;
    return `<ContextVar name=${repr(this.name)}${d} at ${objectId(this)}>`;
  }
}

export class Token<T> {
  /** Marker for "the variable had no value" (Python's `Token.MISSING`). */
  static readonly MISSING: typeof MISSING = MISSING;
  /** @internal */ _used = false;
  /** @internal */ readonly _context: Context;
  readonly var: ContextVar<T>;
  readonly oldValue: T | typeof MISSING;

  constructor(context: Context, v: ContextVar<T>, oldValue: T | typeof MISSING) {
    this._context = context;
    this.var = v;
    this.oldValue = oldValue;
  }

  /** Python 3.14: `with var.set(x):` resets on exit; in TS, `using _ = v.set(x)`. */
  [Symbol.dispose](): void {
    this.var.reset(this);
  }

  toString(): string {
    return `<Token${this._used ? ' used' : ''} var=${this.var} at ${objectId(this)}>`;
  }
}

/** @internal Check a `context` argument: a Context, or null/undefined for the default. */
export function checkContextArg(context: unknown): void {
  if (context !== undefined && context !== null && !(context instanceof Context)) {
    throw new TypeError(`context must be an instance of Context or None, not '${pyTypeName(context)}'`);
  }
}
