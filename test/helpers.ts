/** Test helpers shared by the suites. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Awaitable, coroutine, EventLoop, type ExceptionContext, type Instruction, run } from 'tsyncio';
import { expect } from 'vitest';
import { H_CANCELLED, type TimerEntry } from '../src/events.js';

/** Run `fn` with a fresh loop that records exception-handler reports; closes the loop after. */
export function withLoop<T>(
  fn: (loop: EventLoop, reports: ExceptionContext[]) => Promise<T>,
  options?: { clock?: 'virtual' | 'monotonic' },
): Promise<T> {
  const loop = new EventLoop({ clock: options?.clock ?? 'virtual' });
  const reports: ExceptionContext[] = [];
  loop.setExceptionHandler((_l, ctx) => {
    reports.push(ctx);
  });
  return fn(loop, reports).finally(() => {
    if (!loop.isRunning()) loop.close();
  });
}

/** Force a full garbage collection (vitest runs with --expose-gc) and let finalizers run. */
export async function collectGarbage(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * THE way to run a test program: `main` (a generator function, run as the main coroutine, or any
 * awaitable: a coroutine object, a Task) under `run()` on a virtual-clock loop. Tests that need the loop
 * itself and the exception handler's reports use withLoop.
 */
export function arun<T>(
  main: (() => Generator<Instruction, T, unknown>) | { [Symbol.iterator](): Iterator<unknown, T> },
): Promise<T> {
  const aw = typeof main === 'function' ? coroutine(main)() : main;
  return run(aw as Awaitable<T>, { clock: 'virtual' });
}

/** Await `aw`, expecting it to raise an instance of `cls`; returns the error. */
export function* raises<E>(
  cls: abstract new (...args: any[]) => E,
  aw: Awaitable<unknown>,
): Generator<Instruction, E> {
  try {
    yield* aw;
  } catch (e) {
    expect(e).toBeInstanceOf(cls);
    return e as E;
  }
  throw new Error(`did not raise ${cls.name}`);
}

/** What `p` rejects with (an Error if it fulfils). */
export async function rejection(p: PromiseLike<unknown>): Promise<any> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

/** Call `fn` and return what it throws (an Error if it does not throw). */
export function thrown(fn: () => unknown): any {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected an exception');
}

/**
 * A test file's path and a `lineOf(marker)` that finds the line of a `// @marker` comment in it (for
 * expected `file:line` output): `const { file, lineOf } = sourceOf(import.meta.url)`.
 */
export function sourceOf(url: string): { file: string; lineOf: (marker: string) => number } {
  const file = fileURLToPath(url);
  const lines = readFileSync(file, 'utf8').split('\n');
  const lineOf = (marker: string): number => {
    const i = lines.findIndex((l) => l.includes(marker) && !l.includes('lineOf('));
    if (i < 0) throw new Error(`marker ${marker} not found in ${file}`);
    return i + 1;
  };
  return { file, lineOf };
}

/** The loop's timers still due to fire, as [entry, deadline] pairs in heap order (cancelled entries wait in the heap). */
export function liveTimers(loop: EventLoop): [TimerEntry, number][] {
  return loop._scheduled.entries().filter(([entry]) => (entry._hflags & H_CANCELLED) === 0);
}
