/**
 * The task table and task tree of a process (Python 3.14's asyncio/tools.py, behind `python -m asyncio
 * ps PID` / `pstree PID`).
 *
 * CPython reads another process's memory (`_remote_debugging.RemoteUnwinder`). A Node process cannot be
 * read that way: a process that opts in serves `dumpAwaitedBy()` on a Unix socket (src/node/introspect.ts)
 * for the `tsyncio ps` / `pstree` command (src/node/cli.ts). `tsyncio/debug` (imported by the Node entry)
 * also registers the dump function on `globalThis[Symbol.for('tsyncio.introspect')]`, for a debugger you
 * attached yourself (nothing opens one for you). The dump has the shape of RemoteUnwinder.get_all_awaited_by(), and the
 * table and tree are built from it by ports of tools.py's own functions — so they can also be used
 * in-process: `formatTaskTable(dumpAwaitedBy())`.
 */
import { type StackFrame, suspendedCoroutineFrames } from './_internal/v8stack.js';
import type { EventLoop } from './base_events.js';
import { Coroutine } from './coroutines.js';
import { _getRunningLoop, checkLoopArg } from './events.js';
import { objectId } from './format_helpers.js';
import type { Future } from './futures.js';
import { Task } from './tasks.js';

/** A frame (FrameInfo): empty filename and line 0 when only the coroutine's name is known. */
export interface FrameInfo {
  filename: string;
  lineno: number;
  funcname: string;
}

/** A coroutine stack (CoroInfo); in `awaitedBy`, `taskName` holds the awaiting task's id. */
export interface CoroInfo {
  callStack: FrameInfo[];
  taskName: string;
}

export interface TaskInfo {
  taskId: string;
  taskName: string;
  coroutineStack: CoroInfo[];
  awaitedBy: CoroInfo[];
}

/** One loop's tasks (AwaitedInfo; Python has one per thread). */
export interface AwaitedInfo {
  threadId: number;
  awaitedBy: TaskInfo[];
}

function frameInfo(f: StackFrame): FrameInfo {
  return { filename: f.filename ?? '', lineno: f.lineno ?? 0, funcname: f.name };
}

/** A task's coroutine frames, innermost first (see graph.ts for where they come from). */
function taskFrames(task: Task<any>): FrameInfo[] {
  const frames = suspendedCoroutineFrames(task._awaitStack);
  if (frames.length > 0) return frames.map(frameInfo);
  const coro = task._coro;
  return [{ filename: '', lineno: 0, funcname: coro instanceof Coroutine ? coro.qualname : 'generator' }];
}

function awaiters(fut: Future<any>): Task<any>[] {
  const by = fut._awaitedBy;
  if (by === null) return [];
  const all = by instanceof Set ? [...by] : [by];
  return all.filter((f): f is Task<any> => f instanceof Task);
}

/**
 * The pending tasks of `loop` (default: the running loop; none → empty list) with their coroutine stacks
 * and who awaits them: RemoteUnwinder.get_all_awaited_by()'s shape.
 */
export function dumpAwaitedBy(loop?: EventLoop | null): AwaitedInfo[] {
  checkLoopArg(loop);
  const l = loop ?? _getRunningLoop();
  if (l === null) return [];
  const tasks: TaskInfo[] = [];
  for (const task of l._tasks) {
    if (task.done()) continue;
    tasks.push({
      taskId: objectId(task),
      taskName: task.getName(),
      coroutineStack: [{ callStack: taskFrames(task), taskName: task.getName() }],
      awaitedBy: awaiters(task).map((parent) => ({
        callStack: taskFrames(parent),
        taskName: objectId(parent),
      })),
    });
  }
  return [{ threadId: threadId(), awaitedBy: tasks }];
}

function threadId(): number {
  const proc = (globalThis as { process?: { pid?: number } }).process;
  return proc?.pid ?? 0;
}

// -- tools.py -----------------------------------------------------------------------------------------

