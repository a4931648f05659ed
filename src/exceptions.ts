/**
 * Python's built-in exceptions that JavaScript lacks, and asyncio's own exceptions (exceptions.py).
 *
 * Every class sets `name` so that `String(err)` reads like Python's traceback line
 * (`CancelledError: msg`). Messages are written where the error is raised, as in CPython.
 */

import { isRaisable } from './_internal/args.js';
import { pyTypeName } from './format_helpers.js';

/** Marks Python's BaseException-but-not-Exception classes (CancelledError, KeyboardInterrupt, SystemExit). */
export const BASE_EXCEPTION: unique symbol = Symbol.for('tsyncio.BaseException');

/**
 * Give `cls.prototype` the `name` Python shows (writable and configurable, like Error.prototype.name);
 * returns the name. Called from each class's static initializer `_named`, annotated as a pure call:
 * a static initializer marked pure leaves an unused class removable by bundlers (tree-shaking), where a
 * module-level `named(Cls, …)` statement would keep every class (docs/ARCHITECTURE.md §10, bundle size).
 */
function named(cls: new (...args: any[]) => Error, name: string): string {
  Object.defineProperty(cls.prototype, 'name', { value: name, writable: true, configurable: true });
  return name;
}

/** Python's RuntimeError. */
export class RuntimeError extends Error {
  /** @internal */
  static readonly _named: string = /* @__PURE__ */ named(this, 'RuntimeError');
}

/** Python's ValueError. */
export class ValueError extends Error {
  /** @internal */
  static readonly _named: string = /* @__PURE__ */ named(this, 'ValueError');
}

/** Python's LookupError. */
export class LookupError extends Error {
  /** @internal */
  static readonly _named: string = /* @__PURE__ */ named(this, 'LookupError');
}

/** Python's KeyError (raised by Context lookups and ContextVar.get without a default). */
export class KeyError extends LookupError {
  /** @internal */
  static override readonly _named: string = /* @__PURE__ */ named(this, 'KeyError');
}

/** Python's NotImplementedError. */
export class NotImplementedError extends RuntimeError {
  /** @internal */
  static override readonly _named: string = /* @__PURE__ */ named(this, 'NotImplementedError');
}

/** Python's StopIteration: `value` is the return value of the finished coroutine. */
export class StopIteration<T = unknown> extends Error {
  /** @internal */
  static readonly _named: string = /* @__PURE__ */ named(this, 'StopIteration');
  readonly value: T;
  constructor(value?: T) {
    super(value === undefined ? '' : String(value));
    this.value = value as T;
  }
}

/** Python's StopAsyncIteration: thrown by `anext()` at the end of an async iterator. */
export class StopAsyncIteration extends Error {
  /** @internal */
  static readonly _named: string = /* @__PURE__ */ named(this, 'StopAsyncIteration');
}

/** Python's EOFError. */
export class EOFError extends Error {
  /** @internal */
  static readonly _named: string = /* @__PURE__ */ named(this, 'EOFError');
}

/**
 * Python's OSError; `errno` (Python's positive number), `strerror` and `code` (Node's 'ECONNREFUSED')
 * carry the host's error when known.
 */
export class OSError extends Error {
  /** @internal */
  static readonly _named: string = /* @__PURE__ */ named(this, 'OSError');
  // `declare`: no own property until one is set, so `console.log(err)` shows only what is known.
  declare errno?: number;
  declare strerror?: string;
  declare code?: string;
}

/** Python's TimeoutError (an OSError since Python 3.3; asyncio.TimeoutError is this class since 3.11). */
export class TimeoutError extends OSError {
  /** @internal */
  static override readonly _named: string = /* @__PURE__ */ named(this, 'TimeoutError');
}

