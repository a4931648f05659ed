/**
 * Call graphs: who awaits whom, through task boundaries (Python 3.14's asyncio/graph.py).
 *
 * Two sources, as in CPython:
 *   - "awaited by" edges are the futures' `_awaitedBy` links: a Task records one while it waits on a
 *     future (Task step), gather() records one from the calling task to each child, TaskGroup, shield and
 *     wait() do the same (see futureAddToAwaitedBy);
 *   - a task's *call stack* is its chain of coroutine frames. CPython walks `cr_await` from the task's
 *     coroutine; JavaScript cannot look inside a suspended generator. tsyncio instead records the JS stack
 *     at the moment a task suspends (the await primitives, futures.ts's suspendOn and suspendBare, run inside
 *     every generator of the chain; a hand-written body such as Queue.get names its own frame), and
 *     reads it back here: names, files and lines of each coroutine in the chain, innermost first. That
 *     recording is on while a debug-mode loop runs, or after `trackAwaitStacks(true)`; without it a
 *     suspended task shows its own coroutine's name only (no file, no inner frames). The current task is
 *     always exact: its stack is live.
 */
import { liveTaskFrames, type StackFrame, suspendedCoroutineFrames } from './_internal/v8stack.js';
import { Coroutine, coroutineDebug } from './coroutines.js';
import { installStacks } from './debug_stacks.js';
import { _getRunningLoop } from './events.js';
import { RuntimeError } from './exceptions.js';
import { captureRawStack, objectId, repr } from './format_helpers.js';
import { type Future, isFuture } from './futures.js';
import { Task } from './tasks.js';

/** One frame of a call stack: a coroutine (generator) frame or an ordinary function frame. */
export type CallGraphFrame = Readonly<StackFrame>;

/** Python's `FrameCallGraphEntry(frame)`. */
export class FrameCallGraphEntry {
  readonly frame: CallGraphFrame;
  constructor(frame: CallGraphFrame) {
    this.frame = Object.freeze({ ...frame });
    Object.freeze(this);
  }
}

/** Python's `FutureCallGraph(future, call_stack, awaited_by)`: frozen, like the dataclass. */
export class FutureCallGraph {
  readonly future: Future<any>;
  /** Innermost frame first. */
  readonly callStack: readonly FrameCallGraphEntry[];
  readonly awaitedBy: readonly FutureCallGraph[];
  constructor(future: Future<any>, callStack: FrameCallGraphEntry[], awaitedBy: FutureCallGraph[]) {
    this.future = future;
    this.callStack = Object.freeze(callStack);
    this.awaitedBy = Object.freeze(awaitedBy);
    Object.freeze(this);
  }
}

export interface CallGraphOptions {
  /** For the current task: how many frames to skip from the top (1 = the caller of captureCallGraph). */
  depth?: number;
  /**
   * Keep at most |limit| frames per call stack: the outermost ones for a positive limit, the innermost
   * ones for a negative limit; 0 captures no stack at all (only "awaited by").
   */
  limit?: number | null;
}

/**
 * Record where tasks suspend from now on (see the header): call graphs then show every coroutine of a
 * suspended task's await chain with its file and line. Debug mode does this by itself. It costs a stack
 * capture per suspension, so it is off by default.
 */
export function trackAwaitStacks(enabled = true): void {
  // Task reprs read the recorded stacks through the installed readers.
  if (enabled) installStacks();
  coroutineDebug.awaitStacksRequested = Boolean(enabled);
  const loop = _getRunningLoop();
  coroutineDebug.awaitStacks = Boolean(enabled) || (loop !== null && loop.getDebug());
}

function checkFuture(future: unknown): asserts future is Future<any> {
  if (!isFuture(future)) {
    throw new TypeError(`${repr(future)} object does not appear to be compatible with asyncio.Future`);
  }
}

function entries(frames: StackFrame[]): FrameCallGraphEntry[] {
  return frames.map((f) => new FrameCallGraphEntry(f));
}

/** The coroutine frames of a task that is not running, outermost first (CPython's `cr_await` walk order). */
function suspendedStack(future: Future<any>): StackFrame[] {
  if (!(future instanceof Task) || future.done()) return [];
  const frames = suspendedCoroutineFrames(future._awaitStack);
  if (frames.length > 0) return frames.reverse();
  // Nothing recorded: the task's own coroutine, by name only.
  const coro = future._coro;
  const name = coro instanceof Coroutine ? coro.qualname : 'generator';
  return [{ name, filename: null, lineno: null, colno: null, isCoroutine: true }];
}

