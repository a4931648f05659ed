/**
 * Lock, Event, Condition, Semaphore, BoundedSemaphore, Barrier — ported from CPython's
 * Lib/test/test_asyncio/test_locks.py (test names kept), plus loop binding and the context-manager
 * protocol. Orderings are CPython 3.14's (checked against CPython 3.14).
 */

import { inspect } from 'node:util';
import {
  type Awaitable,
  asyncWith,
  Barrier,
  BoundedSemaphore,
  BrokenBarrierError,
  CancelledError,
  Condition,
  coroutine,
  createTask,
  Event,
  EventLoop,
  ensureFuture,
  gather,
  getRunningLoop,
  Lock,
  PriorityQueue,
  Queue,
  RuntimeError,
  Semaphore,
  sleep,
  type Task,
  TaskGroup,
  TimeoutError,
  timeout,
  ValueError,
  waitFor,
} from 'tsyncio';
import { describe, expect, it } from 'vitest';
import { arun, raises } from './helpers.js';

const REPR =
  /^<asyncio\.locks\.(\w+) object at 0x[0-9a-f]+ \[(set|unset|locked|unlocked|filling|draining|resetting|broken)(, value:\d)?(, waiters:\d+)?(, waiters:\d+\/\d+)?\]>$/;

describe('Lock', () => {
  it('test_repr: shows locked/unlocked', () =>
    arun(function* () {
      const lock = new Lock();
      expect(String(lock)).toMatch(/\[unlocked\]>$/);
      expect(String(lock)).toMatch(REPR);
      yield* lock.acquire();
      expect(String(lock)).toMatch(/\[locked\]>$/);
      expect(String(lock)).toMatch(REPR);
      createTask(lock.acquire());
      yield* sleep(0);
      expect(String(lock)).toMatch(/\[locked, waiters:1\]>$/);
      expect(String(lock)).toMatch(REPR);
      lock.release();
    }));

  it('console.log and util.inspect show the repr', () => {
    for (const obj of [new Lock(), new Event(), new Condition(), new Semaphore(2), new Barrier(3)]) {
      expect(inspect(obj)).toBe(String(obj));
    }
    expect(inspect([new Lock()])).toMatch(
      /^\[ <asyncio\.locks\.Lock object at 0x[0-9a-f]+ \[unlocked\]> \]$/,
    );
  });

  it('test_lock_by_with_statement / test_context_manager: aenter acquires, aexit releases', () =>
    arun(function* () {
      for (const lock of [new Lock(), new Condition(), new Semaphore(), new BoundedSemaphore()]) {
        expect(lock.locked()).toBe(false);
        expect(yield* lock.aenter()).toBeUndefined();
        expect(lock.locked()).toBe(true);
        expect(yield* lock.aexit(undefined)).toBeUndefined();
        expect(lock.locked()).toBe(false);
      }
    }));

  it('test_context_manager: asyncWith(lock, body) holds the lock for the body and releases it on errors', () =>
    arun(function* () {
      const lock = new Lock();
      expect(lock.locked()).toBe(false);
      const r = yield* asyncWith(lock, function* (v) {
        expect(v).toBeUndefined();
        expect(lock.locked()).toBe(true);
        return 42;
      });
      expect(r).toBe(42);
      expect(lock.locked()).toBe(false);
      const err = yield* raises(
        ValueError,
        asyncWith(lock, function* () {
          throw new ValueError('boom');
        }),
      );
      expect(err.message).toBe('boom');
      expect(lock.locked()).toBe(false);
    }));

  it('aexit releases and does not suppress the error', () =>
    arun(function* () {
      const lock = new Lock();
      yield* lock.aenter();
      const result = yield* lock.aexit(new ValueError('boom'));
      expect(result).toBeFalsy();
      expect(lock.locked()).toBe(false);
    }));

  it('test_acquire: FIFO; release() wakes one waiter that takes the lock when it runs', () =>
    arun(function* () {
      const lock = new Lock();
      const result: number[] = [];
      expect(yield* lock.acquire()).toBe(true);
      const c = coroutine(function* c(n: number) {
        if (yield* lock.acquire()) result.push(n);
        return true;
      });
      const t1 = createTask(c(1));
      const t2 = createTask(c(2));
      yield* sleep(0);
      expect(result).toEqual([]);
      lock.release();
      yield* sleep(0);
      expect(result).toEqual([1]);
      yield* sleep(0);
      expect(result).toEqual([1]);
      const t3 = createTask(c(3));
      lock.release();
      yield* sleep(0);
      expect(result).toEqual([1, 2]);
      lock.release();
      yield* sleep(0);
      expect(result).toEqual([1, 2, 3]);
      for (const t of [t1, t2, t3]) {
        expect(t.done()).toBe(true);
        expect(t.result()).toBe(true);
      }
    }));

  it('test_acquire_cancel: a cancelled waiter is removed', () =>
    arun(function* () {
      const lock = new Lock();
      expect(yield* lock.acquire()).toBe(true);
      const task = createTask(lock.acquire());
      getRunningLoop().callSoon(() => task.cancel());
      yield* raises(CancelledError, task);
      expect(lock._waiters?.length).toBe(0);
    }));

  it('test_cancel_race: release() skips a waiter cancelled but not yet removed', () =>
    arun(function* () {
      // A holds the lock, B and C wait; then B is cancelled while A releases.
      const lock = new Lock();
      const lockit = coroutine(function* lockit(_name: string, blocker: Awaitable<unknown> | null) {
        yield* lock.acquire();
        try {
          if (blocker !== null) yield* blocker;
        } finally {
          lock.release();
        }
      });
      const fa = getRunningLoop().createFuture<undefined>();
      const ta = createTask(lockit('A', fa));
      yield* sleep(0);
      expect(lock.locked()).toBe(true);
      const tb = createTask(lockit('B', null));
      yield* sleep(0);
      expect(lock._waiters!.length).toBe(1);
      const tc = createTask(lockit('C', null));
      yield* sleep(0);
      expect(lock._waiters!.length).toBe(2);

      fa.setResult(undefined);
      tb.cancel();
      expect(lock._waiters!.first()!.cancelled()).toBe(true);
      yield* sleep(0);
      expect(lock.locked()).toBe(false);
      expect(ta.done()).toBe(true);
      expect(tb.cancelled()).toBe(true);
      yield* tc;
    }));

  it('test_cancel_release_race (bpo-32734): only one acquirer wins', () =>
    arun(function* () {
      const loop = getRunningLoop();
      const lock = new Lock();
      let lockCount = 0;
      let callCount = 0;
      const lockit = coroutine(function* lockit() {
        callCount += 1;
        yield* lock.acquire();
        lockCount += 1;
      });
      yield* lock.acquire();
      const t1 = createTask(lockit());
      const t2 = createTask(lockit());
      const t3 = createTask(lockit());
      yield* sleep(0); // start the tasks
      loop.callSoon(() => {
        t1.cancel();
        lock.release();
      });
      yield* raises(CancelledError, t1);
      expect(lockCount).toBe(1);
      expect(callCount).toBe(3);
      expect(t1.cancelled() && t2.done()).toBe(true);
      t3.cancel();
      yield* sleep(0);
      expect(t3.cancelled()).toBe(true);
    }));

  it('test_finished_waiter_cancelled: a woken waiter that is cancelled wakes the next one', () =>
    arun(function* () {
      const lock = new Lock();
      yield* lock.acquire();
      expect(lock.locked()).toBe(true);
      const tb = createTask(lock.acquire());
      yield* sleep(0);
      expect(lock._waiters!.length).toBe(1);
      const tc = createTask(lock.acquire());
      tb.cancel();
      lock.release();
      yield* sleep(0);
      expect(lock.locked()).toBe(true);
      expect(tb.cancelled()).toBe(true);
      yield* tc;
    }));

  it('test_release_not_acquired: RuntimeError', () => {
    const lock = new Lock();
    expect(() => lock.release()).toThrow(RuntimeError);
    expect(() => lock.release()).toThrow('Lock is not acquired.');
  });

  it('test_release_no_waiters', () =>
    arun(function* () {
      const lock = new Lock();
      yield* lock.acquire();
      expect(lock.locked()).toBe(true);
      lock.release();
      expect(lock.locked()).toBe(false);
    }));

  it('a newcomer jumps the queue only when every waiter is cancelled', () =>
    arun(function* () {
      const lock = new Lock();
      yield* lock.acquire();
      const tb = createTask(lock.acquire());
      yield* sleep(0);
      lock.release();
      tb.cancel();
      // The only waiter is cancelled (not yet removed): the fast path takes the lock at once.
      const tc = createTask(lock.acquire());
      yield* sleep(0);
      expect(tc.done()).toBe(true);
      expect(tb.cancelled()).toBe(true);
      expect(lock.locked()).toBe(true);
      expect(lock._waiters!.length).toBe(0);
    }));

  it('is bound to the first loop it waits on', async () => {
    const lock = new Lock();
    await arun(function* () {
      yield* lock.acquire();
      const t = createTask(lock.acquire());
      yield* sleep(0);
      lock.release();
      yield* t;
      lock.release();
    });
    await arun(function* () {
      // The uncontended fast path never touches the loop.
      yield* lock.acquire();
      const err = yield* raises(RuntimeError, lock.acquire());
      expect(err.message).toMatch(
        /^<asyncio\.locks\.Lock object at 0x[0-9a-f]+ \[locked\]> is bound to a different event loop$/,
      );
      lock.release();
    });
  });
});

