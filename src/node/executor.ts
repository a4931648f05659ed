/**
 * ThreadPoolExecutor: a pool of worker threads for CPU-bound work, and the default executor of
 * `loop.runInExecutor(null, …)` / `toThread` on Node (CPython's concurrent.futures.ThreadPoolExecutor,
 * as asyncio uses it).
 *
 * The unit of work is a `WorkerFunction` (src/threads.ts): a module URL plus an exported function name.
 * Each worker runs one job at a time: it imports the module (Node caches it per worker), calls the
 * function with structured clones of the arguments, awaits the result if it is a promise, and posts the
 * result or the error back. Workers are started lazily, up to `maxWorkers`, and reused.
 *
 * Decisions, and why:
 * - Cancelling a job that has not started removes it from the queue; cancelling a running job lets it
 *   finish and discards the result. This is exactly CPython's `Future.cancel()` on a thread pool, and it
 *   keeps the pool healthy: terminating a worker mid-job could leave what it shares with other threads
 *   (SharedArrayBuffers, Atomics locks, half-written files) inconsistent, and a replacement costs a
 *   thread start plus re-importing the module. `terminateWorkers()` exists for runaway jobs.
 * - A busy worker is ref'd (the loop is waiting for it, so the process must stay alive); an idle one is
 *   unref'd, so an idle pool never keeps the process alive, even when nobody shut it down.
 * - A worker that dies (process.exit() in the job, an uncaught error in a stray callback, out of memory)
 *   fails only its own job and is replaced on demand; the pool stays usable.
 * - The worker's code is an eval'd string, so it loads the same from src/ (TypeScript under a test
 *   runner) and from dist/ without a separate file to ship and resolve.
 */
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type ResourceLimits, Worker } from 'node:worker_threads';
import { Deque } from '../_internal/deque.js';
import { EXECUTOR_IMPORT_KEY } from '../_internal/worker_guard.js';
import type { Executor } from '../base_events.js';
import { type Awaitable, Coroutine, type Instruction } from '../coroutines.js';
import * as exceptions from '../exceptions.js';
import { CancelledError, RuntimeError, ValueError } from '../exceptions.js';
import { repr } from '../format_helpers.js';
import { fromPromise } from '../interop.js';
import { isWorkerFunction, type WorkerFunction } from '../threads.js';

/** Raised when an executor cannot finish a job because its worker broke (Python's BrokenExecutor). */
export class BrokenExecutor extends RuntimeError {}
Object.defineProperty(BrokenExecutor.prototype, 'name', { value: 'BrokenExecutor', writable: true });

/** A worker thread died or was terminated while running the job (Python's BrokenThreadPool). */
export class BrokenThreadPool extends BrokenExecutor {}
Object.defineProperty(BrokenThreadPool.prototype, 'name', { value: 'BrokenThreadPool', writable: true });

export interface ThreadPoolExecutorOptions {
  /** Most worker threads alive at once (default: the number of CPUs, at most 32). */
  maxWorkers?: number;
  /**
   * Memory limits of each worker (Node's `Worker` `resourceLimits`: `maxOldGenerationSizeMb`,
   * `maxYoungGenerationSizeMb`, `codeRangeSizeMb`, `stackSizeMb`). A job that exceeds them fails with
   * BrokenThreadPool and its worker is replaced; the process itself is not affected.
   */
  resourceLimits?: ResourceLimits;
}

/** The default pool size: one worker per CPU (at least 1, at most 32), see defaultMaxWorkers(). */
export function defaultMaxWorkers(): number {
  // Python uses min(32, cpus + 4) because its threads mostly wait on blocking I/O. Node has asynchronous
  // I/O on the main thread; its workers are for CPU-bound work, where more workers than CPUs only add
  // memory (each worker is a V8 isolate) and contention.
  return Math.max(1, Math.min(32, availableParallelism()));
}

const RESOURCE_LIMIT_KEYS = new Set([
  'maxOldGenerationSizeMb',
  'maxYoungGenerationSizeMb',
  'codeRangeSizeMb',
  'stackSizeMb',
]);

/** The life cycle of a job submitted to a worker. */
export type JobState = 'pending' | 'running' | 'finished' | 'cancelled';

