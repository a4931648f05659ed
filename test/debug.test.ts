import {
  coroutine,
  createTask,
  EventLoop,
  type ExceptionContext,
  fromPromise,
  getRunningLoop,
  type LogLevel,
  logger,
  run,
  sleep,
} from 'tsyncio';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { setNeverAwaitedSink, sweepNursery } from '../src/coroutines.js';
import { defaultHost, type Host } from '../src/host.js';
import { collectGarbage, sourceOf } from './helpers.js';

const { file: THIS_FILE, lineOf } = sourceOf(import.meta.url);

function busy(ms: number): void {
  const t = performance.now();
  while (performance.now() - t < ms) {
    // Spin: a callback that hogs the loop.
  }
}

let logs: [LogLevel, string][] = [];
const origSink = logger.sink;
beforeEach(() => {
  logs = [];
  logger.sink = (level, message) => {
    logs.push([level, message]);
  };
});
afterEach(() => {
  logger.sink = origSink;
  delete process.env.TSYNCIO_DEBUG;
});

describe('debug mode: slow callbacks', () => {
  it('reports a task step slower than slowCallbackDuration as the task, with its duration (CPython format)', async () => {
    const slowpoke = coroutine(function* slowpoke() {
      busy(130);
      yield* sleep(0.01); // @slowpoke-suspends
    });
    const main = coroutine(function* main() {
      yield* createTask(slowpoke(), { name: 'slowpoke' }); // @create-slowpoke
    });
    await run(main(), { debug: true });
    // Only the slow step is reported (on a loaded machine another step may be slow too: ignore it).
    const warnings = logs
      .filter(([level, m]) => level === 'warning' && m.startsWith("Executing <Task pending name='slowpoke'"))
      .map(([, m]) => m);
    expect(warnings).toHaveLength(1);
    const line = lineOf('@slowpoke-suspends');
    const created = lineOf('@create-slowpoke');
    // CPython: "Executing <Task pending name='Task-2' coro=<slow() running at slow.py:4> wait_for=<Future
    // pending …> cb=[…] created at …> took 0.130 seconds"
    expect(warnings[0]).toMatch(
      new RegExp(
        `^Executing <Task pending name='slowpoke' coro=<coroutine object slowpoke at 0x[0-9a-f]+ running at ${THIS_FILE}:${line}> ` +
          `wait_for=<Future pending cb=\\[Task\\.task_wakeup\\(\\)\\] created at [^>]*> ` +
          `cb=\\[Task\\.task_wakeup\\(\\)\\] created at ${THIS_FILE}:${created}> took (\\d\\.\\d{3}) seconds$`,
      ),
    );
    expect(Number(/took (\d\.\d{3})/.exec(warnings[0]!)![1])).toBeGreaterThanOrEqual(0.13);
  });

  it('reports a slow plain callback as its handle, with where it was scheduled', async () => {
    const main = coroutine(function* main() {
      const loop = getRunningLoop();
      loop.slowCallbackDuration = 0.05;
      loop.callSoon(function hog() {
        busy(60);
      }); // @schedule-hog
      yield* sleep(0.001);
    });
    await run(main(), { debug: true });
    const warnings = logs
      .filter(([level, m]) => level === 'warning' && m.includes('hog()'))
      .map(([, m]) => m);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      new RegExp(
        `^Executing <Handle hog\\(\\) created at ${THIS_FILE}:${lineOf('@schedule-hog') - 2}> took (\\d\\.\\d{3}) seconds$`,
      ),
    );
    expect(Number(/took (\d\.\d{3})/.exec(warnings[0]!)![1])).toBeGreaterThanOrEqual(0.06);
  });

  it('reports nothing outside debug mode, and nothing for callbacks under slowCallbackDuration', async () => {
    // "Fast" is measured on a host clock that moves only when a callback says it spent time, so the
    // verdict cannot flip when a loaded machine preempts the process mid-callback (CI runs files in
    // parallel on 2 cores: a 1 ms step can take 150 ms of wall time there).
    let nowMs = 0;
    const host: Host = { ...defaultHost, now: () => nowMs };
    const spend = (ms: number) => {
      nowMs += ms;
    };
    const loopOn = () => new EventLoop({ clock: 'virtual', host });
    const hog = coroutine(function* hog() {
      getRunningLoop().callSoon(function hog120() {
        spend(120);
      });
      yield* sleep(0.001);
    });
    await run(hog(), { loopFactory: loopOn });
    // 99 ms is under the default 0.1 s; so is 40 ms under a raised threshold.
    const nearlySlow = coroutine(function* nearlySlow() {
      const loop = getRunningLoop();
      loop.callSoon(function hog99() {
        spend(99);
      });
      yield* sleep(0.001);
      spend(99.9); // a task step, too
      yield* sleep(0.001);
      loop.slowCallbackDuration = 0.05;
      loop.callSoon(function hog40() {
        spend(40);
      });
      yield* sleep(0.001);
    });
    await run(nearlySlow(), { debug: true, loopFactory: loopOn });
    expect(logs.filter(([level]) => level === 'warning')).toEqual([]);
    // The same clock does report a step that reaches the threshold: the silence above is not vacuous.
    const slow = coroutine(function* slow() {
      getRunningLoop().callSoon(function hog100() {
        spend(100);
      });
      yield* sleep(0.001);
    });
    await run(slow(), { debug: true, loopFactory: loopOn });
    expect(
      logs.filter(([level]) => level === 'warning').map(([, m]) => m.replace(/ created at .*>/, '>')),
    ).toEqual(['Executing <Handle hog100()> took 0.100 seconds']);
  });

  it('is switched on by run({debug}), loop.setDebug and TSYNCIO_DEBUG=1 (like PYTHONASYNCIODEBUG)', async () => {
    const getDebug = coroutine(function* getDebug() {
      return getRunningLoop().getDebug();
    });
    expect(await run(getDebug())).toBe(false);
    expect(await run(getDebug(), { debug: true })).toBe(true);
    process.env.TSYNCIO_DEBUG = '1';
    expect(await run(getDebug())).toBe(true);
    expect(await run(getDebug(), { debug: false })).toBe(false);
    expect(new EventLoop().getDebug()).toBe(true);
    process.env.TSYNCIO_DEBUG = '0';
    expect(new EventLoop().getDebug()).toBe(false);
    const loop = new EventLoop();
    loop.setDebug(true);
    expect(loop.getDebug()).toBe(true);
    expect(String(loop)).toBe('<EventLoop running=False closed=False debug=True>');
    loop.close();
  });

  it('keeps "Close <EventLoop …>" at debug level, which the default sink does not print (as Python logging)', async () => {
    const nothing = coroutine(function* nothing() {});
    await run(nothing(), { debug: true });
    expect(logs).toContainEqual(['debug', 'Close <EventLoop running=False closed=False debug=True>']);
    expect(logger.level).toBe('warning');
  });
});

