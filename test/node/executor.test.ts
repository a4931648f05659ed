/**
 * Worker-thread executors: toThread, runInExecutor, ThreadPoolExecutor (src/threads.ts,
 * src/node/executor.ts). The functions run on workers live in test/fixtures/work.mjs.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  asyncWith,
  BrokenThreadPool,
  CancelledError,
  coroutine,
  createTask,
  type Executor,
  fromPromise,
  getRunningLoop,
  type Instruction,
  RuntimeError,
  run,
  runSync,
  sleep,
  ThreadPoolExecutor,
  toThread,
  ValueError,
  workerFunction,
} from 'tsyncio/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const WORK = new URL('../fixtures/work.mjs', import.meta.url);
const fib = workerFunction<(n: number) => number>(WORK, 'fib');
const spin = workerFunction<(ms: number) => { threadId: number; loops: number }>(WORK, 'spin');
const blockThenCount = workerFunction<(ms: number, counter: Int32Array, index: number) => number>(
  WORK,
  'blockThenCount',
);
const addLater = workerFunction<(a: number, b: number) => Promise<number>>(WORK, 'addLater');
const whoAmI = workerFunction<() => number>(WORK, 'whoAmI');

const pools: ThreadPoolExecutor[] = [];
function pool(maxWorkers: number): ThreadPoolExecutor {
  const p = new ThreadPoolExecutor({ maxWorkers });
  pools.push(p);
  return p;
}
afterAll(async () => {
  await Promise.all(pools.map((p) => p.terminateWorkers()));
});

/** Await `fut` inside a coroutine and return what it raised (or fail if it did not raise). */
function* raised(fut: Iterable<unknown> & object): Generator<Instruction, unknown> {
  try {
    yield* fut as Generator<Instruction, unknown>;
  } catch (e) {
    return e;
  }
  throw new Error('expected an exception');
}

describe('toThread and runInExecutor', () => {
  it('runs a CPU-bound function on a worker while the loop keeps serving timers', async () => {
    const ticks: number[] = [];
    const main = coroutine(function* main() {
      const loop = getRunningLoop();
      const job = createTask(toThread(spin, 400));
      const t0 = loop.time();
      while (!job.done()) {
        yield* sleep(0.02);
        ticks.push(loop.time() - t0);
      }
      return yield* job;
    });
    const r = await run(main());
    expect(r.loops).toBeGreaterThan(0);
    expect(r.threadId).toBeGreaterThan(0); // not the main thread (threadId 0)
    // 400 ms of computation, a 20 ms ticker: had the spin run on the loop's thread, no tick would fire
    // (the bound is loose because a loaded machine may give the main thread few time slices).
    expect(ticks.length).toBeGreaterThanOrEqual(5);
  });

  it('returns typed results, awaits async functions, and reuses workers', async () => {
    const main = coroutine(function* main() {
      const loop = getRunningLoop();
      const p = pool(1);
      const a: number = yield* toThread(fib, 20);
      const b: number = yield* loop.runInExecutor(p, addLater, 2, 3);
      const t1 = yield* loop.runInExecutor(p, whoAmI);
      const t2 = yield* loop.runInExecutor(p, whoAmI);
      return [a, b, t1 === t2, p.workerCount];
    });
    expect(await run(main())).toEqual([6765, 5, true, 1]);
  });

  it('starts at most maxWorkers workers and runs that many jobs in parallel', async () => {
    const main = coroutine(function* main() {
      const loop = getRunningLoop();
      const p = pool(2);
      const t0 = performance.now();
      const jobs = [1, 2, 3, 4].map(() => loop.runInExecutor(p, spin, 100));
      const results = [];
      for (const j of jobs) results.push(yield* j);
      return {
        ms: performance.now() - t0,
        threads: new Set(results.map((r) => r.threadId)).size,
        n: p.workerCount,
      };
    });
    const r = await run(main());
    expect(r.threads).toBe(2);
    expect(r.n).toBe(2);
    expect(r.ms).toBeGreaterThanOrEqual(195); // 4 jobs of 100 ms on 2 workers: two rounds
  });

  it('does not let the virtual clock jump past work running on a worker', async () => {
    const main = coroutine(function* main() {
      const loop = getRunningLoop();
      const sleeper = createTask(sleep(50));
      yield* toThread(spin, 30);
      const during = loop.time();
      yield* sleeper;
      return [during, loop.time()];
    });
    expect(await run(main(), { clock: 'virtual' })).toEqual([0, 50]);
  });

  it('refuses plain functions and coroutines with TypeError, at the call', async () => {
    const main = coroutine(function* main() {
      const loop = getRunningLoop();
      const errors: unknown[] = [];
      try {
        // @ts-expect-error a closure cannot cross threads: a type error, as for toThread
        loop.runInExecutor(
          null,
          function square(x: number) {
            return x * x;
          },
          3,
        );
      } catch (e) {
        errors.push(e);
      }
      try {
        // @ts-expect-error not a WorkerFunction
        loop.runInExecutor(null, sleep(1) as unknown);
      } catch (e) {
        errors.push(e);
      }
      return errors;
    });
    const [plain, coro] = (await run(main())) as Error[];
    expect(plain).toBeInstanceOf(TypeError);
    expect(plain!.message).toBe(
      "a worker thread cannot run the function square: JS functions cannot cross threads; pass workerFunction(new URL('./module.js', import.meta.url), 'exportedName') instead",
    );
    expect(coro).toBeInstanceOf(TypeError);
    expect(coro!.message).toBe('coroutines cannot be used with runInExecutor()');
  });

  it('raises RuntimeError under runSync, which cannot wait for threads', () => {
    const main = coroutine(function* main() {
      return yield* raised(toThread(fib, 3));
    });
    const e = runSync(main()) as Error;
    expect(e).toBeInstanceOf(RuntimeError);
    expect(e.message).toBe('runSync() cannot wait for host I/O (an executor); use run() instead');
  });
});

