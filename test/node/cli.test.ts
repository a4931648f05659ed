// `tsyncio ps` / `pstree` (src/node/cli.ts), the client that reaches another process (src/node/inspect.ts)
// and the opt-in introspection socket it reaches (src/node/introspect.ts): read-only, no signal, no port.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { main as cli, escapeControl } from '../../src/node/cli.js';
import { getAllAwaitedBy } from '../../src/node/inspect.js';
import { disableIntrospection, enableIntrospection } from '../../src/node/introspect.js';
import { PROTOCOL, procStartTime, REQUEST } from '../../src/node/introspect_paths.js';

const HUNG = fileURLToPath(new URL('../fixtures/hung_tasks.ts', import.meta.url));
const MANY = fileURLToPath(new URL('../fixtures/many_tasks.ts', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const linux = existsSync('/proc/self/stat');
const isRoot = process.geteuid?.() === 0;
const hasSetpriv = linux && isRoot && existsSync('/usr/bin/setpriv');

const children: ChildProcess[] = [];
const dirs: string[] = [];
const servers: Server[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  for (const s of servers.splice(0)) s.close();
  await disableIntrospection();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A fresh directory to be a process's XDG_RUNTIME_DIR (0700, ours). */
function runtimeDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tsyncio-ps-test-'));
  dirs.push(d);
  return d;
}

async function until(cond: () => boolean, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Spawn a process; wait for its first stdout line (the fixtures print 'ready'). */
async function start(
  cmd: string,
  args: string[],
  env: Record<string, string | undefined>,
): Promise<{ child: ChildProcess; pid: number; exited: () => boolean }> {
  const c = spawn(cmd, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
    cwd: ROOT,
  });
  children.push(c);
  let exited = false;
  c.on('exit', () => (exited = true));
  c.stderr!.resume();
  await new Promise<void>((resolve, reject) => {
    c.stdout!.once('data', () => resolve());
    c.once('exit', (code) => reject(new Error(`${cmd} exited with ${code}`)));
  });
  return { child: c, pid: c.pid!, exited: () => exited };
}

/** A tsyncio fixture serving introspection in its own runtime dir; resolves when its socket exists. */
async function startTarget(fixture: string, args: string[] = [], env: Record<string, string> = {}) {
  const xdg = env.XDG_RUNTIME_DIR ?? runtimeDir();
  const t = await start(process.execPath, ['--import', 'tsx', fixture, ...args], {
    TSYNCIO_INTROSPECT: '1',
    ...env,
    XDG_RUNTIME_DIR: xdg,
  });
  const sock = join(xdg, 'tsyncio', `${t.pid}.sock`);
  if (env.TSYNCIO_INTROSPECT !== '0') await until(() => existsSync(sock), 'the introspection socket');
  return { ...t, xdg, sock };
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

/** The TCP sockets process `pid` listens on (inodes of its fds that /proc/net/tcp{,6} list as LISTEN). */
function tcpListeners(pid: number): string[] {
  const inodes = new Set<string>();
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // Closed meanwhile.
    }
  }
  const found: string[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(table)) continue;
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[3] === '0A' && inodes.has(f[9]!)) found.push(`${table} ${f[1]}`);
    }
  }
  return found;
}

const alive = (pid: number): boolean => existsSync(`/proc/${pid}`);