/** Python's ConnectionError and its subclasses. */
export class ConnectionError extends OSError {
  /** @internal */
  static override readonly _named: string = /* @__PURE__ */ named(this, 'ConnectionError');
}
export class ConnectionRefusedError extends ConnectionError {
  /** @internal */
  static override readonly _named: string = /* @__PURE__ */ named(this, 'ConnectionRefusedError');
}
export class ConnectionResetError extends ConnectionError {
  /** @internal */
  static override readonly _named: string = /* @__PURE__ */ named(this, 'ConnectionResetError');
}
export class ConnectionAbortedError extends ConnectionError {
  /** @internal */
  static override readonly _named: string = /* @__PURE__ */ named(this, 'ConnectionAbortedError');
}
export class BrokenPipeError extends ConnectionError {
  /** @internal */
  static override readonly _named: string = /* @__PURE__ */ named(this, 'BrokenPipeError');
}

/** Python's OSError subclasses for file and process errors (ENOENT, EEXIST, EACCES/EPERM, ESRCH). */
export class FileNotFoundError extends OSError {
  /** @internal */
  static override readonly _named: string = /* @__PURE__ */ named(this, 'FileNotFoundError');
}
export class FileExistsError extends OSError {
  /** @internal */
  static override readonly _named: string = /* @__PURE__ */ named(this, 'FileExistsError');
}
export class PermissionError extends OSError {
  /** @internal */
  static override readonly _named: string = /* @__PURE__ */ named(this, 'PermissionError');
}
export class ProcessLookupError extends OSError {
  /** @internal */
  static override readonly _named: string = /* @__PURE__ */ named(this, 'ProcessLookupError');
}

/**
 * Python's KeyboardInterrupt: what `run()` raises after SIGINT cancelled the main task.
 * A BaseException in Python: TaskGroup does not wrap it in an ExceptionGroup.
 */
export class KeyboardInterrupt extends Error {
  /** @internal */
  static readonly _named: string = /* @__PURE__ */ named(this, 'KeyboardInterrupt');
  static readonly [BASE_EXCEPTION] = true;
}

/** Python's SystemExit (a BaseException). */
export class SystemExit extends Error {
  /** @internal */
  static readonly _named: string = /* @__PURE__ */ named(this, 'SystemExit');
  readonly code: number | string | undefined;
  constructor(code?: number | string) {
    super(code === undefined ? '' : String(code));
    this.code = code;
  }
  static readonly [BASE_EXCEPTION] = true;
}

/**
 * Python's GeneratorExit: what `aclose()` throws into an async generator at its suspension point, so its
 * `finally` blocks run (and may await). A BaseException in Python: a broad `catch` must re-throw it.
 */
export class GeneratorExit extends Error {
  /** @internal */
  static readonly _named: string = /* @__PURE__ */ named(this, 'GeneratorExit');
  static readonly [BASE_EXCEPTION] = true;
}

// ---------------------------------------------------------------------------------------------
// asyncio's exceptions (exceptions.py)

/**
 * The operation has been cancelled. `message` is the message given to `cancel(msg)` (empty when none).
 * In Python this is a BaseException, so that `except Exception` does not swallow it; JavaScript has a
 * single Error hierarchy, so code that catches everything must re-throw it (see `isCancelledError`).
 */
export class CancelledError extends Error {
  /** @internal */
  static readonly _named: string = /* @__PURE__ */ named(this, 'CancelledError');
  /** The `msg` passed to `cancel()`, or undefined (Python: `args == ()`). */
  readonly args: unknown[];
  constructor(message?: unknown) {
    super(message === undefined || message === null ? '' : String(message));
    this.args = message === undefined || message === null ? [] : [message];
  }
  static readonly [BASE_EXCEPTION] = true;
}

/** The operation is not allowed in this state. */
export class InvalidStateError extends Error {
  /** @internal */
  static readonly _named: string = /* @__PURE__ */ named(this, 'InvalidStateError');
}

/** Sendfile syscall is not available (kept for parity; tsyncio never raises it). */
export class SendfileNotAvailableError extends RuntimeError {
  /** @internal */
  static override readonly _named: string = /* @__PURE__ */ named(this, 'SendfileNotAvailableError');
}

/**
 * tsyncio's own (Python has no equivalent: CPython hangs). A run of the loop can never finish: nothing can
 * wake a waiting task again — no callback is ready, no timer is scheduled, and the host has nothing left
 * that could deliver an event (on Node: the process is about to exit, its 'beforeExit'; under `runSync()`:
 * the loop itself knows). Before it is raised, the tasks that were pending are cancelled and their
 * `finally` blocks run, as after Ctrl-C. `tasks` are those tasks; the message lists each one and the call
 * graph of what it awaits.
 */