describe('porting traps: worker functions in TypeScript files and in the program file itself', () => {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const tsx = join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs');
  const entry = join(root, 'src', 'node', 'index.ts');
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'tsyncio-workers-'));
    writeFileSync(join(dir, 'package.json'), '{ "type": "module" }');
    // Type annotations: Node 20 cannot load this file without a TypeScript loader.
    writeFileSync(join(dir, 'work.ts'), 'export function double(n: number): number {\n  return n * 2;\n}\n');
    writeFileSync(
      join(dir, 'main.ts'),
      `import { coroutine, run, toThread, workerFunction } from ${JSON.stringify(entry)};
const double = workerFunction<typeof import('./work.ts').double>(new URL('./work.ts', import.meta.url), 'double');
const main = coroutine(function* main() { return yield* toThread(double, 21); });
console.log(await run(main()));
`,
    );
    // The natural port of Python's run_in_executor(None, f) with f beside main: one file.
    const program = (guard: string) => `import { isMainThread } from 'node:worker_threads';
import { coroutine, run, toThread, workerFunction } from ${JSON.stringify(entry)};
export function double(n: number): number {
  return n * 2;
}
const main = coroutine(function* main() {
  return yield* toThread(workerFunction<typeof double>(import.meta.url, 'double'), 21);
});
${guard}console.log(await run(main()));
`;
    writeFileSync(join(dir, 'unguarded.ts'), program(''));
    writeFileSync(join(dir, 'guarded.ts'), program('if (isMainThread) '));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const node = (args: string[]) =>
    spawnSync(process.execPath, args, {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, NODE_OPTIONS: '' },
    });

  it('a worker function in a .ts file loads in the worker under tsx (tsx CLI and node --import tsx)', () => {
    for (const args of [
      [tsx, join(dir, 'main.ts')],
      ['--import', 'tsx', join(dir, 'main.ts')],
    ]) {
      const r = node(args);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('42\n');
      expect(r.status).toBe(0);
    }
  }, 120_000);

  it('a program whose worker function lives in the program file fails at once, saying what to do', () => {
    const started = performance.now();
    const r = node([tsx, join(dir, 'unguarded.ts')]);
    // Without the guard each worker re-ran the program and started more workers until memory ran out.
    expect(r.signal).toBe(null);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(
      `RuntimeError: run() was called while an executor's worker thread was importing ${pathToFileURL(join(dir, 'unguarded.ts')).href} to call a function it exports: the module would run the whole program again in every worker.`,
    );
    expect(r.stderr).toContain('if (isMainThread) await run(main());');
    expect(r.stderr.match(/RuntimeError/g)).toHaveLength(1);
    expect(performance.now() - started).toBeLessThan(50_000);
    // The documented guard: the same file runs.
    const guarded = node([tsx, join(dir, 'guarded.ts')]);
    expect(guarded.stderr).toBe('');
    expect(guarded.stdout).toBe('42\n');
  }, 120_000);
});

