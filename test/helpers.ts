/** Test helpers shared by the suites. */
import { EventLoop, type ExceptionContext } from 'tsyncio';

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
