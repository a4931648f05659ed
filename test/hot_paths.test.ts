/**
 * The optimised hot paths keep CPython's behaviour (issue #8): the task wakeup registered without a
 * closure, sleep()'s hand-written body, the loop's stack-less CancelledErrors. Expected values come from
 * running the same program under CPython 3.14.
 */

import { inspect, types } from 'node:util';
import {
  CancelledError,
  Coroutine,
  coroutine,
  createTask,
  Future,
  gather,
  getRunningLoop,
  logger,
  run,
  sleep,
  type Task,
  ValueError,
} from 'tsyncio';
import { describe, expect, it } from 'vitest';

describe('task wakeup', () => {
  it('a future awaited by a task shows the wakeup as its callback, like CPython', async () => {
    const out = await run(
      coroutine(function* main() {
        const fut = getRunningLoop().createFuture<number>();
        const w = coroutine(function* w() {
          return yield* fut;
        });
        const t = createTask(w());
        yield* sleep(0);
        const r1 = String(fut);
        fut.setResult(5);
        const v = yield* t;
        const s = createTask(sleep(10));
        yield* sleep(0);
        const r2 = String(s._futWaiter);
        return [r1, v, r2];
      })(),
      { clock: 'virtual' },
    );
    expect(out).toEqual([
      '<Future pending cb=[Task.task_wakeup()]>',
      5,
      '<Future pending cb=[Task.task_wakeup()]>',
    ]);
  });

  it('wakes every task waiting on one future, in registration order, with its result or error', async () => {
    const log = await run(
      coroutine(function* main() {
        const loop = getRunningLoop();
        const ok = loop.createFuture<string>();
        const bad = loop.createFuture<string>();
        const log: string[] = [];
        const waiter = coroutine(function* waiter(name: string, f: Future<string>) {
          try {
            log.push(`${name}:${yield* f}`);
          } catch (e) {
            log.push(`${name}:${(e as Error).name}:${(e as Error).message}`);
          }
        });
        const tasks = ['a', 'b', 'c'].map((n) => createTask(waiter(n, ok)));
        tasks.push(createTask(waiter('d', bad)), createTask(waiter('e', bad)));
        yield* sleep(0);
        bad.setException(new ValueError('boom'));
        ok.setResult('v');
        yield* gather(...tasks);
        return log;
      })(),
    );
    expect(log).toEqual(['d:ValueError:boom', 'e:ValueError:boom', 'a:v', 'b:v', 'c:v']);
  });
});

describe('sleep()', () => {
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
        expect(loop._liveTimers()).toEqual([]);
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
        log.push(f.done(), f.cancelled(), loop._liveTimers().length);
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
        expect(loop._liveTimers().length).toBe(1);
        c.close();
        expect(c.state).toBe('closed');
        expect(loop._liveTimers().length).toBe(0);
      })(),
    );
  });
});

describe('CancelledError made by the loop', () => {
  it('gather(returnExceptions) lists a fresh CancelledError per cancelled child, as CPython', async () => {
    const res = await run(
      coroutine(function* main() {
        const a = createTask(sleep(10));
        const b = createTask(sleep(10));
        yield* sleep(0);
        a.cancel('stop');
        b.cancel();
        return yield* gather(a, b, { returnExceptions: true });
      })(),
      { clock: 'virtual' },
    );
    // CPython: ["CancelledError('')", "CancelledError('')"] — the message went to the sleep's future.
    expect(res[0]).toBeInstanceOf(CancelledError);
    expect(res[1]).toBeInstanceOf(CancelledError);
    expect((res[0] as CancelledError).message).toBe('');
    expect((res[0] as CancelledError).stack?.startsWith('CancelledError')).toBe(true);
    expect(res[0]).not.toBe(res[1]);
  });
});

