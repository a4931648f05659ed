/**
 * The deadlock report: what `DeadlockError` says when a run of the loop can never finish.
 *
 * Detection: runSync's driver (base_events.ts) sees it directly; run()/runForever() learn it from the host
 * (watchHostExit below: Node's 'beforeExit', installed by `tsyncio/debug`, which the Node entry imports).
 * Both end in onDeadlock(), which cancels the pending tasks and writes the message. The message lists every
 * pending task (its repr names what it waits for), then, for each future that a task waits on and that no task would complete (a bare Future, an Event's waiter,
 * a host operation), the call graph of who awaits it (graph.ts), so the chain from the stuck future up to
 * the main task can be read.
 */
import type { EventLoop } from './base_events.js';
import { runningLoops, runUntilCompleteCb, VIRTUAL_HORIZON } from './base_events.js';
import { coroutineDebug } from './coroutines.js';
import { DeadlockError } from './exceptions.js';
import type { Future } from './futures.js';
import { allTasks, gather, Task } from './tasks.js';

const proc = (globalThis as { process?: any }).process;

/**
 * The call graph of a stuck future (graph.ts's formatFutureGraph), installed by `tsyncio/debug`
 * (src/debug.ts; the Node entry imports it). Without it — a portable program that did not import it — the
 * report lists the pending tasks and what each waits for, without the graphs.
 */
let formatGraph: ((fut: Future<any>) => string) | null = null;

/** @internal Installed by src/debug.ts. */
export function installDeadlockGraphs(format: typeof formatGraph): void {
  formatGraph = format;
}

let exitWatch = false;

/**
 * @internal Installed by src/debug.ts (see base_events.ts's installHostExitWatch). Node (and Bun) emit
 * 'beforeExit' when the process has nothing left to do: no socket, timer, child or pending I/O keeps it
 * alive. A running loop then can never be woken (see hostIdle). Browsers have no such event: there a
 * deadlocked run simply never settles.
 */
export function watchHostExit(): void {
  if (exitWatch || !proc || typeof proc.on !== 'function') return;
  exitWatch = true;
  proc.on('beforeExit', () => {
    for (const l of [...runningLoops]) hostIdle(l);
  });
}

/**
 * The host has nothing left to do (Node's 'beforeExit') while this loop runs. The first time
 * the loop is found idle, give everything one more host turn (another 'beforeExit' listener may have
 * scheduled work, or settle a promise we wait on); if the loop is still idle at the next call and has
 * not run in between, nothing can ever wake it: a deadlock (or, under the virtual clock, host operations
 * that can never complete while timers wait: let the clock jump past them).
 */
function hostIdle(loop: EventLoop): void {
  const wakePending = loop._cancelWake !== null || loop._cancelTimer !== null;
  if (!loop._running || loop._inPump || wakePending || loop._ready.length > 0) return;
  if (loop._idleMark !== loop._pumps) {
    loop._idleMark = loop._pumps;
    loop._host.immediate(() => {});
    return;
  }
  loop._idleMark = -1;
  if (
    loop._virtual &&
    loop._hostPending > loop._hostStuck &&
    loop._popCancelledTimers() !== undefined &&
    loop._scheduled.peekWhen() < VIRTUAL_HORIZON
  ) {
    loop._hostStuck = loop._hostPending;
    loop._wakeup();
    return;
  }
  if (onDeadlock(loop)) loop._wakeup();
  else loop._finishRun(loop._deadlock, true);
}

/**
 * @internal Nothing can wake this run's tasks again. The first time: make the DeadlockError, cancel every
 * pending task (and the future runUntilComplete waits for) so their finally blocks run, and return true
 * if that scheduled work (the run goes on, then ends with the error). Otherwise — nothing was pending,
 * or the cancelled tasks deadlocked again — return false: the run must end with `_deadlock` now.
 */
