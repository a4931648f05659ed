/** Helpers for the structured-concurrency suites (taskgroups, timeouts, waitFor, syntax). */
import {
  type Awaitable,
  EventLoop,
  type ExceptionContext,
  eagerTaskFactory,
  run,
  type TaskFactory,
} from 'tsyncio';

/** CPython runs its TaskGroup tests with both task factories; so do we. */
export const FACTORIES: readonly ['lazy' | 'eager', TaskFactory | null][] = [
  ['lazy', null],
  ['eager', eagerTaskFactory as TaskFactory],
];

/** Run `main` on a fresh virtual-clock loop (with the given task factory); reports are collected. */
export function runWith<T>(
  main: Awaitable<T>,
  factory: TaskFactory | null = null,
  reports: ExceptionContext[] = [],
): Promise<T> {
  return run(main, {
    loopFactory: () => {
      const loop = new EventLoop({ clock: 'virtual' });
      loop.setTaskFactory(factory);
      loop.setExceptionHandler((_l, ctx) => {
        reports.push(ctx);
      });
      return loop;
    },
  });
}

/** The constructor names of a group's exceptions, as a sorted list (CPython's get_error_types). */
export function errorTypes(eg: unknown): string[] {
  const list = (eg as { exceptions: unknown[] }).exceptions;
  return [...new Set(list.map((e) => (e as object).constructor.name))].sort();
}

/** Python's `__context__` as tsyncio records it. */
export function contextOf(e: unknown): unknown {
  return (e as { context?: unknown }).context;
}
