/** Test helpers shared by the suites. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Awaitable, coroutine, EventLoop, type ExceptionContext, type Instruction, run } from 'tsyncio';
import { expect } from 'vitest';

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

/** Run a test body as the main coroutine on a virtual-clock loop. */
export function arun<T>(body: () => Generator<Instruction, T, unknown>): Promise<T> {
  return run(coroutine(body)(), { clock: 'virtual' });
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
