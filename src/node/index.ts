/**
 * tsyncio/node — everything from the portable root, plus what needs Node: the worker-thread executor,
 * signal handlers, subprocesses and streams. Importing this entry also installs the Node hooks (the
 * default executor for runInExecutor/toThread, and signal handling for addSignalHandler and run()).
 */
import './trace.js';

export * from '../index.js';
export type { ThreadPoolExecutorOptions } from './executor.js';
export {
  BrokenExecutor,
  BrokenThreadPool,
  defaultMaxWorkers,
  ThreadPoolExecutor,
  WorkerJob,
} from './executor.js';