describe('debug mode: creation sites', () => {
  afterEach(() => setNeverAwaitedSink(undefined));

  it("a never-awaited coroutine's warning says where it was created (the user's file:line)", async () => {
    const warnings: { message: string; detail: string | undefined }[] = [];
    setNeverAwaitedSink((message, detail) => warnings.push({ message, detail }));
    const forgotten = coroutine(function* forgotten() {});
    const main = coroutine(function* main() {
      forgotten(); // @never-awaited
      yield* sleep(0);
    });
    await run(main(), { debug: true });
    sweepNursery();
    await collectGarbage();
    const mine = warnings.filter((w) => w.message === "coroutine 'forgotten' was never awaited");
    expect(mine).toHaveLength(1);
    const detail = mine[0]!.detail!.split('\n');
    expect(detail[0]).toBe('Coroutine created at (most recent call last)');
    // The innermost frame is the call in this file, not a tsyncio frame.
    expect(detail[detail.length - 1]).toBe(
      `  File "${THIS_FILE}", line ${lineOf('@never-awaited')}, in main`,
    );
    expect(detail.join('\n')).not.toMatch(/src[\\/]coroutines\.ts/);
  });

  it('outside debug mode the warning hints at TSYNCIO_DEBUG instead', async () => {
    const warnings: { message: string; detail: string | undefined }[] = [];
    setNeverAwaitedSink((message, detail) => warnings.push({ message, detail }));
    const forgotten2 = coroutine(function* forgotten2() {});
    const main = coroutine(function* main() {
      forgotten2();
      yield* sleep(0);
    });
    await run(main());
    sweepNursery();
    await collectGarbage();
    const mine = warnings.filter((w) => w.message === "coroutine 'forgotten2' was never awaited");
    expect(mine).toEqual([
      {
        message: "coroutine 'forgotten2' was never awaited",
        detail: '(Set TSYNCIO_DEBUG=1 to show where the coroutine was created)',
      },
    ]);
  });

  it("a never-retrieved exception is reported with the future's source_traceback (at close)", async () => {
    const reports: ExceptionContext[] = [];
    let keep: unknown;
    const main = coroutine(function* main() {
      const loop = getRunningLoop();
      loop.setExceptionHandler((_l, ctx) => reports.push(ctx));
      const fut = loop.createFuture(); // @future-created
      fut.setException(new Error('boom'));
      keep = fut;
      yield* sleep(0);
    });
    await run(main(), { debug: true });
    expect(keep).toBeDefined();
    expect(reports).toHaveLength(1);
    expect(reports[0]!.message).toBe('Future exception was never retrieved');
    expect((reports[0]!.exception as Error).message).toBe('boom');
    const tb = reports[0]!.source_traceback!;
    expect(tb[tb.length - 1]).toBe(`  File "${THIS_FILE}", line ${lineOf('@future-created')}, in main`);
  });

  it('a never-retrieved exception found by the garbage collector keeps its source_traceback', async () => {
    const reports: ExceptionContext[] = [];
    const loop = new EventLoop({ debug: true });
    loop.setExceptionHandler((_l, ctx) => reports.push(ctx));
    const main = coroutine(function* main() {
      (function dropIt() {
        const fut = getRunningLoop().createFuture(); // @collected-future
        fut.setException(new Error('lost'));
      })();
      yield* sleep(0);
    });
    await loop.runUntilComplete(main());
    await collectGarbage();
    expect(reports.map((r) => r.message)).toEqual(['Future exception was never retrieved']);
    const tb = reports[0]!.source_traceback!;
    expect(tb[tb.length - 1]).toBe(`  File "${THIS_FILE}", line ${lineOf('@collected-future')}, in dropIt`);
    loop.close();
  });
});

