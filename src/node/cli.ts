/**
 * The `tsyncio` command: `tsyncio ps PID` (a table of the pending tasks of a running Node process) and
 * `tsyncio pstree PID` (their awaited-by tree), like Python 3.14's `python -m asyncio ps/pstree`.
 * See inspect.ts for how the other process is reached.
 */
import { CycleFoundException, formatCycleError, formatTaskTable, formatTaskTree } from '../tools.js';
import { getAllAwaitedBy } from './inspect.js';

const USAGE = `usage: tsyncio {ps,pstree} PID [--port PORT]

  ps       Display a table of all pending tasks in a process
  pstree   Display a tree of all pending tasks in a process

The process must be a Node process that has loaded tsyncio. SIGUSR1 opens its inspector on
127.0.0.1:9229 (or the --inspect-port it was started with: pass it as --port).`;

/** Run the command; returns the exit status. Output goes to `out` / `err`. */
export async function main(
  argv: string[],
  out: (s: string) => void = (s) => process.stdout.write(s),
  err: (s: string) => void = (s) => process.stderr.write(s),
): Promise<number> {
  const args = [...argv];
  let port: number | undefined;
  const p = args.indexOf('--port');
  if (p >= 0) {
    port = Number(args[p + 1]);
    args.splice(p, 2);
    if (!Number.isInteger(port) || port <= 0 || port > 65535) {
      err(`tsyncio: error: --port must be a port number\n${USAGE}\n`);
      return 2;
    }
  }
  const [cmd, pidText] = args;
  if (cmd === '-h' || cmd === '--help') {
    out(`${USAGE}\n`);
    return 0;
  }
  if ((cmd !== 'ps' && cmd !== 'pstree') || pidText === undefined || args.length !== 2) {
    err(`${USAGE}\n`);
    return 2;
  }
  const pid = Number(pidText);
  if (!Number.isInteger(pid) || pid <= 0) {
    err(`tsyncio: error: argument pid: invalid int value: '${pidText}'\n`);
    return 2;
  }
  let tasks: Awaited<ReturnType<typeof getAllAwaitedBy>>;
  try {
    tasks = await getAllAwaitedBy(pid, port !== undefined ? { port } : undefined);
  } catch (e) {
    out(`Error retrieving tasks: ${(e as Error).message}\n`);
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
