/**
 * Task behaviour ported from CPython's test_tasks.py (cancellation core, misuse errors, names, reprs);
 * every ordering and message below was checked against CPython 3.14.
 */

import {
  allTasks,
  CancelledError,
  type Context,
  coroutine,
  createTask,
  currentTask,
  EventLoop,
  ensureFuture,
  Future,
  gather,
  getRunningLoop,
  RuntimeError,
  sleep,
  Task,
  ValueError,
} from 'tsyncio';
import { describe, expect, it } from 'vitest';
import { arun } from './helpers.js';

const sleeper = coroutine(function* sleeper() {
  yield* sleep(10);
});

describe('tasks: stepping and ordering', () => {
  it('sleep(0) interleaves tasks in FIFO order with callSoon callbacks (CPython order)', async () => {
    const log: string[] = [];
    const worker = coroutine(function* worker(name: string, n: number) {
      for (let i = 0; i < n; i++) {
        log.push(`${name}${i}`);
        yield* sleep(0);
      }
    });
    const main = coroutine(function* main() {
      const loop = getRunningLoop();
      const t1 = createTask(worker('a', 3));
      const t2 = createTask(worker('b', 3));
      loop.callSoon(() => log.push('cb1'));
      yield* sleep(0);
      log.push('main');
      yield* gather(t1, t2);
    });
    await arun(main());
    expect(log).toEqual(['a0', 'b0', 'cb1', 'main', 'a1', 'b1', 'a2', 'b2']);
  });

  it('a finally that awaits runs to completion at every yield* depth when cancelled', async () => {
    const log: string[] = [];
    const inner = coroutine(function* inner() {
      try {
        yield* sleep(10);
      } finally {
        yield* sleep(0.1);
        log.push('inner-finally');
      }
    });
    const outer = coroutine(function* outer() {
      try {
        yield* inner();
      } finally {
        yield* sleep(0.1);
        log.push('outer-finally');
      }
    });
    const main = coroutine(function* main() {
      const t = createTask(outer());
      yield* sleep(0);
      t.cancel();
      try {
        yield* t;
      } catch (e) {
        if (e instanceof CancelledError) log.push('done');
      }
      return getRunningLoop().time();
    });
    const t = await arun(main());
    expect(log).toEqual(['inner-finally', 'outer-finally', 'done']);
    expect(t).toBeCloseTo(0.2, 9);
  });

  it('tasks are named Task-N; name option and setName', async () => {
    const main = coroutine(function* main() {
      const a = createTask(sleeper());
      const b = createTask(sleeper(), { name: 'worker' });
      const n = Number(a.getName().slice(5));
      expect(a.getName()).toMatch(/^Task-\d+$/);
      const c = createTask(sleeper());
      expect(c.getName()).toBe(`Task-${n + 1}`);
      b.setName(42);
      expect(b.getName()).toBe('42');
      for (const t of [a, b, c]) t.cancel();
    });
    await arun(main());
  });

  it('repr shows state, name, coro, wait_for and result', async () => {
    const square = coroutine(function* square(n: number) {
      return n * n;
    });
    const main = coroutine(function* main() {
      const t = createTask(square(10), { name: 'sq' });
      expect(String(t)).toMatch(/^<Task pending name='sq' coro=<coroutine object square at 0x[0-9a-f]+>>$/);
      yield* t;
      expect(String(t)).toMatch(
        /^<Task finished name='sq' coro=<coroutine object square at 0x[0-9a-f]+> result=100>$/,
      );
      const s = createTask(sleeper(), { name: 's' });
      yield* sleep(0);
      s.cancel('bye');
      expect(String(s)).toMatch(
        /^<Task cancelling name='s' coro=<coroutine object sleeper at 0x[0-9a-f]+> wait_for=<Future cancelled>>$/,
      );
      try {
        yield* s;
      } catch {}
    });
    await arun(main());
  });

  it('currentTask() is the running task; allTasks() the pending ones', async () => {
    const main = coroutine(function* main() {
      const me = currentTask();
      expect(me).toBeInstanceOf(Task);
      const t = createTask(sleeper());
      expect(allTasks()).toEqual(new Set([me, t]));
      t.cancel();
      yield* sleep(0);
      expect(allTasks()).toEqual(new Set([me]));
      return currentTask() === me;
    });
    expect(await arun(main())).toBe(true);
    const loop = new EventLoop();
    expect(currentTask(loop)).toBeUndefined();
    expect(() => currentTask()).toThrow(new RuntimeError('no running event loop'));
    loop.close();
  });

  it('getCoro and getContext', async () => {
    const main = coroutine(function* main() {
      const c = sleeper();
      const t = createTask(c);
      expect(t.getCoro()).toBe(c);
      expect(t.getContext()).toBeDefined();
      t.cancel();
    });
    await arun(main());
  });
});

