/** The event loop (CPython's test_base_events.py / test_events.py behaviours), checked against CPython 3.14. */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  coroutine,
  createTask,
  EventLoop,
  getEventLoop,
  getRunningLoop,
  Handle,
  newEventLoop,
  RuntimeError,
  run,
  setEventLoop,
  sleep,
  Task,
  TimerHandle,
  ValueError,
} from 'tsyncio';
import { describe, expect, it } from 'vitest';
import { sourceOf, withLoop } from './helpers.js';

const { file: THIS, lineOf } = sourceOf(import.meta.url);

describe('scheduling', () => {
  it('callSoon runs callbacks FIFO; a cancelled handle is skipped; stop() ends after the batch', async () => {
    const loop = new EventLoop();
    const log: unknown[] = [];
    loop.callSoon((x: string) => log.push(x), 'a');
    const h = loop.callSoon(() => log.push('b'));
    h.cancel();
    expect(h.cancelled()).toBe(true);
    expect(String(h)).toBe('<Handle cancelled>');
    loop.callSoon(() => log.push('c'));
    loop.callSoon(() => loop.stop());
    loop.callSoon(() => log.push('d'));
    await loop.runForever();
    expect(log).toEqual(['a', 'c', 'd']);
    // stop() before runForever: exactly one iteration runs.
    loop.stop();
    loop.callSoon(() => log.push('e'));
    await loop.runForever();
    expect(log).toEqual(['a', 'c', 'd', 'e']);
    loop.close();
  });

  it('what a callback schedules runs on the next iteration (the snapshot rule)', async () => {
    const loop = new EventLoop();
    const log: string[] = [];
    loop.callSoon(() => {
      log.push('1');
      loop.callSoon(() => log.push('3'));
    });
    loop.callSoon(() => {
      log.push('2');
      loop.stop();
    });
    await loop.runForever();
    expect(log).toEqual(['1', '2']);
    loop.stop();
    await loop.runForever();
    expect(log).toEqual(['1', '2', '3']);
    loop.close();
  });

  it('timers with equal deadlines run in scheduling order; callAt(now) before later ones', async () => {
    await withLoop(async (loop) => {
      const ties: unknown[] = [];
      const main = coroutine(function* main() {
        for (let i = 0; i < 5; i++) loop.callLater(0.01, () => ties.push(i));
        loop.callAt(loop.time(), () => ties.push('now'));
        yield* sleep(0.02);
      });
      await loop.runUntilComplete(main());
      // CPython's heap gives [now, 0, 2, 1, 3, 4]; tsyncio promises scheduling order for ties.
      expect(ties).toEqual(['now', 0, 1, 2, 3, 4]);
    });
  });

  it('TimerHandle has when() and a repr; cancel() is lazy and mass cancellation compacts the heap', async () => {
    await withLoop(async (loop) => {
      const th = loop.callLater(10, () => {});
      expect(th).toBeInstanceOf(TimerHandle);
      expect(th.when()).toBe(10);
      expect(String(th)).toMatch(/^<TimerHandle when=10 <anonymous>\(\)>$/);
      const handles = Array.from({ length: 1000 }, (_, i) => loop.callLater(100 + i, () => {}));
      for (const h of handles) h.cancel();
      th.cancel();
      expect(loop._scheduled.length).toBe(1001);
      await loop.runUntilComplete(sleep(0));
      // Past 100 timers and 50% cancelled, the heap is rebuilt without the dead entries.
      expect(loop._scheduled.length).toBe(0);
    });
  });

  it('callback errors go to the exception handler with message, exception and handle', async () => {
    await withLoop(async (loop, reports) => {
      const err = new ValueError('x');
      loop.callSoon(function boom() {
        throw err;
      });
      await loop.runUntilComplete(sleep(0));
      expect(reports).toHaveLength(1);
      expect(reports[0]!.message).toBe('Exception in callback boom()');
      expect(reports[0]!.exception).toBe(err);
      expect(Object.keys(reports[0]!).sort()).toEqual(['exception', 'handle', 'message']);
    });
  });

  it("Handle reprs show a callback's arguments in debug mode only; every debug handle says where it was made (3.14)", async () => {
    function noop(..._args: unknown[]): void {}
    function bad(..._args: unknown[]): void {
      throw new ValueError('x');
    }
    await withLoop(async (loop, reports) => {
      expect(String(loop.callSoon(noop, 1, 2))).toBe('<Handle noop()>');
      expect(String(loop.callLater(5, noop, 1, 2))).toBe('<TimerHandle when=5 noop()>');
      expect(String(new Handle(noop, [1], loop))).toBe('<Handle noop()>');
      loop.callSoon(bad, 1, 'a');
      await loop.runUntilComplete(sleep(0));
      expect(reports[0]!.message).toBe('Exception in callback bad()');
      loop.setDebug(true);
      const made = [
        loop.callSoon(noop, 1, 2), // @h-callSoon
        new Handle(noop, [1], loop), // @h-Handle
        new TimerHandle(10, noop, [1], loop), // @h-TimerHandle
        loop.callSoonThreadsafe(noop, 3), // @h-threadsafe
      ].map(String);
      const at = (marker: string) => `created at ${THIS}:${lineOf(marker)}>`;
      expect(made).toEqual([
        `<Handle noop(1, 2) ${at('@h-callSoon')}`,
        `<Handle noop(1) ${at('@h-Handle')}`,
        `<TimerHandle when=10 noop(1) ${at('@h-TimerHandle')}`,
        `<Handle noop(3) ${at('@h-threadsafe')}`,
      ]);
      loop.callSoon(bad, 1, 'a');
      await loop.runUntilComplete(sleep(0));
      expect(reports[1]!.message).toBe("Exception in callback bad(1, 'a')");
    });
  });

  it('bad arguments are rejected at the call with TypeError/ValueError', () => {
    const loop = new EventLoop();
    expect(() => loop.callSoon(1 as any)).toThrow(
      new TypeError('a callable object was expected by callSoon(), got 1'),
    );
    expect(() => loop.callSoon(sleep as any)).not.toThrow();
    const coro = coroutine(function* c() {});
    expect(() => loop.callSoon(coro as any)).toThrow(
      new TypeError('coroutines cannot be used with callSoon()'),
    );
    expect(() => loop.callLater('1' as any, () => {})).toThrow(TypeError);
    expect(() => loop.callAt(Number.NaN, () => {})).toThrow(ValueError);
    loop.close();
  });

  it('callSoon etc. on a closed loop raise "Event loop is closed"', () => {
    const loop = new EventLoop();
    loop.close();
    loop.close();
    expect(loop.isClosed()).toBe(true);
    for (const f of [
      () => loop.callSoon(() => {}),
      () => loop.callLater(1, () => {}),
      () => loop.callSoonThreadsafe(() => {}),
      () => loop.runForever(),
      () => loop.createTask(sleep(0)),
    ]) {
      expect(f).toThrow(new RuntimeError('Event loop is closed'));
    }
  });
});

