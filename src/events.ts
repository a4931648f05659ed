/**
 * Handles and the running-loop slot (CPython's events.py, without the deprecated policy layer).
 *
 * A Handle is a callback scheduled on a loop with the context it runs in. Only the loop's `runOnce()` runs
 * handles; everything else appends them to the ready queue or the timer heap.
 */
import { badLoop } from './_internal/args.js';
import type { EventLoop, ExceptionContext } from './base_events.js';
import { DEBUG_STACK_DEPTH } from './constants.js';
import { type Context, currentContext, exitCurrentContext } from './contextvars.js';
import { KeyboardInterrupt, RuntimeError, SystemExit } from './exceptions.js';
import { callbackName, className, createdAt, extractStack, repr } from './format_helpers.js';
import { isFuture } from './futures.js';

// Handle._hflags, one packed field (the only table of its bits):
//   bits 0-1  the argument mode: 0 no arguments, ONE_ARG (`_args` is the single argument itself, the loop's
//             fast path), MANY_ARGS (`_args` is an array);
//   bit 2     H_CANCELLED;
//   bit 3     H_SCHEDULED (a TimerHandle in the loop's heap);
//   bits 8-15 reserved for subclasses.
/** @internal */ export const ONE_ARG = 1;
const MANY_ARGS = 2;
const H_ARGMODE = 3;
/** @internal */ export const H_CANCELLED = 4;
/** @internal */ export const H_SCHEDULED = 8;
/**
 * @internal Marks a timer entry that is not a TimerHandle but a `sleep()`'s own future (tasks.ts's
 * SleepFuture): the loop fires it with `fireSleep` instead of `_run()`. Bits above it are free for the
 * entry's own use (SleepFuture keeps its phase there).
 */
export const H_SLEEP = 16;

/**
 * @internal What the loop's timer heap holds: a TimerHandle, or a sleep's future acting as its own timer
 * [HOT: memory — no TimerHandle and no boxed deadline per timed sleep]. Both keep H_SCHEDULED/H_CANCELLED in
 * `_hflags`; the deadline lives in the heap (TimerHeap.peekWhen).
 */
export interface TimerEntry {
  _hflags: number;
}

export class Handle {
  /** @internal the class name reprs show, even in a minified bundle (format_helpers.ts, className) */
  static readonly _pyName: string = 'Handle';
  /** @internal */ _callback: ((...args: any[]) => unknown) | null;
  /** @internal */ _args: unknown;
  /**
   * @internal The argument mode (ONE_ARG: _args is the single argument; MANY_ARGS: _args is an array; 0: no
   * arguments), cancelled, and a TimerHandle's scheduled flag, in one field [HOT: memory — a timer per
   * sleep]; read through the `_argMode`, `_cancelled` and `_scheduled` accessors.
   */
  _hflags: number;
  /** @internal */ _context: Context;
  /** @internal */ _loop: EventLoop;
  /** @internal repr captured at cancel() in debug mode, like CPython */
  declare _repr: string | undefined;
  /** @internal creation stack in debug mode */
  declare _sourceTraceback: string[] | undefined;

  /**
   * `context` defaults to a copy of the current context (CPython's `context=None`). In debug mode every
   * handle records where it was created (CPython's Handle.__init__), however it was made.
   */
  constructor(
    callback: (...args: any[]) => unknown,
    args: unknown[] | null,
    loop: EventLoop,
    context?: Context | null,
  ) {
    this._callback = callback;
    this._hflags = args === null || args.length === 0 ? 0 : MANY_ARGS;
    this._args = args;
    this._context = context ?? currentContext().copy();
    this._loop = loop;
    if (loop._debug) this._sourceTraceback = extractStack(1, DEBUG_STACK_DEPTH);
  }

  /** @internal Single-argument constructor for the loop's own hot paths (no args array). */
  static _one(callback: (arg: any) => unknown, arg: unknown, loop: EventLoop, context: Context): Handle {
    const h = new Handle(callback, null, loop, context);
    h._args = arg;
    h._hflags = ONE_ARG;
    return h;
  }

  /** @internal */
  get _argMode(): number {
    return this._hflags & H_ARGMODE;
  }

  /** @internal The callback's first argument (for a task's step or wakeup: the task). */
  _firstArg(): unknown {
    const mode = this._argMode;
    if (mode === ONE_ARG) return this._args;
    return mode === MANY_ARGS ? (this._args as unknown[])[0] : undefined;
  }

