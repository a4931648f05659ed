/**
 * The seam between tsyncio's loop and the host's own event loop (Node's libuv, a browser, Deno, Bun).
 *
 * The loop is a *guest* (Trio's model): it runs its ready callbacks in synchronous batches and tells the
 * host how to wake it again — "as soon as you have let I/O run" (`immediate`) or "after N ms" (`timer`).
 * Host events (promise settlements, sockets, workers) re-enter through `loop.callSoonThreadsafe`, which
 * asks for an immediate wake-up. Nothing here imports a `node:` module, so the core runs anywhere.
 *
 * Two seams live here: `Host`, how a loop waits (per loop, replaceable in tests), and `HostPlatform`, the
 * host features the core can use when the platform provides them (signals, Ctrl-C, the default executor,
 * trace files, loop-lifetime hooks).
 */
import type { EventLoop, Executor } from './base_events.js';

export interface Host {
  /** Monotonic milliseconds (performance.now()). */
  now(): number;
  /** Run `cb` after the host has had a turn (I/O, timers); returns a cancel function. */
  immediate(cb: () => void): () => void;
  /** Run `cb` after `ms` milliseconds; returns a cancel function. Keeps the process alive while pending. */
  timer(cb: () => void, ms: number): () => void;
  /** Block the thread for up to `ms` milliseconds (runSync only); false when the host cannot block. */
  block(ms: number): boolean;
}

const g = globalThis as any;

const perf: { now(): number } = g.performance ?? { now: () => Date.now() };

function makeImmediate(): (cb: () => void) => () => void {
  if (typeof g.setImmediate === 'function') {
    // Node, Bun: runs in libuv's check phase, right after I/O polling.
    return (cb) => {
      const h = g.setImmediate(cb);
      return () => g.clearImmediate(h);
    };
  }
  if (typeof g.MessageChannel === 'function') {
    // Browsers, Deno: a message is a macrotask that is not clamped like setTimeout(0).
    const channel = new g.MessageChannel();
    const queue: ((() => void) | null)[] = [];
    channel.port1.onmessage = () => {
      const cb = queue.shift();
      cb?.();
    };
    return (cb) => {
      const slot: { cb: (() => void) | null } = { cb };
      const run = () => slot.cb?.();
      queue.push(run);
      channel.port2.postMessage(0);
      return () => {
        slot.cb = null;
      };
    };
  }
  return (cb) => {
    const h = g.setTimeout(cb, 0);
    return () => g.clearTimeout(h);
  };
}

let blockBuffer: Int32Array | undefined;

export const defaultHost: Host = {
  now: () => perf.now(),
  immediate: makeImmediate(),
  timer(cb, ms) {
    const h = g.setTimeout(cb, ms);
    return () => g.clearTimeout(h);
  },
  block(ms) {
    if (typeof SharedArrayBuffer !== 'function' || typeof Atomics?.wait !== 'function') return false;
    blockBuffer ??= new Int32Array(new SharedArrayBuffer(4));
    try {
      Atomics.wait(blockBuffer, 0, 0, ms);
      return true;
    } catch {
      // Browsers' main threads refuse Atomics.wait.
      return false;
    }
  },
};

/**
 * Everything a host platform adds to the portable core — on Node, `src/node/host.ts` provides it and the
 * Node entry installs it with one `installHostPlatform()` call. A reader finds every Node seam here; the
 * core calls these and nothing else of the host's (without a platform, the features below are absent:
 * NotImplementedError for signal handlers, RuntimeError for the default executor and trace files, and
 * run() leaves SIGINT alone).
 */
export interface HostPlatform {
  /**
   * `loop.addSignalHandler(sig, …)`: validate `sig` (TypeError/ValueError/RuntimeError, as Python's
   * `_check_signal`), then that the loop is open, then make `callback` the signal's handler.
   */
  addSignalHandler(loop: EventLoop, sig: string | number, callback: () => void): void;
  /** `loop.removeSignalHandler(sig)`: whether the loop had a handler (the signal's default comes back). */
  removeSignalHandler(loop: EventLoop, sig: string | number): boolean;
  /**
   * While `Runner.run()` runs: call `onSigint` on Ctrl-C, unless SIGINT is handled by someone else;
   * returns the function that uninstalls it.
   */
  installSigint(onSigint: () => void): () => void;
  /** The executor of `runInExecutor(null, …)` and `toThread()`, made on first use per loop. */
  createDefaultExecutor(): Executor;
  /**
   * Before a loop starts (run(), runSync(), Runner.run(), runForever/runUntilComplete): throw if starting one
   * now is a mistake the host can see — on Node, an executor worker importing the program's own module
   * (src/_internal/worker_guard.ts). `entry` names what the user called.
   */
  checkLoopStart(entry: string): void;
  /** `run(main, { trace: 'file.json' })`: write the trace, synchronously (the process may exit next). */
  writeTraceFile(path: string, text: string): void;
  /** `runForever()` started or finished (a loop waiting for a signal keeps the process alive). */
  loopRunning(loop: EventLoop, running: boolean): void;
  /** The loop closes: drop its signal handlers, kill its children, close its servers (CPython's close()). */
  loopClosed(loop: EventLoop): void;
}

let platform: HostPlatform | null = null;

/** Install the host platform (the Node entry does, once); `null` removes it. */
export function installHostPlatform(p: HostPlatform | null): void {
  platform = p;
}

/** @internal The installed host platform, or null (the portable core alone). */
export function hostPlatform(): HostPlatform | null {
  return platform;
}