describe('workerFunction', () => {
  it('names a module by URL or absolute path and refuses relative paths', () => {
    expect(workerFunction(WORK, 'fib').module).toBe(WORK.href);
    expect(workerFunction(fileURLToPath(WORK), 'fib').module).toBe(WORK.href);
    expect(workerFunction('/tmp/a b#1.mjs', 'f').module).toBe('file:///tmp/a%20b%231.mjs');
    expect(String(workerFunction(WORK, 'fib'))).toBe(`<workerFunction fib from ${WORK.href}>`);
    expect(() => workerFunction('./work.mjs', 'fib')).toThrow(ValueError);
    expect(() => workerFunction('./work.mjs', 'fib')).toThrow(
      "workerFunction(): relative module path './work.mjs': pass new URL('./work.mjs', import.meta.url) or an absolute path",
    );
    expect(() => workerFunction(WORK, '')).toThrow(TypeError);
    expect(() => workerFunction(42 as unknown as string, 'f')).toThrow(
      'workerFunction(): module must be a URL or an absolute path, got 42',
    );
  });
});

describe('errors raised in the worker', () => {
  const call = (name: string, ...args: unknown[]) => {
    const main = coroutine(function* main() {
      return yield* raised(toThread(workerFunction(WORK, name), ...args));
    });
    return run(main()) as Promise<any>;
  };

  it('re-raise with their class, message and the worker-side stack', async () => {
    const e = await call('failTyped', 'no good');
    expect(e).toBeInstanceOf(TypeError);
    expect(e.message).toBe('no good');
    expect(e.stack).toMatch(/^TypeError: no good\n\s+at failTyped \(file:\/\/.*work\.mjs:\d+:\d+\)/);
  });

  it('keep the name, own properties and cause of classes the main thread does not know', async () => {
    const e = await call('failCustom');
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('FibError');
    expect(String(e)).toBe('FibError: fib exploded');
    expect(e.code).toBe(42);
    const c = await call('failWithCause');
    expect(c.message).toBe('outer');
    expect(c.cause).toBeInstanceOf(RangeError);
    expect(c.cause.message).toBe('inner');
  });

  it("rebuild tsyncio's exception classes by name", async () => {
    const e = await call('failValueError');
    expect(e).toBeInstanceOf(ValueError);
    expect(e.message).toBe('bad value');
  });

  it('pass non-Error thrown values through', async () => {
    expect(await call('throwString')).toBe('plain string');
  });

  it('say which export is missing', async () => {
    const e = await call('nope');
    expect(e).toBeInstanceOf(TypeError);
    expect(e.message).toBe(`'nope' is not a function exported by ${WORK.href}`);
    const n = await call('notAFunction');
    expect(n.message).toBe(`'notAFunction' is not a function exported by ${WORK.href} (it is number)`);
  });

  it('name the argument that cannot be sent to a worker', async () => {
    const e = await call('fib', 1, () => 2);
    expect(e).toBeInstanceOf(TypeError);
    expect(e.message).toBe(
      'argument 2 of fib() cannot be sent to a worker thread (not structured-cloneable): () => 2 could not be cloned.',
    );
    expect(e.cause?.name).toBe('DataCloneError');
  });

  it('say when the result cannot be sent back', async () => {
    const e = await call('returnsFunction');
    expect(e).toBeInstanceOf(TypeError);
    expect(e.message).toBe(
      'the result of returnsFunction() cannot be sent back from the worker thread: () => 1 could not be cloned.',
    );
  });
});