describe('Event', () => {
  it('test_repr', () =>
    arun(function* () {
      const ev = new Event();
      expect(String(ev)).toMatch(/\[unset\]>$/);
      expect(String(ev)).toMatch(REPR);
      ev.set();
      expect(String(ev)).toMatch(/\[set\]>$/);
      ev.clear();
      createTask(ev.wait());
      yield* sleep(0);
      expect(String(ev)).toContain('waiters:1');
      expect(String(ev)).toMatch(REPR);
      ev.set();
    }));

  it('test_wait: set() wakes every waiter, in order, and later waits return at once', () =>
    arun(function* () {
      const ev = new Event();
      expect(ev.isSet()).toBe(false);
      const result: number[] = [];
      const c = coroutine(function* c(n: number) {
        if (yield* ev.wait()) result.push(n);
      });
      const t1 = createTask(c(1));
      const t2 = createTask(c(2));
      yield* sleep(0);
      expect(result).toEqual([]);
      const t3 = createTask(c(3));
      ev.set();
      yield* sleep(0);
      expect(result).toEqual([3, 1, 2]);
      for (const t of [t1, t2, t3]) {
        expect(t.done()).toBe(true);
        expect(t.result()).toBeUndefined();
      }
    }));

  it('test_wait_on_set', () =>
    arun(function* () {
      const ev = new Event();
      ev.set();
      expect(yield* ev.wait()).toBe(true);
    }));

  it('test_wait_cancel: the cancelled waiter is removed', () =>
    arun(function* () {
      const ev = new Event();
      const wait = createTask(ev.wait());
      getRunningLoop().callSoon(() => wait.cancel());
      yield* raises(CancelledError, wait);
      expect(ev._waiters.length).toBe(0);
    }));

  it('test_clear', () => {
    const ev = new Event();
    expect(ev.isSet()).toBe(false);
    ev.set();
    expect(ev.isSet()).toBe(true);
    ev.clear();
    expect(ev.isSet()).toBe(false);
  });

  it('test_clear_with_waiters: set(); clear() before the waiters run still wakes them', () =>
    arun(function* () {
      const ev = new Event();
      const result: number[] = [];
      const c1 = coroutine(function* c1() {
        if (yield* ev.wait()) result.push(1);
        return true;
      });
      const t = createTask(c1());
      yield* sleep(0);
      expect(result).toEqual([]);
      ev.set();
      ev.clear();
      expect(ev.isSet()).toBe(false);
      ev.set();
      ev.set();
      expect(ev._waiters.length).toBe(1);
      yield* sleep(0);
      expect(result).toEqual([1]);
      expect(ev._waiters.length).toBe(0);
      expect(t.done()).toBe(true);
      expect(t.result()).toBe(true);
    }));
});

