/**
 * Signals (src/node/signals.ts): loop.addSignalHandler/removeSignalHandler in this process (SIGUSR2,
 * sent to ourselves), and run()'s Ctrl-C behaviour in child processes sent SIGINT
 * (test/fixtures/sigint_main.ts; CPython's test_runners.py test_interrupt_* describe the same).
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';
import {
  ContextVar,
  coroutine,
  EventLoop,
  type Future,
  getRunningLoop,
  type Instruction,
  KeyboardInterrupt,
  RuntimeError,
  run,
  sleep,
  ValueError,
} from 'tsyncio/node';
import { describe, expect, it } from 'vitest';

const SIG = 'SIGUSR2';

/** Wait inside a coroutine until `fut` is done (the signal arrives through the host). */
function* waitFor<T>(fut: Future<T>): Generator<Instruction, T> {
  return yield* fut;
}

describe('loop.addSignalHandler', () => {
  it('calls the callback on the loop, with its arguments, in the context of the call', async () => {
    const baseline = process.listenerCount(SIG);
    const tag = new ContextVar<string>('tag', { default: 'none' });
    const main = coroutine(function* main() {
      const loop = getRunningLoop();
      const got = loop.createFuture<unknown[]>();
      tag.set('at add');
      loop.addSignalHandler(
        SIG,
        (a: number, b: string) => {
          got.setResult([a, b, getRunningLoop() === loop, tag.get()]);
        },
        1,
        'two',
      );
      tag.set('later');
      expect(process.listenerCount(SIG)).toBe(baseline + 1);
      process.kill(process.pid, SIG);
      const r = yield* waitFor(got);
      expect(loop.removeSignalHandler(SIG)).toBe(true);
      expect(loop.removeSignalHandler(SIG)).toBe(false);
      return r;
    });
    expect(await run(main())).toEqual([1, 'two', true, 'at add']);
    expect(process.listenerCount(SIG)).toBe(baseline);
  });

  it('replaces the previous handler for the same signal; numbers name signals too', async () => {
    const baseline = process.listenerCount(SIG);
    const calls: string[] = [];
    const main = coroutine(function* main() {
      const loop = getRunningLoop();
      const got = loop.createFuture<void>();
      loop.addSignalHandler(SIG, () => calls.push('first'));
      loop.addSignalHandler(constants.signals.SIGUSR2, () => {
        calls.push('second');
        got.setResult(undefined);
      });
      expect(process.listenerCount(SIG)).toBe(baseline + 1);
      process.kill(process.pid, SIG);
      yield* waitFor(got);
      yield* sleep(0.01);
      return loop.removeSignalHandler(SIG);
    });
    expect(await run(main())).toBe(true);
    expect(calls).toEqual(['second']);
    expect(process.listenerCount(SIG)).toBe(baseline);
  });

  it('checks the signal like Python: TypeError, ValueError, RuntimeError', () => {
    const loop = new EventLoop();
    try {
      const cb = () => {};
      expect(() => loop.addSignalHandler({} as unknown as string, cb)).toThrow(TypeError);
      expect(() => loop.addSignalHandler({} as unknown as string, cb)).toThrow(
        'sig must be a signal name or number, not {}',
      );
      expect(() => loop.addSignalHandler('SIGFOO', cb)).toThrow(ValueError);
      expect(() => loop.addSignalHandler('SIGFOO', cb)).toThrow("invalid signal name 'SIGFOO'");
      expect(() => loop.addSignalHandler(12345, cb)).toThrow('invalid signal number 12345');
      expect(() => loop.removeSignalHandler(12345)).toThrow(ValueError);
      expect(() => loop.addSignalHandler('SIGKILL', cb)).toThrow(RuntimeError);
      expect(() => loop.addSignalHandler('SIGKILL', cb)).toThrow('sig SIGKILL cannot be caught');
      expect(() => loop.addSignalHandler(constants.signals.SIGSTOP, cb)).toThrow(
        `sig ${constants.signals.SIGSTOP} cannot be caught`,
      );
      // Removing is only validated: a signal without a handler (even one no process can catch) is false.
      expect(loop.removeSignalHandler('SIGKILL')).toBe(false);
      expect(loop.removeSignalHandler(constants.signals.SIGSTOP)).toBe(false);
      const coro = coroutine(function* handler() {});
      expect(() => loop.addSignalHandler(SIG, coro)).toThrow(TypeError);
      expect(() => loop.addSignalHandler(SIG, coro)).toThrow(
        'coroutines cannot be used with addSignalHandler()',
      );
      expect(loop.removeSignalHandler(SIG)).toBe(false);
    } finally {
      loop.close();
    }
  });

  it('close() removes the loop handlers; a closed loop refuses new ones after checking the signal', () => {
    const baseline = process.listenerCount(SIG);
    const loop = new EventLoop();
    loop.addSignalHandler(SIG, () => {});
    expect(process.listenerCount(SIG)).toBe(baseline + 1);
    loop.close();
    expect(process.listenerCount(SIG)).toBe(baseline);
    expect(() => loop.addSignalHandler(SIG, () => {})).toThrow('Event loop is closed');
    expect(() => loop.addSignalHandler('SIGFOO', () => {})).toThrow(ValueError);
  });

  it('a KeyboardInterrupt raised by a callback ends the run (it is not just reported)', async () => {
    const loop = new EventLoop();
    const reports: unknown[] = [];
    loop.setExceptionHandler((_l, ctx) => reports.push(ctx));
    const after: string[] = [];
    loop.callSoon(() => {
      throw new KeyboardInterrupt();
    });
    loop.callSoon(() => after.push('next callback'));
    await expect(loop.runForever()).rejects.toBeInstanceOf(KeyboardInterrupt);
    expect(reports).toEqual([]);
    // The rest of the ready queue is kept for the next run, as in CPython.
    expect(after).toEqual([]);
    loop.callSoon(() => loop.stop());
    await loop.runForever();
    expect(after).toEqual(['next callback']);
    loop.close();
  });
});