describe('tasks: cancellation (test_tasks.py)', () => {
  it('test_cancel_task_catching: a task may catch CancelledError and return a value', async () => {
    const main = coroutine(function* main() {
      const fut2 = getRunningLoop().createFuture();
      const catching = coroutine(function* catching() {
        try {
          yield* fut2;
        } catch (e) {
          if (e instanceof CancelledError) return 42;
          throw e;
        }
      });
      const t = createTask(catching());
      yield* sleep(0);
      const ret = t.cancel();
      return [ret, fut2.cancelled(), yield* t, t.cancelled()];
    });
    expect(await arun(main())).toEqual([true, true, 42, false]);
  });

  it('test_cancel_at_end: a task that cancels itself and returns still ends cancelled', async () => {
    const main = coroutine(function* main() {
      const selfcancel = coroutine(function* selfcancel() {
        currentTask()!.cancel();
        return 1;
      });
      const t = createTask(selfcancel());
      try {
        yield* t;
      } catch (e) {
        return [e instanceof CancelledError, t.cancelled()];
      }
      return 'not cancelled';
    });
    expect(await arun(main())).toEqual([true, true]);
  });

  it('test_cancel_current_task: the next await raises at once', async () => {
    const main = coroutine(function* main() {
      const t0 = getRunningLoop().time();
      const f = coroutine(function* f() {
        currentTask()!.cancel();
        yield* sleep(100);
      });
      const t = createTask(f());
      try {
        yield* t;
      } catch {}
      return [t.cancelled(), getRunningLoop().time() - t0];
    });
    expect(await arun(main())).toEqual([true, 0]);
  });

  it('test_cancelling / uncancel: every cancel() counts; uncancel decrements', async () => {
    const main = coroutine(function* main() {
      const t = createTask(sleeper());
      yield* sleep(0);
      const r = [t.cancel(), t.cancel(), t.cancelling(), t.uncancel(), t.cancelling()];
      try {
        yield* t;
      } catch {}
      r.push(t.cancelled(), t.cancel());
      return r;
    });
    expect(await arun(main())).toEqual([true, true, 2, 1, 1, true, false]);
  });

  it('test_uncancel_resets_must_cancel: uncancel to 0 withdraws an undelivered cancel', async () => {
    const f = coroutine(function* f() {
      const ct = currentTask()!;
      ct.cancel();
      ct.uncancel();
      yield* sleep(0);
      return 42;
    });
    const main = coroutine(function* main() {
      return yield* createTask(f());
    });
    expect(await arun(main())).toBe(42);
  });

  it('test_cancel_ignoring: cancellation is edge-triggered', async () => {
    const main = coroutine(function* main() {
      const log: string[] = [];
      const stubborn = coroutine(function* stubborn() {
        try {
          yield* sleep(1);
        } catch {
          log.push('swallowed');
        }
        yield* sleep(1);
        log.push('after');
        return 'ok';
      });
      const t = createTask(stubborn());
      yield* sleep(0);
      t.cancel();
      const r = yield* t;
      return [r, log, t.cancelling()];
    });
    expect(await arun(main())).toEqual(['ok', ['swallowed', 'after'], 1]);
  });

  it('cancel(msg) before the task starts: CancelledError carries the message; later result() does not', async () => {
    const main = coroutine(function* main() {
      const t = createTask(sleeper());
      t.cancel('early');
      let first: CancelledError | undefined;
      try {
        yield* t;
      } catch (e) {
        first = e as CancelledError;
      }
      let second: CancelledError | undefined;
      try {
        t.result();
      } catch (e) {
        second = e as CancelledError;
      }
      return [first?.args, first?.message, second?.args];
    });
    expect(await arun(main())).toEqual([['early'], 'early', []]);
  });

  it('test_cancel_inner_future: cancelling the awaited future cancels the task', async () => {
    const main = coroutine(function* main() {
      const fut = getRunningLoop().createFuture();
      const waiter = coroutine(function* waiter() {
        yield* fut;
      });
      const t = createTask(waiter());
      yield* sleep(0);
      fut.cancel();
      try {
        yield* t;
      } catch {}
      return t.cancelled();
    });
    expect(await arun(main())).toBe(true);
  });

  it('the task AbortSignal aborts when the task is cancelled', async () => {
    const main = coroutine(function* main() {
      const t = createTask(sleeper());
      const signal = t.signal;
      yield* sleep(0);
      expect(signal.aborted).toBe(false);
      t.cancel('stop');
      expect(signal.aborted).toBe(true);
      expect(signal.reason).toBeInstanceOf(CancelledError);
      expect((signal.reason as CancelledError).message).toBe('stop');
      try {
        yield* t;
      } catch {}
      const late = createTask(sleeper());
      late.cancel();
      return late.signal.aborted;
    });
    expect(await arun(main())).toBe(true);
  });
});