describe('Condition', () => {
  const waiter = (cond: Condition, result: number[], n: number, release = false) =>
    coroutine(function* c() {
      yield* cond.acquire();
      if (yield* cond.wait()) {
        result.push(n);
        if (release) cond.release();
      }
      return true;
    })();

  it('test_wait: notified waiters run one at a time as the lock is released', () =>
    arun(function* () {
      const cond = new Condition();
      const result: number[] = [];
      const t1 = createTask(waiter(cond, result, 1));
      const t2 = createTask(waiter(cond, result, 2));
      const t3 = createTask(waiter(cond, result, 3));
      yield* sleep(0);
      expect(result).toEqual([]);
      expect(cond.locked()).toBe(false);

      expect(yield* cond.acquire()).toBe(true);
      cond.notify();
      yield* sleep(0);
      expect(result).toEqual([]);
      expect(cond.locked()).toBe(true);

      cond.release();
      yield* sleep(0);
      expect(result).toEqual([1]);
      expect(cond.locked()).toBe(true);

      cond.notify(2);
      yield* sleep(0);
      expect(result).toEqual([1]);
      expect(cond.locked()).toBe(true);

      cond.release();
      yield* sleep(0);
      expect(result).toEqual([1, 2]);
      expect(cond.locked()).toBe(true);

      cond.release();
      yield* sleep(0);
      expect(result).toEqual([1, 2, 3]);
      expect(cond.locked()).toBe(true);
      for (const t of [t1, t2, t3]) expect(t.result()).toBe(true);
    }));

  it('test_wait_cancel: the lock is held again after a cancelled wait', () =>
    arun(function* () {
      const cond = new Condition();
      yield* cond.acquire();
      const wait = createTask(cond.wait());
      getRunningLoop().callSoon(() => wait.cancel());
      yield* raises(CancelledError, wait);
      expect(cond._waiters.length).toBe(0);
      expect(cond.locked()).toBe(true);
    }));

  it('test_wait_cancel_contested: wait() re-acquires the lock before the cancellation surfaces', () =>
    arun(function* () {
      const cond = new Condition();
      yield* cond.acquire();
      expect(cond.locked()).toBe(true);
      const waitTask = createTask(cond.wait());
      yield* sleep(0);
      expect(cond.locked()).toBe(false);
      // Notify, but contest the lock before cancelling.
      yield* cond.acquire();
      expect(cond.locked()).toBe(true);
      cond.notify();
      getRunningLoop().callSoon(() => waitTask.cancel());
      getRunningLoop().callSoon(() => cond.release());
      try {
        yield* waitTask;
      } catch (e) {
        // Should not happen, since there are no cancellation points; tolerated as in CPython's test.
        if (!(e instanceof CancelledError)) throw e;
      }
      expect(cond.locked()).toBe(true);
    }));

  it('test_wait_cancel_after_notify (bpo-32841)', () =>
    arun(function* () {
      let waited = false;
      const cond = new Condition();
      const waitOnCond = coroutine(function* waitOnCond() {
        yield* asyncWith(cond, function* () {
          waited = true; // make sure this area was reached
          yield* cond.wait();
        });
      });
      const waiterTask = createTask(waitOnCond());
      yield* sleep(0); // start waiting
      yield* cond.acquire();
      cond.notify();
      yield* sleep(0); // get to acquire()
      waiterTask.cancel();
      yield* sleep(0); // activate cancellation
      cond.release();
      yield* sleep(0); // cancellation should occur
      expect(waiterTask.cancelled()).toBe(true);
      expect(waited).toBe(true);
    }));

  it('test_wait_unacquired: RuntimeError', () =>
    arun(function* () {
      const cond = new Condition();
      const err = yield* raises(RuntimeError, cond.wait());
      expect(err.message).toBe('cannot wait on un-acquired lock');
    }));

  it('test_wait_for: re-checks the predicate after each notify', () =>
    arun(function* () {
      const cond = new Condition();
      let presult = false;
      const result: number[] = [];
      const c1 = coroutine(function* c1() {
        yield* cond.acquire();
        if (yield* cond.waitFor(() => presult)) {
          result.push(1);
          cond.release();
        }
        return true;
      });
      const t = createTask(c1());
      yield* sleep(0);
      expect(result).toEqual([]);
      yield* cond.acquire();
      cond.notify();
      cond.release();
      yield* sleep(0);
      expect(result).toEqual([]);
      presult = true;
      yield* cond.acquire();
      cond.notify();
      cond.release();
      yield* sleep(0);
      expect(result).toEqual([1]);
      expect(t.result()).toBe(true);
    }));

  it('test_wait_for_unacquired: a true predicate returns at once; a false one needs the lock', () =>
    arun(function* () {
      const cond = new Condition();
      expect(yield* cond.waitFor(() => [1, 2, 3])).toEqual([1, 2, 3]);
      yield* raises(
        RuntimeError,
        cond.waitFor(() => false),
      );
    }));

  it('test_notify: notify(n) wakes n waiters, notify(2048) wakes the rest', () =>
    arun(function* () {
      const cond = new Condition();
      const result: number[] = [];
      const tasks = [1, 2, 3].map((n) => createTask(waiter(cond, result, n, true)));
      yield* sleep(0);
      expect(result).toEqual([]);
      yield* cond.acquire();
      cond.notify(1);
      cond.release();
      yield* sleep(0);
      expect(result).toEqual([1]);
      yield* cond.acquire();
      cond.notify(1);
      cond.notify(2048);
      cond.release();
      yield* sleep(0);
      expect(result).toEqual([1, 2, 3]);
      for (const t of tasks) expect(t.result()).toBe(true);
    }));

  it('test_notify_all', () =>
    arun(function* () {
      const cond = new Condition();
      const result: number[] = [];
      const tasks = [1, 2].map((n) => createTask(waiter(cond, result, n, true)));
      yield* sleep(0);
      expect(result).toEqual([]);
      yield* cond.acquire();
      cond.notifyAll();
      cond.release();
      yield* sleep(0);
      expect(result).toEqual([1, 2]);
      for (const t of tasks) expect(t.result()).toBe(true);
    }));

  it('test_notify_unacquired / test_notify_all_unacquired: RuntimeError', () => {
    const cond = new Condition();
    expect(() => cond.notify()).toThrow(new RuntimeError('cannot notify on un-acquired lock'));
    expect(() => cond.notifyAll()).toThrow(new RuntimeError('cannot notify on un-acquired lock'));
  });

  it('test_repr', () =>
    arun(function* () {
      const cond = new Condition();
      expect(String(cond)).toContain('unlocked');
      expect(String(cond)).toMatch(REPR);
      yield* cond.acquire();
      expect(String(cond)).toContain('locked');
      const tasks: Task<void>[] = [];
      const waitThenRelease = coroutine(function* waitThenRelease() {
        yield* cond.wait();
        cond.release();
      });
      for (const n of [1, 2]) {
        tasks.push(createTask(waitThenRelease()));
        yield* sleep(0);
        expect(String(cond)).toContain(`waiters:${n}`);
        expect(String(cond)).toMatch(REPR);
        yield* cond.acquire();
      }
      cond.notifyAll();
      cond.release();
      yield* gather(...tasks);
    }));

  it('test_context_manager', () =>
    arun(function* () {
      const cond = new Condition();
      expect(cond.locked()).toBe(false);
      yield* asyncWith(cond, function* () {
        expect(cond.locked()).toBe(true);
      });
      expect(cond.locked()).toBe(false);
    }));

  it('test_explicit_lock: a condition and its lock share one state', () =>
    arun(function* () {
      const f = function* (lock?: Lock, cond?: Condition) {
        const l = lock ?? new Lock();
        const c = cond ?? new Condition(l);
        expect(c._lock).toBe(l);
        expect(l.locked()).toBe(false);
        expect(c.locked()).toBe(false);
        yield* asyncWith(c, function* () {
          expect(l.locked()).toBe(true);
          expect(c.locked()).toBe(true);
        });
        expect(l.locked()).toBe(false);
        expect(c.locked()).toBe(false);
        yield* asyncWith(l, function* () {
          expect(l.locked()).toBe(true);
          expect(c.locked()).toBe(true);
        });
        expect(l.locked()).toBe(false);
        expect(c.locked()).toBe(false);
      };
      yield* f();
      yield* f(new Lock());
      const lock = new Lock();
      yield* f(lock, new Condition(lock));
    }));

  it('rejects a lock that is not a Lock', () => {
    expect(() => new Condition({} as Lock)).toThrow(new TypeError('lock must be a Lock, not dict'));
  });

  it('test_ambiguous_loops: the lock and the condition each check their own loop', () =>
    arun(function* () {
      const other = new EventLoop();
      try {
        // wrong loop in lock
        const lock = new Lock();
        lock._loop = other; // private API, as in CPython's test
        yield* asyncWith(lock, function* () {
          // Acquired at once through the fast path, without touching any loop; cond.acquire() has to
          // wait on the lock and discovers the mismatch.
          const cond = new Condition(lock);
          const err = yield* raises(RuntimeError, cond.acquire());
          expect(err.message).toMatch(/is bound to a different event loop$/);
        });

        // wrong loop in condition
        const lock2 = new Lock();
        yield* lock2.aenter();
        const cond = new Condition(lock2);
        cond._loop = other;
        const err = yield* raises(RuntimeError, cond.wait());
        expect(err.message).toMatch(
          /^<asyncio\.locks\.Condition object at 0x[0-9a-f]+ \[locked\]> is bound to a different event loop$/,
        );
        yield* lock2.aexit();
      } finally {
        other.close();
      }
    }));

  it('test_timeout_in_block: waitFor(cond.wait()) times out holding the lock again', () =>
    arun(function* () {
      const condition = new Condition();
      yield* asyncWith(condition, function* () {
        yield* raises(TimeoutError, waitFor(condition.wait(), 0.5));
        expect(getRunningLoop().time()).toBe(0.5);
        expect(condition.locked()).toBe(true);
      });
      expect(condition.locked()).toBe(false);
    }));

  /** A task waiting in `cond.waitFor(predicate)`; `raised.error` is the CancelledError it re-raises. */
  function waitCancelled(
    cond: Condition,
    predicate: () => boolean,
  ): [Task<void>, { error?: CancelledError }] {
    const raised: { error?: CancelledError } = {};
    const func = coroutine(function* func() {
      yield* asyncWith(cond, function* () {
        raised.error = yield* raises(CancelledError, cond.waitFor(predicate));
        throw raised.error;
      });
    });
    return [createTask(func()), raised];
  }

  it('test_cancelled_error_wakeup: the same CancelledError instance is re-raised', () =>
    arun(function* () {
      const cond = new Condition();
      const [task, raised] = waitCancelled(cond, () => false);
      yield* sleep(0);
      // The task is waiting on the condition: cancel it there.
      task.cancel('foo');
      const err = yield* raises(CancelledError, task);
      expect(err.args).toEqual(['foo']);
      expect(err).toBe(raised.error);
    }));

  it('test_cancelled_error_re_aquire: cancelled while re-acquiring, the same instance is re-raised', () =>
    arun(function* () {
      let wake = false;
      const cond = new Condition();
      const [task, raised] = waitCancelled(cond, () => wake);
      yield* sleep(0);
      yield* cond.acquire();
      wake = true;
      cond.notify();
      yield* sleep(0);
      // The task is now trying to re-acquire the lock: cancel it there.
      task.cancel('foo');
      cond.release();
      const err = yield* raises(CancelledError, task);
      expect(err.args).toEqual(['foo']);
      expect(err).toBe(raised.error);
    }));

  // A task cancelled at the "same" time as it is notified must not swallow the wake-up.
  const consumerTest = (relock: boolean) =>
    arun(function* () {
      const condition = new Condition();
      let state = 0;
      const consumer = coroutine(function* consumer() {
        yield* asyncWith(condition, function* () {
          for (;;) {
            yield* condition.waitFor(() => state !== 0);
            if (state < 0) return;
            state -= 1;
          }
        });
      });
      const c = [createTask(consumer()), createTask(consumer())];
      yield* sleep(0);
      yield* asyncWith(condition, function* () {
        // Produce one item and wake up one consumer.
        state += 1;
        condition.notify(1);
        // test_cancelled_wakeup_relock: let the consumer wake and wait for the lock first.
        if (relock) yield* sleep(0);
        // Cancel it while it waits to run (or for the lock); the cancel could come from outside.
        c[0]!.cancel();
        // Wait for the item to be consumed: if it is not, the notify was lost in the race with cancel().
        try {
          yield* asyncWith(timeout(0.01), function* () {
            yield* condition.waitFor(() => state === 0);
          });
        } catch (e) {
          if (!(e instanceof TimeoutError)) throw e;
        }
        expect(state).toBe(0);
        // Clean up.
        state = -1;
        condition.notifyAll();
      });
      yield* c[1]!;
    });

  it('test_cancelled_wakeup: a notified waiter cancelled before it runs passes the wake-up on', () =>
    consumerTest(false));

  it('test_cancelled_wakeup_relock: a waiter cancelled while re-acquiring passes the wake-up on', () =>
    consumerTest(true));
});

