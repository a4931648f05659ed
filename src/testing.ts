/**
 * Testing time-dependent code with virtual time (Trio's autojump clock, Effect's TestClock).
 *
 * Under the virtual clock `loop.time()` starts at 0 and, whenever every task waits on timers alone, jumps
 * straight to the next timer: `sleep(3600)` returns at once with `loop.time() === 3600`, timers fire in
 * exactly the order they would on the real clock, and a test of a 30-second timeout takes microseconds.
 * Host work (a `fromPromise` of a real promise, an executor job, a socket) holds the clock still until it
 * delivers, since it could schedule something earlier than the next timer.
 */
import type { Awaitable } from './coroutines.js';
import { getRunningLoop } from './events.js';
import { type RunOptions, run, runSync } from './runners.js';

/** `run(main, { clock: 'virtual' })`: run a coroutine on a new virtual-time loop. */
export function runVirtual<T>(main: Awaitable<T>, options?: Omit<RunOptions, 'clock'>): Promise<T> {
  return run(main, { ...options, clock: 'virtual' });
}

/**
 * `runSync(main, { clock: 'virtual' })`: synchronous, for code that touches no host I/O — the virtual
 * clock never blocks the thread, so the whole run is a plain function call.
 */
export function runVirtualSync<T>(main: Awaitable<T>, options?: Omit<RunOptions, 'clock'>): T {
  return runSync(main, { ...options, clock: 'virtual' });
}

/** Seconds on the running loop's clock (simulated seconds under virtual time). */
export function now(): number {
  return getRunningLoop().time();
}