describe('tsyncio ps / pstree on another process (its opt-in introspection socket)', {
  timeout: 90_000,
}, () => {
  it('pstree shows the awaited-by tree of a running process, as python -m asyncio pstree', async () => {
    const { pid } = await startTarget(HUNG, ['--track']);
    const { code, out, err } = await runCli(['pstree', String(pid)]);
    expect(err).toBe('');
    expect(code).toBe(0);
    const lines = out
      .trimEnd()
      .split('\n')
      .map((l) => l.replace(HUNG, 'FIXTURE').replace(/\S*[\\/]src[\\/]tasks\.ts:\d+/, 'TASKS'));
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

  it('ps prints the task table; asking again works; nothing listens on TCP in the target before or after', async () => {
    const { pid } = await startTarget(HUNG);
    if (linux) expect(tcpListeners(pid)).toEqual([]);
    const { code, out } = await runCli(['ps', String(pid)]);
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
    expect(rows[2]!.slice(4)).toEqual(['supervisor', 'supervisor', rows[1]![1]]);
    const again = await runCli(['pstree', String(pid)]);
    expect(again.code).toBe(0);
    expect(alive(pid)).toBe(true);
    // What today's Node opens on SIGUSR1 (the inspector, 127.0.0.1:9229) is a TCP listener in the target.
    if (linux) expect(tcpListeners(pid)).toEqual([]);
  });

  it('a process that is not Node (sleep) is left alive, with a clear error; no signal is sent', async () => {
    const xdg = runtimeDir();
    const { pid, exited } = await start('sh', ['-c', 'echo ready; exec sleep 1000'], {
      XDG_RUNTIME_DIR: xdg,
    });
    await until(() => !linux || readFileSync(`/proc/${pid}/comm`, 'utf8').startsWith('sleep'), 'exec sleep');
    const { code, out } = await runCli(['ps', String(pid)]);
    expect(code).toBe(1);
    expect(out).toBe(
      `Error retrieving tasks: process ${pid} does not serve tsyncio introspection: no ${xdg}/tsyncio/${pid}.sock; ` +
        'start it with TSYNCIO_INTROSPECT=1 in its environment, or call enableIntrospection() from tsyncio/node\n',
    );
    await new Promise((r) => setTimeout(r, 200));
    expect(exited()).toBe(false); // SIGUSR1's default action would have killed it
    if (linux) expect(readFileSync(`/proc/${pid}/status`, 'utf8')).toMatch(/^SigPnd:\s+0+$/m);
  });

  it('a tsyncio process that did not opt in is not served, not signalled, and opens nothing', async () => {
    const { pid, exited, sock } = await startTarget(HUNG, [], { TSYNCIO_INTROSPECT: '0' });
    const { code, out } = await runCli(['pstree', String(pid)]);
    expect(code).toBe(1);
    expect(out).toContain('does not serve tsyncio introspection');
    expect(existsSync(sock)).toBe(false);
    await new Promise((r) => setTimeout(r, 200));
    expect(exited()).toBe(false);
    if (linux) expect(tcpListeners(pid)).toEqual([]);
  });

  it('reports errors the way Python does, with exit status 1 (2 for usage)', async () => {
    expect(await runCli(['ps'])).toMatchObject({ code: 2, out: '' });
    expect((await runCli(['ps', 'abc'])).err).toBe(
      "tsyncio: error: argument pid: invalid int value: 'abc'\n",
    );
    expect((await runCli(['ps', '0x10'])).code).toBe(2);
    expect((await runCli(['--help'])).out).toMatch(/^usage: tsyncio \{ps,pstree\} PID/);
    // The inspector's --port is gone: an unknown argument is a usage error, not silently ignored.
    const port = await runCli(['ps', '1', '--port', '9229']);
    expect(port.code).toBe(2);
    expect(port.err).toMatch(/unrecognized arguments: --port 9229\n$/);
    const gone = await runCli(['ps', '999999999']);
    expect(gone.code).toBe(1);
    expect(gone.out).toBe('Error retrieving tasks: no process with pid 999999999\n');
  });

  it('control characters in task names (they come from the target) are escaped in ps and pstree', async () => {
    const { pid } = await startTarget(MANY, ['2']);
    const escaped = 'evil\\x1b]0;pwned\\x07\\x1b[2J\\r\\n\\u202etxt.exe';
    for (const cmd of ['ps', 'pstree']) {
      const { code, out } = await runCli([cmd, String(pid)]);
      expect(code).toBe(0);
      expect(out).toContain(escaped);
      // biome-ignore lint/suspicious/noControlCharactersInRegex: looking for raw control characters.
      expect(out).not.toMatch(/[\x00-\x09\x0b-\x1f\x7f\u202e]/);
      // One line per task: the name's \r\n did not break the table.
      if (cmd === 'ps') expect(out.trimEnd().split('\n')).toHaveLength(2 + 3 + 1);
    }
    expect(escapeControl('a\tb\u0000c\u009bd\u2028')).toBe('a\\tb\\x00c\\x9bd\\u2028');
    expect(escapeControl('plain → ünïcode')).toBe('plain → ünïcode');
  });

  it('200k tasks are dumped in seconds (linear buffering)', { timeout: 240_000 }, async () => {
    const { pid } = await startTarget(MANY, ['200000']);
    const t0 = performance.now();
    const dump = await getAllAwaitedBy(pid, { timeoutMs: 60_000 });
    const ms = performance.now() - t0;
    expect(dump[0]!.awaitedBy).toHaveLength(200_002);
    expect(dump[0]!.awaitedBy[200_000]!.taskName).toBe('t199999');
    // ~1-2 s on a quiet machine, <10 s on a loaded one; the old inspector path took 49 s.
    expect(ms).toBeLessThan(30_000);
  });
});

describe('the introspection socket', { timeout: 60_000 }, () => {
  it('lives in a 0700 directory as a 0600 socket owned by the user; disable removes it', async () => {
    const xdg = runtimeDir();
    const saved = process.env.XDG_RUNTIME_DIR;
    process.env.XDG_RUNTIME_DIR = xdg;
    try {
      const path = await enableIntrospection();
      expect(path).toBe(join(xdg, 'tsyncio', `${process.pid}.sock`));
      expect(await enableIntrospection()).toBe(path);
      const d = lstatSync(join(xdg, 'tsyncio'));
      const s = lstatSync(path);
      expect(d.isDirectory() && d.mode & 0o777).toBe(0o700);
      expect(s.isSocket() && s.mode & 0o777).toBe(0o600);
      expect([d.uid, s.uid]).toEqual([process.geteuid!(), process.geteuid!()]);
      // This very process answers (its loop is not running: no tasks).
      expect(await getAllAwaitedBy(process.pid)).toEqual([]);
      await disableIntrospection();
      expect(existsSync(path)).toBe(false);
    } finally {
      process.env.XDG_RUNTIME_DIR = saved;
      if (saved === undefined) delete process.env.XDG_RUNTIME_DIR;
    }
  });

  it('does not keep the process alive, and the socket file is removed at exit', async () => {
    const xdg = runtimeDir();
    const code = `const m = await import(${JSON.stringify(join(ROOT, 'src/node/index.ts'))});
      console.log(await m.enableIntrospection());`;
    const out = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      env: { ...process.env, XDG_RUNTIME_DIR: xdg },
      cwd: ROOT,
      timeout: 60_000,
      encoding: 'utf8',
    });
    const path = out.trim();
    expect(path).toMatch(/\/tsyncio\/\d+\.sock$/);
    expect(existsSync(join(xdg, 'tsyncio'))).toBe(true);
    expect(existsSync(path)).toBe(false);
  });

  it.runIf(linux)(
    'dead sockets: removed on Ctrl-C, swept at the next start, reported when nobody listens',
    async () => {
      // A KeyboardInterrupt exit re-raises SIGINT (no 'exit' event): the file is removed anyway.
      const t = await startTarget(HUNG);
      t.child.kill('SIGINT');
      await until(t.exited, 'the target to exit');
      expect(existsSync(t.sock)).toBe(false);
      // A file left by a process killed outright (SIGKILL): nobody answers on it; the next start sweeps it.
      const xdg = runtimeDir();
      mkdirSync(join(xdg, 'tsyncio'), { mode: 0o700 });
      const { pid: sleeper } = await start('sh', ['-c', 'echo ready; exec sleep 1000'], {
        XDG_RUNTIME_DIR: xdg,
      });
      const deadOfLive = join(xdg, 'tsyncio', `${sleeper}.sock`);
      const deadOfGone = join(xdg, 'tsyncio', '999999999.sock');
      for (const path of [deadOfLive, deadOfGone]) {
        // Bound, never listened on, left behind: what a killed process leaves.
        execFileSync('python3', [
          '-c',
          `import socket; socket.socket(socket.AF_UNIX).bind(${JSON.stringify(path)})`,
        ]);
        chmodSync(path, 0o600);
      }
      const r = await runCli(['ps', String(sleeper)]);
      expect(r.code).toBe(1);
      expect(r.out).toBe(
        `Error retrieving tasks: nothing listens on ${deadOfLive} (a dead process's socket: the pid was reused?)\n`,
      );
      await startTarget(HUNG, [], { XDG_RUNTIME_DIR: xdg });
      expect(existsSync(deadOfGone)).toBe(false);
      expect(existsSync(deadOfLive)).toBe(true); // its pid is alive: not the target's to judge
    },
  );

  it('answers only its one request: anything else (code, say) gets the connection closed, no answer', async () => {
    const { pid, sock, exited } = await startTarget(HUNG);
    const { connect } = await import('node:net');
    for (const payload of ['process.exit(3)\n', `${REQUEST.trim()} extra\n`, 'x'.repeat(100)]) {
      const got = await new Promise<string>((resolve, reject) => {
        let data = '';
        const c = connect(sock, () => c.write(payload));
        c.on('data', (d) => (data += d));
        c.on('close', () => resolve(data));
        c.on('error', reject);
      });
      expect(got).toBe('');
    }
    expect(exited()).toBe(false);
    expect((await runCli(['ps', String(pid)])).code).toBe(0);
  });

  it.runIf(linux)('a socket served by a different process (reused pid, or a lie) is refused', async () => {
    const xdg = runtimeDir();
    const { pid } = await start('sh', ['-c', 'echo ready; exec sleep 1000'], { XDG_RUNTIME_DIR: xdg });
    mkdirSync(join(xdg, 'tsyncio'), { mode: 0o700 });
    const path = join(xdg, 'tsyncio', `${pid}.sock`);
    let header: object = {};
    const srv = createServer((c) => {
      c.once('data', () => c.end(`${JSON.stringify(header)}\n{"threadId":1,"tasks":0}\n{"end":true}\n`));
    });
    servers.push(srv);
    await new Promise<void>((r) => srv.listen(path, r));
    chmodSync(path, 0o600);
    const real = procStartTime(pid);
    // An old process that had this pid before (a different start time).
    header = { protocol: PROTOCOL, pid, starttime: String(Number(real) - 1) };
    let r = await runCli(['ps', String(pid)]);
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/started at .*, but process \d+ started at \d+: the pid was reused; refusing it/);
    // Another process entirely.
    header = { protocol: PROTOCOL, pid: process.pid, starttime: procStartTime('self') };
    r = await runCli(['ps', String(pid)]);
    expect(r.out).toContain(`is served by process ${process.pid}, not ${pid}: refusing it`);
    // The genuine identity is accepted (the protocol, not the process, is what is checked above).
    header = { protocol: PROTOCOL, pid, starttime: real };
    r = await runCli(['ps', String(pid)]);
    expect(r.code).toBe(0);
  });

  it.runIf(linux)('refuses a symlinked or group/other-accessible directory, on both sides', async () => {
    // Server side: <XDG>/tsyncio is a symlink to a directory of ours.
    const xdg = runtimeDir();
    const elsewhere = runtimeDir();
    symlinkSync(elsewhere, join(xdg, 'tsyncio'));
    const code = `const m = await import(${JSON.stringify(join(ROOT, 'src/node/index.ts'))});
      await m.enableIntrospection().then(() => console.log('served'), (e) => console.log(e.message));`;
    const run = (env: Record<string, string>) =>
      execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
        env: { ...process.env, ...env },
        cwd: ROOT,
        timeout: 60_000,
        encoding: 'utf8',
      }).trim();
    expect(run({ XDG_RUNTIME_DIR: xdg })).toBe(
      `refusing to serve introspection: ${xdg}/tsyncio is a symbolic link`,
    );
    expect(readdirSync(elsewhere)).toEqual([]);
    // A directory others can enter.
    const open = runtimeDir();
    mkdirSync(join(open, 'tsyncio'));
    chmodSync(join(open, 'tsyncio'), 0o755);
    expect(run({ XDG_RUNTIME_DIR: open })).toBe(
      `refusing to serve introspection: ${open}/tsyncio is open to other users (mode 0755, want 0700)`,
    );
    // Client side: a target's directory loosened after it started serving.
    const { pid, xdg: tx } = await startTarget(HUNG);
    chmodSync(join(tx, 'tsyncio'), 0o711);
    const r = await runCli(['ps', String(pid)]);
    expect(r.code).toBe(1);
    expect(r.out).toContain(`refused: ${tx}/tsyncio is open to other users (mode 0711, want 0700)`);
  });

  it.runIf(hasSetpriv)(
    'another user can neither connect nor list, and the command refuses them',
    async () => {
      const { pid, sock, xdg } = await startTarget(HUNG);
      chmodSync(xdg, 0o755); // let the other user reach <XDG>/tsyncio itself: its own 0700 must stop them
      const nobody = ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e'];
      const probe = `const net = require('node:net'); const fs = require('node:fs');
      let listing; try { fs.readdirSync(${JSON.stringify(join(xdg, 'tsyncio'))}); listing = 'listed'; } catch (e) { listing = e.code; }
      const c = net.connect(${JSON.stringify(sock)});
      c.on('connect', () => { console.log(listing, 'connected'); c.destroy(); });
      c.on('error', (e) => console.log(listing, e.code));`;
      const out = execFileSync('setpriv', [...nobody, probe], { encoding: 'utf8', timeout: 30_000 });
      expect(out.trim()).toBe('EACCES EACCES');
      // Even with the directory opened up, the 0600 socket stops them.
      chmodSync(join(xdg, 'tsyncio'), 0o711);
      const out2 = execFileSync('setpriv', [...nobody, probe], { encoding: 'utf8', timeout: 30_000 });
      expect(out2.trim()).toBe('EACCES EACCES');
      chmodSync(join(xdg, 'tsyncio'), 0o700);
      // A directory owned by someone else is refused by the client (as root: it would be readable).
      const foreign = runtimeDir();
      mkdirSync(join(foreign, 'tsyncio'), { mode: 0o700 });
      chownSync(join(foreign, 'tsyncio'), 65534, 65534);
      const { pid: sleeper } = await start('sh', ['-c', 'echo ready; exec sleep 1000'], {
        XDG_RUNTIME_DIR: foreign,
      });
      const r = await runCli(['ps', String(sleeper)]);
      expect(r.out).toContain(`refused: ${foreign}/tsyncio is owned by uid 65534, not 0`);
      expect((await runCli(['ps', String(pid)])).code).toBe(0);
    },
  );
});
