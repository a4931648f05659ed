/**
 * Every program in examples/ runs as pasted (as a separate process, the way a user runs it) and prints
 * exactly what its expectation says. Add new examples to EXPECTED.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsx = fileURLToPath(new URL('../node_modules/tsx/dist/cli.mjs', import.meta.url));

/** Run an example with tsx; returns stdout, stderr and the exit status. */
function runExample(
  file: string,
  env: Record<string, string> = {},
): { stdout: string; stderr: string; status: number | null } {
  const r = spawnSync(process.execPath, [tsx, `examples/${file}`], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, ...env, NODE_OPTIONS: '' },
  });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

const ADDR = /0x[0-9a-f]+/g;

/** Expected stdout per example; `stderr` is matched as a regular expression when given. */
const EXPECTED: Record<string, { stdout: string; stderr?: RegExp }> = {
  'tutorial1_run.ts': { stdout: '100\n' },
  'tutorial2_never_awaited.ts': {
    stdout: '<coroutine object square at 0x…>\n',
    stderr: /^\(node:\d+\) RuntimeWarning: coroutine 'square' was never awaited\n/,
  },
  'tutorial3_await.ts': { stdout: 'x=100\ny=25\ntotal=125\n' },
  'subprocess_and_threads.ts': {
    stdout:
      '["echo hello" exited with 0]\n[stdout]\nhello\n\n' +
      '["echo oops >&2; exit 3" exited with 3]\n[stderr]\noops\n\n' +
      'fib(25) = 75025, computed on a worker thread\n',
  },
  // The first two blocks print what CPython 3.14 prints for the same program (tg.cancel() is 3.15).
  'taskgroup.ts': {
    stdout: [
      'started at 0.0',
      'hello',
      'world',
      'finished at 2.0: 5 + 5 characters',
      'the sibling was cancelled',
      'the body was cancelled',
      'unhandled errors in a TaskGroup (2 sub-exceptions) at 3.0',
      '  Error: first failure',
      '  Error: second failure',
      'the server was cancelled',
      'cancelled the group at 8.0',
      '',
    ].join('\n'),
  },
  // Prints what the same program prints under CPython 3.14 (asyncio.wait / as_completed / shield).
  'waiting.ts': {
    stdout: [
      'first: fast after 1s, pending: slow at 1.0',
      'after a 0.5s timeout: 0 done, 1 pending at 1.5',
      'a after 1s at 3.0',
      'b after 2s at 4.0',
      'c after 3s at 5.0',
      'IPv6 connected: ipv6 after 1s',
      'IPv4 connected: ipv4 after 2s',
      'waiter cancelled at 8.0 - work still running: yes',
      'shielded work after 2s at 9.0',
      '',
    ].join('\n'),
  },
  'timeout.ts': {
    stdout: [
      "The long operation timed out at 10.0, but we've handled it.",
      'This statement will run regardless.',
      "Looks like we haven't finished on time (<Timeout [expired]>).",
      'done in time at 21.0',
      'timeout! at 22.0',
      '',
    ].join('\n'),
  },
  // CPython 3.14 prints the same lines for the same program (asyncio docs' queue example, fixed timings).
  'queue.ts': {
    stdout: [
      'worker-0 has slept for 0.05 seconds',
      'worker-0 has slept for 0.15 seconds',
      'worker-2 has slept for 0.45 seconds',
      'worker-1 has slept for 0.75 seconds',
      'worker-2 has slept for 0.55 seconds',
      'worker-1 has slept for 0.25 seconds',
      'worker-0 has slept for 0.85 seconds',
      'worker-1 has slept for 0.65 seconds',
      'worker-2 has slept for 0.95 seconds',
      '====',
      '3 workers slept in parallel for 1.95 seconds',
      'total expected sleep time: 4.65 seconds',
      'job-0 in, job-1 in, job-0 out, job-1 out, job-2 in, job-3 in, job-2 out, job-3 out at 4.0',
      'got alpha',
      'got beta',
      'got gamma',
      'the queue is shut down',
      '',
    ].join('\n'),
  },
  // The asyncio docs' UDP echo server and client (one program), with datagram protocols.
  'udp_echo.ts': {
    stdout: [
      'Starting UDP server',
      'Send: Hello World!',
      "Received 'Hello World!' from 127.0.0.1",
      "Send 'Hello World!' back",
      'Received: Hello World!',
      'Close the socket',
      'Connection closed',
      '',
    ].join('\n'),
  },
  'line_server.ts': {
    stdout: [
      'Serving lines',
      'Received: HELLO',
      'Received: PROTOCOL WORLD',
      'Received: bye',
      'Server closed',
      '',
    ].join('\n'),
  },
  'async_generator.ts': {
    stdout: [
      'tick 0 at 0.0',
      'tick 1 at 1.0',
      'tick 2 at 2.0',
      'ticker closed at 3.5',
      'ticker closed at 6.0',
      'found 2 at 6.0',
      '',
    ].join('\n'),
  },
};

