/**
 * The guard against a program that re-runs itself in every executor worker.
 *
 * Python code keeps the function it hands to `run_in_executor` next to `main`; the natural port exports
 * it and names it with `workerFunction(import.meta.url, 'f')`. A worker thread then imports the program's
 * own file to find `f`, and the file's top level (`await run(main())`) runs the whole program again in
 * the worker — which submits more jobs, which start more workers (CPython has the same trap only for
 * process pools, hence its `if __name__ == '__main__':` guard). The Node executor's worker sets a global
 * while it imports a job's module; a loop started meanwhile fails with the error below instead.
 */
import { RuntimeError } from '../exceptions.js';

/** @internal The global an executor worker sets (to the module's URL) while it imports a job's module. */
export const EXECUTOR_IMPORT_KEY = 'tsyncio.executorImport';

const key = Symbol.for(EXECUTOR_IMPORT_KEY);

/** @internal Throw if an executor worker is importing a module right now: `entry` must not start. */
export function checkNotInWorkerImport(entry: string): void {
  const module = (globalThis as Record<symbol, unknown>)[key];
  if (typeof module !== 'string') return;
  throw new RuntimeError(
    `${entry} was called while an executor's worker thread was importing ${module} to call a function ` +
      'it exports: the module would run the whole program again in every worker. Keep worker functions ' +
      "in a module of their own (workerFunction(new URL('./work.js', import.meta.url), 'f')), or start " +
      'the program on the main thread only: `if (isMainThread) await run(main());` with isMainThread from ' +
      "'node:worker_threads' (Python's `if __name__ == '__main__':`).",
  );
}
