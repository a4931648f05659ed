/**
 * Look into another running Node process that uses tsyncio: `tsyncio ps PID` / `tsyncio pstree PID`
 * (Python 3.14's `python -m asyncio ps/pstree`).
 *
 * The target must have opted in (TSYNCIO_INTROSPECT=1 or `enableIntrospection()`, introspect.ts): it
 * then serves one fixed "dump tasks" request on a Unix socket in its user's 0700 runtime directory. This
 * client finds that socket from the target's uid and environment (/proc/PID/status, /proc/PID/environ),
 * refuses a directory or socket that is a symlink, another user's, or open to others, connects (with a
 * timeout), and checks that the server is process PID as /proc knows it (pid and start time), so a
 * reused pid is detected. No signal is sent and nothing runs in the target but its own dump function.
 *
 * The answer comes from the target: treat its strings as untrusted (the command escapes control
 * characters before printing them).
 */
import { lstatSync, type Stats } from 'node:fs';
import { connect, type Socket } from 'node:net';
import type { AwaitedInfo, CoroInfo, FrameInfo, TaskInfo } from '../tools.js';
import {
  type DirEnv,
  dirProblem,
  hasProcFs,
  ownUid,
  PROTOCOL,
  procEnviron,
  procStartTime,
  procUid,
  REQUEST,
  socketDirFor,
  socketPath,
  socketProblem,
} from './introspect_paths.js';

export interface InspectOptions {
  /**
   * Give up when the target accepts no connection, or sends nothing, for this many milliseconds
   * (default 5000). A target whose event loop is blocked cannot answer: the command fails after this.
   */
  timeoutMs?: number;
  /** Refuse an answer larger than this many bytes (default 512 MiB). */
  maxBytes?: number;
}

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}

/** The socket directories to look in for a process of user `uid` with environment `env`. */
function candidateDirs(uid: number, env: DirEnv | null): string[] {
  const dirs: string[] = [];
  if (env !== null) dirs.push(socketDirFor(env, uid));
  if (ownUid() === uid) dirs.push(socketDirFor(process.env, uid));
  dirs.push(socketDirFor({ XDG_RUNTIME_DIR: `/run/user/${uid}` }, uid), `/tmp/tsyncio-${uid}`);
  return [...new Set(dirs)];
}

const NOT_SERVING =
  'start it with TSYNCIO_INTROSPECT=1 in its environment, or call enableIntrospection() from tsyncio/node';

/** Find and check the socket of process `pid`. */
function findSocket(pid: number): { path: string; uid: number } {
  const proc = hasProcFs();
  let uid = ownUid();
  let env: DirEnv | null = null;
  if (proc) {
    uid = procUid(pid);
    if (uid === null) throw new Error(`no process with pid ${pid}`);
    const me = ownUid();
    if (me !== 0 && me !== uid) {
      throw new Error(`process ${pid} belongs to uid ${uid}: run tsyncio as that user (or root)`);
    }
    env = procEnviron(pid);
  }
  if (uid === null) throw new Error('tsyncio ps needs Unix sockets and uids (not on Windows)');
  const refused: string[] = [];
  const dirs = candidateDirs(uid, env);
  for (const dir of dirs) {
    const dst = lstatOrNull(dir);
    if (dst === null) continue;
    const why = dirProblem(dir, dst, uid);
    if (why !== null) {
      refused.push(why);
      continue;
    }
    const path = socketPath(dir, pid);
    const sst = lstatOrNull(path);
    if (sst === null) continue;
    const bad = socketProblem(path, sst, uid);
    if (bad !== null) throw new Error(`refusing ${path}: ${bad}`);
    return { path, uid };
  }
  const also = refused.length > 0 ? ` (refused: ${refused.join('; ')})` : '';
  throw new Error(
    `process ${pid} does not serve tsyncio introspection: no ${socketPath(dirs[0]!, pid)}${also}; ${NOT_SERVING}`,
  );
}

/**
 * Reads newline-separated JSON values from a socket: linear in the size of the answer (each chunk is
 * scanned once; a line split across chunks is joined once).
 */
class LineReader {
  private pending: Buffer[] = [];
  private lines: string[] = [];
  private head = 0;
  private bytes = 0;
  private ended = false;
  private failure: Error | null = null;
  private wake: (() => void) | null = null;

  constructor(
    private readonly sock: Socket,
    timeoutMs: number,
    private readonly maxBytes: number,
  ) {
    sock.on('data', (chunk: Buffer) => this.onData(chunk));
    sock.on('end', () => this.finish(null));
    sock.on('close', () => this.finish(null));
    sock.on('error', (e) => this.finish(e));
    sock.setTimeout(timeoutMs, () =>
      this.finish(new Error(`the target sent nothing for ${timeoutMs} ms (is its event loop blocked?)`)),
    );
  }

  private onData(chunk: Buffer): void {
    this.bytes += chunk.length;
    if (this.bytes > this.maxBytes) {
      this.finish(new Error(`the answer is larger than ${this.maxBytes} bytes`));
      return;
    }
    let start = 0;
    for (let nl = chunk.indexOf(10); nl >= 0; nl = chunk.indexOf(10, start)) {
      if (this.pending.length === 0) this.lines.push(chunk.toString('utf8', start, nl));
      else {
        this.pending.push(chunk.subarray(start, nl));
        this.lines.push(Buffer.concat(this.pending).toString('utf8'));
        this.pending = [];
      }
      start = nl + 1;
    }
    if (start < chunk.length) this.pending.push(chunk.subarray(start));
    if (this.lines.length > this.head) this.notify();
  }

