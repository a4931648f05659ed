/**
 * The Node host platform: every place where Node behaviour plugs into the portable core, in one object
 * (the HostPlatform interface of src/host.ts). The Node entry (src/node/index.ts) installs it with one
 * `installHostPlatform(nodePlatform)` call; nothing else registers anything by being imported.
 */
import { writeFileSync } from 'node:fs';
import { checkNotInWorkerImport } from '../_internal/worker_guard.js';
import type { HostPlatform } from '../host.js';
import { closeLoopServers } from './base_events.js';
import { ThreadPoolExecutor } from './executor.js';
import {
  addSignalHandler,
  dropLoopSignalHandlers,
  installSigint,
  loopRunning,
  removeSignalHandler,
} from './signals.js';
import { killLoopChildren } from './subprocess.js';

export const nodePlatform: HostPlatform = {
  addSignalHandler,
  removeSignalHandler,
  installSigint,
  // Executor workers exist on Node only, so only Node carries the guard (browser bundles do not).
  checkLoopStart: checkNotInWorkerImport,
  // runInExecutor(null, …) and toThread(): a worker-thread pool per loop.
  createDefaultExecutor: () => new ThreadPoolExecutor(),
  // Synchronous on purpose: loop.close() is synchronous and the process may exit right after it.
  writeTraceFile: (path, text) => writeFileSync(path, text),
  loopRunning,
  loopClosed(loop) {
    // CPython's close(): signal handlers dropped, running children killed; and the servers nothing can
    // serve any more are closed (a Node listening socket would keep the process alive forever).
    dropLoopSignalHandlers(loop);
    killLoopChildren(loop);
    closeLoopServers(loop);
  },
};
