/**
 * The `tsyncio` command: `tsyncio ps PID` (a table of the pending tasks of a running Node process) and
 * `tsyncio pstree PID` (their awaited-by tree), like Python 3.14's `python -m asyncio ps/pstree`.
 * See inspect.ts for how the other process is reached (its opt-in introspection socket: no signal, no
 * debugger), and README's debugging section for the threat model.
 */
import {
  type AwaitedInfo,
  CycleFoundException,
  type FrameInfo,
  formatCycleError,
  formatTaskTable,
  formatTaskTree,
} from '../tools.js';
import { getAllAwaitedBy } from './inspect.js';

const USAGE = `usage: tsyncio {ps,pstree} PID

  ps       Display a table of all pending tasks in a process
  pstree   Display a tree of all pending tasks in a process

The process must be a Node process that uses tsyncio and serves introspection: started with
TSYNCIO_INTROSPECT=1 in its environment, or calling enableIntrospection() from tsyncio/node.`;

// C0 and C1 controls, DEL, and the line/paragraph separators and bidirectional overrides that can
// rearrange what a terminal shows.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** `s` with every control character written as an escape (`\n`, `\x1b`, `\u202e`): safe to print. */
export function escapeControl(s: string): string {
  return s.replace(CONTROL, (c) => {
    const named = NAMED[c];
    if (named !== undefined) return named;
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16)}`;
  });
}

function escapeFrames(frames: FrameInfo[]): FrameInfo[] {
  return frames.map((f) => ({
    filename: escapeControl(f.filename),
    lineno: f.lineno,
    funcname: escapeControl(f.funcname),
  }));
}

/** Every string of a dump (they come from the target process) escaped. */
function escapeDump(dump: AwaitedInfo[]): AwaitedInfo[] {
  const coros = (cs: AwaitedInfo['awaitedBy'][number]['awaitedBy']) =>
    cs.map((c) => ({ callStack: escapeFrames(c.callStack), taskName: escapeControl(c.taskName) }));
  return dump.map((info) => ({
    threadId: info.threadId,
    awaitedBy: info.awaitedBy.map((t) => ({
      taskId: escapeControl(t.taskId),
      taskName: escapeControl(t.taskName),
      coroutineStack: coros(t.coroutineStack),
      awaitedBy: coros(t.awaitedBy),
    })),
  }));
}

/** Run the command; returns the exit status. Output goes to `out` / `err`. */
export async function main(
  argv: string[],
  out: (s: string) => void = (s) => process.stdout.write(s),
  err: (s: string) => void = (s) => process.stderr.write(s),
): Promise<number> {
  const [cmd, pidText] = argv;
  if (cmd === '-h' || cmd === '--help') {
    out(`${USAGE}\n`);
    return 0;
  }
  if ((cmd !== 'ps' && cmd !== 'pstree') || pidText === undefined) {
    err(`${USAGE}\n`);
    return 2;
  }
  if (argv.length > 2) {
    err(`${USAGE}\ntsyncio: error: unrecognized arguments: ${escapeControl(argv.slice(2).join(' '))}\n`);
    return 2;
  }
  const pid = Number(pidText);
  if (!/^\s*\d+\s*$/.test(pidText) || !Number.isInteger(pid) || pid <= 0) {
    err(`tsyncio: error: argument pid: invalid int value: '${escapeControl(pidText)}'\n`);
    return 2;
  }
  let tasks: AwaitedInfo[];
  try {
    tasks = escapeDump(await getAllAwaitedBy(pid));
  } catch (e) {
    out(`Error retrieving tasks: ${escapeControl(String((e as Error)?.message ?? e))}\n`);
    return 1;
  }
  if (cmd === 'ps') {
    out(`${formatTaskTable(tasks)}\n`);
    return 0;
  }
  try {
    const tree = formatTaskTree(tasks);
    if (tree !== '') out(`${tree}\n`);
    return 0;
  } catch (e) {
    if (!(e instanceof CycleFoundException)) throw e;
    err(`${formatCycleError(e)}\n`);
    return 1;
  }
}