describe('tasks: misuse is raised with Python messages', () => {
  it('Task got bad yield', async () => {
    const main = coroutine(function* main() {
      // @ts-expect-error the mistake under test: a plain yield
      const bad = coroutine(function* bad() {
        yield 1;
      });
      const t = createTask(bad());
      try {
        yield* t;
      } catch (e) {
        return [(e as Error).constructor, (e as Error).message];
      }
    });
    expect(await arun(main())).toEqual([RuntimeError, 'Task got bad yield: 1']);
  });

  it('a yielded Promise gets the bad-yield error plus a hint to use fromPromise', async () => {
    const main = coroutine(function* main() {
      // @ts-expect-error the mistake under test: a promise yielded
      const bad = coroutine(function* bad() {
        yield Promise.resolve(1);
      });
      try {
        yield* createTask(bad());
      } catch (e) {
        return [(e as Error).message.startsWith('Task got bad yield: '), (e as { hint?: string }).hint];
      }
    });
    const [ok, hint] = (await arun(main())) as [boolean, string];
    expect(ok).toBe(true);
    expect(hint).toContain('fromPromise');
  });

  it('yield instead of yield* on a future', async () => {
    const main = coroutine(function* main() {
      const fut = getRunningLoop().createFuture();
      // @ts-expect-error the mistake under test: yield instead of yield*
      const bad = coroutine(function* bad() {
        yield fut;
      });
      try {
        yield* createTask(bad());
      } catch (e) {
        return (e as Error).message;
      }
    });
    expect(await arun(main())).toMatch(
      /^yield was used instead of yield from in task <Task .*> with <Future pending>$/,
    );
  });

  it('Task cannot await on itself', async () => {
    const main = coroutine(function* main() {
      const selfAwait = coroutine(function* selfAwait() {
        yield* currentTask()!;
      });
      try {
        yield* createTask(selfAwait());
      } catch (e) {
        return (e as Error).message;
      }
    });
    expect(await arun(main())).toMatch(/^Task cannot await on itself: <Task pending name='Task-\d+' coro=/);
  });

  it('a future of another loop', async () => {
    const other = new EventLoop();
    const main = coroutine(function* main() {
      const fut = other.createFuture();
      try {
        yield* fut;
      } catch (e) {
        return (e as Error).message;
      }
    });
    expect(await arun(main())).toMatch(
      /^Task <Task .*> got Future <Future pending> attached to a different loop$/,
    );
    other.close();
  });

  it('createTask with a non-coroutine is a TypeError; Task forbids setResult/setException', async () => {
    const main = coroutine(function* main() {
      expect(() => createTask(123 as any)).toThrow(new TypeError('a coroutine was expected, got 123'));
      const t = createTask(sleeper());
      expect(() => t.setResult(undefined)).toThrow(
        new RuntimeError('Task does not support set_result operation'),
      );
      expect(() => t.setException(new Error())).toThrow(
        new RuntimeError('Task does not support set_exception operation'),
      );
      t.cancel();
      yield* sleep(0);
    });
    await arun(main());
  });

  it('createTask outside a running loop raises no running event loop', () => {
    const c = sleeper();
    expect(() => createTask(c)).toThrow(new RuntimeError('no running event loop'));
    c.close();
  });
});

