/**
 * Reprs and stack formatting (CPython's base_futures.py, base_tasks.py and format_helpers.py).
 *
 * Python shows objects as `<coroutine object square at 0x7f…>`. JavaScript has no addresses, so each object
 * that needs one gets a stable, unique, address-like id the first time it is asked for.
 */

import type { StackFrame } from './_internal/v8stack.js';

const ids = new WeakMap<object, string>();
// Start at an address-looking value so ids read like CPython's (0x7f3a…) and never collide.
let nextId = 0x7f0000001000;

/** A stable, unique hex id for `obj` ("0x7f0000001010"), assigned on first use. */
export function objectId(obj: object): string {
  let id = ids.get(obj);
  if (id === undefined) {
    nextId += 0x10;
    id = '0x' + nextId.toString(16);
    ids.set(obj, id);
  }
  return id;
}

function reprString(s: string): string {
  // Python prefers single quotes unless the string contains one and no double quote.
  const useDouble = s.includes("'") && !s.includes('"');
  const q = useDouble ? '"' : "'";
  let out = '';
  for (const ch of s) {
    if (ch === '\\') out += '\\\\';
    else if (ch === q) out += '\\' + q;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else out += ch;
  }
  return q + out + q;
}

/** Python's `repr()` for JS values, used in reprs and error messages ("Task got bad yield: 1"). */
export function repr(value: unknown, depth = 0): string {
  switch (typeof value) {
    case 'undefined':
      return 'None';
    case 'boolean':
      return value ? 'True' : 'False';
    case 'number':
      if (Number.isNaN(value)) return 'nan';
      if (value === Infinity) return 'inf';
      if (value === -Infinity) return '-inf';
      return String(value);
    case 'bigint':
      return String(value);
    case 'string':
      return reprString(value);
    case 'symbol':
      return value.toString();
    case 'function':
      return `<function ${value.name || '<anonymous>'} at ${objectId(value)}>`;
  }
  if (value === null) return 'None';
  // A value that contains itself prints `...` (Python's Py_ReprEnter), whatever reprs sit in between.
  if (reprActive.has(value)) return Array.isArray(value) ? '[...]' : '...';
  if (depth > 3) return '...';
  reprActive.add(value);
  try {
    return reprObject(value as object, depth);
  } finally {
    reprActive.delete(value);
  }
}

const reprActive = new Set<unknown>();

function reprObject(value: object, depth: number): string {
  if (value instanceof Error) {
    const args = (value as { args?: unknown[] }).args;
    if (Array.isArray(args)) return `${value.name}(${args.map((a) => repr(a, depth + 1)).join(', ')})`;
    return value.message === '' ? `${value.name}()` : `${value.name}(${reprString(value.message)})`;
  }
  if (Array.isArray(value)) return '[' + value.map((v) => repr(v, depth + 1)).join(', ') + ']';
  if (value instanceof Uint8Array) return bytesRepr(value);
  if (value instanceof Set) {
    return value.size === 0 ? 'set()' : '{' + [...value].map((v) => repr(v, depth + 1)).join(', ') + '}';
  }
  if (value instanceof Map) {
    return '{' + [...value].map(([k, v]) => `${repr(k, depth + 1)}: ${repr(v, depth + 1)}`).join(', ') + '}';
  }
  const toString = (value as { toString?: () => string }).toString;
  if (typeof toString === 'function' && toString !== Object.prototype.toString) {
    return String(value);
  }
  const proto = Object.getPrototypeOf(value);
  if (proto === Object.prototype || proto === null) {
    const entries = Object.entries(value as object);
    return '{' + entries.map(([k, v]) => `${reprString(k)}: ${repr(v, depth + 1)}`).join(', ') + '}';
  }
  const name = className(proto?.constructor);
  return `<${name} object at ${objectId(value as object)}>`;
}

/**
 * The name of a class for reprs and messages: a tsyncio class's own name as written (its static `_pyName`),
 * which a minifier that renames classes cannot change; any other class's `name` (a subclass of a tsyncio
 * class included: `_pyName` counts only as the class's own property).
 */
export function className(ctor: unknown): string {
  if (typeof ctor !== 'function') return 'object';
  if (Object.hasOwn(ctor, '_pyName')) return (ctor as unknown as { _pyName: string })._pyName;
  return (ctor as { name: string }).name;
}

/**
 * Python's `repr()`, to print values as a Python program would: `None`, `True`, `'text'`, `b'bytes\n'`
 * (a Uint8Array or Buffer), `[1, 'a']`, `{'k': 1}` (a plain object or a Map), `{1, 2}` / `set()`,
 * `ValueError('bad')`, and tsyncio's own objects by their reprs (`<Task pending name='t' …>`).
 * `console.log(repr(data))` where Python has `print(repr(data))` or `print(f'{data!r}')`.
 */
