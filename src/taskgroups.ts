/**
 * TaskGroup (CPython's taskgroups.py, as of 3.14, plus `cancel()` from 3.15 — gh-108951 — and the
 * fixes that came with and after it on CPython's main branch: gh-135736, gh-155418, gh-155433).
 *
 * Structured concurrency from cancel/uncancel alone:
 *   - the first child error aborts the group: every other child is cancelled, and so is the parent task
 *     (the body), with `_parentCancelRequested` remembering that this one cancellation is the group's own;
 *   - aexit waits for every child (a loop, because the parent may be cancelled again while it waits), then
 *     calls `parent.uncancel()` exactly once for its own request. If the count drops to 0 the
 *     CancelledError the body received was only ours and is not propagated; otherwise someone else wants
 *     the parent cancelled too, and CancelledError goes on;
 *   - errors beat cancellation: any child or body error makes an ExceptionGroup (even for a single error),
 *     and CancelledError is never put in it. KeyboardInterrupt and SystemExit propagate bare.
 */

import { refuseAwait } from './_internal/args.js';
import type { EventLoop } from './base_events.js';
import { type Awaitable, Coroutine, closeCoroutine, type Instruction } from './coroutines.js';
import { getRunningLoop } from './events.js';
import {
  CancelledError,
  exceptionGroupOf,
  GeneratorExit,
  KeyboardInterrupt,
  RuntimeError,
  SystemExit,
} from './exceptions.js';
import { setReprName } from './format_helpers.js';
import { type Future, futureAddToAwaitedBy, futureDiscardFromAwaitedBy } from './futures.js';
import type { AsyncContextManager } from './syntax.js';
import type { Task, TaskOptions } from './tasks.js';

const AENTER_INFO = { name: 'aenter', qualname: 'TaskGroup.aenter' };
const AEXIT_INFO = { name: 'aexit', qualname: 'TaskGroup.aexit' };

/** KeyboardInterrupt and SystemExit are not grouped: they propagate as they are. */
function isBaseError(exc: unknown): boolean {
  return exc instanceof SystemExit || exc instanceof KeyboardInterrupt;
}

/**
 * An asynchronous context manager holding a group of tasks. All of them are awaited when the block
 * exits; the first one that fails cancels the others and the block, and every error is raised together
 * in an ExceptionGroup.
 *
 * ```ts
 * yield* asyncWith(new TaskGroup(), function* (tg) {
 *   tg.createTask(someCoroutine());
 *   tg.createTask(otherCoroutine());
 * });
 * console.log('Both tasks have completed now.');
 * ```
 */
export class TaskGroup implements AsyncContextManager<TaskGroup> {
  /** @internal */ _entered = false;
  /** @internal */ _exiting = false;
  /** @internal */ _aborting = false;
  /** @internal */ _loop: EventLoop | null = null;
  /** @internal */ _parentTask: Task<any> | null = null;
  /** @internal the group cancelled its parent and owes it one uncancel() */
  _parentCancelRequested = false;
  /** @internal */ _tasks = new Set<Task<any>>();
  /** @internal */ _errors: unknown[] | null = [];
  /** @internal the first KeyboardInterrupt/SystemExit seen */ _baseError: unknown = undefined;
  /** @internal resolved when the last task finishes while aexit waits */
  _onCompletedFut: Future<boolean> | null = null;
  /** @internal cancel() was called before entry */ _cancelOnEnter = false;
  private readonly _onTaskDoneBound: (task: Task<any>) => void;

  constructor() {
    this._onTaskDoneBound = (task) => this._onTaskDone(task);
    setReprName(this._onTaskDoneBound, 'TaskGroup._on_task_done');
  }

  /** Enter the group: the current task becomes its parent. */
  aenter(): Coroutine<this> {
    return new Coroutine(this._aenter(), AENTER_INFO);
  }

  /** Wait for every task; raise what the group collected (see the module header). */
  aexit(error: unknown): Coroutine<boolean> {
    return new Coroutine(this._aexitAndForget(error), AEXIT_INFO);
  }

