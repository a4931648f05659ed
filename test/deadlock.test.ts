/**
 * Deadlock detection (issue 19 §1): a run that can never finish rejects with DeadlockError, after
 * cancelling the pending tasks so their finally blocks run. CPython hangs forever in these programs; the
 * host knows nothing else can happen, so tsyncio says so.
 *
 * On Node the check is the process running out of work ('beforeExit'), which a vitest worker never does:
 * those programs run as child processes (test/fixtures/deadlock_main.ts). runSync() knows by itself.
 */
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import {
  CancelledError,
  coroutine,
  createTask,
  DeadlockError,
  Event,
  getRunningLoop,
  RuntimeError,
  runSync,
  sleep,
  type Task,
  ValueError,
} from 'tsyncio';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

interface ChildResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run the fixture in `mode`; `onStdout` sees the output as it comes. Killed after 40 s. */
function runChild(mode: string, onStdout?: (text: string) => void): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/deadlock_main.ts', mode], {
      cwd: root,
      env: { ...process.env, NODE_OPTIONS: '', TSYNCIO_DEBUG: '' },
    });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      onStdout?.(stdout);
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('a run that can never finish (child processes)', { timeout: 60_000 }, () => {
  it.concurrent("issue 19's snippet: run() rejects with DeadlockError (exit status 1, not 13)", async () => {
    const r = await runChild('issue');
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('DeadlockError: run() can never finish: no task can be woken up again');
    expect(r.stderr).toContain("<Task pending name='Task-1' coro=<coroutine object main at");
    expect(r.stderr).toContain('in async main()');
    // The task list is not enumerable: Node's report does not dump the task objects.
    expect(r.stderr).not.toContain('_futWaiter');
  });

  it.concurrent('run(): the finally blocks run, the error is catchable and names every task', async () => {
    const r = await runChild('caught');
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines.slice(0, 3)).toEqual(['worker finally', 'main finally', 'caught DeadlockError']);
    expect(r.stdout).toContain('Pending tasks (2):');
    expect(r.stdout).toContain("<Task pending name='the-worker' coro=<coroutine object worker at");
    // The call graph: the future the worker waits on, awaited by the worker, awaited by the main task.
    expect(r.stdout).toMatch(
      /\* Future\(id=0x[0-9a-f]+\)\n\s+\+ Awaited by:\n\s+\* Task\(name='the-worker'[^\n]*\n\s+\+ Call stack:\n\s+\|\s+in async worker\(\)\n\s+\+ Awaited by:\n\s+\* Task\(name='Task-1'/,
    );
    expect(r.stdout).toContain('tasks: 2');
  });

  it.concurrent('runUntilComplete() and runForever() reject the same way', async () => {
    const [ruc, forever] = await Promise.all([runChild('ruc'), runChild('forever')]);
    expect(ruc.stdout).toMatch(
      /^worker finally\nmain finally\ncaught DeadlockError\nrunUntilComplete\(\) can never finish/,
    );
    expect(forever.stdout).toMatch(/^caught DeadlockError\nrunForever\(\) can never finish[^\n]*\nNo task/);
  });

  it.concurrent('the virtual clock: detected after the clock has run out of timers', async () => {
    const r = await runChild('virtual');
    expect(r.stdout).toMatch(/^slept until 3600\nworker finally\nmain finally\ncaught DeadlockError\n/);
  });

  it.concurrent('a cleanup that deadlocks again ends the run without waiting for it', async () => {
    const r = await runChild('stubborn');
    expect(r.stdout).toMatch(/^main finally\ncaught DeadlockError\n/);
    expect(r.stdout).toContain('The cleanup deadlocked too: 1 cancelled task did not finish');
    expect(r.stdout).not.toContain('not reached');
  });

  it.concurrent('a host promise nothing in the process can settle any more is a deadlock too', async () => {
    const r = await runChild('host-stuck');
    expect(r.stdout).toContain('caught DeadlockError');
    expect(r.stdout).toContain('the 1 pending host operation can never complete');
  });

  it.concurrent('a main task that swallows the cancellation still ends in DeadlockError', async () => {
    const r = await runChild('swallow');
    expect(r.stdout).toMatch(/^caught DeadlockError\nrun\(\) can never finish/);
  });

  it.concurrent('not a deadlock: a host timer, a pending host promise, a listening server', async () => {
    const server = runChild('server', (out) => {
      const m = /port (\d+)\n/.exec(out);
      if (m === null || (server as { connected?: boolean }).connected) return;
      (server as { connected?: boolean }).connected = true;
      // Connect only later: meanwhile the child waits with nothing but a listening server.
      setTimeout(() => {
        const sock = connect(Number(m[1]), '127.0.0.1', () => sock.end('hello'));
        sock.on('error', () => {});
      }, 300);
    });
    const [timer, promise, served] = await Promise.all([
      runChild('host-timer'),
      runChild('from-promise'),
      server,
    ]);
    expect(timer.stdout).toBe('result set by a host timer\n');
    expect(promise.stdout).toBe('result settled\n');
    expect(served.stdout).toMatch(/^port \d+\nresult hello\n$/);
    for (const r of [timer, promise, served]) {
      expect(r.code).toBe(0);
      expect(r.stderr).not.toContain('Deadlock');
    }
  });

  it.concurrent('the virtual clock jumps past host operations that can never complete', async () => {
    const r = await runChild('virtual-stuck');
    expect(r.stdout).toBe('result TimeoutError at 5\n');
  });
});

describe('runSync(): the loop itself knows', () => {
  it('raises DeadlockError after cancelling the tasks; finally blocks run', () => {
    const log: string[] = [];
    let tasks: Task<unknown>[] = [];
    const worker = coroutine(function* worker(event: Event) {
      try {
        yield* event.wait();
      } finally {
        log.push('worker finally');
      }
    });
    const main = coroutine(function* main() {
      const w = createTask(worker(new Event()), { name: 'w' });
      tasks = [w];
      try {
        yield* w;
      } finally {
        log.push('main finally');
      }
    });
    let error: unknown;
    try {
      runSync(main(), { clock: 'virtual' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DeadlockError);
    expect(error).toBeInstanceOf(RuntimeError);
    const e = error as DeadlockError;
    expect(e.message).toMatch(/^runSync\(\) can never finish: no task can be woken up again/);
    expect(e.message).toContain("name='w'");
    expect(e.tasks).toHaveLength(2);
    expect(e.tasks).toContain(tasks[0]);
    expect(log).toEqual(['worker finally', 'main finally']);
    expect(tasks[0]!.cancelled()).toBe(true);
  });

  it('waits for every cancelled task, not only the main one: a slow cleanup is not cut short', () => {
    const log: string[] = [];
    const worker = coroutine(function* worker() {
      try {
        yield* new Event().wait();
      } finally {
        yield* sleep(1); // e.g. a goodbye message to flush
        log.push(`worker cleaned at ${getRunningLoop().time()}`);
      }
    });
    const main = coroutine(function* main() {
      createTask(worker());
      yield* new Event().wait();
    });
    expect(() => runSync(main(), { clock: 'virtual' })).toThrow(DeadlockError);
    expect(log).toEqual(['worker cleaned at 1']);
  });

  it('after the timers have run out (real clock)', () => {
    const main = coroutine(function* main() {
      yield* sleep(0.001);
      yield* getRunningLoop().createFuture();
    });
    expect(() => runSync(main())).toThrow(DeadlockError);
  });

  it('a main coroutine that swallows the cancellation and returns: still DeadlockError', () => {
    const log: string[] = [];
    const main = coroutine(function* main() {
      try {
        yield* getRunningLoop().createFuture();
      } catch (e) {
        if (e instanceof CancelledError) {
          log.push('swallowed');
          return 'swallowed';
        }
        throw e;
      }
    });
    expect(() => runSync(main())).toThrow(DeadlockError);
    expect(log).toEqual(['swallowed']);
  });

  it("a deadlock in the shutdown's wait for leftover tasks raises at once, with the run's error as context", () => {
    const log: string[] = [];
    const leftover = coroutine(function* leftover() {
      try {
        yield* sleep(10);
      } catch (e) {
        log.push(`leftover got ${(e as Error).name}`);
        yield* getRunningLoop().createFuture(); // a cleanup that waits for nothing that will come
      }
    });
    const main = coroutine(function* main() {
      createTask(leftover(), { name: 'leftover' });
      yield* sleep(0);
      throw new ValueError('main failed');
    });
    let error: unknown;
    try {
      runSync(main(), { clock: 'virtual' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(DeadlockError);
    expect((error as Error).message).toMatch(
      /^runSync\(\) shutdown can never finish: .* The pending tasks were cancelled by the shutdown already, and did not finish\./,
    );
    expect((error as { context?: unknown }).context).toBeInstanceOf(ValueError);
    // Cancelled once, by the shutdown; never a second time.
    expect(log).toEqual(['leftover got CancelledError']);
  });

  it('a cleanup that deadlocks again raises at once', () => {
    const main = coroutine(function* main() {
      try {
        yield* getRunningLoop().createFuture();
      } finally {
        yield* getRunningLoop().createFuture();
      }
    });
    expect(() => runSync(main())).toThrow(/The cleanup deadlocked too: 1 cancelled task did not finish/);
  });
});
