/**
 * timeout(), timeoutAt() and Timeout — ported from CPython's Lib/test/test_asyncio/test_timeouts.py
 * (test names in brackets).
 */
import {
  type Awaitable,
  asyncWith,
  CancelledError,
  coroutine,
  createTask,
  currentTask,
  EventLoop,
  ExceptionGroup,
  getRunningLoop,
  type Instruction,
  RuntimeError,
  run,
  sleep,
  TaskGroup,
  type Timeout,
  TimeoutError,
  timeout,
  timeoutAt,
} from 'tsyncio';
import { describe, expect, it } from 'vitest';
import { liveTimers } from './helpers.js';
import { contextOf, runWith } from './structured_helpers.js';

/** Run `fn` as the main coroutine on a virtual clock. */
function inTask<T>(fn: () => Generator<Instruction, T, any>): Promise<T> {
  return runWith(coroutine(fn)());
}

/** Run `body` and return what it threw (fails if it did not throw). */
function* raises(body: () => Awaitable<unknown>): Generator<Instruction, any, any> {
  try {
    yield* body();
  } catch (e) {
    return e;
  }
  throw new Error('did not raise');
}

function busyWait(seconds: number): void {
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    // The loop is blocked, as by CPython's time.sleep() in the same tests.
  }
}

describe('timeout()', () => {
  it('raises TimeoutError when the block outlives the delay, and is expired [test_timeout_basic]', async () => {
    await inTask(function* () {
      const cm = timeout(0.01);
      const e = yield* raises(() =>
        asyncWith(cm, function* () {
          yield* sleep(10);
        }),
      );
      expect(e).toBeInstanceOf(TimeoutError);
      expect(e.message).toBe('');
      expect(cm.expired()).toBe(true);
      expect(getRunningLoop().time()).toBe(0.01);
    });
  });

  it('timeoutAt works on the loop clock [test_timeout_at_basic]', async () => {
    await inTask(function* () {
      const deadline = getRunningLoop().time() + 0.01;
      const cm = timeoutAt(deadline);
      const e = yield* raises(() =>
        asyncWith(cm, function* () {
          yield* sleep(10);
        }),
      );
      expect(e).toBeInstanceOf(TimeoutError);
      expect(cm.expired()).toBe(true);
      expect(cm.when()).toBe(deadline);
    });
  });

  it('only the outermost of nested timeouts with one deadline raises TimeoutError [test_nested_timeouts]', async () => {
    await inTask(function* () {
      const deadline = getRunningLoop().time() + 0.01;
      let cancelled = false;
      const cm1 = timeoutAt(deadline);
      const cm2 = timeoutAt(deadline);
      const e = yield* raises(() =>
        asyncWith(cm1, function* () {
          try {
            yield* asyncWith(cm2, function* () {
              yield* sleep(10);
            });
          } catch (err) {
            if (err instanceof CancelledError) cancelled = true;
            throw err;
          }
        }),
      );
      expect(e).toBeInstanceOf(TimeoutError);
      expect(cancelled).toBe(true);
      expect(cm1.expired()).toBe(true);
      expect(cm2.expired()).toBe(true);
    });
  });

  it('the body sees CancelledError at its await [test_waiter_cancelled]', async () => {
    await inTask(function* () {
      let cancelled = false;
      const e = yield* raises(() =>
        asyncWith(timeout(0.01), function* () {
          try {
            yield* sleep(10);
          } catch (err) {
            cancelled = err instanceof CancelledError;
            throw err;
          }
        }),
      );
      expect(e).toBeInstanceOf(TimeoutError);
      expect(cancelled).toBe(true);
    });
  });

  it('returns the body value, typed exactly (a Timeout never suppresses an error)', async () => {
    const r = await inTask(function* () {
      const n: number = yield* asyncWith(timeout(1), function* () {
        yield* sleep(0.5);
        return 42;
      });
      return n;
    });
    expect(r).toBe(42);
  });

  it('does nothing when the block finishes in time [test_timeout_not_called]', async () => {
    await inTask(function* () {
      const cm = timeout(10);
      yield* asyncWith(cm, function* () {
        yield* sleep(0.01);
      });
      const t1 = getRunningLoop().time();
      expect(cm.expired()).toBe(false);
      expect(cm.when()!).toBeGreaterThan(t1);
    });
  });

  it('null disables it [test_timeout_disabled, test_timeout_at_disabled]', async () => {
    await inTask(function* () {
      for (const cm of [timeout(null), timeoutAt(null), timeout(undefined)]) {
        yield* asyncWith(cm, function* () {
          yield* sleep(0.01);
        });
        expect(cm.expired()).toBe(false);
        expect(cm.when()).toBeUndefined();
      }
    });
  });

  it('timeout(0) expires on the next iteration, even around sleep(0) [test_timeout_zero, test_timeout_zero_sleep_zero]', async () => {
    await inTask(function* () {
      const loop = getRunningLoop();
      for (const d of [10, 0]) {
        const t0 = loop.time();
        const cm = timeout(0);
        const e = yield* raises(() =>
          asyncWith(cm, function* () {
            yield* sleep(d);
          }),
        );
        expect(e).toBeInstanceOf(TimeoutError);
        expect(cm.expired()).toBe(true);
        expect(cm.when()).toBe(t0);
        expect(loop.time()).toBe(t0);
      }
    });
  });

  it('a negative delay expires immediately: timeout(-1), timeout(-11) [test_timeout_in_the_past_sleep_zero]', async () => {
    await inTask(function* () {
      const loop = getRunningLoop();
      yield* sleep(20);
      for (const d of [-1, -11]) {
        const t0 = loop.time();
        const cm = timeout(d);
        const e = yield* raises(() =>
          asyncWith(cm, function* () {
            yield* sleep(0);
          }),
        );
        expect(e).toBeInstanceOf(TimeoutError);
        expect(cm.expired()).toBe(true);
        expect(cm.when()).toBe(t0 + d);
      }
    });
  });

  it('lets a foreign exception through [test_foreign_exception_passed]', async () => {
    await inTask(function* () {
      const cm = timeout(0.01);
      const e = yield* raises(() =>
        asyncWith(cm, function* () {
          throw new RangeError('key');
        }),
      );
      expect(e).toBeInstanceOf(RangeError);
      expect(cm.expired()).toBe(false);
    });
  });

  it('TimeoutError is caused by the CancelledError [test_timeout_exception_context]', async () => {
    await inTask(function* () {
      const e = yield* raises(() =>
        asyncWith(timeout(0.01), function* () {
          try {
            throw new RangeError('zero division');
          } finally {
            yield* sleep(1);
          }
        }),
      );
      expect(e).toBeInstanceOf(TimeoutError);
      expect(e.cause).toBeInstanceOf(CancelledError);
      expect(contextOf(e)).toBe(e.cause);
      expect(e.cause.cause).toBeUndefined();
    });
  });

  it('an error raised while the timeout cancels gets a TimeoutError in its context chain [test_foreign_exception_on_timeout]', async () => {
    const crash = coroutine(function* crash() {
      try {
        yield* sleep(1);
      } finally {
        // biome-ignore lint/correctness/noUnsafeFinally: the test is about exactly this
        throw new RangeError('zero division');
      }
    });
    await inTask(function* () {
      const e = yield* raises(() =>
        asyncWith(timeout(0.01), function* () {
          yield* crash();
        }),
      );
      expect(e).toBeInstanceOf(RangeError);
      expect(e.cause).toBeUndefined();
      // CPython: ZeroDivisionError.__context__ is a TimeoutError whose cause is the CancelledError. JS keeps
      // no implicit chain, so the TimeoutError is appended where the chain ends.
      expect(contextOf(e)).toBeInstanceOf(TimeoutError);
    });
  });

  it('splices the TimeoutError just before a CancelledError found on the context chain [_insert_timeout_error]', async () => {
    await inTask(function* () {
      const e = yield* raises(() =>
        asyncWith(timeout(0.01), function* () {
          try {
            yield* sleep(1);
          } catch (cancelled) {
            const err = new RangeError('in handler');
            (err as { context?: unknown }).context = cancelled;
            throw err;
          }
        }),
      );
      const te = contextOf(e) as Error;
      expect(te).toBeInstanceOf(TimeoutError);
      expect(te.cause).toBeInstanceOf(CancelledError);
      expect(contextOf(te)).toBe(te.cause);
    });
  });

  it('a foreign cancel is not turned into TimeoutError [test_foreign_cancel_doesnt_timeout_if_not_expired]', async () => {
    await inTask(function* () {
      const cm = timeout(10);
      const e = yield* raises(() =>
        asyncWith(cm, function* () {
          currentTask()!.cancel();
          yield* sleep(10);
        }),
      );
      expect(e).toBeInstanceOf(CancelledError);
      expect(cm.expired()).toBe(false);
      currentTask()!.uncancel();
    });
  });

  it('a handled TimeoutError leaves the task not cancelled [test_outer_task_is_not_cancelled]', async () => {
    await inTask(function* () {
      const outer = coroutine(function* outer() {
        const e = yield* raises(() =>
          asyncWith(timeout(0.001), function* () {
            yield* sleep(10);
          }),
        );
        expect(e).toBeInstanceOf(TimeoutError);
      });
      const task = createTask(outer());
      yield* task;
      expect(task.cancelled()).toBe(false);
      expect(task.done()).toBe(true);
      expect(task.cancelling()).toBe(0);
    });
  });

  it('when only the outer deadline passed, the inner scope lets CancelledError through [test_nested_timeouts_concurrent]', async () => {
    const main = coroutine(function* main() {
      const e = yield* raises(() =>
        asyncWith(timeout(0.002), function* () {
          const inner = yield* raises(() =>
            asyncWith(timeout(0.1), function* () {
              busyWait(0.01); // Pretend we crunch some numbers.
              yield* sleep(1);
            }),
          );
          expect(inner).toBeInstanceOf(CancelledError);
          throw inner;
        }),
      );
      expect(e).toBeInstanceOf(TimeoutError);
    });
    await run(main()); // real clock: the busy loop must make time pass
  });

  it('after the inner timeout was handled, the outer deadline still fires [test_nested_timeouts_loop_busy]', async () => {
    const main = coroutine(function* main() {
      const loop = getRunningLoop();
      loop.slowCallbackDuration = 10;
      const t0 = loop.time();
      const e = yield* raises(() =>
        asyncWith(timeout(0.1), function* () {
          const inner = yield* raises(() =>
            asyncWith(timeout(0.01), function* () {
              busyWait(0.03); // Pretend the loop is busy for a while.
              yield* sleep(1);
            }),
          );
          expect(inner).toBeInstanceOf(TimeoutError);
          yield* sleep(10); // interrupted by the outer timeout
        }),
      );
      expect(e).toBeInstanceOf(TimeoutError);
      const t1 = loop.time();
      // Not interrupted would be ≥ 10 s; CPython asserts < 1, this leaves room for a loaded CI machine.
      expect(t1 - t0).toBeLessThan(5);
    });
    await run(main());
  });

  it('reschedule() moves or disables the deadline [test_reschedule]', async () => {
    await inTask(function* () {
      const loop = getRunningLoop();
      const fut = loop.createFuture<Timeout>();
      const deadline1 = loop.time() + 10;
      const deadline2 = deadline1 + 20;
      const f = coroutine(function* f() {
        yield* asyncWith(timeoutAt(deadline1), function* (cm) {
          fut.setResult(cm);
          yield* sleep(50);
        });
      });
      const task = createTask(f());
      const cm = yield* fut;
      expect(cm.when()).toBe(deadline1);
      cm.reschedule(deadline2);
      expect(cm.when()).toBe(deadline2);
      cm.reschedule(null);
      expect(cm.when()).toBeUndefined();
      task.cancel();
      const e = yield* raises(function* () {
        yield* task;
      });
      expect(e).toBeInstanceOf(CancelledError);
      expect(cm.expired()).toBe(false);
    });
  });

  it('reschedule() to an earlier deadline fires there', async () => {
    await inTask(function* () {
      const loop = getRunningLoop();
      const e = yield* raises(() =>
        asyncWith(timeout(100), function* (cm) {
          yield* sleep(1);
          cm.reschedule(loop.time() + 2);
          yield* sleep(50);
        }),
      );
      expect(e).toBeInstanceOf(TimeoutError);
      expect(loop.time()).toBe(3);
    });
  });

  it('has CPython reprs [test_repr_active, test_repr_expired, test_repr_finished, test_repr_disabled]', async () => {
    await inTask(function* () {
      yield* sleep(5);
      expect(String(timeout(10))).toBe('<Timeout [created]>');
      yield* asyncWith(timeout(10), function* (cm) {
        expect(String(cm)).toMatch(/^<Timeout \[active\] when=\d+\.\d*>$/);
        expect(String(cm)).toBe('<Timeout [active] when=15.0>');
      });
      yield* asyncWith(timeout(1.23456), function* (cm) {
        expect(String(cm)).toBe('<Timeout [active] when=6.235>');
      });
      const cm = timeout(0.01);
      yield* raises(() =>
        asyncWith(cm, function* () {
          yield* sleep(10);
        }),
      );
      expect(String(cm)).toBe('<Timeout [expired]>');
      const fin = timeout(10);
      yield* asyncWith(fin, function* () {
        yield* sleep(0);
      });
      expect(String(fin)).toBe('<Timeout [finished]>');
      yield* asyncWith(timeout(null), function* (c) {
        expect(String(c)).toBe('<Timeout [active] when=None>');
      });
    });
  });

  it('a timeout inside the finally of an expired one works and chains [test_nested_timeout_in_finally]', async () => {
    await inTask(function* () {
      let e2: any;
      const e1 = yield* raises(() =>
        asyncWith(timeout(0.01), function* () {
          try {
            yield* sleep(1);
          } finally {
            e2 = yield* raises(() =>
              asyncWith(timeout(0.01), function* () {
                yield* sleep(10);
              }),
            );
          }
        }),
      );
      expect(e1).toBeInstanceOf(TimeoutError);
      expect(e1.cause).toBeInstanceOf(CancelledError);
      expect(contextOf(e1)).toBe(e1.cause);
      expect(e2).toBeInstanceOf(TimeoutError);
      expect(e2.cause).toBeInstanceOf(CancelledError);
      expect(contextOf(e2)).toBe(e2.cause);
      expect(e2.cause).not.toBe(e1.cause);
      expect(getRunningLoop().time()).toBe(0.02);
    });
  });

  it('works in a finally after a swallowed cancellation [test_timeout_after_cancellation]', async () => {
    await inTask(function* () {
      let e: unknown;
      try {
        currentTask()!.cancel();
        yield* sleep(1); // work which will be cancelled
      } catch (err) {
        if (!(err instanceof CancelledError)) throw err;
      } finally {
        e = yield* raises(() =>
          asyncWith(timeout(0), function* () {
            yield* sleep(1); // some cleanup
          }),
        );
      }
      expect(e).toBeInstanceOf(TimeoutError);
    });
  });

  it('a new cancel inside it after a swallowed cancellation stays CancelledError [test_cancel_in_timeout_after_cancellation]', async () => {
    await inTask(function* () {
      let e: unknown;
      try {
        currentTask()!.cancel();
        yield* sleep(1);
      } catch (err) {
        if (!(err instanceof CancelledError)) throw err;
      } finally {
        e = yield* raises(() =>
          asyncWith(timeout(1), function* () {
            currentTask()!.cancel();
            yield* sleep(2);
          }),
        );
      }
      expect(e).toBeInstanceOf(CancelledError);
      currentTask()!.uncancel();
      currentTask()!.uncancel();
    });
  });

  it('can be entered once [test_timeout_already_entered, test_timeout_double_enter]', async () => {
    await inTask(function* () {
      yield* asyncWith(timeout(0.01), function* (cm) {
        const e = yield* raises(() => asyncWith(cm, function* () {}));
        expect(e).toEqual(new RuntimeError('Timeout has already been entered'));
      });
      const cm = timeout(0.01);
      yield* asyncWith(cm, function* () {});
      const e = yield* raises(() => asyncWith(cm, function* () {}));
      expect(e).toEqual(new RuntimeError('Timeout has already been entered'));
    });
  });

  it('reschedule() raises RuntimeError unless active [test_timeout_finished, _expired, _expiring, _not_entered]', async () => {
    await inTask(function* () {
      const finished = timeout(0.01);
      yield* asyncWith(finished, function* () {});
      expect(() => finished.reschedule(0.02)).toThrow(
        new RuntimeError('Cannot change state of finished Timeout'),
      );
      const expired = timeout(0.01);
      yield* raises(() =>
        asyncWith(expired, function* () {
          yield* sleep(1);
        }),
      );
      expect(() => expired.reschedule(0.02)).toThrow(
        new RuntimeError('Cannot change state of expired Timeout'),
      );
      yield* asyncWith(timeout(0.01), function* (cm) {
        const e = yield* raises(function* () {
          yield* sleep(1);
        });
        expect(e).toBeInstanceOf(CancelledError);
        expect(() => cm.reschedule(0.02)).toThrow(
          new RuntimeError('Cannot change state of expiring Timeout'),
        );
      });
      expect(() => timeout(0.01).reschedule(0.02)).toThrow(new RuntimeError('Timeout has not been entered'));
    });
  });

  it('must be used inside a task [test_timeout_without_task]', async () => {
    await inTask(function* () {
      const loop = getRunningLoop();
      const cm = timeout(0.01);
      const done = loop.createFuture<unknown>();
      loop.callSoon(() => {
        try {
          cm.aenter().send(undefined);
          done.setResult('no error');
        } catch (e) {
          done.setResult(e);
        }
      });
      expect(yield* done).toEqual(new RuntimeError('Timeout should be used inside a task'));
      expect(() => cm.reschedule(0.02)).toThrow(new RuntimeError('Timeout has not been entered'));
    });
    // timeout() itself needs a running loop, as asyncio.timeout() does.
    expect(() => timeout(1)).toThrow(new RuntimeError('no running event loop'));
  });

  it('a NaN delay expires at once and an infinite one never does, as in CPython', async () => {
    await inTask(function* () {
      const loop = getRunningLoop();
      const e = yield* raises(() =>
        asyncWith(timeout(Number.NaN), function* () {
          yield* sleep(1);
        }),
      );
      expect(e).toBeInstanceOf(TimeoutError);
      expect(loop.time()).toBe(0);
      const cm = timeout(Number.POSITIVE_INFINITY);
      yield* asyncWith(cm, function* () {
        yield* sleep(1);
      });
      expect(cm.expired()).toBe(false);
      expect(String(cm)).toBe('<Timeout [finished]>');
    });
  });

  it('rejects a delay that is not a number', async () => {
    await inTask(function* () {
      expect(() => timeout('1' as any)).toThrow(new TypeError("delay must be a number or None, got '1'"));
      expect(() => timeoutAt({} as any)).toThrow(TypeError);
    });
  });

  it('splices TimeoutError into the chain of each error of a TaskGroup [test_timeout_taskgroup]', async () => {
    const task = coroutine(function* task() {
      try {
        yield* sleep(2); // interrupted after 0.01 second
      } finally {
        // biome-ignore lint/correctness/noUnsafeFinally: crash in cleanup, as the CPython test does
        throw new RangeError('zero division');
      }
    });
    await inTask(function* () {
      const eg = yield* raises(() =>
        asyncWith(timeout(0.01), function* () {
          yield* asyncWith(new TaskGroup(), function* (tg) {
            tg.createTask(task());
            try {
              throw new SyntaxError('value');
            } finally {
              yield* sleep(1);
            }
          });
        }),
      );
      expect(eg).toBeInstanceOf(ExceptionGroup);
      expect(eg.cause).toBeUndefined();
      // The group was raised while handling the body's CancelledError: TimeoutError spliced before it.
      const e1 = contextOf(eg) as Error;
      expect(e1).toBeInstanceOf(TimeoutError);
      expect(e1.cause).toBeInstanceOf(CancelledError);
      expect(contextOf(e1)).toBe(e1.cause);
      expect(eg.exceptions).toHaveLength(1);
      const zde = eg.exceptions[0];
      expect(zde).toBeInstanceOf(RangeError);
      expect(contextOf(zde)).toBeInstanceOf(TimeoutError);
    });
  });

  it('leaves no timers behind under churn (the cancelled handles are pruned)', async () => {
    const loop = new EventLoop({ clock: 'virtual' });
    const sizes = await loop.runUntilComplete(
      coroutine(function* main() {
        const seen: number[] = [];
        for (let i = 0; i < 20_000; i++) {
          yield* asyncWith(timeout(1000), function* () {
            yield* sleep(0.001);
          });
          if (i % 5000 === 4999) seen.push(loop._scheduled.length);
        }
        return seen;
      })(),
    );
    loop.close();
    // CPython's rule: the heap is rebuilt once more than half of it (and > 100 handles) is cancelled.
    for (const n of sizes) expect(n).toBeLessThan(250);
  });

  it('cancels its timer handle on exit (nothing left scheduled)', async () => {
    const loop = new EventLoop({ clock: 'virtual' });
    await loop
      .runUntilComplete(
        coroutine(function* main() {
          for (let i = 0; i < 100; i++) {
            yield* asyncWith(timeout(1000), function* () {
              yield* sleep(0);
            });
          }
          return liveTimers(loop).length;
        })(),
      )
      .then((n) => expect(n).toBe(0));
    loop.close();
  });
});