describe('Semaphore', () => {
  it('test_initial_value_zero', () => {
    expect(new Semaphore(0).locked()).toBe(true);
  });

  it('test_repr', () =>
    arun(function* () {
      const sem = new Semaphore();
      expect(String(sem)).toMatch(/\[unlocked, value:1\]>$/);
      expect(String(sem)).toMatch(REPR);
      yield* sem.acquire();
      expect(String(sem)).toMatch(/\[locked\]>$/);
      expect(String(sem)).not.toContain('waiters');
      expect(String(sem)).toMatch(REPR);
      for (const n of [1, 2]) {
        createTask(sem.acquire());
        yield* sleep(0);
        expect(String(sem)).toContain(`waiters:${n}`);
        expect(String(sem)).toMatch(REPR);
      }
    }));

  it('test_semaphore', () => {
    const sem = new Semaphore();
    expect(sem._value).toBe(1);
    expect(sem.locked()).toBe(false);
  });

  it('test_semaphore_value: a negative value is a ValueError', () => {
    expect(() => new Semaphore(-1)).toThrow(new ValueError('Semaphore initial value must be >= 0'));
    expect(() => new BoundedSemaphore(-1)).toThrow(ValueError);
    expect(() => new Semaphore('1' as unknown as number)).toThrow(TypeError);
  });

  it('test_acquire: released permits go to the waiters in order, newcomers queue', () =>
    arun(function* () {
      const sem = new Semaphore(3);
      const result: number[] = [];
      expect(yield* sem.acquire()).toBe(true);
      expect(yield* sem.acquire()).toBe(true);
      expect(sem.locked()).toBe(false);
      const c = coroutine(function* c(n: number) {
        yield* sem.acquire();
        result.push(n);
        return true;
      });
      const t1 = createTask(c(1));
      const t2 = createTask(c(2));
      const t3 = createTask(c(3));
      yield* sleep(0);
      expect(result).toEqual([1]);
      expect(sem.locked()).toBe(true);
      expect(sem._waiters!.length).toBe(2);
      expect(sem._value).toBe(0);

      const t4 = createTask(c(4));
      sem.release();
      sem.release();
      expect(sem._value).toBe(0);
      yield* sleep(0);
      expect(sem._value).toBe(0);
      expect(result.length).toBe(3);
      expect(sem.locked()).toBe(true);
      expect(sem._waiters!.length).toBe(1);
      expect(sem._value).toBe(0);

      expect(t1.done() && t1.result()).toBe(true);
      const race = [t2, t3, t4];
      expect(race.filter((t) => t.done() && t.result()).length).toBe(2);
      // Clean up the locked semaphore.
      sem.release();
      yield* gather(...race);
    }));

  it('test_acquire_cancel', () =>
    arun(function* () {
      const sem = new Semaphore();
      yield* sem.acquire();
      const acquire = createTask(sem.acquire());
      getRunningLoop().callSoon(() => acquire.cancel());
      yield* raises(CancelledError, acquire);
      expect(sem._waiters!.length).toBe(0);
    }));

  it('test_acquire_cancel_before_awoken: cancelled waiters are skipped', () =>
    arun(function* () {
      const sem = new Semaphore(0);
      const [t1, t2, t3, t4] = [0, 1, 2, 3].map(() => createTask(sem.acquire())) as Task<true>[];
      yield* sleep(0);
      t1!.cancel();
      t2!.cancel();
      sem.release();
      yield* sleep(0);
      yield* sleep(0);
      expect([t3, t4].filter((t) => t!.done()).length).toBe(1);
      expect(t3!.done()).toBe(true);
      expect(t4!.done()).toBe(false);
      t3!.cancel();
      t4!.cancel();
      yield* sleep(0);
    }));

  it('test_acquire_hang: a waiter cancelled after being woken gives its permit back', () =>
    arun(function* () {
      const sem = new Semaphore(0);
      const t1 = createTask(sem.acquire());
      const t2 = createTask(sem.acquire());
      yield* sleep(0);
      t1.cancel();
      sem.release();
      yield* sleep(0);
      yield* sleep(0);
      expect(sem.locked()).toBe(true);
      expect(t2.done()).toBe(true);
    }));

  it('test_acquire_no_hang', () =>
    arun(function* () {
      const sem = new Semaphore(1);
      let t2: Task<void>;
      const c1 = coroutine(function* c1() {
        yield* asyncWith(sem, function* () {
          yield* sleep(0);
        });
        t2.cancel();
      });
      const c2 = coroutine(function* c2() {
        yield* asyncWith(sem, function* () {
          throw new Error('must not get here');
        });
      });
      const t1 = createTask(c1());
      t2 = createTask(c2());
      const [r1, r2] = yield* gather(t1, t2, { returnExceptions: true });
      expect(r1).toBeUndefined();
      expect(r2).toBeInstanceOf(CancelledError);
      // The permit was given back: acquire does not hang.
      yield* waitFor(sem.acquire(), 1.0);
    }));

  it('test_release_not_acquired: BoundedSemaphore over-release is a ValueError', () => {
    const sem = new BoundedSemaphore();
    expect(() => sem.release()).toThrow(new ValueError('BoundedSemaphore released too many times'));
  });

  it('test_release_no_waiters', () =>
    arun(function* () {
      const sem = new Semaphore();
      yield* sem.acquire();
      expect(sem.locked()).toBe(true);
      sem.release();
      expect(sem.locked()).toBe(false);
    }));

  it('test_acquire_fifo_order', () =>
    arun(function* () {
      const sem = new Semaphore(1);
      const result: string[] = [];
      const c = coroutine(function* c(tag: string) {
        yield* sem.acquire();
        result.push(`${tag}_1`);
        yield* sleep(0.01);
        sem.release();
        yield* sem.acquire();
        result.push(`${tag}_2`);
        yield* sleep(0.01);
        sem.release();
      });
      yield* asyncWith(new TaskGroup(), function* (tg) {
        tg.createTask(c('c1'));
        tg.createTask(c('c2'));
        tg.createTask(c('c3'));
      });
      expect(result).toEqual(['c1_1', 'c2_1', 'c3_1', 'c1_2', 'c2_2', 'c3_2']);
    }));

  it('test_acquire_fifo_order_2', () =>
    arun(function* () {
      const sem = new Semaphore(1);
      const result: number[] = [];
      const c1 = coroutine(function* c1() {
        yield* sem.acquire();
        result.push(1);
        return true;
      });
      const c2 = coroutine(function* c2() {
        yield* sem.acquire();
        result.push(2);
        sem.release();
        yield* sem.acquire();
        result.push(4);
        return true;
      });
      const c3 = coroutine(function* c3() {
        yield* sem.acquire();
        result.push(3);
        return true;
      });
      const tasks = [createTask(c1()), createTask(c2()), createTask(c3())];
      yield* sleep(0);
      sem.release();
      sem.release();
      yield* gather(...tasks);
      expect(result).toEqual([1, 2, 3, 4]);
    }));

  it('test_acquire_fifo_order_3', () =>
    arun(function* () {
      const sem = new Semaphore(0);
      const result: number[] = [];
      const c = coroutine(function* c(n: number) {
        yield* sem.acquire();
        result.push(n);
        return true;
      });
      const tasks = [1, 2, 3].map((n) => createTask(c(n)));
      yield* sleep(0);
      tasks[0]!.cancel();
      yield* sleep(0);
      sem.release();
      sem.release();
      yield* gather(...tasks, { returnExceptions: true });
      expect(result).toEqual([2, 3]);
    }));

  it('test_acquire_fifo_order_4: a successful acquire wakes every waiter FIFO allows', () =>
    arun(function* () {
      const sem = new Semaphore(0);
      const result: number[] = [];
      let t4: Task<boolean> | undefined;
      const c4 = coroutine(function* c4() {
        result.push(4);
        return true;
      });
      const c1 = coroutine(function* c1() {
        // The first task waits at once; c2 wakes it.
        expect(sem._value).toBe(0);
        yield* sem.acquire();
        // Every waiting task has been woken now.
        expect(sem._value).toBe(0);
        // A fourth task runs after c3, not c2.
        t4 = createTask(c4());
        result.push(1);
        return true;
      });
      const c2 = coroutine(function* c2() {
        // Release three times, for c1, c2 and c3.
        sem.release();
        sem.release();
        sem.release();
        expect(sem._value).toBe(2);
        // Locked, because c1 has not woken up yet.
        expect(sem.locked()).toBe(true);
        yield* sem.acquire();
        result.push(2);
        return true;
      });
      const c3 = coroutine(function* c3() {
        yield* sem.acquire();
        expect(sem.locked()).toBe(true);
        result.push(3);
        return true;
      });
      const t1 = createTask(c1());
      const t2 = createTask(c2());
      const t3 = createTask(c3());
      yield* sleep(0);
      // Three tasks are queued, the first has not woken up yet.
      expect(sem._value).toBe(2);
      expect(sem._waiters!.length).toBe(3);
      yield* sleep(0);
      yield* gather(t1, t2, t3, t4!);
      expect(result).toEqual([1, 2, 3, 4]);
    }));
});

