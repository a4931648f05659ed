/**
 * Handles and the running-loop slot (CPython's events.py, without the deprecated policy layer).
 *
 * A Handle is a callback scheduled on a loop with the context it runs in. Only the loop's `runOnce()` runs
 * handles; everything else appends them to the ready queue or the timer heap.
 */
import type { EventLoop, ExceptionContext } from './base_events.js';
import type { Context } from './contextvars.js';
import { KeyboardInterrupt, RuntimeError, SystemExit } from './exceptions.js';
import { callbackName, createdAt, repr } from './format_helpers.js';

/** The arguments marker for the single-argument fast path: `_args` holds the one argument itself. */
const ONE_ARG = 1;
const MANY_ARGS = 2;
// Handle._hflags: the argument mode in the low two bits, then the booleans.
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

  constructor(
    callback: (...args: any[]) => unknown,
    args: unknown[] | null,
    loop: EventLoop,
    context: Context,
  ) {
    this._callback = callback;
    this._hflags = args === null || args.length === 0 ? 0 : MANY_ARGS;
    this._args = args;
    this._context = context;
    this._loop = loop;
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
      if (mode === ONE_ARG) cb(this._args);
      else if (mode === 0) cb();
      else cb(...(this._args as unknown[]));
    } catch (e) {
      // Like CPython's Handle._run: these two end the loop's run (they propagate out of runOnce); every
      // other error is reported to the exception handler.
      if (e instanceof KeyboardInterrupt || e instanceof SystemExit) throw e;
      this._reportError(e);
    } finally {
      ctx._exit();
    }
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

  /** @internal */
  _formatCallback(): string {
    const cb = this._callback;
    if (cb === null) return '<cancelled>';
    const name = (cb as { _reprName?: string })._reprName ?? callbackName(cb);
    let args = '';
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
    return `<${this.constructor.name} ${this._reprInfo().join(' ')}>`;
  }
}

/** A Handle scheduled for a time on the loop's clock. */
export class TimerHandle extends Handle {
  /** @internal */ _when: number;

  constructor(
    when: number,
    callback: (...args: any[]) => unknown,
    args: unknown[] | null,
    loop: EventLoop,
    context: Context,
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
// The running-loop slot. One loop runs at a time in a JS realm (the realm is Python's thread).

let runningLoop: EventLoop | null = null;
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

/** Set the current (not running) event loop; `null` clears it. */
export function setEventLoop(loop: EventLoop | null | undefined): void {
  currentLoop = loop ?? null;
}

let loopFactory: (() => EventLoop) | null = null;

/** @internal base_events registers the EventLoop constructor here (avoids an import cycle at load time). */
export function _registerLoopFactory(factory: () => EventLoop): void {
  loopFactory = factory;
}

/** A new event loop (not set as current). */
export function newEventLoop(): EventLoop {
  return loopFactory!();
}
