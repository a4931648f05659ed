/**
 * staggeredRace (CPython's asyncio/staggered.py, line for line): run coroutine functions with staggered
 * start times and take the first to succeed. Happy Eyeballs (RFC 8305) in createConnection and
 * openConnection is built on it.
 */
import type { EventLoop } from './base_events.js';
import { waitFor } from './combinators.js';
import type { Awaitable } from './coroutines.js';
import { Coroutine, type Instruction } from './coroutines.js';
import { getRunningLoop } from './events.js';
import { CancelledError, ExceptionGroup, KeyboardInterrupt, SystemExit, TimeoutError } from './exceptions.js';
import { type Future, futureAddToAwaitedBy, futureDiscardFromAwaitedBy } from './futures.js';
import { Event } from './locks.js';
import { currentTask, type Task } from './tasks.js';

/**
 * `[winnerResult, winnerIndex, exceptions]`: the winner's result and index (both null if none won), and
 * one entry per coroutine started, in order: its exception, or null for the winner.
 */
export type StaggeredRaceResult<T> = [T | null, number | null, (unknown | null)[]];

/**
 * Run `coroFns` with staggered start times and take the first to finish (Python's
 * `asyncio.staggered.staggered_race`). The first starts at once; each next one starts when the one before
 * it fails, or after `delay` seconds (null: only when it fails, so they run one after another). The first
 * to succeed wins and the others are cancelled.
 */
export function staggeredRace<T>(
  coroFns: Iterable<() => Awaitable<T>>,
  delay: number | null,
  options?: { loop?: EventLoop | null },
): Coroutine<StaggeredRaceResult<T>> {
  return new Coroutine(staggeredRaceGen(coroFns, delay, options?.loop ?? null), {
    name: 'staggered_race',
    qualname: 'staggered_race',
  });
}

function* staggeredRaceGen<T>(
  coroFns: Iterable<() => Awaitable<T>>,
  delay: number | null,
  loopArg: EventLoop | null,
): Generator<Instruction, StaggeredRaceResult<T>, unknown> {
  const loop = loopArg ?? getRunningLoop();
  const parentTask = currentTask(loop) ?? null;
  const enumCoroFns = coroFns[Symbol.iterator]();
  let nextIndex = 0;
  let winnerResult: T | null = null;
  let winnerIndex: number | null = null;
  const unhandledExceptions: unknown[] = [];
  const exceptions: (unknown | null)[] = [];
  const runningTasks = new Set<Task<void>>();
  let onCompletedFut: Future<void> | null = null;

  const taskDone = (task: Task<void>): void => {
    runningTasks.delete(task);
    if (parentTask !== null) futureDiscardFromAwaitedBy(task, parentTask);
    if (onCompletedFut !== null && !onCompletedFut.done() && runningTasks.size === 0) {
      onCompletedFut.setResult(undefined);
    }
    if (task.cancelled()) return;
    const exc = task.exception();
    if (exc === undefined || exc === null) return;
    unhandledExceptions.push(exc);
  };

  const startTask = (okToStart: Event, previousFailed: Event | null): Task<void> => {
    const task = loop.createTask(
      new Coroutine(runOneCoro(okToStart, previousFailed), {
        name: 'run_one_coro',
        qualname: 'staggered_race.<locals>.run_one_coro',
      }),
    );
    if (parentTask !== null) futureAddToAwaitedBy(task, parentTask);
    runningTasks.add(task);
    task.addDoneCallback(taskDone);
    return task;
  };

  function* runOneCoro(
    okToStart: Event,
    previousFailed: Event | null,
  ): Generator<Instruction, void, unknown> {
    // In eager tasks this waits for the caller to add this task to runningTasks (gh-124309).
    yield* okToStart.wait();
    // Wait for the previous task to fail, or for `delay` seconds.
    if (previousFailed !== null) {
      try {
        yield* waitFor(previousFailed.wait(), delay);
      } catch (e) {
        if (!(e instanceof TimeoutError)) throw e;
      }
    }
    const next = enumCoroFns.next();
    if (next.done) return;
    const thisIndex = nextIndex++;
    const coroFn = next.value;
    const thisFailed = new Event();
    const nextOkToStart = new Event();
    startTask(nextOkToStart, thisFailed);
    nextOkToStart.set();
    exceptions.push(null);
    let result: T;
    try {
      result = yield* coroFn();
    } catch (e) {
      if (e instanceof SystemExit || e instanceof KeyboardInterrupt) throw e;
      exceptions[thisIndex] = e;
      thisFailed.set();
      return;
    }
    winnerIndex = thisIndex;
    winnerResult = result;
    // Cancel every other task, not this one (bpo-30048).
    const current = currentTask(loop);
    for (const t of runningTasks) if (t !== current) t.cancel();
  }

  let propagateCancellationError: CancelledError | null = null;
  const okToStart = new Event();
  startTask(okToStart, null);
  okToStart.set();
  // Make sure no tasks are left running if we leave this function.
  while (runningTasks.size > 0) {
    onCompletedFut = loop.createFuture<void>();
    try {
      yield* onCompletedFut;
    } catch (e) {
      if (!(e instanceof CancelledError)) throw e;
      propagateCancellationError = e;
      for (const task of runningTasks) task.cancel(...(e.args as [unknown?]));
    }
    onCompletedFut = null;
  }
  if (unhandledExceptions.length > 0) throw new ExceptionGroup('staggered race failed', unhandledExceptions);
  if (propagateCancellationError !== null) throw propagateCancellationError;
  return [winnerResult, winnerIndex, exceptions];
}