describe('Barrier', () => {
  const N = 5;

  function* gatherTasks<T>(n: number, coro: () => Awaitable<T> & Iterable<unknown>) {
    const tasks = Array.from({ length: n }, () => createTask(coro()));
    const res = yield* gather(...tasks);
    return [res as T[], tasks] as const;
  }

  it('test_barrier / test_barrier_parties', () => {
    const barrier = new Barrier(N);
    expect(String(barrier)).toContain('filling');
    expect(() => new Barrier(0)).toThrow(new ValueError('parties must be >= 1'));
    expect(() => new Barrier(-4)).toThrow(ValueError);
    expect(barrier.parties).toBe(N);
  });

  it('test_repr: filling, draining, resetting, broken', () =>
    arun(function* () {
      const barrier = new Barrier(N);
      expect(String(barrier)).toMatch(REPR);
      expect(String(barrier)).toContain('filling');
      const waiters: Task<number>[] = [];
      const incr = 2;
      for (let i = 0; i < incr; i++) waiters.push(createTask(barrier.wait()));
      yield* sleep(0);
      expect(String(barrier)).toMatch(REPR);
      expect(String(barrier)).toContain(`waiters:${incr}/${N}`);
      expect(String(barrier)).toContain('filling');
      // create the missing waiters
      for (let i = barrier.parties - barrier.nWaiting; i > 0; i--) waiters.push(createTask(barrier.wait()));
      yield* sleep(0);
      expect(String(barrier)).toMatch(REPR);
      expect(String(barrier)).toContain('draining');
      // add some waiters, then reset
      for (let i = 0; i < incr; i++) waiters.push(createTask(barrier.wait()));
      yield* sleep(0);
      yield* barrier.reset();
      expect(String(barrier)).toMatch(REPR);
      expect(String(barrier)).toContain('resetting');
      // add some waiters again, then abort
      for (let i = 0; i < incr; i++) waiters.push(createTask(barrier.wait()));
      yield* sleep(0);
      yield* barrier.abort();
      expect(String(barrier)).toMatch(REPR);
      expect(String(barrier)).toContain('broken');
      expect(barrier.broken).toBe(true);
      yield* gather(...waiters, { returnExceptions: true });
    }));

  it('test_context_manager: aenter returns distinct indices', () =>
    arun(function* () {
      const barrier = new Barrier(3);
      const results: number[] = [];
      yield* gatherTasks(3, () =>
        coroutine(function* coro() {
          yield* asyncWith(barrier, function* (i) {
            results.push(i);
          });
        })(),
      );
      expect([...results].sort()).toEqual([0, 1, 2]);
      expect(barrier.nWaiting).toBe(0);
      expect(barrier.broken).toBe(false);
    }));

  it('test_filling_one_task', () =>
    arun(function* () {
      const barrier = new Barrier(1);
      const ret = yield* asyncWith(barrier, function* (i) {
        expect(i).toBe(0);
        return true;
      });
      expect(ret).toBe(true);
      expect(barrier.nWaiting).toBe(0);
      expect(barrier.broken).toBe(false);
    }));

  it('test_filling_one_task_twice', () =>
    arun(function* () {
      const barrier = new Barrier(1);
      const t1 = createTask(barrier.wait());
      yield* sleep(0);
      expect(barrier.nWaiting).toBe(0);
      const t2 = createTask(barrier.wait());
      yield* sleep(0);
      expect(t1.result()).toBe(t2.result());
      expect(t1.done()).toBe(t2.done());
      expect(barrier.nWaiting).toBe(0);
      expect(barrier.broken).toBe(false);
    }));

  it('test_filling_task_by_task', () =>
    arun(function* () {
      const barrier = new Barrier(3);
      const t1 = createTask(barrier.wait());
      yield* sleep(0);
      expect(barrier.nWaiting).toBe(1);
      expect(String(barrier)).toContain('filling');
      const t2 = createTask(barrier.wait());
      yield* sleep(0);
      expect(barrier.nWaiting).toBe(2);
      expect(String(barrier)).toContain('filling');
      const t3 = createTask(barrier.wait());
      yield* sleep(0);
      expect((yield* gather(t1, t2, t3)).sort()).toEqual([0, 1, 2]);
      expect(barrier.nWaiting).toBe(0);
      expect(barrier.broken).toBe(false);
    }));

  it('test_filling_tasks_wait_twice / test_filling_tasks_check_return_value', () =>
    arun(function* () {
      const barrier = new Barrier(N);
      const results: boolean[] = [];
      const [res] = yield* gatherTasks(N, () =>
        coroutine(function* coro() {
          return yield* asyncWith(barrier, function* () {
            results.push(true);
            return yield* asyncWith(barrier, function* (i) {
              results.push(false);
              return i;
            });
          });
        })(),
      );
      expect(results.length).toBe(N * 2);
      expect(results.filter((r) => r).length).toBe(N);
      expect([...res].sort()).toEqual([0, 1, 2, 3, 4]);
      expect(barrier.nWaiting).toBe(0);
      expect(barrier.broken).toBe(false);
    }));

  it('test_draining_state: the last task out sees the barrier filling again', () =>
    arun(function* () {
      const barrier = new Barrier(N);
      const results: boolean[] = [];
      yield* gatherTasks(N, () =>
        coroutine(function* coro() {
          yield* asyncWith(barrier, function* () {
            // the state changes to filling when the last task is released
            results.push(String(barrier).includes('draining'));
          });
        })(),
      );
      expect(results.length).toBe(N);
      expect(results[N - 1]).toBe(false);
      expect(results.slice(0, N - 1).every((r) => r)).toBe(true);
      expect(barrier.nWaiting).toBe(0);
    }));

  it('test_blocking_tasks_while_draining', () =>
    arun(function* () {
      const rewait = 2;
      const barrier = new Barrier(N);
      const barrierNowaiting = new Barrier(N - rewait);
      let rewaitN = rewait;
      yield* gatherTasks(N, () =>
        coroutine(function* coro() {
          yield* barrier.wait();
          if (rewaitN > 0) {
            rewaitN -= 1;
            yield* barrier.wait();
          } else {
            yield* barrierNowaiting.wait();
            yield* barrier.wait();
          }
        })(),
      );
      expect(barrier.nWaiting).toBe(0);
    }));

  it('test_filling_tasks_cancel_one: a cancelled waiter leaves the count', () =>
    arun(function* () {
      const barrier = new Barrier(3);
      const results: boolean[] = [];
      const coro = coroutine(function* coro() {
        yield* barrier.wait();
        results.push(true);
      });
      const t1 = createTask(coro());
      yield* sleep(0);
      expect(barrier.nWaiting).toBe(1);
      const t2 = createTask(coro());
      yield* sleep(0);
      expect(barrier.nWaiting).toBe(2);
      t1.cancel();
      yield* sleep(0);
      expect(barrier.nWaiting).toBe(1);
      yield* raises(CancelledError, t1);
      expect(t1.cancelled()).toBe(true);
      const t3 = createTask(coro());
      yield* sleep(0);
      expect(barrier.nWaiting).toBe(2);
      const t4 = createTask(coro());
      yield* gather(t2, t3, t4);
      expect(results).toEqual([true, true, true]);
      expect(barrier.nWaiting).toBe(0);
      expect(barrier.broken).toBe(false);
    }));

  it('test_reset_barrier', () =>
    arun(function* () {
      const barrier = new Barrier(1);
      createTask(barrier.reset());
      yield* sleep(0);
      expect(barrier.nWaiting).toBe(0);
      expect(barrier.broken).toBe(false);
    }));

  it('test_reset_barrier_while_tasks_waiting: waiters get BrokenBarrierError', () =>
    arun(function* () {
      const barrier = new Barrier(N);
      const results: boolean[] = [];
      const coro = coroutine(function* coro() {
        try {
          yield* barrier.wait();
        } catch (e) {
          if (!(e instanceof BrokenBarrierError)) throw e;
          expect(e.message).toBe('Abort or reset of barrier');
          results.push(true);
        }
      });
      const tasks = Array.from({ length: N - 1 }, () => createTask(coro()));
      yield* sleep(0);
      createTask(barrier.reset());
      yield* gather(...tasks);
      expect(results.length).toBe(N - 1);
      expect(barrier.nWaiting).toBe(0);
      expect(String(barrier)).not.toContain('resetting');
      expect(barrier.broken).toBe(false);
    }));

  it('test_reset_barrier_when_tasks_half_draining', () =>
    arun(function* () {
      const barrier = new Barrier(N);
      const results1: boolean[] = [];
      const restOfTasks = Math.floor(N / 2);
      yield* gatherTasks(N, () =>
        coroutine(function* coro() {
          try {
            yield* barrier.wait();
          } catch (e) {
            if (!(e instanceof BrokenBarrierError)) throw e;
            results1.push(true); // tasks still waiting
            return;
          }
          // a drained task, outside the barrier
          if (restOfTasks === barrier._count) yield* barrier.reset();
        })(),
      );
      expect(results1).toEqual(Array(restOfTasks).fill(true));
      expect(barrier.nWaiting).toBe(0);
      expect(String(barrier)).not.toContain('resetting');
      expect(barrier.broken).toBe(false);
    }));

  it('test_reset_barrier_when_tasks_half_draining_half_blocking', () =>
    arun(function* () {
      const barrier = new Barrier(N);
      const results1: boolean[] = [];
      const results2: boolean[] = [];
      const blockingTasks = Math.floor(N / 2);
      let count = 0;
      yield* gatherTasks(N, () =>
        coroutine(function* coro() {
          try {
            yield* barrier.wait();
          } catch (e) {
            if (!(e instanceof BrokenBarrierError)) throw e;
            results1.push(true); // tasks still waiting
            yield* barrier.wait(); // wait again to reach the parties
            return;
          }
          count += 1;
          if (count > blockingTasks) {
            // reset now: BrokenBarrierError for the waiting tasks
            yield* barrier.reset();
            yield* barrier.wait();
          } else {
            try {
              yield* barrier.wait();
            } catch (e) {
              if (!(e instanceof BrokenBarrierError)) throw e;
              results2.push(true); // never: blocked tasks go on waiting
            }
          }
        })(),
      );
      expect(results1).toEqual(Array(blockingTasks).fill(true));
      expect(results2).toEqual([]);
      expect(barrier.nWaiting).toBe(0);
      expect(String(barrier)).not.toContain('resetting');
      expect(barrier.broken).toBe(false);
    }));

  it('test_reset_barrier_while_tasks_waiting_and_waiting_again', () =>
    arun(function* () {
      const barrier = new Barrier(N);
      const results1: boolean[] = [];
      const results2: boolean[] = [];
      const coro1 = coroutine(function* coro1() {
        try {
          yield* barrier.wait();
        } catch (e) {
          if (!(e instanceof BrokenBarrierError)) throw e;
          results1.push(true);
        } finally {
          yield* barrier.wait();
          results2.push(true);
        }
      });
      const coro2 = coroutine(function* coro2() {
        yield* asyncWith(barrier, function* () {
          results2.push(true);
        });
      });
      const tasks = Array.from({ length: N - 1 }, () => createTask(coro1()));
      // Reset the barrier: the N-1 waiting tasks get BrokenBarrierError.
      createTask(barrier.reset());
      yield* sleep(0);
      // Complete the waiting tasks in their `finally`.
      createTask(coro2());
      yield* gather(...tasks);
      expect(barrier.broken).toBe(false);
      expect(results1.length).toBe(N - 1);
      expect(results2.length).toBe(N);
      expect(barrier.nWaiting).toBe(0);
    }));

  it('test_reset_barrier_while_tasks_draining', () =>
    arun(function* () {
      const barrier = new Barrier(N);
      const results1: boolean[] = [];
      const results2: boolean[] = [];
      const results3: boolean[] = [];
      let count = 0;
      yield* gatherTasks(N, () =>
        coroutine(function* coro() {
          yield* barrier.wait();
          count += 1;
          if (count === N) {
            // the last task out of the barrier
            yield* barrier.reset();
            yield* barrier.wait();
          } else {
            try {
              yield* barrier.wait(); // N-1 tasks get here
              results1.push(true);
            } catch {
              results2.push(true); // never
            }
          }
          // pass the barrier once more
          yield* barrier.wait();
          results3.push(true);
        })(),
      );
      expect(barrier.broken).toBe(false);
      expect(results1.length).toBe(N - 1);
      expect(results2.length).toBe(0);
      expect(results3.length).toBe(N);
      expect(barrier.nWaiting).toBe(0);
    }));

  it('test_abort_barrier', () =>
    arun(function* () {
      const barrier = new Barrier(1);
      createTask(barrier.abort());
      yield* sleep(0);
      expect(barrier.nWaiting).toBe(0);
      expect(barrier.broken).toBe(true);
      const err = yield* raises(BrokenBarrierError, barrier.wait());
      expect(err.message).toBe('Barrier aborted');
      expect(err).toBeInstanceOf(RuntimeError);
    }));

  it('test_abort_barrier_when_tasks_half_draining_half_blocking', () =>
    arun(function* () {
      const barrier = new Barrier(N);
      const results1: boolean[] = [];
      const results2: boolean[] = [];
      const blockingTasks = Math.floor(N / 2);
      let count = 0;
      yield* gatherTasks(N, () =>
        coroutine(function* coro() {
          try {
            yield* barrier.wait();
          } catch (e) {
            if (!(e instanceof BrokenBarrierError)) throw e;
            results1.push(true); // tasks waiting to drain
            return;
          }
          count += 1;
          if (count > blockingTasks) {
            // abort now: BrokenBarrierError for every task
            yield* barrier.abort();
          } else {
            try {
              yield* barrier.wait();
            } catch (e) {
              if (!(e instanceof BrokenBarrierError)) throw e;
              results2.push(true); // blocked tasks (already drained)
            }
          }
        })(),
      );
      expect(barrier.broken).toBe(true);
      expect(results1).toEqual(Array(blockingTasks).fill(true));
      expect(results2).toEqual(Array(N - blockingTasks - 1).fill(true));
      expect(barrier.nWaiting).toBe(0);
      expect(String(barrier)).not.toContain('resetting');
    }));

  it('test_abort_barrier_when_exception', () =>
    arun(function* () {
      const barrier = new Barrier(N);
      const results1: boolean[] = [];
      const results2: boolean[] = [];
      yield* gatherTasks(N, () =>
        coroutine(function* coro() {
          try {
            yield* asyncWith(barrier, function* (i) {
              if (i === Math.floor(N / 2)) throw new RuntimeError();
            });
            yield* asyncWith(barrier, function* () {
              results1.push(true);
            });
          } catch (e) {
            if (e instanceof BrokenBarrierError) results2.push(true);
            else if (e instanceof RuntimeError) yield* barrier.abort();
            else throw e;
          }
        })(),
      );
      expect(barrier.broken).toBe(true);
      expect(results1.length).toBe(0);
      expect(results2.length).toBe(N - 1);
      expect(barrier.nWaiting).toBe(0);
    }));

  it('test_abort_barrier_when_exception_then_resetting', () =>
    arun(function* () {
      const barrier1 = new Barrier(N);
      const barrier2 = new Barrier(N);
      const results1: boolean[] = [];
      const results2: boolean[] = [];
      const results3: boolean[] = [];
      yield* gatherTasks(N, () =>
        coroutine(function* coro() {
          try {
            const i = yield* barrier1.wait();
            if (i === Math.floor(N / 2)) throw new RuntimeError();
            yield* barrier1.wait();
            results1.push(true);
          } catch (e) {
            if (e instanceof BrokenBarrierError) results2.push(true);
            else if (e instanceof RuntimeError) yield* barrier1.abort();
            else throw e;
          }
          // Synchronize and reset the barrier: everyone has left it, and nobody enters before the reset.
          const i = yield* barrier2.wait();
          if (i === Math.floor(N / 2)) yield* barrier1.reset();
          yield* barrier2.wait();
          yield* barrier1.wait();
          results3.push(true);
        })(),
      );
      expect(barrier1.broken).toBe(false);
      expect(results1.length).toBe(0);
      expect(results2.length).toBe(N - 1);
      expect(results3.length).toBe(N);
      expect(barrier1.nWaiting).toBe(0);
    }));
});

