/**
 * sleep(): CPython's test_tasks.py (test_sleep, test_sleep_when_delay_is_nan, test_sleep_cancel,
 * test_task_cancel_sleeping_task, SleepTests.test_sleep_zero). Checked against CPython 3.14.
 */
import {
  CancelledError,
  Coroutine,
  coroutine,
  createTask,
  Future,
  gather,
  getRunningLoop,
  KeyError,
  RuntimeError,
  run,
  StopIteration,
  sleep,
  type Task,
  ValueError,
} from 'tsyncio';
import { describe, expect, it } from 'vitest';
import { liveTimers, rejection, withLoop } from './helpers.js';

describe('sleep()', () => {
  it('waits the delay on the loop clock and returns the result (test_sleep)', () =>
    withLoop(async (loop) => {
      const sleeper = coroutine(function* sleeper(dt: number, arg: string) {
        yield* sleep(dt / 2);
        return yield* sleep(dt / 2, arg);
      });
      const t = loop.createTask(sleeper(0.1, 'yeah'));
      await loop.runUntilComplete(t);
      expect(t.result()).toBe('yeah');
      expect(loop.time()).toBe(0.1);
    }));

  it('sleep(0, result) gives exactly one loop iteration (SleepTests.test_sleep_zero)', () =>
    withLoop(async (loop) => {
      let result = 0;
      const incResult = (num: number): void => {
        result += num;
      };
      const coro = coroutine(function* coro() {
        loop.callSoon(incResult, 1);
        expect(result).toBe(0);
        const num = yield* sleep(0, 10);
        expect(result).toBe(1); // incremented by the callSoon
        incResult(num);
      });
      await loop.runUntilComplete(coro());
      expect(result).toBe(11);
    }));

  it('sleep(0) interleaves with tasks and callbacks in CPython’s order (checked against CPython 3.14)', () =>
    withLoop(async (loop) => {
      const log: string[] = [];
      const t = coroutine(function* t(name: string, n: number) {
        for (let i = 0; i < n; i++) {
          log.push(`${name}${i}`);
          yield* sleep(0);
        }
      });
      const main = coroutine(function* main() {
        loop.callSoon(() => log.push('cb1'));
        const a = createTask(t('a', 3));
        const b = createTask(t('b', 3));
        loop.callSoon(() => log.push('cb2'));
        log.push(yield* sleep(0, 'r'));
        yield* gather(a, b);
      });
      await loop.runUntilComplete(main());
      // CPython 3.14: ['cb1', 'a0', 'b0', 'cb2', 'r', 'a1', 'b1', 'a2', 'b2']
      expect(log).toEqual(['cb1', 'a0', 'b0', 'cb2', 'r', 'a1', 'b1', 'a2', 'b2']);
    }));

  it('a negative delay is a sleep(0); time does not move', () =>
    withLoop(async (loop) => {
      expect(await loop.runUntilComplete(sleep(-1, 'x'))).toBe('x');
      expect(loop.time()).toBe(0);
    }));

  it('NaN raises ValueError; a non-number raises TypeError, with Python’s messages (test_sleep_when_delay_is_nan)', () =>
    withLoop(async (loop) => {
      let e = await rejection(loop.runUntilComplete(sleep(Number.NaN)));
      expect(e).toBeInstanceOf(ValueError);
      expect(e.message).toBe('Invalid delay: NaN (not a number)');
      for (const [bad, name] of [
        ['a', 'str'],
        [null, 'NoneType'],
        [[1], 'list'],
      ] as const) {
        e = await rejection(loop.runUntilComplete(sleep(bad as any)));
        expect(e).toBeInstanceOf(TypeError);
        expect(e.message).toBe(`'<=' not supported between instances of '${name}' and 'int'`);
      }
    }));

  it('cancelling a sleep cancels its timer (test_sleep_cancel)', () =>
    withLoop(async (loop) => {
      const t = loop.createTask(sleep(10.0, 'yeah'));
      await loop.runUntilComplete(sleep(0));
      const timers = liveTimers(loop);
      expect(timers.length).toBe(1);
      expect(timers[0]![1]).toBe(10); // its deadline
      t.cancel();
      await loop.runUntilComplete(sleep(0));
      expect(t.cancelled()).toBe(true);
      // The timer was cancelled: nothing is left to keep a real-clock loop (and so the process) alive.
      expect(liveTimers(loop)).toEqual([]);
    }));

  it('a sleeping task cancelled from a timer raises CancelledError in its awaiter (test_task_cancel_sleeping_task)', () =>
    withLoop(async (loop) => {
      const doit = coroutine(function* doit() {
        const sleeper = createTask(sleep(5000));
        getRunningLoop().callLater(0.1, () => sleeper.cancel());
        try {
          yield* sleeper;
        } catch (e) {
          if (e instanceof CancelledError) return 'cancelled';
          throw e;
        }
        return 'slept in';
      });
      expect(await loop.runUntilComplete(doit())).toBe('cancelled');
      expect(loop.time()).toBe(0.1);
    }));
});