describe('debug mode: non-threadsafe calls (CPython test_check_thread)', () => {
  it('callSoon/callLater from a host callback while the loop runs are fine in debug mode too (same thread)', async () => {
    const attempt = coroutine(function* attempt() {
      const loop = getRunningLoop();
      const errors = yield* fromPromise(
        new Promise<string[]>((resolve) => {
          setTimeout(() => {
            const out: string[] = [];
            for (const call of [() => loop.callSoon(() => {}), () => loop.callLater(1, () => {})]) {
              try {
                call();
                out.push('ok');
              } catch (e) {
                out.push(`${(e as Error).name}: ${(e as Error).message}`);
              }
            }
            loop.callSoonThreadsafe(() => {});
            resolve(out);
          }, 1);
        }),
      );
      return errors;
    });
    // A host callback runs on the loop's own thread, and what it schedules wakes the loop (issue 13 §2);
    // cross-loop use stays flagged (test/host_wakeup.test.ts).
    expect(await run(attempt(), { debug: true })).toEqual(['ok', 'ok']);
    expect(await run(attempt())).toEqual(['ok', 'ok']);
  });

  it("is not flagged from the loop's own callbacks, nor on a loop that is not running", async () => {
    const loop = new EventLoop({ debug: true });
    loop.callSoon(() => {});
    const main = coroutine(function* main() {
      const l = getRunningLoop();
      l.callSoon(() => {});
      l.callLater(0.001, () => {});
      yield* sleep(0.002);
      return 'fine';
    });
    expect(await loop.runUntilComplete(main())).toBe('fine');
    loop.close();
  });
});
