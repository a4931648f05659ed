/**
 * tsyncio/node — everything from the portable root, plus what needs Node: the worker-thread executor,
 * signal handlers, subprocesses and streams. Importing this entry also installs the Node hooks (the
 * default executor for runInExecutor/toThread, and signal handling for addSignalHandler and run()).
 */
import './trace.js';

import './signals.js';

export * from '../index.js';
export type {
  ConnectionOptions,
  ServerOptions,
  StartTlsOptions,
  TlsOptions,
  UnixConnectionOptions,
  UnixServerOptions,
} from './base_events.js';
export { Server, ServerSocket } from './base_events.js';
export { SSLCertVerificationError, SSLError } from './errors.js';
export type { JobState, ThreadPoolExecutorOptions } from './executor.js';
export {
  BrokenExecutor,
  BrokenThreadPool,
  defaultMaxWorkers,
  ThreadPoolExecutor,
  WorkerJob,
} from './executor.js';
export type { InspectOptions } from './inspect.js';
export { getAllAwaitedBy } from './inspect.js';
export type {
  ClientConnectedCallback,
  NodeStreamOptions,
  OpenConnectionOptions,
  OpenUnixConnectionOptions,
  ReadTransport,
  Separator,
  StartServerOptions,
  StartUnixServerOptions,
} from './streams.js';
export {
  DEFAULT_LIMIT,
  openConnection,
  openUnixConnection,
  readerFromReadable,
  StreamReader,
  StreamReaderProtocol,
  StreamWriter,
  startServer,
  startUnixServer,
  streamsFromDuplex,
  writerFromWritable,
} from './streams.js';
export type { ExecArgs, StdioSpec, SubprocessOptions } from './subprocess.js';
export {
  createSubprocessExec,
  createSubprocessShell,
  DEVNULL,
  PIPE,
  Process,
  STDOUT,
} from './subprocess.js';
export type {
  ExtraInfo,
  NodeStream,
  Protocol,
  SocketAddress,
  StreamTransportOptions,
  TransportOwner,
} from './transports.js';
export { StreamTransport } from './transports.js';
