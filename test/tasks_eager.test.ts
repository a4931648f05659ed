/**
 * Eager tasks: createTask(coro, { eagerStart: true }) (Python 3.14), eagerTaskFactory and
 * createEagerTaskFactory (3.12). Ported from CPython's test_eager_task_factory.py and test_tasks.py
 * (test names in the descriptions); orderings checked against CPython 3.14.
 */
import {
  allTasks,
  CancelledError,
  ContextVar,
  coroutine,
  createEagerTaskFactory,
  createTask,
  currentTask,
  type EventLoop,
  eagerTaskFactory,
  gather,
  getRunningLoop,
  type Instruction,
  RuntimeError,
  sleep,
  Task,
  type TaskConstructorOptions,
  ValueError,
} from 'tsyncio';
import { describe, expect, it } from 'vitest';
import { withLoop } from './helpers.js';

const noop = coroutine(function* noop<T>(x?: T) {
  return x;
});

/** Run `main` on a loop whose task factory is the eager one (CPython's EagerTaskFactoryLoopTests). */
function withEagerLoop<T>(fn: (loop: EventLoop) => Promise<T>): Promise<T> {
  return withLoop(async (loop) => {
    loop.setTaskFactory(eagerTaskFactory);
    return fn(loop);
  });
}

describe('createTask(coro, { eagerStart: true })', () => {
  it('runs the coroutine inside createTask, as the current task (test_eager_start_true)', () =>
    withLoop(async (loop) => {
      let name: string | undefined;
      const asyncfn = coroutine(function* asyncfn() {
        name = currentTask()!.getName();
      });
      const main = coroutine(function* main() {
        const t = createTask(asyncfn(), { eagerStart: true, name: 'example' });
        expect(t.done()).toBe(true);
        expect(name).toBe('example');
        yield* t;
      });
      await loop.runUntilComplete(main());
    }));

  it('eagerStart: false is the usual lazy start (test_eager_start_false)', () =>
    withLoop(async (loop) => {
      let name: string | undefined;
      const asyncfn = coroutine(function* asyncfn() {
        name = currentTask()!.getName();
      });
      const main = coroutine(function* main() {
        const t = createTask(asyncfn(), { eagerStart: false, name: 'example' });
        expect(t.done()).toBe(false);
        expect(name).toBeUndefined();
        yield* t;
        expect(name).toBe('example');
      });
      await loop.runUntilComplete(main());
    }));

  it('a coroutine that finishes without suspending is never scheduled and drops its coroutine', () =>
    withLoop(async (loop) => {
      const main = coroutine(function* main() {
        const before = loop._ready.length;
        const t = createTask(noop(1), { eagerStart: true, name: 'e1' });
        // CPython 3.14: done, result 1, get_coro() None, repr <Task finished name='e1' result=1>
        expect(loop._ready.length).toBe(before);
        expect(t.done()).toBe(true);
        expect(t.result()).toBe(1);
        expect(t.getCoro()).toBeUndefined();
        expect(String(t)).toBe("<Task finished name='e1' result=1>");
        // Cancel after eager completion is a no-op (test_cancellation_after_eager_completion).
        expect(t.cancel()).toBe(false);
        expect(t.cancelled()).toBe(false);
        expect(yield* t).toBe(1);
      });
      await loop.runUntilComplete(main());
    }));

  it('runs up to the first suspension, then continues as a normal task (CPython order)', () =>
    withLoop(async (loop) => {
      const log: string[] = [];
      const susp = coroutine(function* susp() {
        log.push('s1');
        yield* sleep(0);
        log.push('s2');
        return 5;
      });
      const main = coroutine(function* main() {
        const t = createTask(susp(), { eagerStart: true });
        log.push('after create');
        expect(t.done()).toBe(false);
        expect(allTasks().has(t)).toBe(true);
        expect(yield* t).toBe(5);
        expect(t.getCoro()).toBeDefined();
      });
      await loop.runUntilComplete(main());
      // CPython 3.14: ['s1', 'after create', 's2']
      expect(log).toEqual(['s1', 'after create', 's2']);
    }));

  it('an exception in the eager step fails the task, not createTask', () =>
    withLoop(async (loop) => {
      const boom = coroutine(function* boom() {
        throw new ValueError('boom');
      });
      const main = coroutine(function* main() {
        const t = createTask(boom(), { eagerStart: true });
        expect(t.done()).toBe(true);
        expect(t.exception()).toBeInstanceOf(ValueError);
        expect((t.exception() as Error).message).toBe('boom');
      });
      await loop.runUntilComplete(main());
    }));

  it('a task cancelling itself in its eager step ends cancelled later (CPython: done False, cancelling 1)', () =>
    withLoop(async (loop) => {
      const selfcancel = coroutine(function* selfcancel() {
        currentTask()!.cancel();
        yield* sleep(0);
      });
      const main = coroutine(function* main() {
        const t = createTask(selfcancel(), { eagerStart: true });
        expect(t.done()).toBe(false);
        expect(t.cancelling()).toBe(1);
        try {
          yield* t;
        } catch (e) {
          expect(e).toBeInstanceOf(CancelledError);
        }
        expect(t.cancelled()).toBe(true);
      });
      await loop.runUntilComplete(main());
    }));

  it('is lazy when the loop is not running (CPython: "eager_start and loop.is_running()")', () =>
    withLoop(async (loop) => {
      let ran = false;
      const body = coroutine(function* body() {
        ran = true;
      });
      const t = loop.createTask(body(), { eagerStart: true });
      expect(ran).toBe(false);
      expect(t.done()).toBe(false);
      await loop.runUntilComplete(t);
      expect(ran).toBe(true);
    }));

  it('refuses a context that is already entered, with Python message, and leaves no trace', () =>
    withLoop(async (loop) => {
      const main = coroutine(function* main() {
        const ctx = currentTask()!.getContext();
        const me = currentTask();
        const before = allTasks().size;
        let err: any;
        try {
          createTask(noop(2), { eagerStart: true, context: ctx });
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(RuntimeError);
        expect(err.message).toMatch(
          /^cannot enter context: <Context object at 0x[0-9a-f]+> is already entered$/,
        );
        // (CPython 3.14's C Task leaves the current task swapped here — a bug we do not copy.)
        expect(currentTask()).toBe(me);
        expect(allTasks().size).toBe(before);
        yield* sleep(0);
        return 'ok';
      });
      expect(await loop.runUntilComplete(main())).toBe('ok');
    }));
});

describe('eagerTaskFactory (test_eager_task_factory.py)', () => {
  it('is installed with setTaskFactory and makes Tasks (test_eager_task_factory_set)', () =>
    withEagerLoop(async (loop) => {
      expect(loop.getTaskFactory()).toBe(eagerTaskFactory);
      const run = coroutine(function* run() {
        const t = getRunningLoop().createTask(noop());
        expect(t).toBeInstanceOf(Task);
        yield* t;
      });
      await loop.runUntilComplete(run());
    }));

  it('a future set during the eager step (test_await_future_during_eager_step)', () =>
    withEagerLoop(async (loop) => {
      const setResult = coroutine(function* setResult(fut: any, val: string) {
        fut.setResult(val);
      });
      const run = coroutine(function* run() {
        const fut = loop.createFuture<string>();
        const t = loop.createTask(setResult(fut, 'my message'));
        expect(t.done()).toBe(true);
        return yield* fut;
      });
      expect(await loop.runUntilComplete(run())).toBe('my message');
    }));

  it('completes eagerly, or blocks and finishes later (test_eager_completion, test_block_after_eager_step)', () =>
    withEagerLoop(async (loop) => {
      const blocking = coroutine(function* blocking() {
        yield* sleep(0.1);
        return 'finished after blocking';
      });
      const run = coroutine(function* run() {
        const t1 = loop.createTask(noop('hello'));
        expect(t1.done()).toBe(true);
        const t2 = loop.createTask(blocking());
        expect(t2.done()).toBe(false);
        return [yield* t1, yield* t2];
      });
      expect(await loop.runUntilComplete(run())).toEqual(['hello', 'finished after blocking']);
      expect(loop.time()).toBe(0.1);
    }));

  it('cancel after the eager step blocked carries the message (test_cancellation_after_eager_step_blocks)', () =>
    withEagerLoop(async (loop) => {
      const run = coroutine(function* run() {
        const t = loop.createTask(sleep(0.1, 'x'));
        t.cancel('cancellation message');
        expect(t.cancelling()).toBeGreaterThan(0);
        yield* t;
      });
      let err: any;
      try {
        await loop.runUntilComplete(run());
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(CancelledError);
      expect(err.message).toBe('cancellation message');
    }));

  it('currentTask() is the same before and after blocking (test_current_task)', () =>
    withEagerLoop(async (loop) => {
      let captured: Task<any> | undefined;
      const coro = coroutine(function* coro() {
        captured = currentTask();
        yield* sleep(0.1);
        expect(currentTask()).toBe(captured);
      });
      const run = coroutine(function* run() {
        const t = loop.createTask(coro());
        expect(captured).toBe(t);
        yield* t;
      });
      await loop.runUntilComplete(run());
    }));

  it('allTasks() includes a task during its eager step (test_all_tasks_with_eager_completion / _with_blocking)', () =>
    withEagerLoop(async (loop) => {
      let capturedEager: Set<Task<any>> | undefined;
      const eagerOnly = coroutine(function* eagerOnly() {
        capturedEager = allTasks();
      });
      const blocking = coroutine(function* blocking(fut1: any, fut2: any) {
        capturedEager = allTasks();
        yield* fut1;
        fut2.setResult(undefined);
      });
      const run = coroutine(function* run() {
        let t = loop.createTask(eagerOnly());
        expect(capturedEager!.has(t)).toBe(true);
        expect(allTasks().has(t)).toBe(false);
        const fut1 = loop.createFuture();
        const fut2 = loop.createFuture();
        t = loop.createTask(blocking(fut1, fut2));
        expect(capturedEager!.has(t)).toBe(true);
        expect(allTasks().has(t)).toBe(true);
        fut1.setResult(undefined);
        yield* fut2;
        expect(allTasks().has(t)).toBe(false);
      });
      await loop.runUntilComplete(run());
    }));

  it('the eager step runs in a copy of the creator context (test_context_vars)', () =>
    withEagerLoop(async (loop) => {
      const cv = new ContextVar('cv', { default: 0 });
      let first = false;
      let second = false;
      const coro = coroutine(function* coro() {
        expect(cv.get()).toBe(1);
        cv.set(2);
        expect(cv.get()).toBe(2);
        first = true;
        yield* sleep(0.1);
        expect(cv.get()).toBe(2);
        cv.set(3);
        expect(cv.get()).toBe(3);
        second = true;
      });
      const run = coroutine(function* run() {
        cv.set(1);
        const t = loop.createTask(coro());
        expect(first).toBe(true);
        expect(second).toBe(false);
        expect(cv.get()).toBe(1);
        yield* t;
        expect(second).toBe(true);
        expect(cv.get()).toBe(1);
      });
      await loop.runUntilComplete(run());
    }));

  it('forwards name and eagerStart: false (test_name; CPython prints factory eager_start=False → lazy)', () =>
    withEagerLoop(async (loop) => {
      let name: string | undefined;
      const coro = coroutine(function* coro() {
        name = currentTask()!.getName();
      });
      const run = coroutine(function* run() {
        const t = loop.createTask(coro(), { name: 'test name' });
        expect(name).toBe('test name');
        yield* t;
        const lazy = loop.createTask(noop(6), { eagerStart: false });
        expect(lazy.done()).toBe(false);
        yield* lazy;
      });
      await loop.runUntilComplete(run());
    }));
});

describe('createEagerTaskFactory(customTaskConstructor)', () => {
  it('accepts a Task subclass', () =>
    withLoop(async (loop) => {
      class MyTask<T> extends Task<T> {}
      loop.setTaskFactory(createEagerTaskFactory(MyTask));
      const run = coroutine(function* run() {
        const t = createTask(noop(9));
        expect(t).toBeInstanceOf(MyTask);
        expect(t.done()).toBe(true);
      });
      await loop.runUntilComplete(run());
    }));

  it('accepts a plain function and passes eagerStart: true plus the options (CPython: fn_ctor True {name: x})', () =>
    withLoop(async (loop) => {
      const seen: TaskConstructorOptions[] = [];
      const fnCtor = (coro: any, options?: TaskConstructorOptions): Task<any> => {
        seen.push(options!);
        return new Task(coro, options);
      };
      loop.setTaskFactory(createEagerTaskFactory(fnCtor));
      const run = coroutine(function* run() {
        const t = createTask(noop(10), { name: 'x' });
        expect(t.done()).toBe(true);
      });
      await loop.runUntilComplete(run());
      expect(seen[1]).toMatchObject({ name: 'x', eagerStart: true, loop });
    }));

  it('refuses a non-callable', () => {
    expect(() => createEagerTaskFactory(42 as any)).toThrow(TypeError);
  });

  it('counts no scheduled tasks for awaits and eager gathers (BaseTaskCountingTests)', () =>
    withLoop(async (loop) => {
      let taskCount = 0;
      const countingTask = (coro: any, options?: TaskConstructorOptions): Task<any> => {
        if (!options?.eagerStart) taskCount += 1;
        return new Task(coro, options);
      };
      const awaitableChain = coroutine(function* awaitableChain(
        depth: number,
      ): Generator<Instruction, number> {
        if (depth === 0) return 0;
        return 1 + (yield* awaitableChain(depth - 1));
      });
      const recursiveGather = coroutine(function* recursiveGather(
        width: number,
        depth: number,
      ): Generator<Instruction, void> {
        if (depth === 0) return;
        const children = [];
        for (let i = 0; i < width; i++) children.push(recursiveGather(width, depth - 1));
        yield* gather(...children);
      });

      loop.setTaskFactory(createEagerTaskFactory(countingTask));
      expect(await loop.runUntilComplete(awaitableChain(100))).toBe(100);
      // runUntilComplete's own task starts lazily (the loop is not running yet) but is not counted:
      // the eager factory asked for eagerStart.
      expect(taskCount).toBe(0);
      await loop.runUntilComplete(recursiveGather(5, 4));
      expect(taskCount).toBe(0);

      // The same with a lazy factory: 1 + 5 + 5² + 5³ + 5⁴ tasks.
      taskCount = 0;
      loop.setTaskFactory((l, coro, options) => countingTask(coro, { ...options, loop: l }));
      await loop.runUntilComplete(recursiveGather(5, 4));
      expect(taskCount).toBe(781);
    }));
});