describe('cancellation and broken workers leave the pool usable', () => {
  it('a queued job never runs; a running job finishes and its result is discarded', async () => {
    const counter = new Int32Array(new SharedArrayBuffer(8));
    const p = pool(1);
    const main = coroutine(function* main() {
      const loop = getRunningLoop();
      const running = loop.runInExecutor(p, blockThenCount, 150, counter, 0);
      const queued = loop.runInExecutor(p, blockThenCount, 0, counter, 1);
      yield* sleep(0.03);
      running.cancel();
      queued.cancel();
      const states = [running.cancelled(), queued.cancelled()];
      // The only worker is still busy with the cancelled job; the next job runs after it.
      const after = yield* loop.runInExecutor(p, fib, 10);
      return { states, after, counts: [...counter] };
    });
    const r = await run(main());
    expect(r.states).toEqual([true, true]);
    expect(r.after).toBe(55);
    expect(r.counts).toEqual([1, 0]);
  });

  it('cancelling a task awaiting toThread raises CancelledError in it at once', async () => {
    const counter = new Int32Array(new SharedArrayBuffer(4));
    const main = coroutine(function* main() {
      const t = createTask(toThread(blockThenCount, 500, counter, 0));
      yield* sleep(0.01);
      t.cancel('enough');
      const e = (yield* raised(t)) as CancelledError;
      // The task saw its CancelledError while the worker was still busy with the discarded job.
      const countAtCancel = Atomics.load(counter, 0);
      return { e, countAtCancel, next: yield* toThread(fib, 12) };
    });
    const r = await run(main());
    expect(r.e).toBeInstanceOf(CancelledError);
    expect(r.e.message).toBe('enough');
    expect(r.countAtCancel).toBe(0);
    expect(r.next).toBe(144);
    // run() waited for the discarded job when it shut the executor down.
    expect(Atomics.load(counter, 0)).toBe(1);
  });

  it('a worker that exits fails its job with BrokenThreadPool and is replaced', async () => {
    const p = pool(1);
    const main = coroutine(function* main() {
      const loop = getRunningLoop();
      const e = (yield* raised(loop.runInExecutor(p, workerFunction(WORK, 'exitWorker'), 3))) as Error;
      const stray = (yield* raised(loop.runInExecutor(p, workerFunction(WORK, 'strayError')))) as Error;
      return { e, stray, next: yield* loop.runInExecutor(p, fib, 15) };
    });
    const r = await run(main());
    expect(r.e).toBeInstanceOf(BrokenThreadPool);
    expect(r.e).toBeInstanceOf(RuntimeError);
    expect(r.e.message).toBe('A worker thread exited with code 3 while running exitWorker()');
    expect(r.stray.message).toBe('stray callback error');
    expect(r.next).toBe(610);
  });

  it('a worker that runs out of memory (resourceLimits) fails its job with BrokenThreadPool; the pool goes on', async () => {
    const p = new ThreadPoolExecutor({ maxWorkers: 1, resourceLimits: { maxOldGenerationSizeMb: 32 } });
    pools.push(p);
    const main = coroutine(function* main() {
      const loop = getRunningLoop();
      const e = (yield* raised(loop.runInExecutor(p, workerFunction(WORK, 'hog')))) as Error;
      return { e, next: yield* loop.runInExecutor(p, fib, 15) };
    });
    const r = await run(main());
    expect(r.e).toBeInstanceOf(BrokenThreadPool);
    expect(r.e.message).toBe(
      'A worker thread ran out of memory while running hog() (see the resourceLimits option)',
    );
    expect((r.e.cause as { code?: string }).code).toBe('ERR_WORKER_OUT_OF_MEMORY');
    expect(r.next).toBe(610);
  });

  it('resourceLimits is checked at construction', () => {
    expect(() => new ThreadPoolExecutor({ resourceLimits: 'x' as never })).toThrow(
      new TypeError("resourceLimits must be an object, got 'x'"),
    );
    expect(() => new ThreadPoolExecutor({ resourceLimits: { maxOldGenerationSizeMb: -1 } })).toThrow(
      new ValueError('resourceLimits.maxOldGenerationSizeMb must be a positive number, got -1'),
    );
    expect(() => new ThreadPoolExecutor({ resourceLimits: { heap: 1 } as never })).toThrow(
      new TypeError("resourceLimits: unknown limit 'heap'"),
    );
  });

  it('terminateWorkers() stops a runaway job: BrokenThreadPool, queued jobs cancelled', async () => {
    const p = pool(1);
    const counter = new Int32Array(new SharedArrayBuffer(8));
    const main = coroutine(function* main() {
      const loop = getRunningLoop();
      const runaway = loop.runInExecutor(p, blockThenCount, 10_000, counter, 0);
      const queued = loop.runInExecutor(p, fib, 5);
      yield* sleep(0.05);
      const t0 = loop.time();
      void p.terminateWorkers();
      const e = (yield* raised(runaway)) as Error;
      const q = yield* raised(queued);
      return { e, q, waited: loop.time() - t0 };
    });
    const r = await run(main());
    expect(r.e).toBeInstanceOf(BrokenThreadPool);
    expect(r.e.message).toBe('A worker thread was terminated while running blockThenCount()');
    expect(r.q).toBeInstanceOf(CancelledError);
    expect(r.waited).toBeLessThan(2);
    expect(p.workerCount).toBe(0);
    expect(() => p.submit(fib, 1)).toThrow('cannot schedule new futures after shutdown');
  });
});

