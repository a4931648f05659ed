/**
 * How a waiting task is woken: the wakeup a future shows as its callback, every waiter woken in
 * registration order, and the loop's own work keeping its order (and naming its task) when debug mode or
 * tracing is switched on with work already queued. Expected values come from CPython 3.14.
 */
import {
  coroutine,
  createTask,
  type Future,
  gather,
  getRunningLoop,
  logger,
  run,
  sleep,
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
