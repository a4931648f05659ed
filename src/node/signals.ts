/**
 * Signals on Node: `loop.addSignalHandler` / `removeSignalHandler`, run()'s SIGINT handling, and the
 * exit status of a program that dies of an unhandled KeyboardInterrupt (CPython's unix_events.py signal
 * part, runners.py's SIGINT part, and the interpreter's "exit via SIGINT").
 *
 * Python has one handler per signal per process (`signal.signal` replaces it). Node has a list of
 * listeners per signal, and any listener disables the default action. So this module keeps Python's
 * model: one *current* handler per signal, installed as a single process listener while it is set, and
 * removed (the default action comes back) when it is cleared. Loops and the Runner both go through it,
 * so a loop handler for SIGINT replaces run()'s, as in Python.
 *
 * Node delivers signals to the main thread's event loop, between callbacks: a handler never runs in the
 * middle of a loop iteration, and a program stuck in synchronous code sees no signal until it yields
 * (Python's handlers run between bytecodes and can interrupt a pure-Python loop).
 */
import { writeSync } from 'node:fs';
import { constants } from 'node:os';
import type { EventLoop } from '../base_events.js';
import { KeyboardInterrupt, RuntimeError, ValueError } from '../exceptions.js';
import { repr } from '../format_helpers.js';

type SignalName = NodeJS.Signals;

const SIGNAL_NUMBERS = constants.signals as Record<string, number>;
const SIGNAL_NAMES = new Map<number, SignalName>();
for (const [name, num] of Object.entries(SIGNAL_NUMBERS)) {
  if (!SIGNAL_NAMES.has(num)) SIGNAL_NAMES.set(num, name as SignalName);
}

/** The signals no process can catch (Python: `signal.signal` fails with EINVAL). */
const UNCATCHABLE = new Set(['SIGKILL', 'SIGSTOP']);

/**
 * The name of signal `sig`, a name ('SIGTERM') or a number (15): TypeError for anything else, ValueError
 * for a signal this system does not have. `allowZero` admits 0 (kill's existence check).
 */
export function signalName(sig: unknown, allowZero = false): SignalName {
  if (typeof sig === 'string') {
    if (!Object.hasOwn(SIGNAL_NUMBERS, sig)) throw new ValueError(`invalid signal name ${repr(sig)}`);
    return sig as SignalName;
  }
  if (typeof sig === 'number') {
    if (allowZero && sig === 0) return 0 as unknown as SignalName;
    const name = Number.isInteger(sig) ? SIGNAL_NAMES.get(sig) : undefined;
    if (name === undefined) throw new ValueError(`invalid signal number ${sig}`);
    return name;
  }
  throw new TypeError(`sig must be a signal name or number, not ${repr(sig)}`);
}

/**
 * Python's `_check_signal` for handlers: signalName(), plus RuntimeError for a signal that cannot be
 * caught (SIGKILL, SIGSTOP). Returns the name.
 */
export function checkSignal(sig: unknown): SignalName {
  const name = signalName(sig);
  if (UNCATCHABLE.has(name)) throw new RuntimeError(`sig ${String(sig)} cannot be caught`);
  return name;
}

// -- the per-process table: one current handler per signal --------------------------------------------

interface Slot {
  handler: () => void;
  listener: () => void;
}

const slots = new Map<SignalName, Slot>();

/** Make `handler` the current handler for `sig`; null restores the default action. */
function setHandler(sig: SignalName, handler: (() => void) | null): void {
  const old = slots.get(sig);
  if (handler === null) {
    if (old !== undefined) {
      process.off(sig, old.listener);
      slots.delete(sig);
    }
    return;
  }
  if (old !== undefined) {
    old.handler = handler;
    return;
  }
  const slot: Slot = { handler, listener: () => slot.handler() };
  try {
    process.on(sig, slot.listener);
  } catch (e) {
    // libuv refuses some signals (EINVAL): Python's "sig N cannot be caught".
    if ((e as { code?: string }).code === 'EINVAL') throw new RuntimeError(`sig ${sig} cannot be caught`);
    throw e;
  }
  slots.set(sig, slot);
}

function currentHandler(sig: SignalName): (() => void) | null {
  return slots.get(sig)?.handler ?? null;
}

// -- loop.addSignalHandler / removeSignalHandler ----------------------------------------------------------

/** Each loop's handlers (Python's `loop._signal_handlers`). */
const loopHandlers = new WeakMap<EventLoop, Map<SignalName, () => void>>();

