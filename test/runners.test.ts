/** run(), runSync() and Runner (CPython's test_runners.py behaviours), checked against CPython 3.14. */

import {
  CancelledError,
  ContextVar,
  coroutine,
  createTask,
  currentTask,
  EventLoop,
  type Future,
  fromPromise,
  getRunningLoop,
  newEventLoop,
  Runner,
  RuntimeError,
  run,
  runSync,
  sleep,
  Task,
  ValueError,
} from 'tsyncio';
import { describe, expect, it } from 'vitest';

describe('run()', () => {
  it('loopFactory may be a class (Python: loop_factory=asyncio.EventLoop), called with new', async () => {
    class CountingLoop extends EventLoop {
      static made = 0;
      constructor() {
        super({ clock: 'virtual' });
        CountingLoop.made++;
      }
    }
    const main = coroutine(function* main() {
      yield* sleep(100);
      return [getRunningLoop() instanceof CountingLoop, getRunningLoop().time()];
    });
    expect(await run(main(), { loopFactory: CountingLoop })).toEqual([true, 100]);
    expect(await run(main(), { loopFactory: () => new CountingLoop() })).toEqual([true, 100]);
    expect(CountingLoop.made).toBe(2);
    const plain = coroutine(function* plain() {
      return getRunningLoop().constructor === EventLoop;
    });
    expect(await run(plain(), { loopFactory: EventLoop })).toBe(true);
  });

  it('newEventLoop() takes the EventLoop options (clock, debug)', async () => {
    const loop = newEventLoop({ clock: 'virtual', debug: true });
    try {
      expect(loop.getDebug()).toBe(true);
      expect(await loop.runUntilComplete(sleep(3600, 'late'))).toBe('late');
      expect(loop.time()).toBe(3600);
    } finally {
      loop.close();
    }
    const real = newEventLoop();
    expect(real.getDebug()).toBe(false);
    real.close();
    expect(() => newEventLoop({ clock: 'sundial' as 'virtual' })).toThrow(ValueError);
  });

  it('cancels leftover tasks, waits for them, and reports their errors', async () => {
    const log: unknown[] = [];
    const leftover = coroutine(function* leftover() {
      try {
        yield* sleep(10);
      } finally {
        log.push('leftover cancelled');
      }
    });
    const failingLeftover = coroutine(function* failingLeftover() {
      try {
        yield* sleep(10);
      } catch {
        throw new ValueError('in cleanup');
      }
    });
    const main = coroutine(function* main() {
      createTask(leftover());
      createTask(failingLeftover());
      yield* sleep(0);
      return 'ok';
    });
    const factory = () => {
      const loop = new EventLoop();
      loop.setExceptionHandler((_l, ctx) => log.push([ctx.message, (ctx.exception as Error)?.name]));
      return loop;
    };
    expect(await run(main(), { loopFactory: factory })).toBe('ok');
    expect(log).toEqual([
      'leftover cancelled',
      ['unhandled exception during asyncio.run() shutdown', 'ValueError'],
    ]);
  });

  it('rejects with the main coroutine exception, after shutting down', async () => {
    let loop: EventLoop | undefined;
    const main = coroutine(function* main() {
      loop = getRunningLoop();
      yield* sleep(0);
      throw new ValueError('main failed');
    });
    await expect(run(main())).rejects.toThrow(new ValueError('main failed'));
    expect(loop!.isClosed()).toBe(true);
  });

  it('only awaitables: TypeError at the call', () => {
    expect(() => run(1 as any)).toThrow(
      new TypeError('An asyncio.Future, a coroutine or an awaitable is required'),
    );
  });

  it('debug option turns on the loop debug mode', async () => {
    const main = coroutine(function* main() {
      return getRunningLoop().getDebug();
    });
    expect(await run(main(), { debug: true })).toBe(true);
    expect(await run(main(), { debug: false })).toBe(false);
  });
});

describe('Runner', () => {
  it('keeps one context across run() calls (test_run_keeps_context)', async () => {
    const v = new ContextVar('v', { default: 0 });
    const setv = coroutine(function* setv(x: number) {
      v.set(x);
      return v.get();
    });
    const getv = coroutine(function* getv() {
      return v.get();
    });
    const runner = new Runner();
    expect(await runner.run(setv(5))).toBe(5);
    expect(await runner.run(getv())).toBe(5);
    expect(v.get()).toBe(0);
    const loop = runner.getLoop();
    await runner.close();
    expect(loop.isClosed()).toBe(true);
    expect(() => runner.run(getv())).toThrow(new RuntimeError('Runner is closed'));
  });

  it('after Ctrl-C, a main task without uncancel() (custom task factory) ends run() with CancelledError (gh-95097)', async () => {
    const runner = new Runner();
    runner.getLoop().setTaskFactory((loop, coro, options) => {
      const task = new Task(coro, { ...options, loop });
      (task as { uncancel?: unknown }).uncancel = undefined; // CPython's getattr(task, 'uncancel', None)
      return task;
    });
    const main = coroutine(function* main() {
      // What run()'s SIGINT handler does on the first Ctrl-C.
      (runner as unknown as { _onSigint(t: unknown): void })._onSigint(currentTask());
      yield* sleep(10);
    });
    await expect(runner.run(main())).rejects.toBeInstanceOf(CancelledError);
    await runner.close();
  });

  it('is disposable with Symbol.asyncDispose', async () => {
    const runner = new Runner();
    const loop = runner.getLoop();
    await runner[Symbol.asyncDispose]();
    expect(loop.isClosed()).toBe(true);
  });
});