  /** @internal */
  get _cancelled(): boolean {
    return (this._hflags & H_CANCELLED) !== 0;
  }

  /** Cancel the callback; a cancelled handle is skipped when its turn comes. */
  cancel(): void {
    if ((this._hflags & H_CANCELLED) === 0) {
      this._hflags |= H_CANCELLED;
      if (this._loop.getDebug()) this._repr = this.toString();
      this._callback = null;
      this._args = null;
    }
  }

  cancelled(): boolean {
    return this._cancelled;
  }

  /** The context the callback runs in (Python 3.12). */
  getContext(): Context {
    return this._context;
  }

  /** @internal Run the callback in its context; exceptions go to the loop's exception handler. */
  _run(): void {
    const ctx = this._context;
    const cb = this._callback!;
    if (ctx._entered) {
      // Python raises "cannot enter context: … is already entered"; report it like any callback error.
      this._reportError(new RuntimeError(`cannot enter context: ${ctx} is already entered`));
      return;
    }
    ctx._enter();
    try {
      const mode = this._argMode;
      let r: unknown;
      if (mode === ONE_ARG) r = cb(this._args);
      else if (mode === 0) r = cb();
      else r = cb(...(this._args as unknown[]));
      if (r !== undefined && isPromiseResult(r)) this._watchPromise(r);
    } catch (e) {
      // Like CPython's Handle._run: these two end the loop's run (they propagate out of runOnce); every
      // other error is reported to the exception handler.
      if (e instanceof KeyboardInterrupt || e instanceof SystemExit) throw e;
      this._reportError(e);
    } finally {
      exitCurrentContext();
    }
  }

  /**
   * @internal The callback returned a promise (a plain function wrapping async work): its rejection is
   * reported like a thrown error instead of becoming an unhandled rejection that ends the process.
   */
  _watchPromise(p: PromiseLike<unknown>): void {
    p.then(undefined, (e: unknown) => this._reportError(e));
  }

  /** @internal */
  _reportError(e: unknown): void {
    const context: ExceptionContext = {
      message: `Exception in callback ${this._formatCallback()}`,
      exception: e,
      handle: this,
    };
    if (this._sourceTraceback) context.source_traceback = this._sourceTraceback;
    this._loop.callExceptionHandler(context);
  }

  /**
   * @internal CPython 3.14's `_format_callback_source`: the arguments are shown in debug mode only (outside
   * it a repr must not call the arguments' reprs).
   */
  _formatCallback(): string {
    const cb = this._callback;
    if (cb === null) return '<cancelled>';
    const name = callbackName(cb);
    let args = '';
    if (!this._loop.getDebug()) return `${name}()`;
    if (this._argMode === ONE_ARG) args = repr(this._args);
    else if (this._argMode === MANY_ARGS) args = (this._args as unknown[]).map((a) => repr(a)).join(', ');
    return `${name}(${args})`;
  }

  /** @internal */
  _reprInfo(): string[] {
    const info: string[] = [];
    if (this._cancelled) info.push('cancelled');
    if (this._callback !== null) info.push(this._formatCallback());
    const created = createdAt(this._sourceTraceback);
    if (created !== null) info.push(`created at ${created}`);
    return info;
  }

  toString(): string {
    if (this._repr !== undefined) return this._repr;
    return `<${className(this.constructor)} ${this._reprInfo().join(' ')}>`;
  }
}

/** A Handle scheduled for a time on the loop's clock. */
export class TimerHandle extends Handle {
  /** @internal the class name reprs show, even in a minified bundle (format_helpers.ts, className) */
  static override readonly _pyName: string = 'TimerHandle';
  /** @internal */ _when: number;

  constructor(
    when: number,
    callback: (...args: any[]) => unknown,
    args: unknown[] | null,
    loop: EventLoop,
    context?: Context | null,
  ) {
    super(callback, args, loop, context);
    this._when = when;
  }

  /** @internal true while in the loop's heap */
  get _scheduled(): boolean {
    return (this._hflags & H_SCHEDULED) !== 0;
  }

  /** The absolute time (loop.time() clock) the callback is scheduled for. */
  when(): number {
    return this._when;
  }

  override cancel(): void {
    if ((this._hflags & H_CANCELLED) === 0) this._loop._timerHandleCancelled(this);
    super.cancel();
  }