  private *_aenter(): Generator<Instruction, this, unknown> {
    if (this._entered) throw new RuntimeError(`TaskGroup ${this} has already been entered`);
    if (this._loop === null) this._loop = getRunningLoop();
    const parent = this._loop._currentTask;
    if (parent === null) throw new RuntimeError(`TaskGroup ${this} cannot determine the parent task`);
    this._parentTask = parent;
    this._entered = true;
    if (this._cancelOnEnter) this.cancel();
    return this;
  }

  private *_aexitAndForget(error: unknown): Generator<Instruction, boolean, unknown> {
    try {
      return yield* this._aexit(error);
    } finally {
      // Errors hold stacks and can keep a lot alive: drop our references once we are done.
      this._parentTask = null;
      this._errors = null;
      this._baseError = undefined;
    }
  }

  private *_aexit(exc: unknown): Generator<Instruction, boolean, unknown> {
    this._exiting = true;
    const hasExc = exc !== undefined;

    if (hasExc && isBaseError(exc) && this._baseError === undefined) this._baseError = exc;

    let propagateCancellationError: CancelledError | undefined =
      exc instanceof CancelledError ? exc : undefined;

    if (hasExc && !this._aborting) {
      // Our parent task is being cancelled (the body's `yield*` raised CancelledError), or the body
      // raised: cancel the children.
      this._abort();
    }

    // A loop, because the parent may be cancelled again (or several times) while it waits here.
    let pendingCancellationError: CancelledError | undefined;
    while (this._tasks.size > 0) {
      if (this._onCompletedFut === null) this._onCompletedFut = this._loop!.createFuture<boolean>();
      try {
        yield* this._onCompletedFut;
      } catch (ex) {
        if (!(ex instanceof CancelledError)) throw ex;
        pendingCancellationError = ex;
        if (!this._aborting) {
          // The parent is cancelled from outside while the children still run: cancel them too.
          propagateCancellationError = ex;
          this._abort();
        }
      }
      this._onCompletedFut = null;
    }

    const errors = this._errors!;
    if (this._baseError !== undefined) {
      // The base error propagates alone; report the other errors rather than lose them (gh-135736).
      for (const suppressed of errors) {
        if (suppressed === this._baseError) continue;
        this._loop!.callExceptionHandler({
          message:
            'TaskGroup task exception was not propagated because the TaskGroup body ' +
            'is being closed with a BaseException',
          exception: suppressed,
          task_group: this,
        });
      }
      throw this._baseError;
    }

    if (this._parentCancelRequested) {
      // We cancelled the parent: we *must* uncancel it, exactly once.
      if (this._parentTask!.uncancel() === 0) {
        // No cancellation left but ours: don't propagate CancelledError.
        propagateCancellationError = undefined;
      } else if (propagateCancellationError === undefined) {
        // The remaining cancellation is not ours: don't drop it (gh-155433).
        propagateCancellationError = pendingCancellationError;
      }
    }

    // Errors have priority over cancellation.
    if (propagateCancellationError !== undefined && errors.length === 0) throw propagateCancellationError;

    if (hasExc && !(exc instanceof CancelledError)) errors.push(exc);

    if (errors.length > 0) {
      // If the parent is being cancelled from outside the group, un-cancel and re-cancel it: that keeps
      // the count stable and makes sure its next await raises.
      const parent = this._parentTask!;
      if (parent.cancelling() > 0) {
        parent.uncancel();
        parent.cancel();
      }
      // A lone GeneratorExit from the body (an async generator being closed) stays itself.
      if (exc instanceof GeneratorExit && errors.length === 1) throw exc;
      const eg = exceptionGroupOf('unhandled errors in a TaskGroup', errors);
      // Python raises it `from None`: no cause, and the context is not shown.
      throw eg;
    }

    // Suppress any remaining exception (the CancelledError of our own cancel(), for one).
    return true;
  }