/** One submitted call: a thenable with Python's concurrent Future `cancel()` semantics. */
export class WorkerJob<R = unknown> implements PromiseLike<R> {
  /** @internal */ _state: JobState = 'pending';
  /** @internal */ _fn: WorkerFunction;
  /** @internal */ _args: unknown[] | null;
  /** @internal */ _resolve!: (v: R) => void;
  /** @internal */ _reject!: (e: unknown) => void;
  private readonly _promise: Promise<R>;

  constructor(fn: WorkerFunction, args: unknown[]) {
    this._fn = fn;
    this._args = args;
    this._promise = new Promise<R>((resolve, reject) => {
      this._resolve = resolve;
      this._reject = reject;
    });
    // Like Python's concurrent futures, a job nobody awaits fails silently (runInExecutor's Future is
    // what reports never-retrieved exceptions), so it must not become an unhandled rejection either.
    this._promise.catch(() => {});
  }

  /**
   * Cancel the job if it has not started yet (it then never runs and the promise rejects with
   * CancelledError); returns false when it is running or done, as Python's `Future.cancel()`.
   */
  cancel(): boolean {
    if (this._state === 'cancelled') return true;
    if (this._state !== 'pending') return false;
    this._state = 'cancelled';
    this._args = null;
    this._reject(new CancelledError());
    return true;
  }

  /** 'pending' (queued), 'running', 'finished' or 'cancelled'. */
  get state(): JobState {
    return this._state;
  }

  then<T1 = R, T2 = never>(
    onfulfilled?: ((value: R) => T1 | PromiseLike<T1>) | null,
    onrejected?: ((reason: unknown) => T2 | PromiseLike<T2>) | null,
  ): Promise<T1 | T2> {
    return this._promise.then(onfulfilled, onrejected);
  }

  /** @internal */
  _finish(ok: boolean, value: unknown): void {
    if (this._state === 'finished' || this._state === 'cancelled') return;
    this._state = 'finished';
    this._args = null;
    if (ok) this._resolve(value as R);
    else this._reject(value);
  }

  toString(): string {
    return `<WorkerJob ${this._state} ${this._fn.name}()>`;
  }
}

/**
 * A pool of worker threads running `WorkerFunction`s (Python's ThreadPoolExecutor). Use it as the loop's
 * default executor (the default already is one) or pass it to `loop.runInExecutor(pool, fn, ...args)`.
 */
export class ThreadPoolExecutor implements Executor<WorkerFunction> {
  readonly maxWorkers: number;
  /** @internal per-worker memory limits (ThreadPoolExecutorOptions.resourceLimits) */
  readonly _resourceLimits: ResourceLimits | undefined;
  private _workers = new Set<PoolWorker>();
  private _idle: PoolWorker[] = [];
  private _queue = new Deque<WorkerJob<any>>();
  private _running = 0;
  private _shutdown = false;
  private _drained: (() => void)[] = [];

  constructor(options?: ThreadPoolExecutorOptions) {
    const max = options?.maxWorkers;
    if (max === undefined || max === null) {
      this.maxWorkers = defaultMaxWorkers();
    } else {
      if (typeof max !== 'number' || !Number.isInteger(max)) {
        throw new TypeError(`maxWorkers must be an integer, got ${repr(max)}`);
      }
      if (max <= 0) throw new ValueError('max_workers must be greater than 0');
      this.maxWorkers = max;
    }
    const limits = options?.resourceLimits;
    if (limits !== undefined && limits !== null) {
      if (typeof limits !== 'object') {
        throw new TypeError(`resourceLimits must be an object, got ${repr(limits)}`);
      }
      for (const [key, value] of Object.entries(limits)) {
        if (!RESOURCE_LIMIT_KEYS.has(key)) throw new TypeError(`resourceLimits: unknown limit ${repr(key)}`);
        if (value !== undefined && (typeof value !== 'number' || !(value > 0))) {
          throw new ValueError(`resourceLimits.${key} must be a positive number, got ${repr(value)}`);
        }
      }
      this._resourceLimits = { ...limits };
    }
  }