/** The platform's addSignalHandler (see HostPlatform in src/host.ts). */
export function addSignalHandler(loop: EventLoop, sig: string | number, callback: () => void): void {
  const name = checkSignal(sig);
  loop._checkClosed();
  let handlers = loopHandlers.get(loop);
  if (handlers === undefined) loopHandlers.set(loop, (handlers = new Map()));
  setHandler(name, callback);
  // A handler is a host source: the virtual clock gives the host a turn before each jump (base_events).
  if (!handlers.has(name)) loop._hostSources++;
  handlers.set(name, callback);
  updateKeepAlive();
}

/** The platform's removeSignalHandler. */
export function removeSignalHandler(loop: EventLoop, sig: string | number): boolean {
  // Python's _check_signal validates only: removing SIGKILL's (never set) handler is just false.
  const name = signalName(sig);
  const handlers = loopHandlers.get(loop);
  if (handlers === undefined || !handlers.delete(name)) return false;
  loop._hostSources--;
  // Python restores the default (default_int_handler for SIGINT, SIG_DFL otherwise) whoever's it was.
  setHandler(name, null);
  updateKeepAlive();
  return true;
}

/** A closing loop's signal handlers are dropped (CPython's close()). */
export function dropLoopSignalHandlers(loop: EventLoop): void {
  const handlers = loopHandlers.get(loop);
  if (handlers === undefined) return;
  for (const name of [...handlers.keys()]) removeSignalHandler(loop, name);
  loopHandlers.delete(loop);
}

/*
 * Node's signal watchers do not keep the process alive, but a Python loop waiting for a signal blocks in
 * select() for as long as it takes (`stop = loop.create_future(); loop.add_signal_handler(SIGTERM, …);
 * await stop`). So while a running loop has a signal handler, a ref'd idle timer keeps the process up.
 */
const runningLoops = new Set<EventLoop>();
let keepAlive: ReturnType<typeof setInterval> | null = null;

/** The platform's loopRunning. */
export function loopRunning(loop: EventLoop, running: boolean): void {
  if (running) runningLoops.add(loop);
  else runningLoops.delete(loop);
  updateKeepAlive();
}

function updateKeepAlive(): void {
  let needed = false;
  for (const loop of runningLoops) {
    if ((loopHandlers.get(loop)?.size ?? 0) > 0) {
      needed = true;
      break;
    }
  }
  if (needed && keepAlive === null) {
    keepAlive = setInterval(() => {}, 2 ** 31 - 1);
  } else if (!needed && keepAlive !== null) {
    clearInterval(keepAlive);
    keepAlive = null;
  }
}

// -- run(): SIGINT cancels the main task ----------------------------------------------------------------

/** The platform's installSigint: run()'s Ctrl-C. */
export function installSigint(onSigint: () => void): () => void {
  installKeyboardInterruptExit();
  // Like Python's Runner: only when SIGINT has its default action (nobody else handles it).
  if (currentHandler('SIGINT') !== null || process.listenerCount('SIGINT') > 0) return () => {};
  setHandler('SIGINT', onSigint);
  return () => {
    // Restore the default only if the handler is still ours (a loop may have replaced it meanwhile).
    if (currentHandler('SIGINT') === onSigint) setHandler('SIGINT', null);
  };
}

// -- an unhandled KeyboardInterrupt kills the process by SIGINT ---------------------------------------------

let exitHookInstalled = false;

/**
 * Python exits an unhandled KeyboardInterrupt by killing itself with SIGINT (after the traceback), so the
 * parent (a shell: status 130) knows the program was interrupted. Node would exit with status 1. The
 * 'uncaughtExceptionMonitor' event sees every error about to kill the process (thrown, or an unhandled
 * rejection in Node's default mode) without changing what happens to the others; for a
 * KeyboardInterrupt it prints the stack and re-raises SIGINT with its default action.
 */
function installKeyboardInterruptExit(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('uncaughtExceptionMonitor', (err) => {
    if (!(err instanceof KeyboardInterrupt)) return;
    // Someone handles uncaught exceptions: the process is not going to die of this one.
    if (process.listenerCount('uncaughtException') > 0) return;
    try {
      writeSync(2, `${err.stack ?? 'KeyboardInterrupt'}\n`);
    } catch {
      // stderr closed: nothing to print to.
    }
    process.removeAllListeners('SIGINT');
    slots.delete('SIGINT');
    // With no listener left, libuv has restored the default action: the kernel ends the process now.
    process.kill(process.pid, 'SIGINT');
    // Not reached where SIGINT is deliverable; elsewhere, the conventional status.
    process.exit(130);
  });
}