export function onDeadlock(loop: EventLoop): boolean {
  if (loop._deadlock !== null) {
    cleanupDeadlocked(loop._deadlock);
    return false;
  }
  const tasks = [...allTasks(loop)];
  if (loop._shutdownRun) {
    // run()'s shutdown waits for tasks it has cancelled already: end at once (a second Ctrl-C's rule).
    loop._deadlock = makeDeadlockError(`${loop._runEntry} shutdown`, tasks, loop._hostPending, true);
    return false;
  }
  loop._deadlock = makeDeadlockError(loop._runEntry, tasks, loop._hostPending);
  // As run()'s shutdown does (CPython's _cancel_all_tasks): cancel them all, and wait for them all, not
  // only for the run's future — a second cancel from the shutdown would cut their finally blocks short.
  const waitFor: Future<any>[] = [...tasks];
  const f = loop._runFuture;
  if (f !== null && !f.done()) {
    f.removeDoneCallback(runUntilCompleteCb);
    if (!tasks.includes(f as Task<any>)) waitFor.push(f);
  }
  for (const t of tasks) t.cancel();
  if (f !== null && !f.done()) f.cancel();
  if (waitFor.length > 0) {
    gather(...waitFor, { returnExceptions: true }).addDoneCallback(() => loop.stop());
  }
  return loop._ready.length > 0;
}

/** How many call graphs the message shows at most (the task list is always complete). */
const MAX_GRAPHS = 20;

/** @internal */
export function makeDeadlockError(
  entry: string,
  tasks: Task<any>[],
  hostPending: number,
  inShutdown = false,
): DeadlockError {
  const lines = [
    `${entry} can never finish: no task can be woken up again (no callback is ready, no timer is ` +
      'scheduled, and ' +
      (hostPending > 0
        ? `the ${hostPending} pending host operation${hostPending === 1 ? '' : 's'} can never complete: ` +
          'nothing left in the process could settle them)'
        : 'no host operation is pending)') +
      (tasks.length === 0
        ? '.'
        : inShutdown
          ? '. The pending tasks were cancelled by the shutdown already, and did not finish.'
          : '. The pending tasks were cancelled so their finally blocks ran.'),
  ];
  if (tasks.length === 0) {
    lines.push('No task was pending.');
    return withoutStack(new DeadlockError(lines.join('\n'), tasks));
  }
  lines.push(`Pending tasks (${tasks.length}):`);
  for (const t of tasks) lines.push(`  ${t}`);
  // The leaves: futures awaited by a task that are not themselves tasks. Their graphs show the awaiters.
  const leaves: Future<any>[] = [];
  const seen = new Set<Future<any>>();
  for (const t of tasks) {
    const w = t._futWaiter;
    if (w === null || w instanceof Task || seen.has(w)) continue;
    seen.add(w);
    leaves.push(w);
  }
  if (formatGraph === null) {
    lines.push("(import 'tsyncio/debug' to see who waits for what: the call graph of each stuck future.)");
  } else if (leaves.length > 0) {
    lines.push('What they wait for, and who waits for it:');
    for (const leaf of leaves.slice(0, MAX_GRAPHS)) {
      lines.push(`  ${leaf}`);
      // Not a task, so never the running one: formatCallGraph(leaf) without its live-stack path.
      const graph = formatGraph(leaf);
      for (const line of graph.split('\n')) lines.push(`    ${line}`);
    }
    if (leaves.length > MAX_GRAPHS) lines.push(`  … and ${leaves.length - MAX_GRAPHS} more`);
  }
  if (formatGraph !== null && !coroutineDebug.awaitStacks) {
    lines.push(
      '(Run with TSYNCIO_DEBUG=1, or call trackAwaitStacks(), to see the files and lines of each task.)',
    );
  }
  return withoutStack(new DeadlockError(lines.join('\n'), tasks));
}

/**
 * @internal The cancelled tasks did not finish either: their cleanup waits for something that can never
 * happen too. Said in the message of the error the run ends with.
 */
export function cleanupDeadlocked(error: DeadlockError): DeadlockError {
  const n = error.tasks.filter((t) => !(t as Task<any>).done()).length;
  error.message +=
    `\nThe cleanup deadlocked too: ${n} cancelled task${n === 1 ? '' : 's'} did not finish (a finally ` +
    'block or except clause waits for something that can never happen); the run ends now.';
  return withoutStack(error);
}

/** The stack would show the loop's internals (the check runs from the host's exit event): leave it out. */
function withoutStack(error: DeadlockError): DeadlockError {
  error.stack = `${error.name}: ${error.message}`;
  return error;
}