  /**
   * Queue `fn(...args)` and return a thenable job for its result. Throws at once for what cannot work:
   * a function that is not a WorkerFunction (JS closures cannot cross threads) or a shut-down pool.
   */
  submit<A extends unknown[], R>(fn: WorkerFunction<A, R>, ...args: A): WorkerJob<R>;
  submit(fn: unknown, ...args: unknown[]): WorkerJob<unknown> {
    if (!isWorkerFunction(fn)) {
      const what = typeof fn === 'function' ? `the function ${fn.name || '<anonymous>'}` : repr(fn);
      throw new TypeError(
        `a worker thread cannot run ${what}: JS functions cannot cross threads; pass ` +
          `workerFunction(new URL('./module.js', import.meta.url), 'exportedName') instead`,
      );
    }
    if (this._shutdown) throw new RuntimeError('cannot schedule new futures after shutdown');
    const job = new WorkerJob(fn, args);
    this._queue.push(job);
    this._dispatch();
    return job;
  }

  /**
   * Stop accepting jobs. Queued jobs still run (unless `cancelFutures`, which cancels them); the workers
   * exit once the queue is drained. With `wait` (default), resolves when every worker has exited.
   * The result is a promise that a coroutine can also await: `yield* pool.shutdown()`.
   */
  shutdown(wait = true, options?: { cancelFutures?: boolean }): AwaitablePromise<void> {
    return awaitablePromise(this._shutdownPromise(wait, options));
  }

  /**
   * `yield* asyncWith(new ThreadPoolExecutor(), function* (pool) { … })`: Python's `with pool:`. The
   * block gets the pool; leaving it shuts the pool down and waits for its jobs and workers (as
   * `Executor.__exit__` does with `shutdown(wait=True)`). Errors of the block are not suppressed.
   */
  aenter(): Coroutine<this> {
    return new Coroutine(aenterGen(this), AENTER);
  }

  /** Shut down and wait (see aenter()). */
  aexit(_error?: unknown): Coroutine<false> {
    return new Coroutine(aexitGen(this), AEXIT);
  }

  private _shutdownPromise(wait: boolean, options?: { cancelFutures?: boolean }): Promise<void> {
    this._shutdown = true;
    if (options?.cancelFutures) {
      for (let job = this._queue.shift(); job !== undefined; job = this._queue.shift()) job.cancel();
    }
    const done = new Promise<void>((resolve) => {
      this._drained.push(resolve);
    });
    this._maybeFinishShutdown();
    return wait ? done : Promise.resolve();
  }

  /**
   * Terminate every worker now (Python 3.14's `terminate_workers()` of process pools): queued jobs are
   * cancelled, running ones fail with BrokenThreadPool. The pool is shut down. Resolves when all exited.
   */
  terminateWorkers(): Promise<void> {
    this._shutdown = true;
    for (let job = this._queue.shift(); job !== undefined; job = this._queue.shift()) job.cancel();
    const exits: Promise<unknown>[] = [];
    for (const w of this._workers) exits.push(w._terminate('was terminated'));
    return Promise.all(exits).then(() => this._maybeFinishShutdown());
  }

  /** Number of worker threads alive (busy or idle). */
  get workerCount(): number {
    return this._workers.size;
  }

  /** @internal Give queued jobs to idle workers, starting new workers up to maxWorkers. */
  _dispatch(): void {
    for (;;) {
      let job = this._queue.peek();
      while (job !== undefined && job._state !== 'pending') {
        this._queue.shift();
        job = this._queue.peek();
      }
      if (job === undefined) break;
      let worker = this._idle.pop();
      if (worker === undefined) {
        if (this._workers.size >= this.maxWorkers) break;
        worker = new PoolWorker(this);
        this._workers.add(worker);
      }
      this._queue.shift();
      this._start(worker, job);
    }
    this._maybeFinishShutdown();
  }

  private _start(worker: PoolWorker, job: WorkerJob<any>): void {
    const args = job._args!;
    try {
      worker._post(job, { module: job._fn.module, name: job._fn.name, args });
    } catch (e) {
      job._finish(false, cloneError(job._fn, args, e));
      this._idle.push(worker);
      worker._idleNow();
      return;
    }
    job._state = 'running';
    this._running++;
  }

  /** @internal A worker finished its job (or died with it). */
  _jobDone(worker: PoolWorker, alive: boolean): void {
    this._running--;
    if (alive) {
      this._idle.push(worker);
      worker._idleNow();
    }
    this._dispatch();
  }