describe("sleep()'s hand-written bodies keep CPython's behaviour", () => {
  it('is a Coroutine named sleep; delay <= 0 yields once and returns the result', async () => {
    const out = await run(
      coroutine(function* main() {
        const c = sleep(-1, 'neg');
        expect(c).toBeInstanceOf(Coroutine);
        expect(c.name).toBe('sleep');
        expect(c.state).toBe('created');
        const order: string[] = [];
        const other = createTask(
          coroutine(function* other() {
            order.push('other');
          })(),
        );
        const v = yield* c;
        order.push('main');
        yield* other;
        return [v, order, yield* sleep(0.01, 'v'), getRunningLoop().time()];
      })(),
      { clock: 'virtual' },
    );
    expect(out).toEqual(['neg', ['other', 'main'], 'v', 0.01]);
  });

  it('throw() before the first step raises at once and closes it; bad delays fail on the first step', async () => {
    const c = sleep(1);
    expect(() => c.throw(new ValueError('x'))).toThrow(ValueError);
    expect(c.state).toBe('closed');
    await expect(run(sleep('a' as unknown as number))).rejects.toThrow(TypeError);
    await expect(run(sleep(Number.NaN))).rejects.toThrow('Invalid delay: NaN (not a number)');
  });

  it('cancel() raises CancelledError at the sleep and releases its timer', async () => {
    const out = await run(
      coroutine(function* main() {
        const loop = getRunningLoop();
        const s = createTask(sleep(3600)) as Task<void>;
        yield* sleep(0);
        expect(loop._scheduled.length).toBe(1);
        s.cancel('bye');
        try {
          yield* s;
        } catch (e) {
          expect(e).toBeInstanceOf(CancelledError);
          expect((e as CancelledError).args).toEqual(['bye']);
        }
        // The timer handle was cancelled: the heap holds only a dead entry.
        expect(liveTimers(loop)).toEqual([]);
        return s.cancelled();
      })(),
    );
    expect(out).toBe(true);
  });

  it('a sleep made outside any loop joins the loop that runs it; its task waits on a plain Future', async () => {
    const c = sleep(0.5, 'late'); // no loop exists yet: nothing is bound until the first step
    const out = await run(
      coroutine(function* main() {
        const t = createTask(c);
        yield* sleep(0);
        const r = String(t);
        return [r, yield* t, getRunningLoop().time()];
      })(),
      { clock: 'virtual' },
    );
    // CPython: <Task pending name='Task-2' coro=<sleep() running at …> wait_for=<Future pending cb=[Task.task_wakeup()]>>
    expect(out[0]).toMatch(/ wait_for=<Future pending cb=\[Task\.task_wakeup\(\)\]>>$/);
    expect(out.slice(1)).toEqual(['late', 0.5]);
  });

  it('resumed by hand before its timer fired it raises like CPython, then the coroutine is spent', async () => {
    const out = await run(
      coroutine(function* main() {
        const loop = getRunningLoop();
        const c = sleep(5, 'x');
        const f = c.send(undefined) as Future<unknown>;
        const log: unknown[] = [f.constructor.name, f.done()];
        for (let i = 0; i < 2; i++) {
          try {
            c.send(undefined);
          } catch (e) {
            log.push(`${(e as Error).name}: ${(e as Error).message}`);
          }
        }
        log.push(f.done(), f.cancelled(), liveTimers(loop).length);
        return log;
      })(),
    );
    // CPython 3.14: Future False / RuntimeError await wasn't used with future / False False /
    // RuntimeError('cannot reuse already awaited coroutine'); the timer is cancelled by sleep's finally.
    expect(out).toEqual([
      'Future',
      false,
      "RuntimeError: await wasn't used with future",
      'RuntimeError: cannot reuse already awaited coroutine',
      false,
      false,
      0,
    ]);
  });

  it('close() on a sleeping coroutine cancels its timer', async () => {
    await run(
      coroutine(function* main() {
        const loop = getRunningLoop();
        const c = sleep(5);
        expect(c.send(undefined)).toBeInstanceOf(Future);
        expect(liveTimers(loop).length).toBe(1);
        c.close();
        expect(c.state).toBe('closed');
        expect(liveTimers(loop).length).toBe(0);
      })(),
    );
  });
});