export class DeadlockError extends RuntimeError {
  /** @internal */
  static override readonly _named: string = /* @__PURE__ */ named(this, 'DeadlockError');
  /** The tasks that were pending (and were then cancelled), in creation order. */
  declare readonly tasks: readonly unknown[];
  constructor(message: string, tasks: readonly unknown[] = []) {
    super(message);
    // Not enumerable: Node's report of an uncaught error would dump every task object.
    Object.defineProperty(this, 'tasks', { value: Object.freeze([...tasks]), enumerable: false });
  }
}

/** Incomplete read error: `partial` holds the bytes read before EOF, `expected` the wanted count. */
export class IncompleteReadError extends EOFError {
  /** @internal */
  static override readonly _named: string = /* @__PURE__ */ named(this, 'IncompleteReadError');
  readonly partial: Uint8Array;
  readonly expected: number | null;
  constructor(partial: Uint8Array, expected: number | null) {
    const r = expected === null ? 'undefined' : String(expected);
    super(`${partial.length} bytes read on a total of ${r} expected bytes`);
    this.partial = partial;
    this.expected = expected;
  }
}

/** Reached the buffer limit while looking for a separator; `consumed` is how many bytes to consume. */
export class LimitOverrunError extends Error {
  /** @internal */
  static readonly _named: string = /* @__PURE__ */ named(this, 'LimitOverrunError');
  readonly consumed: number;
  constructor(message: string, consumed: number) {
    super(message);
    this.consumed = consumed;
  }
}

/** Barrier is broken by barrier.abort() call. */
export class BrokenBarrierError extends RuntimeError {
  /** @internal */
  static override readonly _named: string = /* @__PURE__ */ named(this, 'BrokenBarrierError');
}

// ---------------------------------------------------------------------------------------------
// ExceptionGroup (Python 3.11, PEP 654)

/** Any exception class (constructor). */
export type ErrorClass = abstract new (...args: any[]) => unknown;
/** What `split`/`subgroup` accept: an exception class, a list of classes, or a predicate. */
export type Matcher = ErrorClass | readonly ErrorClass[] | ((e: unknown) => boolean);

function toPredicate(m: Matcher): (e: unknown) => boolean {
  if (Array.isArray(m) && m.every(isErrorClass)) return (e) => m.some((c) => e instanceof c);
  if (isErrorClass(m)) return (e) => e instanceof (m as ErrorClass);
  if (typeof m === 'function' && !Array.isArray(m)) return m as (e: unknown) => boolean;
  throw new TypeError(
    'expected an exception type, a tuple of exception types, or a callable (other than a class)',
  );
}

function isErrorClass(f: unknown): boolean {
  if (typeof f !== 'function') return false;
  const proto = (f as { prototype?: unknown }).prototype;
  return proto === Error.prototype || proto instanceof Error;
}

// Set while a group is made of values that JavaScript code threw (see exceptionGroupOf).
let trustedItems = false;

/**
 * @internal Make a group of values caught from JavaScript code (a TaskGroup's errors): anything can be
 * thrown there, a string too, so the items are not checked as `new ExceptionGroup()` checks them.
 */
export function exceptionGroupOf<E, G>(
  message: string,
  exceptions: readonly E[],
  make: (message: string, exceptions: readonly E[]) => G = (m, e) => new ExceptionGroup(m, e) as G,
): G {
  trustedItems = true;
  try {
    return make(message, exceptions);
  } finally {
    trustedItems = false;
  }
}

/**
 * A group of exceptions raised together (PEP 654). Python distinguishes BaseExceptionGroup; tsyncio has one
 * class: it extends AggregateError, `exceptions` keeps the order in which they happened, and `String(eg)`
 * ends with ` (2 sub-exceptions)` like Python's `str()`.
 */
