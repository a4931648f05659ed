/** Tunables, each with its reason (CPython's constants.py and base_events.py). */

/** Below this many scheduled timers, cancelled ones are only popped off the head (CPython: 100). */
export const MIN_SCHEDULED_TIMER_HANDLES = 100;

/**
 * Rebuild the timer heap when more than this fraction of it is cancelled timers (CPython: 0.5): mass
 * cancellation then costs O(n) per rebuild instead of leaving dead entries that slow every push/pop.
 */
export const MIN_CANCELLED_TIMER_HANDLES_FRACTION = 0.5;

/** Longest single wait on the host (24 h), as CPython's MAXIMUM_SELECT_TIMEOUT, "to avoid OS limitations". */
export const MAXIMUM_SELECT_TIMEOUT = 24 * 3600;

/** Debug mode: callbacks and task steps slower than this (seconds) are reported. */
export const DEFAULT_SLOW_CALLBACK_DURATION = 0.1;

/**
 * Host budget: the loop runs ready callbacks synchronously for at most this many milliseconds before it
 * gives the host (Node's libuv, the browser) a turn, so a long burst of ready work never starves host I/O,
 * while a sleep(0) switch stays a function call rather than a macrotask.
 */
export const HOST_BUDGET_MS = 4;

/** Frames kept in debug-mode creation stacks (coroutine origin tracking, future source tracebacks). */
export const DEBUG_STACK_DEPTH = 10;

/** Seconds Runner.close() waits for the default executor to shut down (CPython's THREAD_JOIN_TIMEOUT). */
export const THREAD_JOIN_TIMEOUT = 300;