  /** @internal A worker exited (crash, terminate, or shutdown). */
  _workerExited(worker: PoolWorker): void {
    this._workers.delete(worker);
    const i = this._idle.indexOf(worker);
    if (i >= 0) this._idle.splice(i, 1);
    this._dispatch();
  }

  private _maybeFinishShutdown(): void {
    if (!this._shutdown) return;
    if (this._running > 0) return;
    let job = this._queue.peek();
    while (job !== undefined && job._state !== 'pending') {
      this._queue.shift();
      job = this._queue.peek();
    }
    if (job !== undefined) return;
    if (this._workers.size > 0) {
      // Idle workers only now: stop them. Each exit calls _workerExited, which comes back here.
      for (const w of this._idle) void w._terminate(null);
      return;
    }
    const waiters = this._drained;
    this._drained = [];
    for (const resolve of waiters) resolve();
  }

  toString(): string {
    const state = this._shutdown ? 'shutdown' : 'running';
    return `<ThreadPoolExecutor ${state} workers=${this._workers.size}/${this.maxWorkers} busy=${this._running}>`;
  }
}

/** A promise that a coroutine can also `yield*` (what ThreadPoolExecutor.shutdown() returns). */
export type AwaitablePromise<T> = Promise<T> & Awaitable<T>;

function awaitablePromise<T>(promise: Promise<T>): AwaitablePromise<T> {
  // The Future is made only when a coroutine awaits: it belongs to the loop running then.
  return Object.assign(promise, {
    [Symbol.iterator]: () => fromPromise(promise)[Symbol.iterator]() as Iterator<Instruction, T, unknown>,
  });
}

const AENTER = { name: '__enter__', qualname: 'Executor.__enter__' };
const AEXIT = { name: '__exit__', qualname: 'Executor.__exit__' };

// biome-ignore lint/correctness/useYield: entering a pool does not wait, like Python's __enter__.
function* aenterGen<P>(pool: P): Generator<Instruction, P, unknown> {
  return pool;
}

function* aexitGen(pool: ThreadPoolExecutor): Generator<Instruction, false, unknown> {
  yield* pool.shutdown(true);
  return false;
}

/** One worker thread of a pool, running at most one job at a time. */
class PoolWorker {
  private readonly _worker: Worker;
  private _job: WorkerJob<any> | null = null;
  private _exited = false;
  private _terminating: string | null = null;
  private _terminateCalled: Promise<number> | undefined;

  constructor(private readonly _pool: ThreadPoolExecutor) {
    this._worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { tsxApi: tsxApi() },
      ...(_pool._resourceLimits !== undefined ? { resourceLimits: _pool._resourceLimits } : {}),
    });
    this._worker.on('message', (msg: WorkerReply) => this._onMessage(msg));
    // An error that escaped the job (a stray callback threw, an import-time crash): the worker is dying.
    this._worker.on('error', (err: unknown) => this._onError(err));
    this._worker.on('exit', (code: number) => this._onExit(code));
  }

  _post(job: WorkerJob<any>, message: { module: string; name: string; args: unknown[] }): void {
    this._worker.postMessage(message);
    this._job = job;
    // The loop is waiting for this job: keep the process alive until it is done.
    this._worker.ref();
  }

  _idleNow(): void {
    this._worker.unref();
  }

  _terminate(reason: string | null): Promise<unknown> {
    if (this._exited) return Promise.resolve();
    if (this._terminating === null) this._terminating = reason;
    this._terminateCalled ??= this._worker.terminate();
    return this._terminateCalled;
  }

  private _onMessage(msg: WorkerReply): void {
    const job = this._job;
    if (job === null) return;
    this._job = null;
    job._finish(msg.ok, msg.ok ? msg.value : deserializeError(msg.error));
    this._pool._jobDone(this, true);
  }

  private _onError(err: unknown): void {
    if ((err as { code?: unknown } | null)?.code === 'ERR_WORKER_OUT_OF_MEMORY') {
      // V8 stopped the worker at its heap limit: the thread is gone, as if it had died.
      const job = this._job;
      const broken = new BrokenThreadPool(
        `A worker thread ran out of memory while running ${job?._fn.name ?? 'a job'}() ` +
          '(see the resourceLimits option)',
      );
      (broken as { cause?: unknown }).cause = err;
      this._terminating ??= 'ran out of memory';
      this._fail(broken);
      return;
    }
    this._fail(err);
  }

  private _fail(err: unknown): void {
    const job = this._job;
    if (job === null) return;
    this._job = null;
    job._finish(false, err);
    this._pool._jobDone(this, false);
  }

  private _onExit(code: number): void {
    this._exited = true;
    if (this._job !== null) {
      const what = this._terminating ?? `exited with code ${code}`;
      this._fail(new BrokenThreadPool(`A worker thread ${what} while running ${this._job._fn.name}()`));
    }
    this._pool._workerExited(this);
  }
}

