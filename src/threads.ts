/**
 * toThread and the unit of work an executor runs on another thread (CPython's threads.py).
 *
 * JavaScript threads (Node's worker_threads, Web Workers) share no heap: a closure cannot cross to another
 * thread, only structured-cloneable data can. So where Python passes a function object, tsyncio passes a
 * `WorkerFunction`: the URL of a module plus the name of a function it exports. The worker imports the
 * module (once per worker) and calls the function with structured clones of the arguments; the result
 * (or the thrown error) comes back the same way.
 *
 * ```ts
 * // work.js:  export function fib(n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
 * const fib = workerFunction<typeof import('./work.js').fib>(new URL('./work.js', import.meta.url), 'fib');
 * const x: number = yield* toThread(fib, 30);
 * ```
 *
 * Nothing here imports a `node:` module: the Node thread pool lives in src/node/executor.ts.
 */
import { Coroutine, type Instruction } from './coroutines.js';
import { getRunningLoop } from './events.js';
import { ValueError } from './exceptions.js';
import { repr } from './format_helpers.js';

const WORKER_FUNCTION: unique symbol = Symbol.for('tsyncio.WorkerFunction');

/**
 * A function exported by a module, named so that another thread can import and call it.
 * `A` and `R` are the function's parameter and (awaited) return types; they exist for type-checking only.
 */
export interface WorkerFunction<A extends unknown[] = any[], R = unknown> {
  /** The module's absolute URL (`file:`, `data:`, `node:` …). */
  readonly module: string;
  /** The exported function's name. */
  readonly name: string;
  /** @internal phantom: carries the signature for type inference */
  readonly _signature?: (...args: A) => R;
  readonly [WORKER_FUNCTION]: true;
}

/**
 * Name the function `name` exported by `module` so that it can run on a worker thread
 * (`toThread`, `loop.runInExecutor`). `module` is a URL (best: `new URL('./work.js', import.meta.url)`)
 * or an absolute file path; a relative path is refused because it would be resolved against a different
 * place in the worker. Give the function's type to get typed arguments and result:
 * `workerFunction<typeof import('./work.js').fib>(url, 'fib')`.
 */
export function workerFunction<F extends (...args: any[]) => unknown = (...args: any[]) => unknown>(
  module: string | URL,
  name: string,
): WorkerFunction<Parameters<F>, Awaited<ReturnType<F>>> {
  if (typeof name !== 'string' || name === '') {
    throw new TypeError(`workerFunction(): name must be a non-empty string, got ${repr(name)}`);
  }
  const href = moduleHref(module);
  const fn = { module: href, name, [WORKER_FUNCTION]: true as const };
  Object.defineProperty(fn, 'toString', {
    value: () => `<workerFunction ${name} from ${href}>`,
    enumerable: false,
  });
  return Object.freeze(fn);
}

/** True for what `workerFunction()` returns. */
export function isWorkerFunction(obj: unknown): obj is WorkerFunction {
  return typeof obj === 'object' && obj !== null && (obj as WorkerFunction)[WORKER_FUNCTION] === true;
}

function moduleHref(module: unknown): string {
  if (module instanceof URL) return module.href;
  if (typeof module !== 'string') {
    throw new TypeError(`workerFunction(): module must be a URL or an absolute path, got ${repr(module)}`);
  }
  // A scheme of two letters or more (a single letter is a Windows drive: C:\…).
  if (/^[a-zA-Z][a-zA-Z\d+.-]+:/.test(module)) {
    try {
      return new URL(module).href;
    } catch {
      throw new ValueError(`workerFunction(): invalid module URL ${repr(module)}`);
    }
  }
  if (module.startsWith('/') || /^[a-zA-Z]:[\\/]/.test(module)) {
    const url = new URL('file://');
    // The pathname setter percent-encodes '?', '#' and spaces, but not '%' itself.
    url.pathname = module.replace(/%/g, '%25').replace(/\\/g, '/');
    return url.href;
  }
  throw new ValueError(
    `workerFunction(): relative module path ${repr(module)}: ` +
      `pass new URL(${repr(module)}, import.meta.url) or an absolute path`,
  );
}

const TO_THREAD_INFO = { name: 'to_thread' };

/**
 * Run `func(...args)` in the running loop's default executor and return its result (Python's
 * `asyncio.to_thread`). On Node the default executor is a pool of worker threads (tsyncio/node), so
 * `func` is a `WorkerFunction`. Context variables are not carried into the worker (they cannot be cloned
 * into another thread's module world), unlike Python.
 */
export function toThread<A extends unknown[], R>(func: WorkerFunction<A, R>, ...args: A): Coroutine<R> {
  return new Coroutine(toThreadGen(func, args), TO_THREAD_INFO);
}

function* toThreadGen<A extends unknown[], R>(
  func: WorkerFunction<A, R>,
  args: A,
): Generator<Instruction, R> {
  const loop = getRunningLoop();
  return yield* loop.runInExecutor(null, func, ...args);
}
