/** waitFor — ported from CPython's Lib/test/test_asyncio/test_waitfor.py (test names in brackets). */
import {
  type Awaitable,
  CancelledError,
  coroutine,
  createTask,
  getRunningLoop,
  type Instruction,
  sleep,
  type Task,
  TimeoutError,
  waitFor,
} from 'tsyncio';
import { describe, expect, it } from 'vitest';
import { contextOf, runWith } from './structured_helpers.js';

const EPSILON = 0.0001;

function inTask<T>(fn: () => Generator<Instruction, T, any>): Promise<T> {
  return runWith(coroutine(fn)());
}

function* raises(body: () => Awaitable<unknown>): Generator<Instruction, any, any> {
  try {
    yield* body();
  } catch (e) {
    return e;
  }
  throw new Error('did not raise');
}

/** Runs for TASK_TIMEOUT seconds of loop time, ignoring cancel requests (CPython's SlowTask). */
class SlowTask {
  static TASK_TIMEOUT = 0.2;
  exited = false;
  run = coroutine(function* (this: SlowTask) {
    const loop = getRunningLoop();
    const exitAt = loop.time() + SlowTask.TASK_TIMEOUT;
    for (;;) {
      const toSleep = exitAt - loop.time();
      if (toSleep <= 0) break;
      try {
        yield* sleep(toSleep);
      } catch (e) {
        if (!(e instanceof CancelledError)) throw e;
      }
    }
    this.exited = true;
  });
}

