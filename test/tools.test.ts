import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { main as cli } from '../src/node/cli.js';
import {
  type AwaitedInfo,
  buildAsyncTree,
  CycleFoundException,
  coroutine,
  createTask,
  dumpAwaitedBy,
  formatTaskTable,
  formatTaskTree,
  gather,
  run,
  sleep,
} from '../src/node/index.js';
import { formatCycleError } from '../src/tools.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/hung_tasks.ts', import.meta.url));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

let child: ChildProcess | null = null;
afterEach(() => {
  child?.kill('SIGKILL');
  child = null;
});

/** Start the fixture (main → supervisor → gather of three workers) and wait until its tasks exist. */
async function startFixture(port: number, ...args: string[]): Promise<number> {
  const c = spawn(process.execPath, ['--import', 'tsx', `--inspect-port=${port}`, FIXTURE, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child = c;
  // Drain its stderr (the inspector's "Debugger listening" lines).
  c.stderr!.resume();
  await new Promise<void>((resolve, reject) => {
    c.stdout!.once('data', () => resolve());
    c.once('exit', (code) => reject(new Error(`fixture exited with ${code}`)));
  });
  return c.pid!;
}

async function runCli(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await cli(
    argv,
    (s) => (out += s),
    (s) => (err += s),
  );
  return { code, out, err };
}

// These start a tsx process with an inspector: seconds on a loaded 2-core CI machine.
describe('tsyncio ps / pstree (another process, through its inspector)', { timeout: 60_000 }, () => {
  it('pstree shows the awaited-by tree of a running process, as python -m asyncio pstree', async () => {
    const port = await freePort();
    const pid = await startFixture(port, '--track');
    const { code, out, err } = await runCli(['pstree', String(pid), '--port', String(port)]);
    expect(err).toBe('');
    expect(code).toBe(0);
    const lines = out
      .trimEnd()
      .split('\n')
      .map((l) => l.replace(FIXTURE, 'FIXTURE').replace(/\S*[\\/]src[\\/]tasks\.ts:\d+/, 'TASKS'));
    expect(lines).toEqual([
      '└── (T) Task-1',
      '    └──  main FIXTURE:20',
      '        └── (T) supervisor',
      '            └──  supervisor FIXTURE:10',
      '                ├── (T) worker-1',
      '                │   └──  worker FIXTURE:7',
      '                │       └──  sleep TASKS',
      '                ├── (T) worker-2',
      '                │   └──  worker FIXTURE:7',
      '                │       └──  sleep TASKS',
      '                └── (T) worker-3',
      '                    └──  worker FIXTURE:7',
      '                        └──  sleep TASKS',
    ]);
  });

  it('ps prints the task table (coroutine names only when the process does not track await stacks)', async () => {
    const port = await freePort();
    const pid = await startFixture(port);
    const { code, out } = await runCli(['ps', String(pid), '--port', String(port)]);
    expect(code).toBe(0);
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toBe(
      'tid        task id              task name            coroutine stack                                    awaiter chain                                      awaiter name    awaiter id     ',
    );
    expect(lines[1]).toBe('-'.repeat(180));
    const rows = lines.slice(2).map((l) => l.split(/\s+/).filter(Boolean));
    expect(rows.map((r) => [r[0], r[2], r[3]])).toEqual([
      [String(pid), 'Task-1', 'main'],
      [String(pid), 'supervisor', 'supervisor'],
      [String(pid), 'worker-1', 'worker'],
      [String(pid), 'worker-2', 'worker'],
      [String(pid), 'worker-3', 'worker'],
    ]);
    expect(rows[0]![4]).toBe('0x0');
    // worker-1 is awaited by the supervisor task: chain, name, id.
    expect(rows[2]!.slice(4)).toEqual(['supervisor', 'supervisor', rows[1]![1]]);
    // The process keeps running: ask twice.
    const again = await runCli(['ps', String(pid), '--port', String(port)]);
    expect(again.out.split('\n')[0]).toBe(lines[0]);
    expect(again.code).toBe(0);
  });

  it('reports errors the way Python does, with exit status 1 (2 for usage)', async () => {
    expect(await runCli(['ps'])).toMatchObject({ code: 2, out: '' });
    expect((await runCli(['ps', 'abc'])).err).toBe(
      "tsyncio: error: argument pid: invalid int value: 'abc'\n",
    );
    expect((await runCli(['--help'])).out).toMatch(/^usage: tsyncio \{ps,pstree\} PID/);
    const port = await freePort();
    // A process that does not exist.
    const gone = await runCli(['ps', '999999999', '--port', String(port)]);
    expect(gone.code).toBe(1);
    expect(gone.out).toBe('Error retrieving tasks: no process with pid 999999999\n');
  });
});

describe('task table and tree (tools.py) in-process', () => {
  it('dumpAwaitedBy describes the running loop; formatTaskTree draws it', async () => {
    const worker = coroutine(function* worker() {
      yield* sleep(10);
    });
    const main = coroutine(function* main() {
      const a = createTask(worker(), { name: 'a' });
      const b = createTask(worker(), { name: 'b' });
      const g = createTask(
        coroutine(function* waiter() {
          yield* gather(a, b);
        })(),
        { name: 'waiter' },
      );
      yield* sleep(0);
      const dump = dumpAwaitedBy();
      g.cancel();
      return dump;
    });
    const dump = await run(main());
    expect(dump).toHaveLength(1);
    expect(dump[0]!.awaitedBy.map((t) => t.taskName)).toEqual([
      expect.stringMatching(/^Task-\d+$/),
      'a',
      'b',
      'waiter',
    ]);
    const tree = formatTaskTree(dump).split('\n');
    expect(tree.slice(-6)).toEqual([
      '└── (T) waiter',
      '    └──  waiter',
      '        ├── (T) a',
      '        │   └──  worker',
      '        └── (T) b',
      '            └──  worker',
    ]);
    expect(formatTaskTable(dump).split('\n')).toHaveLength(2 + 4);
    expect(dumpAwaitedBy()).toEqual([]);
  });

  it('a cycle in the await graph is CycleFoundException, printed as Python prints it', () => {
    const frame = { filename: '', lineno: 0, funcname: 'f' };
    const dump: AwaitedInfo[] = [
      {
        threadId: 1,
        awaitedBy: [
          {
            taskId: '0x1',
            taskName: 'A',
            coroutineStack: [],
            awaitedBy: [{ callStack: [frame], taskName: '0x2' }],
          },
          {
            taskId: '0x2',
            taskName: 'B',
            coroutineStack: [],
            awaitedBy: [{ callStack: [frame], taskName: '0x1' }],
          },
        ],
      },
    ];
    let caught: unknown;
    try {
      buildAsyncTree(dump);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(CycleFoundException);
    expect(formatCycleError(caught as CycleFoundException)).toBe(
      'ERROR: await-graph contains cycles - cannot print a tree!\n\ncycle: B → A → B',
    );
  });
});