  /**
   * Create a task in this group (options as for `createTask`) and return it. RuntimeError (and the
   * coroutine is closed) if the group has not been entered, is finished, or is shutting down.
   */
  createTask<T>(coro: Awaitable<T>, options?: TaskOptions): Task<T> {
    if (!this._entered) {
      closeCoroutine(coro);
      throw new RuntimeError(`TaskGroup ${this} has not been entered`);
    }
    if (this._exiting && this._tasks.size === 0) {
      closeCoroutine(coro);
      throw new RuntimeError(`TaskGroup ${this} is finished`);
    }
    if (this._aborting) {
      closeCoroutine(coro);
      throw new RuntimeError(`TaskGroup ${this} is shutting down`);
    }
    const task = this._loop!.createTask<T>(coro, options);
    futureAddToAwaitedBy(task, this._parentTask!);
    // Always add the done callback, even if the task is already done (it completed eagerly): otherwise a
    // failed eager task would cancel the parent too early (gh-128550, gh-128588).
    this._tasks.add(task);
    task.addDoneCallback(this._onTaskDoneBound);
    // An eager task can cancel the group before joining _tasks (gh-155418).
    if (this._aborting && !task.done()) task.cancel();
    return task;
  }

  /**
   * End the group early, without an error (Python 3.15): cancel every unfinished task and the body; the
   * `asyncWith` then returns normally (errors raised by the tasks while they wind down are still raised).
   * Called before entry, the group is cancelled on entry. Idempotent; a no-op once the group is finished.
   */
  cancel(): void {
    if (!this._entered) {
      this._cancelOnEnter = true;
      return;
    }
    if (this._exiting && this._tasks.size === 0) return;
    if (!this._aborting) {
      this._abort();
      if (this._parentTask !== null && !this._parentCancelRequested) {
        this._parentCancelRequested = true;
        this._parentTask.cancel();
      }
    }
  }

  private _abort(): void {
    this._aborting = true;
    for (const t of this._tasks) {
      if (!t.done()) t.cancel();
    }
  }

  private _onTaskDone(task: Task<any>): void {
    this._tasks.delete(task);
    const parent = this._parentTask;
    if (parent !== null) futureDiscardFromAwaitedBy(task, parent);

    if (this._onCompletedFut !== null && this._tasks.size === 0) {
      if (!this._onCompletedFut.done()) this._onCompletedFut.setResult(true);
    }

    if (task.cancelled()) return;
    const exc = task.exception();
    if (exc === undefined) return;

    this._errors!.push(exc);
    if (isBaseError(exc) && this._baseError === undefined) this._baseError = exc;

    if (parent!.done()) {
      // Not expected to happen, but never lose the error.
      this._loop!.callExceptionHandler({
        message: `Task ${task} has errored out but its parent task ${parent} is already completed`,
        exception: exc,
        task,
      });
      return;
    }

    if (!this._aborting && !this._parentCancelRequested) {
      // The parent is not being cancelled: cancel it to abort whatever the body awaits now, and
      // remember to uncancel it in aexit, so that code after the group still runs:
      //
      //   try { yield* asyncWith(new TaskGroup(), function* (g) {
      //     g.createTask(crashSoon());
      //     yield* something();        // <- cancelled by the group
      //   }); } catch (e) { /* ignore the group's errors */ }
      //   yield* somethingElse();      // <- must run after the group finished
      this._abort();
      this._parentCancelRequested = true;
      parent!.cancel();
    }
  }

  toString(): string {
    const info: string[] = [''];
    if (this._tasks.size > 0) info.push(`tasks=${this._tasks.size}`);
    if (this._errors !== null && this._errors.length > 0) info.push(`errors=${this._errors.length}`);
    if (this._aborting) info.push('cancelling');
    else if (this._entered) info.push('entered');
    return `<TaskGroup${info.join(' ')}>`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

// `yield* tg`: CPython's "'TaskGroup' object can't be awaited".
refuseAwait(TaskGroup);