/** A cycle in the awaited-by graph: no tree can be drawn. */
export class CycleFoundException extends Error {
  readonly cycles: string[][];
  readonly id2name: Map<string, string>;
  constructor(cycles: string[][], id2name: Map<string, string>) {
    super(`cycles found: ${JSON.stringify(cycles)}`);
    this.name = 'CycleFoundException';
    this.cycles = cycles;
    this.id2name = id2name;
  }
}

function formatStackEntry(elem: FrameInfo): string {
  if (elem.lineno === 0 && elem.filename === '') return elem.funcname;
  return `${elem.funcname} ${elem.filename}:${elem.lineno}`;
}

type Await = [parentId: string, stack: string[], childId: string];

function index(result: AwaitedInfo[]): {
  id2name: Map<string, string>;
  awaits: Await[];
  taskStacks: Map<string, string[]>;
} {
  const id2name = new Map<string, string>();
  const awaits: Await[] = [];
  const taskStacks = new Map<string, string[]>();
  for (const info of result) {
    for (const t of info.awaitedBy) {
      id2name.set(t.taskId, t.taskName);
      for (const coro of t.coroutineStack) taskStacks.set(t.taskId, coro.callStack.map(formatStackEntry));
      for (const coro of t.awaitedBy)
        awaits.push([coro.taskName, coro.callStack.map(formatStackEntry), t.taskId]);
    }
  }
  return { id2name, awaits, taskStacks };
}

function findCycles(awaits: Await[]): string[][] {
  const graph = new Map<string, Set<string>>();
  for (const [parent, , child] of awaits) {
    let s = graph.get(parent);
    if (s === undefined) graph.set(parent, (s = new Set()));
    s.add(child);
  }
  const color = new Map<string, number>(); // 0 white, 1 grey, 2 black
  const path: string[] = [];
  const cycles: string[][] = [];
  const dfs = (v: string): void => {
    color.set(v, 1);
    path.push(v);
    for (const w of graph.get(v) ?? []) {
      const c = color.get(w) ?? 0;
      if (c === 0) dfs(w);
      else if (c === 1) cycles.push([...path.slice(path.indexOf(w)), w]);
    }
    color.set(v, 2);
    path.pop();
  };
  for (const v of [...graph.keys()]) if ((color.get(v) ?? 0) === 0) dfs(v);
  return cycles;
}

/**
 * The awaited-by forest as text trees (tools.py's build_async_tree): tasks marked `(T)`, coroutine frames
 * between them. CycleFoundException when the graph has a cycle.
 */
export function buildAsyncTree(result: AwaitedInfo[], taskEmoji = '(T)', corEmoji = ''): string[][] {
  const { id2name, awaits, taskStacks } = index(result);
  const cycles = findCycles(awaits);
  if (cycles.length > 0) throw new CycleFoundException(cycles, id2name);
  // Nodes: 'T:<id>' for tasks, 'C<n>' for coroutine frames.
  const labels = new Map<string, string>();
  for (const [id, name] of id2name) labels.set(`T:${id}`, name);
  const children = new Map<string, string[]>();
  const kids = (n: string): string[] => {
    let k = children.get(n);
    if (k === undefined) children.set(n, (k = []));
    return k;
  };
  const corNodes = new Map<string, Map<string, string>>();
  let nextCor = 1;
  const corNode = (parent: string, frame: string): string => {
    let m = corNodes.get(parent);
    if (m === undefined) corNodes.set(parent, (m = new Map()));
    const existing = m.get(frame);
    if (existing !== undefined) return existing;
    const key = `C${nextCor++}`;
    labels.set(key, frame);
    kids(parent).push(key);
    m.set(frame, key);
    return key;
  };
  for (const [parentId, stack, childId] of awaits) {
    let cur = `T:${parentId}`;
    for (const frame of [...stack].reverse()) cur = corNode(cur, frame);
    const child = `T:${childId}`;
    if (!kids(cur).includes(child)) kids(cur).push(child);
  }
  const awaiting = new Set(awaits.map(([p]) => p));
  for (const id of id2name.keys()) {
    const stack = taskStacks.get(id);
    if (awaiting.has(id) || stack === undefined) continue;
    let cur = `T:${id}`;
    for (const frame of [...stack].reverse()) cur = corNode(cur, frame);
  }
  const allChildren = new Set([...children.values()].flat());
  const roots = [...labels.keys()].filter((n) => !allChildren.has(n));
  const pretty = (n: string): string => `${n.startsWith('T:') ? taskEmoji : corEmoji} ${labels.get(n)}`;
  const render = (n: string, prefix: string, last: boolean, buf: string[]): string[] => {
    buf.push(`${prefix}${last ? '└── ' : '├── '}${pretty(n)}`);
    const next = prefix + (last ? '    ' : '│   ');
    const k = children.get(n) ?? [];
    k.forEach((kid, i) => {
      render(kid, next, i === k.length - 1, buf);
    });
    return buf;
  };
  return roots.map((r) => render(r, '', true, []));
}