describe('waitFor()', () => {
  it('cancelling the waitFor cancels the inner and waits for it [test_asyncio_wait_for_cancelled]', async () => {
    await inTask(function* () {
      const t = new SlowTask();
      const waitForTask = createTask(waitFor(t.run(), SlowTask.TASK_TIMEOUT * 2));
      yield* sleep(0);
      waitForTask.cancel();
      // SlowTask swallows the cancellation, so the waitFor ends normally (CPython 3.14 agrees).
      expect(yield* waitForTask).toBeUndefined();
      expect(waitForTask.cancelled()).toBe(false);
      expect(t.exited).toBe(true);
      expect(getRunningLoop().time()).toBeCloseTo(0.2, 10);
    });
  });

  it('on timeout, waits for the inner to finish [test_asyncio_wait_for_timeout]', async () => {
    await inTask(function* () {
      const t = new SlowTask();
      // The inner swallows the timeout's cancellation and returns: so does waitFor (CPython 3.14 agrees).
      expect(yield* waitFor(t.run(), SlowTask.TASK_TIMEOUT / 2)).toBeUndefined();
      expect(t.exited).toBe(true);
      expect(getRunningLoop().time()).toBeCloseTo(0.2, 10);
    });
  });

  it('a done future gives its result even with timeout 0 [test_wait_for_timeout_less_then_0_or_0_future_done]', async () => {
    await inTask(function* () {
      const loop = getRunningLoop();
      const fut = loop.createFuture<string>();
      fut.setResult('done');
      expect(yield* waitFor(fut, 0)).toBe('done');
      expect(loop.time()).toBe(0);
    });
  });

  it('with timeout 0 a coroutine is never started [test_wait_for_timeout_less_then_0_or_0_coroutine_do_not_started]', async () => {
    await inTask(function* () {
      let started = false;
      const foo = coroutine(function* foo() {
        started = true;
      });
      const e = yield* raises(() => waitFor(foo(), 0));
      expect(e).toBeInstanceOf(TimeoutError);
      expect(e.cause).toBeInstanceOf(CancelledError);
      expect(contextOf(e)).toBe(e.cause);
      expect(started).toBe(false);
    });
  });

  it('with timeout 0 or -1 a running task is cancelled and awaited [test_wait_for_timeout_less_then_0_or_0]', async () => {
    await inTask(function* () {
      const loop = getRunningLoop();
      for (const timeout of [0, -1]) {
        let running: boolean | undefined;
        const started = loop.createFuture<void>();
        const foo = coroutine(function* foo() {
          running = true;
          started.setResult(undefined);
          try {
            yield* sleep(10);
          } finally {
            running = false;
          }
          return 'done';
        });
        const fut = createTask(foo());
        yield* started;
        const t0 = loop.time();
        const e = yield* raises(() => waitFor(fut, timeout));
        expect(e).toBeInstanceOf(TimeoutError);
        expect(fut.cancelled()).toBe(true);
        expect(running).toBe(false);
        expect(loop.time()).toBe(t0);
      }
    });
  });

  it('times out a task and cancels it [test_wait_for]', async () => {
    await inTask(function* () {
      const loop = getRunningLoop();
      let running: boolean | undefined;
      const foo = coroutine(function* foo() {
        running = true;
        try {
          yield* sleep(10);
        } finally {
          running = false;
        }
        return 'done';
      });
      const fut = createTask(foo());
      const e = yield* raises(() => waitFor(fut, 0.1));
      expect(e).toBeInstanceOf(TimeoutError);
      expect(loop.time()).toBe(0.1);
      expect(fut.cancelled()).toBe(true);
      expect(running).toBe(false);
    });
  });

  it('with no timeout just awaits [test_wait_for_blocking]', async () => {
    await inTask(function* () {
      const coro = coroutine(function* coro() {
        return 'done';
      });
      expect(yield* waitFor(coro(), null)).toBe('done');
      expect(yield* waitFor(coro(), undefined)).toBe('done');
    });
  });

  it('returns a result that arrives in time [test_wait_for_race_condition]', async () => {
    await inTask(function* () {
      const loop = getRunningLoop();
      const fut = loop.createFuture<string>();
      const task = waitFor(fut, 0.2);
      loop.callLater(0.1, () => fut.setResult('ok'));
      expect(yield* task).toBe('ok');
    });
  });

  it('returns the value of an inner that swallows the cancellation [test_wait_for_cancellation_race_condition, test_wait_for_cancel_suppressed]', async () => {
    await inTask(function* () {
      const inner = coroutine(function* inner() {
        const e = yield* raises(function* () {
          yield* sleep(1);
        });
        expect(e).toBeInstanceOf(CancelledError);
        return 1;
      });
      expect(yield* waitFor(inner(), 0.01)).toBe(1);
      const return42 = coroutine(function* return42() {
        try {
          yield* sleep(10);
        } catch (e) {
          if (e instanceof CancelledError) return 42;
          throw e;
        }
      });
      expect(yield* waitFor(return42(), 0.1)).toBe(42);
    });
  });

  it('waits for the task to finish its cancellation [test_wait_for_waits_for_task_cancellation, ..._w_timeout_0]', async () => {
    await inTask(function* () {
      for (const timeout of [EPSILON, 0]) {
        let taskDone = false;
        const inner = coroutine(function* inner() {
          try {
            yield* sleep(10);
          } catch (e) {
            yield* sleep(EPSILON);
            throw e;
          } finally {
            taskDone = true;
          }
        });
        const innerTask = createTask(inner());
        if (timeout === 0) yield* sleep(EPSILON);
        const e = yield* raises(() => waitFor(innerTask, timeout));
        expect(e).toBeInstanceOf(TimeoutError);
        expect(taskDone).toBe(true);
        expect(contextOf(e)).toBeInstanceOf(CancelledError);
      }
    });
  });

  it('re-raises an error the task raises during its cancellation [test_wait_for_reraises_exception_during_cancellation]', async () => {
    class FooException extends Error {}
    await inTask(function* () {
      const inner = coroutine(function* inner() {
        try {
          yield* sleep(0.2);
        } finally {
          // biome-ignore lint/correctness/noUnsafeFinally: the scenario under test
          throw new FooException();
        }
      });
      const innerTask = createTask(inner());
      const e = yield* raises(() => waitFor(innerTask, EPSILON));
      expect(e).toBeInstanceOf(FooException);
    });
  });

  it('stays cancellable while the inner holds up its cancellation [test_wait_for_self_cancellation]', async () => {
    await inTask(function* () {
      const inner = coroutine(function* inner() {
        try {
          yield* sleep(0.3);
        } catch {
          try {
            yield* sleep(0.3);
          } catch {
            yield* sleep(0.3);
          }
        }
        return 42;
      });
      const innerTask = createTask(inner());
      const task = createTask(waitFor(innerTask, 0.1));
      task.cancel();
      const e = yield* raises(function* () {
        yield* task;
      });
      expect(e).toBeInstanceOf(CancelledError);
      expect(yield* innerTask).toBe(42);
    });
  });

  it('cancelling the waitFor cancels the task (Python issue #23219) [test_cancel_blocking_wait_for, test_cancel_wait_for]', async () => {
    await inTask(function* () {
      const loop = getRunningLoop();
      for (const timeout of [null, 60]) {
        const blocking = coroutine(function* blocking() {
          yield* loop.createFuture<void>();
        });
        const task: Task<void> = createTask(blocking());
        const wait = createTask(waitFor(task, timeout));
        loop.callSoon(() => wait.cancel());
        const e = yield* raises(function* () {
          yield* wait;
        });
        expect(e).toBeInstanceOf(CancelledError);
        expect(task.cancelled()).toBe(true);
      }
    });
  });

  it('an outside cancel in the iteration the inner completes is not lost [test_wait_for_issue86296]', async () => {
    await inTask(function* () {
      let reachedEnd = false;
      const inner = coroutine(function* inner() {});
      const waitForCoro = coroutine(function* waitForCoro() {
        yield* waitFor(inner(), 100);
        yield* sleep(1);
        reachedEnd = true;
      });
      const task = createTask(waitForCoro());
      yield* sleep(0);
      expect(task.done()).toBe(false);
      task.cancel();
      const e = yield* raises(function* () {
        yield* task;
      });
      expect(e).toBeInstanceOf(CancelledError);
      expect(reachedEnd).toBe(false);
    });
  });

  it('rejects what cannot be awaited, and a timeout that is not a number', async () => {
    await inTask(function* () {
      // CPython 3.14's words (it raises them when the wait_for coroutine awaits `aw`).
      expect(() => waitFor(5 as any, 1)).toThrow(new TypeError("'int' object can't be awaited"));
      expect(() => waitFor(Promise.resolve(1) as any, 1)).toThrow(TypeError);
      expect(() => waitFor(sleep(0), '1' as any)).toThrow(
        new TypeError("timeout must be a number or None, got '1'"),
      );
    });
  });
});