let tsxApiUrl: string | null | undefined;

/**
 * The URL of tsx's ESM API when this process runs under tsx (`tsx main.ts` passes
 * `--import …/tsx/dist/loader.mjs`; `node --import tsx` names it), else null. Node 20 runs no `--import`
 * preload in worker threads, and importing tsx's loader there registers nothing, but its API's
 * `register()` does: the worker calls it, so that worker functions in `.ts` files load as in the parent.
 */
function tsxApi(): string | null {
  if (tsxApiUrl !== undefined) return tsxApiUrl;
  tsxApiUrl = null;
  const args = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/).filter(Boolean)];
  for (let i = 0; i < args.length; i++) {
    const m = /^--(?:import|loader|experimental-loader)(?:=(.*))?$/.exec(args[i]!);
    if (m === null) continue;
    const spec = m[1] ?? args[++i];
    if (spec === undefined) continue;
    try {
      if (spec === 'tsx' || spec === 'tsx/esm') {
        const pkg = createRequire(join(process.cwd(), 'noop.js')).resolve('tsx/package.json');
        tsxApiUrl = pathToFileURL(join(dirname(pkg), 'dist', 'esm', 'api', 'index.mjs')).href;
        break;
      }
      const url = spec.startsWith('file:') ? new URL(spec) : isAbsolute(spec) ? pathToFileURL(spec) : null;
      if (url !== null && /\/tsx\/dist\/(loader|esm\/index)\.mjs$/.test(url.pathname)) {
        tsxApiUrl = new URL(
          url.pathname.endsWith('loader.mjs') ? './esm/api/index.mjs' : './api/index.mjs',
          url,
        ).href;
        break;
      }
    } catch {
      // Not resolvable from here: workers load JavaScript only.
    }
  }
  return tsxApiUrl;
}

type WorkerReply = { ok: true; value: unknown } | { ok: false; error: SerializedError };

type SerializedError =
  | { isError: false; value: unknown }
  | {
      isError: true;
      name: string;
      message: string;
      stack: string | undefined;
      props: Record<string, unknown>;
      cause?: SerializedError;
      errors?: SerializedError[];
    };

/**
 * The worker's program, eval'd. It must run both as a CommonJS script (the default) and as an ES module
 * (when the parent runs with --input-type=module, which workers inherit), hence no `require`, no
 * top-level await: an async IIFE that imports worker_threads. Keep it dependency-free.
 */