/** The task table (tools.py's build_task_table): one row per task and awaiter. */
export function buildTaskTable(result: AwaitedInfo[]): string[][] {
  const { id2name } = index(result);
  const table: string[][] = [];
  const short = (f: FrameInfo): string => formatStackEntry(f).split(' ')[0]!;
  for (const info of result) {
    const tid = String(info.threadId);
    for (const t of info.awaitedBy) {
      const coroStack = t.coroutineStack
        .flatMap((c) => c.callStack)
        .map(short)
        .join(' -> ');
      if (t.awaitedBy.length === 0) {
        table.push([tid, t.taskId, t.taskName, coroStack, '', '', '0x0']);
        continue;
      }
      for (const coro of t.awaitedBy) {
        const chain = coro.callStack.map(short).join(' -> ');
        table.push([
          tid,
          t.taskId,
          t.taskName,
          coroStack,
          chain,
          id2name.get(coro.taskName) ?? 'Unknown',
          coro.taskName,
        ]);
      }
    }
  }
  return table;
}

/** `python -m asyncio ps`'s output for a dump. */
export function formatTaskTable(result: AwaitedInfo[]): string {
  const pad = (s: string, n: number): string => s.padEnd(n);
  const widths = [10, 20, 20, 50, 50, 15, 15];
  const header = [
    'tid',
    'task id',
    'task name',
    'coroutine stack',
    'awaiter chain',
    'awaiter name',
    'awaiter id',
  ];
  const lines = [header.map((h, i) => pad(h, widths[i]!)).join(' '), '-'.repeat(180)];
  for (const row of buildTaskTable(result)) lines.push(row.map((c, i) => pad(c, widths[i]!)).join(' '));
  return lines.join('\n');
}

/** `python -m asyncio pstree`'s output for a dump (CycleFoundException for a cyclic graph). */
export function formatTaskTree(result: AwaitedInfo[]): string {
  return buildAsyncTree(result)
    .map((tree) => tree.join('\n'))
    .join('\n');
}

/** Python's error text for a cyclic graph (printed to stderr by the command). */
export function formatCycleError(e: CycleFoundException): string {
  const lines = ['ERROR: await-graph contains cycles - cannot print a tree!', ''];
  for (const c of e.cycles) lines.push(`cycle: ${c.map((id) => e.id2name.get(id) ?? id).join(' → ')}`);
  return lines.join('\n');
}

// The hook a debugger attached by the user can evaluate (`.dump()`: JSON). A symbol-keyed, non-enumerable
// property: invisible to ordinary code, stable across copies of the library (Symbol.for).
const INTROSPECT = Symbol.for('tsyncio.introspect');

/**
 * @internal Put the dump hook on `globalThis[Symbol.for('tsyncio.introspect')]` (once per process, whichever
 * copy of the library comes first). Called by src/debug.ts — `tsyncio/debug`, which the Node entry imports —
 * not at this module's load, so a bundled program that does not import `tsyncio/debug` carries no tools.ts.
 */
export function installIntrospectHook(): void {
  if (!(INTROSPECT in globalThis)) {
    Object.defineProperty(globalThis, INTROSPECT, {
      value: Object.freeze({ version: 1, dump: (): string => JSON.stringify(dumpAwaitedBy()) }),
      enumerable: false,
    });
  }
}
