/**
 * The introspection server behind `tsyncio ps PID` / `tsyncio pstree PID` (Python 3.14's `python -m
 * asyncio ps/pstree`): opt-in, read-only.
 *
 * A process that sets TSYNCIO_INTROSPECT=1 (read when tsyncio/node is loaded) or calls
 * `enableIntrospection()` listens on a Unix socket, `$XDG_RUNTIME_DIR/tsyncio/<pid>.sock` (else
 * `<tmpdir>/tsyncio-<uid>/<pid>.sock`); the directory is 0700 and the socket 0600, both owned by the
 * process's user — so only that user and root can connect. The server answers exactly one fixed request
 * (REQUEST: dump the tasks) with a snapshot of the running loop's tasks (tools.ts's dumpAwaitedBy) and
 * never reads anything else from the client: nothing is evaluated, no signal is involved. The server and
 * its connections are unref'd (they never keep the process alive), and the socket file is removed when
 * the process exits normally (a process killed by a signal leaves a dead file: the next start replaces
 * it, and the client reports it as not listening).
 *
 * Wire format (one JSON value per line): a header `{"protocol", "pid", "starttime", "uid"}` (starttime is
 * field 22 of /proc/self/stat, so the client detects a reused pid), then per loop a line `{"threadId",
 * "tasks": n}` followed by n TaskInfo lines, then `{"end": true}`. Written in batches that wait for the
 * socket to drain, so a dump of 200k tasks costs the target a snapshot and a linear serialization.
 */
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { isMainThread } from 'node:worker_threads';
import { dumpAwaitedBy } from '../tools.js';
import {
  dirProblem,
  hasProcFs,
  ownUid,
  PROTOCOL,
  procStartTime,
  REQUEST,
  socketDirFor,
  socketPath,
  socketProblem,
} from './introspect_paths.js';

/** A client that sends nothing, or stops reading, for this long is disconnected. */
const IDLE_MS = 10_000;
/** Bytes per write while streaming the dump. */
const BATCH = 1 << 16;

interface Serving {
  server: Server;
  path: string;
  /** The socket file's inode: exit removes the file only if it is still ours. */
  ino: number;
}

/** Open connections, dropped by disableIntrospection(). */
const clients = new Set<Socket>();

let serving: Serving | null = null;
let starting: Promise<string> | null = null;

function removeSocketFile(s: Serving): void {
  try {
    if (lstatSync(s.path).ino === s.ino) unlinkSync(s.path);
  } catch {
    // Already gone.
  }
}

function onExit(): void {
  if (serving !== null) removeSocketFile(serving);
}

/** An uncaught error ends the process unless someone handles it (and a KeyboardInterrupt re-raises SIGINT, which skips 'exit'). */
function onFatal(): void {
  if (process.listenerCount('uncaughtException') === 0) onExit();
}

/** Remove the dead sockets of processes that no longer exist (killed before they could clean up). */
function sweep(dir: string, uid: number): void {
  if (!hasProcFs()) return;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const m = /^(\d+)\.sock$/.exec(name);
    if (m === null || existsSync(`/proc/${m[1]}`)) continue;
    const path = join(dir, name);
    try {
      if (socketProblem(path, lstatSync(path), uid) === null) unlinkSync(path);
    } catch {
      // Gone meanwhile.
    }
  }
}

function* dumpLines(uid: number | null): Generator<string> {
  yield JSON.stringify({ protocol: PROTOCOL, pid: process.pid, starttime: procStartTime('self'), uid });
  // The snapshot is taken at once (synchronously), so it is consistent; only its serialization is paced.
  let dump: ReturnType<typeof dumpAwaitedBy>;
  try {
    dump = dumpAwaitedBy();
  } catch (e) {
    yield JSON.stringify({ error: String((e as Error)?.message ?? e) });
    return;
  }
  for (const info of dump) {
    yield JSON.stringify({ threadId: info.threadId, tasks: info.awaitedBy.length });
    for (const task of info.awaitedBy) yield JSON.stringify(task);
  }
  yield JSON.stringify({ end: true });
}

function respond(sock: Socket, uid: number | null): void {
  const lines = dumpLines(uid);
  const pump = (): void => {
    for (;;) {
      let batch = '';
      let done = false;
      while (batch.length < BATCH) {
        const r = lines.next();
        if (r.done) {
          done = true;
          break;
        }
        batch += `${r.value}\n`;
      }
      if (done) {
        sock.end(batch);
        return;
      }
      if (!sock.write(batch)) {
        sock.once('drain', pump);
        return;
      }
    }
  };
  pump();
}