describe('runSync()', () => {
  it('runs a coroutine to completion synchronously, blocking for timers', () => {
    const main = coroutine(function* main() {
      const t0 = getRunningLoop().time();
      const r = yield* sleep(0.02, 'slept');
      return [r, getRunningLoop().time() - t0 >= 0.02];
    });
    expect(runSync(main())).toEqual(['slept', true]);
  });

  it('runs virtual time without waiting', () => {
    const main = coroutine(function* main() {
      yield* sleep(3600);
      return getRunningLoop().time();
    });
    expect(runSync(main(), { clock: 'virtual' })).toBe(3600);
  });

  it('raises RuntimeError when the coroutine awaits a host promise', () => {
    const main = coroutine(function* main() {
      return yield* fromPromise(Promise.resolve(1));
    });
    expect(() => runSync(main())).toThrow(
      /runSync\(\) cannot wait for host I\/O \(a Promise\); use run\(\) instead/,
    );
  });

  it('raises RuntimeError when the coroutine can never finish', () => {
    const main = coroutine(function* main() {
      yield* getRunningLoop().createFuture();
    });
    expect(() => runSync(main())).toThrow(RuntimeError);
  });

  it('cancels leftovers at the end', () => {
    const log: string[] = [];
    const leftover = coroutine(function* leftover() {
      try {
        yield* sleep(10);
      } finally {
        log.push('cleaned');
      }
    });
    const main = coroutine(function* main() {
      createTask(leftover());
      yield* sleep(0);
      return 1;
    });
    expect(runSync(main())).toBe(1);
    expect(log).toEqual(['cleaned']);
  });
});

describe('shutdown of run() and runSync()', () => {
  // Found by the differential tests (test/difftest/corpus/shutdown-spawn-in-finally.json). CPython's
  // Runner.close() runs shutdown_asyncgens() and shutdown_default_executor() with run_until_complete each,
  // even when there is nothing to shut down; a task that a cancelled task spawns from its `finally` gets
  // those iterations to run in. CPython 3.14 logs ['grandchild start', 'grandchild end'].
  const program = (log: string[]) => {
    const grandchild = coroutine(function* grandchild() {
      log.push('grandchild start');
      yield* sleep(0);
      log.push('grandchild end');
    });
    const child = coroutine(function* child() {
      createTask(grandchild());
    });
    const leftover = coroutine(function* leftover() {
      try {
        yield* sleep(10);
      } finally {
        createTask(child());
      }
    });
    return coroutine(function* main() {
      createTask(leftover());
      yield* sleep(0);
    })();
  };

  it('runSync gives tasks spawned during shutdown the same loop iterations as CPython', () => {
    const log: string[] = [];
    runSync(program(log), { clock: 'virtual' });
    expect(log).toEqual(['grandchild start', 'grandchild end']);
  });

  it('run gives them the same iterations', async () => {
    const log: string[] = [];
    await run(program(log), { clock: 'virtual' });
    expect(log).toEqual(['grandchild start', 'grandchild end']);
  });
});

describe('a Future as the result of a run (issue 19 §4: Futures are thenables)', () => {
  // CPython: asyncio.run(main()) returns the pending Future object. A Promise cannot resolve to a thenable:
  // it adopts it, and the loop has stopped, so it would wait forever (Node: exit status 13, no output).
  const returnsPending = coroutine(function* returnsPending() {
    return getRunningLoop().createFuture<number>();
  });

  it('run() rejects with a RuntimeError that explains it instead of hanging', async () => {
    const outcome = await Promise.race([
      run(returnsPending()).then(
        () => 'resolved',
        (e: unknown) => e,
      ),
      new Promise((resolve) => setTimeout(() => resolve('hung'), 2000)),
    ]);
    expect(outcome).toBeInstanceOf(RuntimeError);
    expect((outcome as Error).message).toMatch(
      /^run\(\): the result is a pending Future \(<Future pending>\)\. A Promise cannot resolve to it: Futures are thenables/,
    );
    expect((outcome as Error).message).toContain('return { fut }');
  });

  it('runUntilComplete() too; the loop stays usable', async () => {
    const loop = new EventLoop();
    try {
      await expect(loop.runUntilComplete(returnsPending())).rejects.toThrow(
        /^runUntilComplete\(\): the result is a pending Future/,
      );
      expect(await loop.runUntilComplete(sleep(0, 'again'))).toBe('again');
    } finally {
      loop.close();
    }
  });

  it('a Future wrapped in an object comes through; a done Future is adopted (its result)', async () => {
    const wrapped = coroutine(function* wrapped() {
      return { fut: getRunningLoop().createFuture<number>() };
    });
    const { fut } = await run(wrapped());
    expect(fut.done()).toBe(false);
    const done = coroutine(function* done() {
      const f = getRunningLoop().createFuture<number>();
      f.setResult(5);
      return f;
    });
    expect(await run(done())).toBe(5);
  });

  it('runSync() returns the Future object itself, as Python does', () => {
    const f = runSync(returnsPending());
    expect(f.done()).toBe(false);
    expect(String(f)).toBe('<Future pending>');
  });

  it("an async helper's Promise that adopted a pending Future is rejected when the loop closes", async () => {
    let adopted: Promise<number> | undefined;
    const helper = async (f: Future<number>): Promise<number> => f;
    const main = coroutine(function* main() {
      adopted = helper(getRunningLoop().createFuture<number>());
      adopted.catch(() => {});
      yield* sleep(0);
    });
    await run(main());
    const outcome = await Promise.race([
      adopted!.then(
        () => 'resolved',
        (e: unknown) => e,
      ),
      new Promise((resolve) => setTimeout(() => resolve('hung'), 2000)),
    ]);
    expect(outcome).toBeInstanceOf(RuntimeError);
    expect((outcome as Error).message).toMatch(
      /^Event loop is closed: <Future pending[^>]*> can never complete, so the Promise waiting for it/,
    );
  });
});