describe('shutdown', () => {
  it('run() shuts the default executor down: workers exit, new jobs are refused', async () => {
    const p = pool(2);
    const main = coroutine(function* main() {
      getRunningLoop().setDefaultExecutor(p);
      return yield* toThread(fib, 10);
    });
    expect(await run(main())).toBe(55);
    expect(p.workerCount).toBe(0);
    expect(() => p.submit(fib, 1)).toThrow(RuntimeError);
    expect(() => p.submit(fib, 1)).toThrow('cannot schedule new futures after shutdown');
  });

  it('shutdown() lets queued jobs finish first; cancelFutures cancels them', async () => {
    const p = pool(1);
    const a = p.submit(addLater, 1, 2);
    const b = p.submit(addLater, 3, 4);
    await p.shutdown();
    expect([await a, await b, p.workerCount]).toEqual([3, 7, 0]);

    const q = pool(1);
    const c = q.submit(addLater, 1, 1);
    const d = q.submit(addLater, 2, 2);
    await q.shutdown(true, { cancelFutures: true });
    expect(await c).toBe(2);
    await expect(d).rejects.toBeInstanceOf(CancelledError);
    expect(d.state).toBe('cancelled');
  });

  it("a pool is an async context manager (Python's `with pool:`) and its shutdown can be yield*-ed", async () => {
    const p = pool(2);
    const q = pool(1);
    const main = coroutine(function* main() {
      const loop = getRunningLoop();
      const inside = yield* asyncWith(p, function* (entered) {
        expect(entered).toBe(p);
        const job = loop.runInExecutor(entered, addLater, 20, 22);
        return [yield* job, entered.workerCount];
      });
      // Leaving the block shut the pool down and waited for its workers to exit.
      const after = p.workerCount;
      let refused: unknown;
      try {
        loop.runInExecutor(p, fib, 1);
      } catch (e) {
        refused = e;
      }
      // A body that raises: the pool is shut down all the same, and the error is not suppressed.
      let raised: unknown;
      try {
        yield* asyncWith(q, function* (entered) {
          yield* loop.runInExecutor(entered, fib, 5);
          throw new ValueError('body failed');
        });
      } catch (e) {
        raised = e;
      }
      const r = q.workerCount;
      // shutdown() is awaitable from a coroutine too.
      const z = pool(1);
      const pending = z.submit(addLater, 1, 1);
      yield* z.shutdown();
      return {
        inside,
        after,
        refused,
        raised,
        r,
        zWorkers: z.workerCount,
        pending: yield* fromPromise(pending),
      };
    });
    const r = await run(main());
    expect(r.inside).toEqual([42, 1]);
    expect(r.after).toBe(0);
    expect(r.refused).toBeInstanceOf(RuntimeError);
    expect((r.refused as Error).message).toBe('cannot schedule new futures after shutdown');
    expect(r.raised).toBeInstanceOf(ValueError);
    expect(r.r).toBe(0);
    expect(r.zWorkers).toBe(0);
    expect(r.pending).toBe(2);
  });

  it('a closure is a type error for the default executor and a pool, not for an executor that runs closures', async () => {
    const calls: string[] = [];
    // An executor of one's own that runs plain functions on this thread.
    const inline: Executor<(...args: any[]) => unknown> = {
      submit(fn, ...args) {
        calls.push(fn.name);
        return Promise.resolve(fn(...args));
      },
      shutdown() {},
    };
    const p = pool(1);
    const main = coroutine(function* main() {
      const loop = getRunningLoop();
      const n: number = yield* loop.runInExecutor(inline, (a: number, b: number) => a * b, 6, 7);
      const errors: unknown[] = [];
      try {
        // @ts-expect-error a ThreadPoolExecutor runs WorkerFunctions only
        loop.runInExecutor(p, () => 1);
      } catch (e) {
        errors.push(e);
      }
      try {
        // @ts-expect-error as toThread: the default executor is the thread pool
        loop.runInExecutor(undefined, (x: number) => x, 1);
      } catch (e) {
        errors.push(e);
      }
      // @ts-expect-error the arguments are checked against the function's parameters
      loop.runInExecutor(inline, (a: number) => a, 'x').cancel();
      return { n, errors };
    });
    const r = await run(main());
    expect(r.n).toBe(42);
    expect(r.errors.map((e) => (e as Error).constructor)).toEqual([TypeError, TypeError]);
    expect(calls.length).toBe(2);
  });

  it('runInExecutor(null) after shutdownDefaultExecutor raises RuntimeError', async () => {
    const main = coroutine(function* main() {
      const loop = getRunningLoop();
      yield* toThread(fib, 1);
      yield* loop.shutdownDefaultExecutor() as unknown as Generator<Instruction, void>;
      try {
        loop.runInExecutor(null, fib, 1);
      } catch (e) {
        return e;
      }
    });
    const e = (await run(main())) as Error;
    expect(e).toBeInstanceOf(RuntimeError);
    expect(e.message).toBe('Executor shutdown has been called');
  });

  it('an idle pool that nobody shut down does not keep the process alive', () => {
    const tsx = fileURLToPath(new URL('../../node_modules/tsx/dist/cli.mjs', import.meta.url));
    const program = `
      import { EventLoop, toThread, workerFunction } from './src/node/index.ts';
      const fib = workerFunction(${JSON.stringify(WORK.href)}, 'fib');
      const loop = new EventLoop();
      const r = await loop.runUntilComplete(toThread(fib, 20));
      console.log('fib', r);
      const idleSince = performance.now();
      process.on('exit', () => console.log('exited promptly', performance.now() - idleSince < 5000));
    `;
    // The child's own clock times the idle pool (from the result to exit): the spawn as a whole is mostly
    // tsx startup, which takes seconds on a loaded CI machine. A pool that kept the process alive would
    // never exit: the spawn timeout is only the backstop for that.
    const r = spawnSync(process.execPath, [tsx, '--input-type=module', '-e', program], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      encoding: 'utf8',
      timeout: 30_000,
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    expect(r.stderr).toBe('');
    expect(r.signal).toBe(null);
    expect(r.stdout).toBe('fib 6765\nexited promptly true\n');
    expect(r.status).toBe(0);
  }, 60_000);
});