export function pyRepr(value: unknown): string {
  return repr(value);
}

/** Python's `repr(bytes)`: b'abc\n'. */
export function bytesRepr(b: Uint8Array): string {
  let out = "b'";
  for (const c of b) {
    if (c === 0x5c) out += '\\\\';
    else if (c === 0x27) out += "\\'";
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    else if (c >= 0x20 && c < 0x7f) out += String.fromCharCode(c);
    else out += '\\x' + c.toString(16).padStart(2, '0');
  }
  return out + "'";
}

/** A function carrying the name CPython's reprs give it (see setReprName). */
type ReprNamed = { _reprName?: string };

/**
 * @internal Give a library callback the name CPython's reprs show for it (`Task.task_wakeup`,
 * `TaskGroup._on_task_done`, …) where its JS name cannot say it; returns `fn`.
 */
export function setReprName<F extends (...args: any[]) => unknown>(fn: F, name: string): F {
  (fn as ReprNamed)._reprName = name;
  return fn;
}

/** Name of a callback for handle reprs, like CPython's `_format_callback_source`. */
export function callbackName(fn: unknown): string {
  if (typeof fn === 'function') return (fn as ReprNamed)._reprName ?? (fn.name || '<anonymous>');
  return repr(fn);
}

/**
 * The current stack as "most recent call last" lines (File "x", line N, in f), dropping tsyncio's own
 * frames: debug mode's creation stacks. The implementation is src/debug_stacks.ts, installed by
 * `tsyncio/debug` (which the Node entry imports, and which debug mode needs) — until then, nothing.
 */
export let extractStack: (skip?: number, limit?: number) => string[] = () => [];

/**
 * @internal The frames of a task's recorded await stack (v8stack.ts's suspendedCoroutineFrames), for the
 * ` running at file:line` of a Task repr. Installed with extractStack; until then none (no await stack can
 * have been recorded: recording is debug mode's, or trackAwaitStacks()'s, which installs it).
 */
export let awaitStackFrames: (raw: RawStack | undefined) => StackFrame[] = () => [];

/** @internal Whether src/debug_stacks.ts installed the readers above (debug mode needs them). */
export let stacksInstalled = false;

/** @internal Called by src/debug_stacks.ts. */
export function installStackReaders(extract: typeof extractStack, frames: typeof awaitStackFrames): void {
  extractStack = extract;
  awaitStackFrames = frames;
  stacksInstalled = true;
}

/** @internal "file:line" of the innermost frame of a debug-mode creation stack (CPython's `created at`). */
export function createdAt(tb: string[] | undefined): string | null {
  if (tb === undefined || tb.length === 0) return null;
  const m = /File "(.*)", line (\d+)/.exec(tb[tb.length - 1]!);
  return m === null ? null : `${m[1]}:${m[2]}`;
}

/** @internal A captured, not yet formatted stack: reading `.stack` formats it (V8 does that lazily). */
export interface RawStack {
  stack?: string;
  /**
   * The qualified name of the hand-written awaitable body (an iterator object, not a generator) the stack
   * was captured from, whose `next()` is then its top frame: see suspendOn in futures.ts.
   */
  body?: string;
}

/**
 * @internal Capture the stack at the call (innermost frame first, up to `limit` frames) without
 * formatting it: formatting is the costly part, so only an introspection request that reads `.stack` pays.
 */
export function captureRawStack(limit = 64, above: (...args: any[]) => unknown = captureRawStack): RawStack {
  const holder: RawStack = {};
  const prev = Error.stackTraceLimit;
  Error.stackTraceLimit = limit;
  // Frames from `above` up are left out: the stack starts at its caller.
  Error.captureStackTrace?.(holder, above);
  Error.stackTraceLimit = prev;
  return holder;
}

/** Python's `type(x).__name__` for JS values, for error messages ("… not supported between 'str' and 'int'"). */
export function pyTypeName(x: unknown): string {
  switch (typeof x) {
    case 'undefined':
      return 'NoneType';
    case 'number':
      return Number.isInteger(x) ? 'int' : 'float';
    case 'bigint':
      return 'int';
    case 'string':
      return 'str';
    case 'boolean':
      return 'bool';
    case 'function':
      return 'function';
    case 'symbol':
      return 'symbol';
  }
  if (x === null) return 'NoneType';
  if (Array.isArray(x)) return 'list';
  if (x instanceof Map) return 'dict';
  if (x instanceof Set) return 'set';
  const proto = Object.getPrototypeOf(x);
  if (proto === Object.prototype || proto === null) return 'dict';
  const name = className(proto.constructor);
  // Coroutine objects are `coroutine` in Python (checked by name: this module sits below coroutines.ts).
  return name === 'Coroutine' ? 'coroutine' : name;
}