describe('running and stopping', () => {
  it('runUntilComplete resolves to the result and rejects with the exception', async () => {
    const loop = new EventLoop();
    expect(await loop.runUntilComplete(sleep(0.001, 'r'))).toBe('r');
    const boom = coroutine(function* boom() {
      yield* sleep(0);
      throw new ValueError('bad');
    });
    await expect(loop.runUntilComplete(boom())).rejects.toThrow(new ValueError('bad'));
    expect(() => loop.runUntilComplete(1 as any)).toThrow(
      new TypeError('An asyncio.Future, a coroutine or an awaitable is required'),
    );
    loop.close();
  });

  it('misuse inside a running loop is raised synchronously with Python messages', async () => {
    const loop = new EventLoop();
    const errors: string[] = [];
    const nested = coroutine(function* nested() {
      const inner = sleep(0);
      for (const f of [
        () => loop.runUntilComplete(inner),
        () => loop.runForever(),
        () => loop.close(),
        () => run(inner),
      ]) {
        try {
          f();
        } catch (e) {
          errors.push((e as Error).message);
        }
      }
      inner.close();
      const other = new EventLoop();
      try {
        other.runForever();
      } catch (e) {
        errors.push((e as Error).message);
      }
      other.close();
    });
    await loop.runUntilComplete(nested());
    expect(errors).toEqual([
      'This event loop is already running',
      'This event loop is already running',
      'Cannot close a running event loop',
      'run() cannot be called from a running event loop',
      'Cannot run the event loop while another loop is running',
    ]);
    loop.close();
  });

  it('stop() inside runUntilComplete: "Event loop stopped before Future completed."', async () => {
    const loop = new EventLoop({ clock: 'virtual' });
    const stopper = coroutine(function* stopper() {
      getRunningLoop().stop();
      yield* sleep(1);
    });
    await expect(loop.runUntilComplete(stopper())).rejects.toThrow(
      new RuntimeError('Event loop stopped before Future completed.'),
    );
    loop.close();
  });

  it('getRunningLoop / getEventLoop / setEventLoop / newEventLoop', async () => {
    expect(() => getRunningLoop()).toThrow(new RuntimeError('no running event loop'));
    setEventLoop(null);
    expect(() => getEventLoop()).toThrow(
      new RuntimeError("There is no current event loop in thread 'MainThread'."),
    );
    const loop = newEventLoop();
    setEventLoop(loop);
    expect(getEventLoop()).toBe(loop);
    const inside = await loop.runUntilComplete(
      coroutine(function* check() {
        return [getRunningLoop() === loop, getEventLoop() === loop, loop.isRunning()];
      })(),
    );
    expect(inside).toEqual([true, true, true]);
    expect(loop.isRunning()).toBe(false);
    setEventLoop(null);
    loop.close();
  });

  it('exception handler API: set/get, custom handler errors fall back to the default handler', async () => {
    const loop = new EventLoop();
    expect(loop.getExceptionHandler()).toBeUndefined();
    expect(() => loop.setExceptionHandler(1 as any)).toThrow(
      new TypeError('A callable object or None is expected, got 1'),
    );
    const logged: string[] = [];
    const { logger } = await import('tsyncio');
    const sink = logger.sink;
    logger.sink = (_level, msg) => logged.push(msg);
    try {
      const handler = () => {
        throw new Error('handler broke');
      };
      loop.setExceptionHandler(handler);
      expect(loop.getExceptionHandler()).toBe(handler);
      loop.callExceptionHandler({ message: 'first' });
      expect(logged[0]).toMatch(
        /^Unhandled error in exception handler\ncontext: \{'message': 'first'\}\nError: handler broke/,
      );
      loop.setExceptionHandler(null);
      loop.callExceptionHandler({ message: 'second', exception: new ValueError('v'), extra: 1 });
      expect(logged[1]).toMatch(/^second\nextra: 1\nValueError: v/);
    } finally {
      logger.sink = sink;
      loop.close();
    }
  });

  it('task factory: set/get, used by createTask', async () => {
    const loop = new EventLoop();
    const made: unknown[] = [];
    expect(() => loop.setTaskFactory(1 as any)).toThrow(
      new TypeError('task factory must be a callable or None'),
    );
    loop.setTaskFactory((l, coro, opts) => {
      made.push(opts?.name);
      return new Task(coro, { ...opts, loop: l });
    });
    expect(loop.getTaskFactory()).toBeTypeOf('function');
    const main = coroutine(function* main() {
      return yield* createTask(sleep(0, 1), { name: 'x' });
    });
    expect(await loop.runUntilComplete(main())).toBe(1);
    expect(made).toEqual([undefined, 'x']);
    loop.setTaskFactory(null);
    expect(loop.getTaskFactory()).toBeUndefined();
    loop.close();
  });
});