// -- run() and Ctrl-C, in child processes ---------------------------------------------------------------

const root = fileURLToPath(new URL('../..', import.meta.url));

interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * Run the fixture with `mode`; send SIGINT each time stdout shows one of `interruptAfter` (in order).
 * Bounded: the child is killed after 50 s.
 */
function runChild(mode: string, interruptAfter: string[]): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/sigint_main.ts', mode], {
      cwd: root,
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    let stdout = '';
    let stderr = '';
    const marks = [...interruptAfter];
    const timer = setTimeout(() => child.kill('SIGKILL'), 50_000);
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      while (marks.length > 0 && stdout.includes(`${marks[0]}\n`)) {
        marks.shift();
        child.kill('SIGINT');
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

describe('run() and SIGINT (child processes)', { timeout: 60_000 }, () => {
  it.concurrent('Ctrl-C cancels the main task; run() raises KeyboardInterrupt; the process dies of SIGINT', async () => {
    const r = await runChild('plain', ['ready']);
    // Python: finally blocks run, the traceback ends in KeyboardInterrupt, status -2 (shell: 130).
    expect(r.stdout).toBe('ready\ncleanup\n');
    expect(r.stderr).toMatch(/^KeyboardInterrupt\n\s+at /);
    expect(r.signal).toBe('SIGINT');
    expect(r.code).toBe(null);
  });

  it.concurrent('a second Ctrl-C raises KeyboardInterrupt without waiting for the cleanup', async () => {
    const r = await runChild('stubborn', ['ready', 'slow cleanup']);
    expect(r.stdout).toBe('ready\ncleanup\nslow cleanup\n');
    expect(r.stderr).toMatch(/^KeyboardInterrupt\n/);
    expect(r.signal).toBe('SIGINT');
  });

  it.concurrent('a main task that swallows the cancellation finishes normally', async () => {
    const r = await runChild('swallow', ['ready']);
    expect(r.stdout).toBe('ready\nswallowed\ncleanup\nresult finished anyway\n');
    expect(r.code).toBe(0);
  });

  it.concurrent('a program that catches the KeyboardInterrupt exits normally', async () => {
    const r = await runChild('catch', ['ready']);
    expect(r.stdout).toBe('ready\ncleanup\ncaught KeyboardInterrupt\n');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });

  it.concurrent("a loop's own SIGINT handler replaces run()'s and keeps the process waiting for it", async () => {
    const r = await runChild('handler', ['ready']);
    expect(r.stdout).toBe('ready\ncustom handler\nresult handled\n');
    expect(r.code).toBe(0);
  });

  it.concurrent("other unhandled errors keep Node's behaviour: printed, status 1", async () => {
    const r = await runChild('error', []);
    expect(r.stderr).toMatch(/ValueError: boom/);
    expect(r.code).toBe(1);
    expect(r.signal).toBe(null);
  });
});