  private finish(err: Error | null): void {
    if (this.ended) return;
    this.ended = true;
    this.failure = err;
    this.sock.destroy();
    this.notify();
  }

  private notify(): void {
    const w = this.wake;
    this.wake = null;
    w?.();
  }

  /** The next line, or null at the end of the answer. */
  async next(): Promise<string | null> {
    for (;;) {
      if (this.head < this.lines.length) {
        const line = this.lines[this.head]!;
        this.lines[this.head++] = '';
        if (this.head > 4096 && this.head * 2 > this.lines.length) {
          this.lines = this.lines.slice(this.head);
          this.head = 0;
        }
        return line;
      }
      if (this.ended) {
        if (this.failure !== null) throw this.failure;
        return null;
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  close(): void {
    this.finish(null);
  }
}

function connectTo(path: string, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = connect(path);
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`timed out connecting to ${path}`));
    }, timeoutMs);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.off('error', reject);
      resolve(sock);
    });
    sock.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (e.code === 'ECONNREFUSED') {
        reject(new Error(`nothing listens on ${path} (a dead process's socket: the pid was reused?)`));
      } else if (e.code === 'EACCES') {
        reject(new Error(`no permission to connect to ${path} (run tsyncio as the process's user or root)`));
      } else reject(e);
    });
  });
}

const malformed = (what: string): Error => new Error(`malformed answer from the target (${what})`);

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function parse(line: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    throw malformed('not JSON');
  }
  if (!isRecord(v)) throw malformed('not an object');
  return v;
}

function str(x: unknown, what: string): string {
  if (typeof x !== 'string') throw malformed(what);
  return x;
}

function frames(x: unknown): FrameInfo[] {
  if (!Array.isArray(x)) throw malformed('callStack');
  return x.map((f) => {
    if (!isRecord(f) || typeof f.lineno !== 'number') throw malformed('frame');
    return { filename: str(f.filename, 'filename'), lineno: f.lineno, funcname: str(f.funcname, 'funcname') };
  });
}

function coros(x: unknown): CoroInfo[] {
  if (!Array.isArray(x)) throw malformed('coroutine list');
  return x.map((c) => {
    if (!isRecord(c)) throw malformed('coroutine');
    return { callStack: frames(c.callStack), taskName: str(c.taskName, 'taskName') };
  });
}

function taskInfo(v: Record<string, unknown>): TaskInfo {
  return {
    taskId: str(v.taskId, 'taskId'),
    taskName: str(v.taskName, 'taskName'),
    coroutineStack: coros(v.coroutineStack),
    awaitedBy: coros(v.awaitedBy),
  };
}

/**
 * The tasks of process `pid` (RemoteUnwinder.get_all_awaited_by()'s shape), read from the introspection
 * socket the process serves (it must have enabled it: TSYNCIO_INTROSPECT=1 or `enableIntrospection()`).
 * Throws an Error whose message says what went wrong (no such process, another user's, not serving, not
 * the same process as /proc's PID, timed out). The strings come from the target: escape them for display.
 */
export async function getAllAwaitedBy(pid: number, options?: InspectOptions): Promise<AwaitedInfo[]> {
  if (!Number.isInteger(pid) || pid <= 0) throw new TypeError(`pid must be a positive integer, got ${pid}`);
  const timeoutMs = options?.timeoutMs ?? 5000;
  const maxBytes = options?.maxBytes ?? 512 * 1024 * 1024;
  const proc = hasProcFs();
  const started = proc ? procStartTime(pid) : null;
  if (proc && started === null) throw new Error(`no process with pid ${pid}`);
  const { path } = findSocket(pid);
  const sock = await connectTo(path, timeoutMs);
  sock.write(REQUEST);
  const reader = new LineReader(sock, timeoutMs, maxBytes);
  try {
    const first = await reader.next();
    if (first === null) throw new Error(`${path} closed the connection without answering`);
    const header = parse(first);
    if (header.protocol !== PROTOCOL) throw malformed('not a tsyncio introspection header');
    if (header.pid !== pid) {
      throw new Error(`${path} is served by process ${String(header.pid)}, not ${pid}: refusing it`);
    }
    if (proc && header.starttime !== started) {
      throw new Error(
        `${path} is served by a process ${pid} that started at ${String(header.starttime)}, but process ` +
          `${pid} started at ${started}: the pid was reused; refusing it`,
      );
    }
    const result: AwaitedInfo[] = [];
    for (;;) {
      const line = await reader.next();
      if (line === null) throw new Error(`the answer from ${path} was cut short`);
      const v = parse(line);
      if (v.end === true) break;
      if (typeof v.error === 'string') throw new Error(`the target failed to dump its tasks: ${v.error}`);
      if (typeof v.threadId !== 'number' || typeof v.tasks !== 'number') throw malformed('section');
      const tasks: TaskInfo[] = [];
      for (let i = 0; i < v.tasks; i++) {
        const t = await reader.next();
        if (t === null) throw new Error(`the answer from ${path} was cut short`);
        tasks.push(taskInfo(parse(t)));
      }
      result.push({ threadId: v.threadId, awaitedBy: tasks });
    }
    // The process could have exited (and its pid been reused) while answering.
    if (proc && procStartTime(pid) !== started) throw new Error(`process ${pid} exited while answering`);
    return result;
  } finally {
    reader.close();
  }
}