const WORKER_SOURCE = `(async () => {
'use strict';
const { parentPort, workerData } = await import('node:worker_threads');
const IMPORTING = Symbol.for(${JSON.stringify(EXECUTOR_IMPORT_KEY)});
// The main thread's TypeScript loader (tsx), registered here too: Node 20 runs no --import in workers.
const loaderReady = workerData && workerData.tsxApi
  ? import(workerData.tsxApi).then((api) => { api.register(); })
  : null;
if (loaderReady) loaderReady.catch(() => {});
function noTypeScript(e, module) {
  if (!e || e.code !== 'ERR_UNKNOWN_FILE_EXTENSION') return e;
  const err = new TypeError(e.message + ': the worker thread cannot load TypeScript. tsyncio passes tsx ' +
    '(tsx main.ts, node --import tsx) on to its workers, and workers inherit the flag of Node type stripping; under any ' +
    'other loader, compile the module of ' + module + ' to JavaScript, or run the program with tsx.');
  err.code = e.code;
  return err;
}
function serializeError(e, depth) {
  if (e !== null && typeof e === 'object' && typeof e.message === 'string' && 'stack' in e) {
    const out = { isError: true, name: String(e.name), message: e.message, stack: e.stack, props: {} };
    for (const key of Object.keys(e)) {
      try { out.props[key] = structuredClone(e[key]); } catch { out.props[key] = String(e[key]); }
    }
    if (depth < 8 && e.cause !== undefined) out.cause = serializeError(e.cause, depth + 1);
    if (depth < 8 && Array.isArray(e.errors)) out.errors = e.errors.map((x) => serializeError(x, depth + 1));
    return out;
  }
  try { return { isError: false, value: structuredClone(e) }; } catch { return { isError: false, value: String(e) }; }
}
parentPort.on('message', async (job) => {
  let value;
  try {
    if (loaderReady) await loaderReady;
    let ns;
    // While the module's top level runs, run() refuses to start (a program that re-runs itself in
    // every worker): see src/_internal/worker_guard.ts.
    globalThis[IMPORTING] = job.module;
    try {
      ns = await import(job.module);
    } catch (e) {
      throw noTypeScript(e, job.name + '()');
    } finally {
      delete globalThis[IMPORTING];
    }
    const fn = ns[job.name];
    if (typeof fn !== 'function') {
      throw new TypeError("'" + job.name + "' is not a function exported by " + job.module +
        (fn === undefined ? '' : ' (it is ' + typeof fn + ')'));
    }
    value = await fn(...job.args);
  } catch (e) {
    parentPort.postMessage({ ok: false, error: serializeError(e, 0) });
    return;
  }
  try {
    parentPort.postMessage({ ok: true, value });
  } catch (e) {
    const err = new TypeError('the result of ' + job.name + '() cannot be sent back from the worker thread: ' +
      (e && e.message));
    parentPort.postMessage({ ok: false, error: serializeError(err, 0) });
  }
});
})();
`;

const ERROR_CLASSES: Map<string, new (...args: any[]) => Error> = (() => {
  const map = new Map<string, new (...args: any[]) => Error>();
  for (const cls of [Error, TypeError, RangeError, ReferenceError, SyntaxError, EvalError, URIError]) {
    map.set(cls.name, cls);
  }
  map.set('AggregateError', AggregateError);
  for (const value of Object.values(exceptions)) {
    if (typeof value === 'function' && value.prototype instanceof Error) {
      map.set((value.prototype as Error).name, value as new (...args: any[]) => Error);
    }
  }
  map.set('BrokenExecutor', BrokenExecutor);
  map.set('BrokenThreadPool', BrokenThreadPool);
  return map;
})();

/**
 * Rebuild an error thrown in a worker: the same class when it is a JS built-in or a tsyncio exception
 * (matched by name), else an Error whose `name` is the original's; message, stack (the worker's frames),
 * own properties (`code`, `errno` …), `cause` and `errors` are kept.
 */
function deserializeError(s: SerializedError): unknown {
  if (!s.isError) return s.value;
  const cls = ERROR_CLASSES.get(s.name);
  const err = Object.create((cls ?? Error).prototype) as Error;
  Object.defineProperty(err, 'message', { value: s.message, writable: true, configurable: true });
  if (cls === undefined || cls.prototype.name !== s.name) {
    Object.defineProperty(err, 'name', { value: s.name, writable: true, configurable: true });
  }
  Object.defineProperty(err, 'stack', { value: s.stack, writable: true, configurable: true });
  Object.assign(err, s.props);
  if (s.cause !== undefined) {
    Object.defineProperty(err, 'cause', {
      value: deserializeError(s.cause),
      writable: true,
      configurable: true,
    });
  }
  if (s.errors !== undefined) {
    Object.defineProperty(err, 'errors', {
      value: s.errors.map(deserializeError),
      writable: true,
      configurable: true,
    });
  }
  return err;
}

/** The TypeError for arguments postMessage refused: names the first argument that cannot be cloned. */
function cloneError(fn: WorkerFunction, args: unknown[], cause: unknown): TypeError {
  for (let i = 0; i < args.length; i++) {
    try {
      structuredClone(args[i]);
    } catch (e) {
      const err = new TypeError(
        `argument ${i + 1} of ${fn.name}() cannot be sent to a worker thread ` +
          `(not structured-cloneable): ${(e as Error).message}`,
      );
      err.cause = e;
      return err;
    }
  }
  const err = new TypeError(
    `the arguments of ${fn.name}() cannot be sent to a worker thread: ${(cause as Error)?.message}`,
  );
  err.cause = cause;
  return err;
}
