/**
 * The seam between tsyncio's loop and the host's own event loop (Node's libuv, a browser, Deno, Bun).
 *
 * The loop is a *guest* (Trio's model): it runs its ready callbacks in synchronous batches and tells the
 * host how to wake it again — "as soon as you have let I/O run" (`immediate`) or "after N ms" (`timer`).
 * Host events (promise settlements, sockets, workers) re-enter through `loop.callSoonThreadsafe`, which
 * asks for an immediate wake-up. Nothing here imports a `node:` module, so the core runs anywhere.
 */
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