describe('awaiting Future subclasses', () => {
  it("a Task waits on a Future subclass through the subclass's addDoneCallback (CPython's fast path is for exact types)", async () => {
    const registered: string[] = [];
    class MyFuture<T> extends Future<T> {
      override addDoneCallback(fn: (f: this) => unknown, options?: { context?: Context | null }): void {
        registered.push(String(fn).includes('_wakeup') ? 'the task wakeup' : 'other');
        super.addDoneCallback(fn, options);
      }
    }
    const main = coroutine(function* main() {
      const loop = getRunningLoop();
      const f = new MyFuture<number>({ loop });
      loop.callLater(0.1, () => f.setResult(5));
      const plain = loop.createFuture<number>();
      loop.callSoon(() => plain.setResult(6));
      return [yield* f, yield* plain, String(f)];
    });
    expect(await arun(main())).toEqual([5, 6, '<MyFuture finished result=5>']);
    expect(registered).toEqual(['the task wakeup']);
  });

  it('the wakeup registered through an override shows as Task.task_wakeup and cancels like the fast path', async () => {
    class MyFuture<T> extends Future<T> {
      override addDoneCallback(fn: (f: this) => unknown, options?: { context?: Context | null }): void {
        super.addDoneCallback(fn, options);
      }
    }
    const main = coroutine(function* main() {
      const loop = getRunningLoop();
      const f = new MyFuture<number>({ loop });
      const waiter = createTask(
        coroutine(function* waiter() {
          return yield* f;
        })(),
      );
      yield* sleep(0);
      const repr = String(f);
      waiter.cancel();
      yield* sleep(0);
      return [repr, f.cancelled(), waiter.cancelled()];
    });
    expect(await arun(main())).toEqual(['<MyFuture pending cb=[Task.task_wakeup()]>', true, true]);
  });
});

describe('ensureFuture', () => {
  it('returns futures as they are, wraps coroutines and awaitables in tasks', async () => {
    const main = coroutine(function* main() {
      const loop = getRunningLoop();
      const f = loop.createFuture<number>();
      expect(ensureFuture(f)).toBe(f);
      const t = ensureFuture(sleep(0, 5));
      expect(t).toBeInstanceOf(Task);
      const custom = {
        *[Symbol.iterator]() {
          yield* sleep(0);
          return 9;
        },
      };
      const u = ensureFuture(custom);
      expect(() => ensureFuture(f, { loop: new EventLoop() })).toThrow(
        new ValueError('The future belongs to a different loop than the one specified as the loop argument'),
      );
      expect(() => ensureFuture(42 as any)).toThrow(
        new TypeError('An asyncio.Future, a coroutine or an awaitable is required'),
      );
      return [yield* t, yield* u];
    });
    expect(await arun(main())).toEqual([5, 9]);
  });

  it('closes a coroutine it cannot make a task of (closed loop), as CPython; loop.createTask leaves it', () => {
    const c = coroutine(function* c() {});
    const loop = new EventLoop();
    loop.close();
    const coro = c();
    expect(() => ensureFuture(coro, { loop })).toThrow(new RuntimeError('Event loop is closed'));
    expect(coro.state).toBe('closed'); // so no "never awaited" warning later
    const left = c();
    expect(() => loop.createTask(left)).toThrow(new RuntimeError('Event loop is closed'));
    expect(left.state).toBe('created');
    left.close();
  });

  it('is typed: yield* gives the result type', async () => {
    const main = coroutine(function* main() {
      const t: Task<number> = createTask(sleep(0, 3));
      const n: number = yield* t;
      const f: Future<string> = getRunningLoop().createFuture<string>();
      getRunningLoop().callSoon(() => f.setResult('x'));
      const s: string = yield* f;
      return `${n}${s}`;
    });
    expect(await arun(main())).toBe('3x');
  });
});