describe('CancelledError made by the loop: a cheap stand-in outside debug mode', () => {
  const scenario = coroutine(function* scenario() {
    const t = createTask(
      coroutine(function* sleeper() {
        try {
          yield* sleep(10);
        } catch (e) {
          return e;
        }
      })(),
    );
    yield* sleep(0);
    t.cancel('why'); // goes to the sleep's future: the task's wakeup makes the error it sees
    const caught = yield* t;
    const u = createTask(sleep(10));
    yield* sleep(0);
    u.cancel('bye');
    const [listed] = yield* gather(u, { returnExceptions: true });
    return [caught, listed] as [CancelledError, CancelledError];
  });

  it('looks like new CancelledError(msg) to every common check', async () => {
    const [caught, listed] = await run(scenario(), { clock: 'virtual' });
    const E = Error as { stackTraceLimit?: number };
    const limit = E.stackTraceLimit;
    E.stackTraceLimit = 0;
    const real = new CancelledError('why');
    E.stackTraceLimit = limit;
    expect(caught).toBeInstanceOf(CancelledError);
    expect(caught).toBeInstanceOf(Error);
    expect(caught.constructor).toBe(CancelledError);
    expect(caught.name).toBe('CancelledError');
    expect(caught.message).toBe('why');
    expect(caught.args).toEqual(['why']);
    expect(caught.stack).toBe('CancelledError: why');
    expect(String(caught)).toBe(String(real));
    expect(inspect(caught)).toBe(inspect(real));
    expect(Object.keys(caught)).toEqual(Object.keys(real));
    expect(JSON.stringify(caught)).toBe(JSON.stringify(real));
    expect(listed).toBeInstanceOf(CancelledError);
    expect([listed.message, listed.stack, listed.args]).toEqual(['', 'CancelledError', ['']]);
    // Writable like an Error's own properties.
    caught.message = 'changed';
    caught.stack = 'custom';
    (caught as { context?: unknown }).context = listed;
    expect([caught.message, caught.stack, (caught as { context?: unknown }).context]).toEqual([
      'changed',
      'custom',
      listed,
    ]);
    // The one visible difference (docs/PYTHON_DIFFERENCES.md).
    expect(types.isNativeError(caught)).toBe(false);
  });

  it('debug mode makes real errors', async () => {
    const [caught, listed] = await run(scenario(), { clock: 'virtual', debug: true });
    expect(types.isNativeError(caught)).toBe(true);
    expect(types.isNativeError(listed)).toBe(true);
    expect(caught.message).toBe('why');
  });
});

describe('the ready queue across instrumentation switches', () => {
  it('loop work queued before debug mode is switched on runs in order, and its reports name the task', async () => {
    const log: string[] = [];
    const reports: string[] = [];
    const origSink = logger.sink;
    logger.sink = (level, message) => {
      if (level === 'warning') reports.push(message);
    };
    const out = await run(
      coroutine(function* main() {
        const loop = getRunningLoop();
        const step = coroutine(function* step(name: string) {
          log.push(`${name}1`);
          yield* sleep(0);
          log.push(`${name}2`);
        });
        // These first steps go in as plain (callback, arg, context) entries…
        const a = createTask(step('a'));
        const b = createTask(step('b'));
        loop.callSoon(() => log.push('cb'));
        // …and are run as Handles once the loop is instrumented.
        loop.setDebug(true);
        loop.slowCallbackDuration = 0; // every step is "slow": each report must format its Handle
        const before = loop._ready.length;
        yield* sleep(0);
        yield* a;
        yield* b;
        loop.setDebug(false);
        return before;
      })(),
    );
    logger.sink = origSink;
    expect(out).toBe(3);
    expect(log).toEqual(['a1', 'b1', 'cb', 'a2', 'b2']);
    // The steps queued as plain entries got Handles that debug mode can name, as CPython's
    // "Executing <Task pending name='Task-2' coro=<…>> took 0.000 seconds".
    const tasksReported = reports.filter((m) =>
      /^Executing <Task (pending|finished) name='Task-\d+' /.test(m),
    );
    expect(tasksReported.length).toBeGreaterThanOrEqual(2);
  });
});