  override _reprInfo(): string[] {
    const info = super._reprInfo();
    info.splice(this._cancelled ? 1 : 0, 0, `when=${this._when}`);
    return info;
  }
}

// ---------------------------------------------------------------------------------------------
// Async functions where callbacks go (JavaScript's coroutine functions: their calls return Promises).

/** @internal An `async function` (not a generator-based coroutine function). */
export function isAsyncFunction(fn: unknown): boolean {
  return (
    typeof fn === 'function' &&
    (fn as { [Symbol.toStringTag]?: unknown })[Symbol.toStringTag] === 'AsyncFunction'
  );
}

/**
 * @internal A callback's return value is a promise to watch: a thenable that is not a tsyncio Future (a
 * callback returning a Task, `() => loop.createTask(…)`, keeps the Task's own error reporting).
 */
export function isPromiseResult(r: unknown): r is PromiseLike<unknown> {
  return (
    (typeof r === 'object' || typeof r === 'function') &&
    r !== null &&
    typeof (r as PromiseLike<unknown>).then === 'function' &&
    !isFuture(r)
  );
}

/** @internal TypeError for an async function passed where a callback goes (CPython's `_check_callback`). */
export function checkNotAsync(fn: unknown, method: string): void {
  if (isAsyncFunction(fn)) {
    throw new TypeError(
      `coroutines cannot be used with ${method}(): an async function's promise would not be awaited ` +
        '(use a plain function, or createTask with a coroutine)',
    );
  }
}

// ---------------------------------------------------------------------------------------------
// The running-loop slot. Python's thread is, here, the stretch of synchronous code a loop's batch runs
// in: the *active* loop is the one whose callbacks are on the stack (its pump, or runSync), and only one
// can be. Between batches, host callbacks (a setTimeout, a socket event) see the running loop when one
// loop runs; when several independent runs interleave (two run() calls from two request handlers),
// they see none.

let runningLoop: EventLoop | null = null;
let activeLoop: EventLoop | null = null;
let currentLoop: EventLoop | null = null;

/** The running event loop; RuntimeError("no running event loop") outside one. */
export function getRunningLoop(): EventLoop {
  if (runningLoop === null) throw new RuntimeError('no running event loop');
  return runningLoop;
}

/** @internal The running loop or null (Python's `_get_running_loop`). */
export function _getRunningLoop(): EventLoop | null {
  return runningLoop;
}

/** @internal */
export function _setRunningLoop(loop: EventLoop | null): void {
  runningLoop = loop;
}

/** @internal The loop whose callbacks are on the stack, or null (in a host callback, at top level). */
export function _getActiveLoop(): EventLoop | null {
  return activeLoop;
}

/** @internal */
export function _setActiveLoop(loop: EventLoop | null): void {
  activeLoop = loop;
}

/**
 * The running loop, else the loop set with `setEventLoop`; Python 3.14 raises RuntimeError when there is
 * neither (it no longer creates one implicitly).
 */
export function getEventLoop(): EventLoop {
  if (runningLoop !== null) return runningLoop;
  if (currentLoop === null || currentLoop.isClosed()) {
    throw new RuntimeError("There is no current event loop in thread 'MainThread'.");
  }
  return currentLoop;
}

/** @internal The loop set with setEventLoop, or null. */
export function _getCurrentLoop(): EventLoop | null {
  return currentLoop;
}

/** Set the current (not running) event loop; `null` clears it. */
export function setEventLoop(loop: EventLoop | null | undefined): void {
  checkLoopArg(loop);
  currentLoop = loop ?? null;
}

// The EventLoop class, registered by base_events (which imports this module: no import cycle at load).
let loopClass: (abstract new (...args: any[]) => EventLoop) | null = null;

/** @internal */
export function _registerLoopClass(cls: abstract new (...args: any[]) => EventLoop): void {
  loopClass = cls;
}

/** @internal Is `x` an EventLoop (of any subclass)? For the checks of `loop` arguments. */
export function isEventLoop(x: unknown): x is EventLoop {
  return loopClass !== null && x instanceof loopClass;
}

/** @internal Check a `loop` argument: an EventLoop, or null/undefined for the default. */
export function checkLoopArg(loop: unknown): void {
  if (loop !== undefined && loop !== null && !isEventLoop(loop)) throw badLoop(loop);
}