describe('awaiting an object that is not awaitable', () => {
  it("`yield* lock` (and the other primitives, TaskGroup, Timeout) fails with CPython's \"'Lock' object can't be awaited\"", async () => {
    const messages = await arun(function* () {
      const objects: object[] = [
        new Lock(),
        new Event(),
        new Semaphore(),
        new BoundedSemaphore(),
        new Condition(),
        new Barrier(2),
        new Queue(),
        new PriorityQueue(),
        new TaskGroup(),
        timeout(1),
      ];
      const out: string[] = [];
      for (const x of objects) {
        try {
          yield* x as unknown as Awaitable<unknown>;
          out.push('awaited?');
        } catch (e) {
          expect(e).toBeInstanceOf(TypeError);
          out.push((e as Error).message);
        }
      }
      return out;
    });
    expect(messages).toEqual(
      ['Lock', 'Event', 'Semaphore', 'BoundedSemaphore', 'Condition', 'Barrier', 'Queue', 'PriorityQueue']
        .concat(['TaskGroup', 'Timeout'])
        .map((n) => `'${n}' object can't be awaited`),
    );
    // Still not an awaitable for ensureFuture (CPython's message), nor for TypeScript.
    expect(() => ensureFuture(new Lock() as never)).toThrow(
      new TypeError('An asyncio.Future, a coroutine or an awaitable is required'),
    );
  });
});