// Each test starts tsx processes: seconds each on a loaded 2-core CI machine (the spawn timeout is 60 s).
describe('examples run as pasted', { timeout: 90_000 }, () => {
  for (const [file, expected] of Object.entries(EXPECTED)) {
    it(file, () => {
      const r = runExample(file);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout.replace(ADDR, '0x…')).toBe(expected.stdout);
      if (expected.stderr) expect(r.stderr).toMatch(expected.stderr);
    });
  }

  it('every example has an expectation', () => {
    const files = readdirSync(new URL('../examples', import.meta.url)).filter((f) => f.endsWith('.ts'));
    expect(files.filter((f) => !(f in EXPECTED) && !(f in PAIRED) && !f.startsWith('_'))).toEqual([]);
  });
});

/** Examples that run together as processes (a server and its client), tested below. */
const PAIRED: Record<string, true> = { 'echo_server.ts': true, 'echo_client.ts': true };

describe('streams examples: echo server and client as two processes', { timeout: 90_000 }, () => {
  it('the client prints the docs transcript; the server logs it and stops with KeyboardInterrupt on SIGINT', async () => {
    const server = spawn(process.execPath, [tsx, 'examples/echo_server.ts', '0'], {
      cwd: root,
      env: { ...process.env, NODE_OPTIONS: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    server.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
    });
    server.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d;
    });
    const exited = new Promise<number | null>((resolve) => server.on('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 30_000;
      while (!/Serving on \('127\.0\.0\.1', \d+\)\n/.test(out)) {
        if (Date.now() > deadline || server.exitCode !== null)
          throw new Error(`server did not start: ${err}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      const port = /, (\d+)\)/.exec(out)![1]!;
      const client = spawn(process.execPath, [tsx, 'examples/echo_client.ts', port], {
        cwd: root,
        env: { ...process.env, NODE_OPTIONS: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let cout = '';
      client.stdout.setEncoding('utf8').on('data', (d: string) => {
        cout += d;
      });
      const status = await new Promise<number | null>((resolve) =>
        client.on('exit', (code) => resolve(code)),
      );
      expect(status).toBe(0);
      expect(cout).toBe("Send: 'Hello World!'\nReceived: 'Hello World!'\nClose the connection\n");
      const deadline2 = Date.now() + 10_000;
      while (!out.includes('Close the connection') && Date.now() < deadline2) {
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(out.replace(/\d{2,5}\)/g, 'PORT)')).toBe(
        [
          "Serving on ('127.0.0.1', PORT)",
          "Received 'Hello World!' from ('127.0.0.1', PORT)",
          "Send: 'Hello World!'",
          'Close the connection',
          '',
        ].join('\n'),
      );
    } finally {
      server.kill('SIGINT');
    }
    // Never leave a server behind, even if SIGINT handling were broken.
    const killer = setTimeout(() => server.kill('SIGKILL'), 10_000);
    const code = await exited;
    clearTimeout(killer);
    expect(code).not.toBe(0);
    expect(err).toMatch(/KeyboardInterrupt/);
  });
});
