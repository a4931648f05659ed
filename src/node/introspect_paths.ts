/**
 * What the introspection server (introspect.ts) and the `tsyncio ps` client (inspect.ts) agree on: the
 * per-user socket directory, the checks both sides make on it, the one request, and a process's identity
 * (pid + start time from /proc, so a reused pid is detected).
 */
import { lstatSync, readFileSync, type Stats } from 'node:fs';
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';

/** The one request the server answers; anything else closes the connection. */
export const REQUEST = 'tsyncio dump-tasks 1\n';
/** The first field of the server's header line. */
export const PROTOCOL = 'tsyncio-introspect/1';

/** The environment variables that choose the socket directory. */
export interface DirEnv {
  XDG_RUNTIME_DIR?: string | undefined;
  TMPDIR?: string | undefined;
  TMP?: string | undefined;
  TEMP?: string | undefined;
}

/** The effective uid of this process (null where there are no uids: Windows). */
export function ownUid(): number | null {
  return typeof process.geteuid === 'function' ? process.geteuid() : null;
}

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}

/** os.tmpdir() for another environment (TMPDIR, TMP, TEMP, else /tmp; trailing slash dropped). */
function tmpdirOf(env: DirEnv): string {
  const t = env.TMPDIR || env.TMP || env.TEMP || '/tmp';
  return t.length > 1 && t.endsWith('/') ? t.slice(0, -1) : t;
}

/**
 * The directory a process with environment `env` and uid `uid` uses: `$XDG_RUNTIME_DIR/tsyncio` when
 * XDG_RUNTIME_DIR is an absolute path to a real directory owned by `uid`, else `<tmpdir>/tsyncio-<uid>`.
 */
export function socketDirFor(env: DirEnv, uid: number): string {
  const xdg = env.XDG_RUNTIME_DIR;
  if (xdg && isAbsolute(xdg)) {
    const st = lstatOrNull(xdg);
    if (st?.isDirectory() && st.uid === uid) return join(xdg, 'tsyncio');
  }
  return join(env === process.env ? tmpdir() : tmpdirOf(env), `tsyncio-${uid}`);
}

/** The socket of process `pid` in `dir`. */
export function socketPath(dir: string, pid: number): string {
  return join(dir, `${pid}.sock`);
}

const octal = (mode: number): string => `0${(mode & 0o777).toString(8)}`;

/**
 * Why `dir` must not be trusted as `uid`'s socket directory (null: it may). It must be a real directory
 * (not a symlink), owned by `uid`, with no permission for group or others.
 */
export function dirProblem(dir: string, st: Stats, uid: number): string | null {
  if (st.isSymbolicLink()) return `${dir} is a symbolic link`;
  if (!st.isDirectory()) return `${dir} is not a directory`;
  if (st.uid !== uid) return `${dir} is owned by uid ${st.uid}, not ${uid}`;
  if ((st.mode & 0o077) !== 0) return `${dir} is open to other users (mode ${octal(st.mode)}, want 0700)`;
  return null;
}

/** Why `path` must not be trusted as `uid`'s socket (null: it may): a socket, owned by `uid`, mode 0600. */
export function socketProblem(path: string, st: Stats, uid: number): string | null {
  if (st.isSymbolicLink()) return `${path} is a symbolic link`;
  if (!st.isSocket()) return `${path} is not a socket`;
  if (st.uid !== uid) return `${path} is owned by uid ${st.uid}, not ${uid}`;
  if ((st.mode & 0o077) !== 0) return `${path} is open to other users (mode ${octal(st.mode)}, want 0600)`;
  return null;
}

/** Whether this system has a Linux-style /proc (process start times, owners, environments). */
export function hasProcFs(): boolean {
  return lstatOrNull('/proc/self/stat') !== null;
}

/**
 * Process `pid`'s start time (field 22 of /proc/PID/stat: clock ticks since boot), as a string; null when
 * /proc cannot tell (no such process, or no /proc).
 */
export function procStartTime(pid: number | 'self'): string | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return null;
  }
  // The command name (field 2) is in parentheses and may itself contain spaces and parentheses.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return fields[22 - 3] ?? null;
}

/** Process `pid`'s effective uid (from /proc/PID/status), or null. */
export function procUid(pid: number): number | null {
  try {
    const m = /^Uid:\s+\d+\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'latin1'));
    return m === null ? null : Number(m[1]);
  } catch {
    return null;
  }
}

/** Process `pid`'s initial environment (/proc/PID/environ), or null when it cannot be read. */
export function procEnviron(pid: number): DirEnv | null {
  try {
    const env: Record<string, string> = {};
    for (const entry of readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')) {
      const eq = entry.indexOf('=');
      if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
    }
    return env;
  } catch {
    return null;
  }
}