export class ExceptionGroup<E = unknown> extends AggregateError {
  /** @internal */
  static readonly _named: string = /* @__PURE__ */ named(this, 'ExceptionGroup');
  /** The message given at construction (without the sub-exception count): Python's `.message`. */
  readonly rawMessage: string;
  readonly exceptions: readonly E[];
  /** Python's `args`: `[message, exceptions]` (what repr() shows). */
  readonly args: [string, E[]];

  constructor(message: string, exceptions: readonly E[]) {
    if (typeof message !== 'string') {
      throw new TypeError(`BaseExceptionGroup.__new__() argument 1 must be str, not ${pyTypeName(message)}`);
    }
    if (
      !Array.isArray(exceptions) &&
      !(exceptions && typeof (exceptions as any)[Symbol.iterator] === 'function')
    ) {
      throw new TypeError('second argument (exceptions) must be a sequence');
    }
    const list = [...exceptions];
    if (list.length === 0) throw new ValueError('second argument (exceptions) must be a non-empty sequence');
    if (!trustedItems) {
      for (let i = 0; i < list.length; i++) {
        if (!isRaisable(list[i])) {
          throw new ValueError(`Item ${i} of second argument (exceptions) is not an exception`);
        }
      }
    }
    const n = list.length;
    super(list, `${message} (${n} sub-exception${n === 1 ? '' : 's'})`);
    this.rawMessage = message;
    this.exceptions = Object.freeze(list);
    this.args = [message, [...list]];
  }

  /** Python's `derive`: a group of the same type with the same message around other exceptions. */
  derive<F>(exceptions: readonly F[]): ExceptionGroup<F> {
    // The items come from this group (split), whatever they are.
    return exceptionGroupOf(this.rawMessage, exceptions, (m, e) => new ExceptionGroup(m, e));
  }

  /** The sub-group of exceptions matching `m` (a class, list of classes, or predicate), or undefined. */
  subgroup(m: Matcher): ExceptionGroup<E> | undefined {
    return this.split(m)[0];
  }

  /** Python's `split`: `[match, rest]`, each a group or undefined; nesting is preserved. */
  split(m: Matcher): [ExceptionGroup<E> | undefined, ExceptionGroup<E> | undefined] {
    const pred = toPredicate(m);
    if (pred(this)) return [this, undefined];
    const match: E[] = [];
    const rest: E[] = [];
    for (const e of this.exceptions) {
      if (e instanceof ExceptionGroup) {
        const [a, b] = e.split(pred);
        if (a) match.push(a as E);
        if (b) rest.push(b as E);
      } else if (pred(e)) {
        match.push(e);
      } else {
        rest.push(e);
      }
    }
    const wrap = (list: E[]): ExceptionGroup<E> | undefined => {
      if (list.length === 0) return undefined;
      // Python copies __cause__, __context__ and __notes__ to both halves.
      const g = this.derive(list);
      if (this.cause !== undefined) g.cause = this.cause;
      const context = (this as { context?: unknown }).context;
      if (context !== undefined) (g as { context?: unknown }).context = context;
      return g;
    };
    return [wrap(match), wrap(rest)];
  }
}

/**
 * @internal Python's implicit exception chaining (`__context__`): record that `error` was raised while
 * `handled` was being handled. JavaScript has no implicit chaining, so tsyncio sets the `context` property
 * only where it sees the chaining itself (asyncWith when `aexit` raises, timeouts); an existing `context`
 * is kept, and a link that would make the chain cyclic is not made (see docs/PYTHON_DIFFERENCES.md).
 */
export function chainContext(error: unknown, handled: unknown): void {
  if (error === handled || typeof error !== 'object' || error === null) return;
  const e = error as { context?: unknown };
  if (e.context !== undefined || handled === undefined || handled === null) return;
  for (
    let c: unknown = handled;
    typeof c === 'object' && c !== null;
    c = (c as { context?: unknown }).context
  ) {
    if (c === error) return;
  }
  try {
    e.context = handled;
  } catch {
    // A frozen error object: nothing to record.
  }
}

/** True for the classes Python derives from BaseException but not Exception. */
export function isBaseExceptionOnly(e: unknown): boolean {
  return (
    e instanceof CancelledError ||
    e instanceof KeyboardInterrupt ||
    e instanceof SystemExit ||
    e instanceof GeneratorExit
  );
}