describe('the loop as a guest of the host', () => {
  it('a long burst of ready callbacks still lets host I/O (setImmediate) run', async () => {
    // The coroutine never waits on the host: it only switches with sleep(0). If the loop ran its ready
    // queue without ever yielding, the host's setImmediate callbacks could not run and this would spin
    // until the guard.
    const loop = new EventLoop();
    let hostTurns = 0;
    let busy = true;
    const tick = () => {
      hostTurns++;
      if (busy) setImmediate(tick);
    };
    setImmediate(tick);
    const spin = coroutine(function* spin() {
      const t0 = performance.now();
      let switches = 0;
      while (hostTurns < 5 && performance.now() - t0 < 10_000) {
        yield* sleep(0);
        switches++;
      }
      return switches;
    });
    const switches = await loop.runUntilComplete(spin());
    busy = false;
    expect(hostTurns).toBeGreaterThanOrEqual(5);
    // Many switches happen per host turn: the ready queue is batched, not one macrotask per switch.
    expect(switches / hostTurns).toBeGreaterThan(10);
    loop.close();
  });

  it('host events wake the loop through callSoonThreadsafe', async () => {
    const loop = new EventLoop();
    const main = coroutine(function* main() {
      const f = loop.createFuture<string>();
      setTimeout(() => loop.callSoonThreadsafe(() => f.setResult('from host')), 5);
      return yield* f;
    });
    expect(await loop.runUntilComplete(main())).toBe('from host');
    loop.close();
  });

  it('sleep(d) never returns before d seconds on loop.time()', async () => {
    const loop = new EventLoop();
    const main = coroutine(function* main() {
      const early: number[] = [];
      for (const d of [0.001, 0.002, 0.005, 0.013]) {
        const t0 = loop.time();
        yield* sleep(d);
        const dt = loop.time() - t0;
        if (dt < d) early.push(dt);
      }
      return early;
    });
    expect(await loop.runUntilComplete(main())).toEqual([]);
    loop.close();
  });

  it('an idle loop does not keep the process alive; a pending timer does', () => {
    // The Node entry, as a Node program's `tsyncio` (it installs the 'beforeExit' watch, tsyncio/debug).
    const src = fileURLToPath(new URL('../src/node/index.ts', import.meta.url));
    const tsx = fileURLToPath(new URL('../node_modules/tsx/dist/cli.mjs', import.meta.url));
    const program = (body: string) =>
      spawnSync(
        process.execPath,
        [tsx, '--input-type=module', '-e', `import * as t from ${JSON.stringify(src)}; ${body}`],
        {
          encoding: 'utf8',
          // Only a backstop for a hung child (the bug this test catches): tsx startup alone takes
          // seconds on a loaded 2-core CI machine.
          timeout: 30_000,
        },
      );
    // Waiting on a future nobody will resolve, nothing scheduled: the process runs out of work, so the run
    // ends with a DeadlockError (issue 19; before, Node exited with status 13 for the unsettled await).
    const idle = program(
      'const loop = new t.EventLoop(); const f = loop.createFuture(); await loop.runUntilComplete(f); console.log("never");',
    );
    expect(idle.stdout).toBe('');
    expect(idle.stderr).toContain('DeadlockError: runUntilComplete() can never finish');
    expect(idle.status).toBe(1);
    const timer = program(
      'const loop = new t.EventLoop(); console.log(await loop.runUntilComplete(t.sleep(0.2, "woke")));',
    );
    expect(timer.stdout).toBe('woke\n');
    expect(timer.status).toBe(0);
  }, 90_000);
});

describe('virtual clock', () => {
  it('jumps to the next timer when every task waits on timers', async () => {
    const t0 = performance.now();
    const main = coroutine(function* main() {
      yield* sleep(3600);
      yield* sleep(1.5);
      return getRunningLoop().time();
    });
    expect(await run(main(), { clock: 'virtual' })).toBe(3601.5);
    // Real waiting would take an hour; the bound leaves room for a loaded CI machine.
    expect(performance.now() - t0).toBeLessThan(10_000);
  });
});