function awaitedByOf(future: Future<any>, limit: number | null, path: Set<Future<any>>): FutureCallGraph[] {
  const by = future._awaitedBy;
  if (by === null) return [];
  const parents = by instanceof Set ? [...by] : [by];
  const out: FutureCallGraph[] = [];
  path.add(future);
  for (const parent of parents) {
    // A cycle in the awaited-by links (not possible with the library's own links) would recurse forever.
    if (path.has(parent)) continue;
    out.push(buildGraphForFuture(parent, limit, path));
  }
  path.delete(future);
  return out;
}

function buildGraphForFuture(
  future: Future<any>,
  limit: number | null,
  path: Set<Future<any>>,
): FutureCallGraph {
  checkFuture(future);
  let st = limit !== 0 ? suspendedStack(future) : [];
  const awaitedBy = awaitedByOf(future, limit, path);
  if (limit !== null) {
    if (limit > 0) st = st.slice(0, limit);
    else if (limit < 0) st = st.slice(limit);
  }
  st.reverse();
  return new FutureCallGraph(future, entries(st), awaitedBy);
}

/**
 * The async call graph of `future`, or of the current task when none is given (undefined when there is no
 * current task). RuntimeError outside a running loop without a future.
 */
export function captureCallGraph(
  future?: Future<any> | null,
  options?: CallGraphOptions,
): FutureCallGraph | undefined {
  const depth = options?.depth ?? 1;
  const limit = options?.limit ?? null;
  const loop = _getRunningLoop();
  if (future !== undefined && future !== null) {
    if (loop === null || future !== (loop._currentTask ?? undefined)) {
      return buildGraphForFuture(future, limit, new Set());
    }
  } else {
    if (loop === null) {
      throw new RuntimeError(
        'capture_call_graph() is called outside of a running event loop and no *future* to introspect was provided',
      );
    }
    future = loop._currentTask;
  }
  if (future === null || future === undefined) return undefined;
  checkFuture(future);
  // The current task: its frames are live on the JS stack (frame 0 is this function).
  let callStack = limit !== 0 ? liveTaskFrames(captureRawStack().stack ?? '', depth) : [];
  const awaitedBy = awaitedByOf(future, limit, new Set());
  if (limit !== null) {
    const l = -limit;
    if (l > 0) callStack = callStack.slice(0, l);
    else if (l < 0) callStack = callStack.slice(l);
  }
  return new FutureCallGraph(future, entries(callStack), awaitedBy);
}

/** Python's `repr()` of a frame's line in a formatted call graph. */
function formatFrame(f: CallGraphFrame): string {
  const tag = f.isCoroutine ? 'async ' : '';
  if (f.filename === null) return `in ${tag}${f.name}()`;
  return `File ${repr(f.filename)}, line ${f.lineno}, in ${tag}${f.name}()`;
}

function renderLevel(st: FutureCallGraph, buf: string[], level: number): void {
  const add = (line: string): void => {
    buf.push('    '.repeat(level) + line);
  };
  if (st.future instanceof Task) {
    add(`* Task(name=${repr(st.future.getName())}, id=${objectId(st.future)})`);
  } else {
    add(`* Future(id=${objectId(st.future)})`);
  }
  if (st.callStack.length > 0) {
    add('  + Call stack:');
    for (const e of st.callStack) add(`  |   ${formatFrame(e.frame)}`);
  }
  if (st.awaitedBy.length > 0) {
    add('  + Awaited by:');
    for (const fut of st.awaitedBy) renderLevel(fut, buf, level + 1);
  }
}

/** The call graph of `future` (default: the current task) as text; '' when there is no current task. */
export function formatCallGraph(future?: Future<any> | null, options?: CallGraphOptions): string {
  const graph = captureCallGraph(future, { depth: (options?.depth ?? 1) + 1, limit: options?.limit ?? null });
  if (graph === undefined) return '';
  const buf: string[] = [];
  renderLevel(graph, buf, 0);
  return buf.join('\n');
}

/**
 * @internal The call graph of a future that is not the running task (its awaiters' suspended stacks), as
 * formatCallGraph(future) gives it. The deadlock report uses this one: it never needs the live-stack path
 * of captureCallGraph (the running task's frames), so a bundle that only reports deadlocks leaves it out.
 */
export function formatFutureGraph(future: Future<any>): string {
  const buf: string[] = [];
  renderLevel(buildGraphForFuture(future, null, new Set()), buf, 0);
  return buf.join('\n');
}

/** Print the call graph of `future` (default: the current task) to `file` (default: console.log). */
export function printCallGraph(
  future?: Future<any> | null,
  options?: CallGraphOptions & { file?: { write(s: string): unknown } },
): void {
  // As CPython: this function's own frame shows at the top of the current task's stack.
  const text = formatCallGraph(future, { depth: options?.depth ?? 1, limit: options?.limit ?? null });
  if (options?.file) options.file.write(`${text}\n`);
  else console.log(text);
}