describe('sleep(0) as a coroutine object driven by hand (CPython 3.14, run in py314)', () => {
  // sleep(0) is one object that is both the coroutine and its body: Python's send/throw/close and the
  // iterator protocol that `yield*` and a Task use must each keep their own rules.
  it('send, throw and close follow coroutine rules', () => {
    const c = sleep(0, 5);
    expect(c.state).toBe('created');
    expect(c.send(undefined)).toBeUndefined();
    expect(c.state).toBe('suspended');
    let stop: unknown;
    try {
      c.send(undefined);
    } catch (e) {
      stop = e;
    }
    expect(stop).toBeInstanceOf(StopIteration);
    expect((stop as StopIteration).value).toBe(5);
    expect(c.state).toBe('closed');

    const c2 = sleep(0);
    expect(() => c2.throw(new ValueError('x'))).toThrow(ValueError);
    expect(c2.state).toBe('closed');

    const c3 = sleep(0);
    c3.send(undefined);
    expect(() => c3.throw(new KeyError('k'))).toThrow(KeyError);
    expect(c3.state).toBe('closed');

    const c4 = sleep(0);
    c4.send(undefined);
    c4.close();
    expect(c4.state).toBe('closed');
    expect(() => c4.send(undefined)).toThrow(new RuntimeError('cannot reuse already awaited coroutine'));

    const c5 = sleep(0);
    c5.close();
    expect(c5.state).toBe('closed');
  });

  it('as a Task: result, cancelled while suspended, cancelled before its first step', async () => {
    const out: unknown[] = [];
    await run(
      coroutine(function* main() {
        out.push(yield* createTask(sleep(0, 'r')));
        const t2 = createTask(sleep(0));
        yield* sleep(0);
        t2.cancel();
        try {
          yield* t2;
        } catch (e) {
          out.push(e instanceof CancelledError, t2.cancelled());
        }
        const t3 = createTask(sleep(0));
        t3.cancel();
        try {
          yield* t3;
        } catch (e) {
          out.push(e instanceof CancelledError, t3.cancelled());
        }
      })(),
    );
    expect(out).toEqual(['r', true, true, true, true]);
  });

  it('yield* sleep(0) twice on one object is refused, as awaiting a coroutine twice', async () => {
    const err = await run(
      coroutine(function* main() {
        const s = sleep(0);
        yield* s;
        try {
          yield* s;
        } catch (e) {
          return e;
        }
        return null;
      })(),
    );
    expect(err).toEqual(new RuntimeError('cannot reuse already awaited coroutine'));
  });
});
