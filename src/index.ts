/// <reference lib="esnext.disposable" preserve="true" />
/**
 * tsyncio — Python's asyncio for TypeScript. The public API: every name is exported from here, the way
 * asyncio's __init__.py gathers its submodules' __all__.
 */

export type { Comparator, Ordered } from './_internal/compare.js';
export type { StackFrame } from './_internal/v8stack.js';
export type {
  EventLoopOptions,
  ExceptionContext,
  ExceptionHandler,
  Executor,
  TaskFactory,
} from './base_events.js';
export { EventLoop, newEventLoop } from './base_events.js';
export type { ReturnWhen, WaitOptions } from './combinators.js';
export {
  ALL_COMPLETED,
  AsCompletedIterator,
  asCompleted,
  FIRST_COMPLETED,
  FIRST_EXCEPTION,
  shield,
  wait,
  waitFor,
} from './combinators.js';
export type { ContextVarOptions } from './contextvars.js';
export { Context, ContextVar, copyContext, Token } from './contextvars.js';
export type {
  Awaitable,
  CoroutineFunction,
  CoroutineGenerator,
  CoroutineIterator,
  CoroutineProtocol,
  CoroutineState,
  Instruction,
} from './coroutines.js';
export {
  Coroutine,
  coroutine,
  coroutineMethod,
  IS_COROUTINE_FUNCTION,
  isCoroutine,
  isCoroutineFunction,
} from './coroutines.js';
export { getEventLoop, getRunningLoop, Handle, setEventLoop, TimerHandle } from './events.js';
export type { ErrorClass, Matcher } from './exceptions.js';
export * from './exceptions.js';
export { pyRepr as repr } from './format_helpers.js';
export type { DoneCallback, FutureOptions, FutureState } from './futures.js';
export { Future, isFuture } from './futures.js';
export type { CallGraphFrame, CallGraphOptions } from './graph.js';
export {
  captureCallGraph,
  FrameCallGraphEntry,
  FutureCallGraph,
  formatCallGraph,
  printCallGraph,
  trackAwaitStacks,
} from './graph.js';
export type { Host } from './host.js';
export { abortable, fromPromise } from './interop.js';
export type { BarrierState } from './locks.js';
export { Barrier, BoundedSemaphore, Condition, Event, Lock, Semaphore } from './locks.js';
export type { LogLevel } from './log.js';
export { logger } from './log.js';
export type { PriorityQueueOptions } from './queues.js';
export {
  LifoQueue,
  PriorityQueue,
  Queue,
  QueueEmpty,
  QueueFull,
  QueueIterator,
  QueueShutDown,
} from './queues.js';
export type { RunOptions, TraceRecorder } from './runners.js';
export { Runner, run, runSync } from './runners.js';
export type { StaggeredRaceResult } from './staggered.js';
export { staggeredRace } from './staggered.js';
export type {
  AsyncContextManager,
  AsyncGeneratorFn,
  AsyncGeneratorState,
  AsyncIterableProtocol,
  AsyncIteratorProtocol,
  Body,
  Emit,
  Suppressed,
} from './syntax.js';
export { AsyncGeneratorType, aclosing, aiter, anext, asyncFor, asyncGenerator, asyncWith } from './syntax.js';
export { TaskGroup } from './taskgroups.js';
export type {
  AwaitedOf,
  Driven,
  GatherOptions,
  TaskConstructor,
  TaskConstructorOptions,
  TaskCoroutine,
  TaskOptions,
} from './tasks.js';
export {
  allTasks,
  createEagerTaskFactory,
  createTask,
  currentTask,
  eagerTaskFactory,
  ensureFuture,
  GatheringFuture,
  gather,
  sleep,
  Task,
} from './tasks.js';
export { now, runVirtual, runVirtualSync } from './testing.js';
export type { WorkerFunction } from './threads.js';
export { isWorkerFunction, toThread, workerFunction } from './threads.js';
export type { TimeoutState } from './timeouts.js';
export { Timeout, timeout, timeoutAt } from './timeouts.js';
export type { AwaitedInfo, CoroInfo, FrameInfo, TaskInfo } from './tools.js';
export {
  buildAsyncTree,
  buildTaskTable,
  CycleFoundException,
  dumpAwaitedBy,
  formatTaskTable,
  formatTaskTree,
} from './tools.js';
export type { ChromeTrace, Instrument, TraceEvent, TracingOptions } from './trace.js';
export { startTracing, stopTracing, Tracer, traceTo } from './trace.js';
export type { TraceSvgOptions } from './trace_svg.js';
export { traceToHtml, traceToSvg } from './trace_svg.js';
