/**
 * Resources and process lifetime at the host boundary (issue 13 §5): independent runs in one process,
 * host operations refused by runSync, servers left open, cancellation cycles, worker memory limits.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  coroutine,
  createTask,
  fromPromise,
  gather,
  getRunningLoop,
  RuntimeError,
  run,
  runSync,
  sleep,
  type Task,
  waitFor,
} from 'tsyncio';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Run a fixture program as a child process (tsx), bounded in time. */
function runFixture(
  file: string,
  ...args: string[]
): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', `test/fixtures/${file}`, ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, NODE_OPTIONS: '', TSYNCIO_DEBUG: '' },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const worker = coroutine(function* worker(name: string, seconds: number) {
  const loop = getRunningLoop();
  yield* sleep(seconds);
  if (getRunningLoop() !== loop) throw new Error('saw another loop as running');
  return name;
});

describe('independent run() calls in one process', () => {
  it('a second run() started while the first waits (not from inside it) runs alongside it', async () => {
    const log: string[] = [];
    const first = run(worker('first', 0.05)).then((v) => {
      log.push(v);
      return v;
    });
    // Called from the test body (a host turn), not from the first loop's callbacks: not nested.
    const second = run(worker('second', 0.01)).then((v) => {
      log.push(v);
      return v;
    });
    expect(await Promise.all([first, second])).toEqual(['first', 'second']);
    expect(log).toEqual(['second', 'first']);
  });

  it('two request handlers (host callbacks) each calling run() both get their result', async () => {
    const results = await Promise.all(
      [0.03, 0.01].map(
        (d, i) =>
          new Promise((resolve, reject) => {
            setTimeout(() => run(worker(`req${i}`, d)).then(resolve, reject), i);
          }),
      ),
    );
    expect(results).toEqual(['req0', 'req1']);
  });

  it('host callbacks see the running loop while one loop runs, none while two interleave', async () => {
    const seen: string[] = [];
    const probe = (): void => {
      try {
        getRunningLoop();
        seen.push('loop');
      } catch (e) {
        seen.push((e as Error).message);
      }
    };
    const main = coroutine(function* main(d: number, probeAt: number | null) {
      if (probeAt !== null) setTimeout(probe, probeAt);
      yield* sleep(d);
    });
    await run(main(0.05, 10));
    const a = run(main(0.08, 20));
    const b = run(main(0.05, null));
    await Promise.all([a, b]);
    expect(seen).toEqual(['loop', 'no running event loop']);
  });

  it('runSync() from a host callback while a run() waits: runs to completion (it blocks the host meanwhile)', async () => {
    const quick = coroutine(function* quick() {
      yield* sleep(0.01);
      return 'sync done';
    });
    const main = coroutine(function* main() {
      const fromHost = yield* fromPromise(
        new Promise<string>((resolve) => setTimeout(() => resolve(runSync(quick())), 5)),
      );
      return [fromHost, getRunningLoop().isRunning()];
    });
    expect(await run(main())).toEqual(['sync done', true]);
  });

  it('run() from inside a running loop still throws synchronously (nested, as in Python)', async () => {
    const nested = coroutine(function* nested() {
      try {
        void run(worker('inner', 0));
        return 'no error';
      } catch (e) {
        return `${(e as Error).name}: ${(e as Error).message}`;
      }
    });
    expect(await run(nested())).toBe('RuntimeError: run() cannot be called from a running event loop');
    expect(RuntimeError).toBeDefined();
  });
});

describe('runSync() refusing host I/O leaves nothing behind (child processes)', { timeout: 60_000 }, () => {
  it.each(['conn', 'server', 'promise', 'abortable'])(
    '%s: RuntimeError at the call; no later crash, no socket left, the host operation stopped',
    (mode) => {
      const r = runFixture('runsync_host.ts', mode);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe(
        'raised RuntimeError: runSync() cannot wait for host I/O (a Promise); use run() instead\n' +
          'accepted=0 left=\n',
      );
      expect(r.status).toBe(0);
    },
  );
});

describe('tasks awaiting each other in a cycle', () => {
  it('a timeout cancels through the cycle: TimeoutError at the deadline, no stack overflow', async () => {
    const reports: string[] = [];
    const main = coroutine(function* main() {
      const loop = getRunningLoop();
      loop.setExceptionHandler((_l, ctx) => {
        reports.push(ctx.message);
      });
      let t1: Task<unknown> | null = null;
      let t2: Task<unknown> | null = null;
      const a = coroutine(function* a() {
        yield* waitFor(t2!, 1);
      });
      const b = coroutine(function* b() {
        yield* t1!;
      });
      t1 = createTask(a(), { name: 't1' });
      t2 = createTask(b(), { name: 't2' });
      yield* sleep(0);
      let outcome = 'none';
      try {
        yield* t1;
      } catch (e) {
        outcome = (e as Error).name;
      }
      const t2Outcome = (t2.exception() as Error | undefined)?.name;
      return { outcome, t2Outcome, at: loop.time() };
    });
    expect(await run(main(), { clock: 'virtual' })).toEqual({
      outcome: 'TimeoutError',
      t2Outcome: 'TimeoutError',
      at: 1,
    });
    expect(reports.filter((m) => m.startsWith('Task.cancel()'))).toEqual([
      expect.stringMatching(
        /^Task\.cancel\(\) found tasks awaiting each other in a cycle: <Task cancelling name='t1'/,
      ),
    ]);
  });

  it('a cycle through gather() and three tasks: cancel() reaches every task once', async () => {
    const main = coroutine(function* main() {
      getRunningLoop().setExceptionHandler(() => {});
      const tasks: Task<unknown>[] = [];
      const waitNext = coroutine(function* waitNext(i: number) {
        yield* gather(tasks[(i + 1) % 3]!);
      });
      for (let i = 0; i < 3; i++) tasks.push(createTask(waitNext(i), { name: `t${i}` }));
      yield* sleep(0);
      tasks[0]!.cancel('stop');
      yield* gather(...tasks, { returnExceptions: true });
      return tasks.map((t) => [t.cancelled(), t.cancelling()]);
    });
    expect(await run(main(), { clock: 'virtual' })).toEqual([
      [true, 1],
      [true, 1],
      [true, 1],
    ]);
  });
});

describe('a Server still open when run() returns', { timeout: 60_000 }, () => {
  it('is closed with the loop (and its connections), with a ResourceWarning: the process exits', () => {
    const r = runFixture('open_server.ts');
    // The client's 'close' comes from the host's socket, so it may be seen before or after run() returns
    // (a loaded machine reorders them): both must happen, in either order.
    expect(r.stdout.split('\n').sort()).toEqual(['', 'client closed', 'run returned served']);
    expect(r.stderr).toMatch(
      /ResourceWarning: unclosed <Server sockets=\[<ServerSocket [^\n]*>\]>: closed with its event loop/,
    );
    expect(r.status).toBe(0);
  });
});