function onConnection(sock: Socket, uid: number | null): void {
  sock.unref();
  clients.add(sock);
  sock.on('close', () => clients.delete(sock));
  sock.setTimeout(IDLE_MS, () => sock.destroy());
  sock.on('error', () => {});
  let got = '';
  const onData = (chunk: Buffer): void => {
    got += chunk.toString('latin1');
    if (got.length > REQUEST.length || !REQUEST.startsWith(got)) {
      sock.destroy();
      return;
    }
    if (got === REQUEST) {
      sock.off('data', onData);
      respond(sock, uid);
    }
  };
  sock.on('data', onData);
}

/**
 * Serve `tsyncio ps` / `pstree` for this process (what TSYNCIO_INTROSPECT=1 does at load): resolves to the
 * socket's path. Rejects, serving nothing, when the socket directory is not safe (a symlink, another
 * user's, open to others), on Windows, and in worker threads (the socket is per process).
 */
export function enableIntrospection(): Promise<string> {
  if (serving !== null) return Promise.resolve(serving.path);
  if (starting !== null) return starting;
  const p = start();
  starting = p;
  p.then(
    () => (starting = null),
    () => (starting = null),
  );
  return p;
}

async function start(): Promise<string> {
  const uid = ownUid();
  if (uid === null) throw new Error('tsyncio introspection needs Unix sockets and uids (not on Windows)');
  if (!isMainThread) throw new Error('tsyncio introspection is served by the main thread only');
  const dir = socketDirFor(process.env, uid);
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  const problem = dirProblem(dir, lstatSync(dir), uid);
  if (problem !== null) throw new Error(`refusing to serve introspection: ${problem}`);
  sweep(dir, uid);
  const path = socketPath(dir, process.pid);
  let old = null;
  try {
    old = lstatSync(path);
  } catch {
    // No file: the usual case.
  }
  if (old !== null) {
    // A dead socket of an earlier process with this pid (killed before it could remove it): replace it.
    const why = socketProblem(path, old, uid);
    if (why !== null) throw new Error(`refusing to serve introspection: ${why}`);
    unlinkSync(path);
  }
  const server = createServer({ pauseOnConnect: false }, (sock) => onConnection(sock, uid));
  server.maxConnections = 8;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // Node binds a path synchronously inside listen(): under this umask the file is born 0600, so a
    // client never sees it looser (the 0700 directory keeps others out in any case).
    let umask: number | null = null;
    try {
      umask = process.umask(0o177);
    } catch {
      // Not settable here (some runtimes): the chmod below and the 0700 directory still hold.
    }
    try {
      server.listen(path, () => {
        server.off('error', reject);
        resolve();
      });
    } finally {
      if (umask !== null) process.umask(umask);
    }
  });
  server.unref();
  // A later server error (EMFILE on accept, say) must not become an uncaught 'error' in the application.
  server.on('error', () => {});
  chmodSync(path, 0o600); // in case the platform bound it later, outside the umask
  const st = lstatSync(path);
  const why = socketProblem(path, st, uid);
  if (why !== null) {
    server.close();
    throw new Error(`refusing to serve introspection: ${why}`);
  }
  serving = { server, path, ino: st.ino };
  process.on('exit', onExit);
  process.prependListener('uncaughtExceptionMonitor', onFatal);
  return path;
}

/** Stop serving introspection (the socket file is removed). Nothing happens if it was not served. */
export async function disableIntrospection(): Promise<void> {
  if (starting !== null) await starting.catch(() => {});
  const s = serving;
  if (s === null) return;
  serving = null;
  process.off('exit', onExit);
  process.off('uncaughtExceptionMonitor', onFatal);
  const closed = new Promise<void>((resolve) => s.server.close(() => resolve()));
  for (const c of clients) c.destroy();
  await closed;
  removeSocketFile(s);
}

/** TSYNCIO_INTROSPECT in the environment: anything but empty or '0' turns it on. */
function envIntrospect(): boolean {
  let v: string | undefined;
  try {
    v = process.env.TSYNCIO_INTROSPECT;
  } catch {
    return false; // Deno without --allow-env
  }
  return v !== undefined && v !== '' && v !== '0';
}

if (envIntrospect() && isMainThread) {
  enableIntrospection().catch((e: Error) =>
    process.emitWarning(`tsyncio: TSYNCIO_INTROSPECT is set but introspection is off: ${e.message}`, {
      type: 'TsyncioWarning',
    }),
  );
}
