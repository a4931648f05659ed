/**
 * The deadlock report: what `DeadlockError` says when a run of the loop can never finish.
 *
 * Detection lives in the loop (base_events.ts: `_hostIdle`, `_onDeadlock`, and runSync's driver); this
 * module only writes the message. It lists every pending task (its repr names what it waits for), then,
 * for each future that a task waits on and that no task would complete (a bare Future, an Event's waiter,
 * a host operation), the call graph of who awaits it (graph.ts), so the chain from the stuck future up to
 * the main task can be read.
 */
import { coroutineDebug } from './coroutines.js';
import { DeadlockError } from './exceptions.js';
import type { Future } from './futures.js';
import { Task } from './tasks.js';

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
