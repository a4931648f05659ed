/**
 * tsyncio/node — everything from the portable root, plus what needs Node: the worker-thread executor,
 * signal handlers, subprocesses and streams. This entry installs the Node host platform (src/node/host.ts:
 * the default executor for runInExecutor/toThread, signal handling for addSignalHandler and run(), trace
 * files, and what a closing loop must clean up) with one installHostPlatform() call at its end.
 */
import { installHostPlatform } from '../host.js';
import { nodePlatform } from './host.js';

import '../debug.js';
import './introspect.js';

import './loop_methods.js';

export * from '../index.js';
export type {
  AcceptedSocketOptions,
  AddrInfo,
  ConnectionOptions,
  InetAddress,
  ServerOptions,
  SocketAddress,
  StartTlsOptions,
  TlsOptions,
  UnixConnectionOptions,
  UnixServerOptions,
} from './base_events.js';
export { Server, ServerSocket } from './base_events.js';
export type { DatagramEndpointOptions } from './datagram.js';
export { UDPTransport } from './datagram.js';
export { SSLCertVerificationError, SSLError } from './errors.js';
export type { AwaitablePromise, JobState, ThreadPoolExecutorOptions } from './executor.js';
export {
  BrokenExecutor,
  BrokenThreadPool,
  defaultMaxWorkers,
  ThreadPoolExecutor,
  WorkerJob,
} from './executor.js';
export type { InspectOptions } from './inspect.js';
export { getAllAwaitedBy } from './inspect.js';
export { disableIntrospection, enableIntrospection } from './introspect.js';
export type { PipeLike, SendfileOptions, SubprocessTransportOptions } from './pipes.js';
export { ChildTransport } from './pipes.js';
export type { Address } from './protocols.js';
export {
  BaseProtocol,
  BufferedProtocol,
  DatagramProtocol,
  Protocol,
  SubprocessProtocol,
} from './protocols.js';
export type {
  ClientConnectedCallback,
  NodeStreamOptions,
  OpenConnectionOptions,
  OpenUnixConnectionOptions,
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
  StreamProtocol,
  StreamTransportOptions,
  TransportOwner,
} from './transports.js';
export {
  BaseTransport,
  DatagramTransport,
  ReadTransport,
  StreamTransport,
  SubprocessTransport,
  Transport,
  WriteTransport,
} from './transports.js';

// The one place Node plugs into the core: signals, Ctrl-C, the default executor, trace files, loop hooks.
installHostPlatform(nodePlatform);
