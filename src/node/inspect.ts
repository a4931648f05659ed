/**
 * Look into another running Node process that uses tsyncio: `tsyncio ps PID` / `tsyncio pstree PID`
 * (Python 3.14's `python -m asyncio ps/pstree`).
 *
 * How: SIGUSR1 makes Node open its inspector (127.0.0.1, port 9229 unless the process was started with
 * --inspect-port); the command finds the target on the inspector's HTTP endpoint, connects to its
 * WebSocket, checks `process.pid`, and evaluates the dump function tsyncio registered on globalThis
 * (src/tools.ts). Nothing is paused: Runtime.evaluate runs between the target's own callbacks. The
 * inspector stays open afterwards (on 127.0.0.1, as after any `kill -USR1`): closing it from inside races
 * with the next SIGUSR1, which Node ignores while the inspector is still shutting down.
 *
 * Node 20 has no WebSocket client built in (22 has), so a minimal one is here: text frames, masked as a
 * client must, over an HTTP upgrade on node:http — enough for the inspector protocol.
 */
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import type { Socket } from 'node:net';
import type { AwaitedInfo } from '../tools.js';

export interface InspectOptions {
  /** Inspector port of the target (default 9229: what SIGUSR1 opens unless --inspect-port was given). */
  port?: number;
  /** Give up after this many milliseconds (default 5000). */
  timeoutMs?: number;
}

function getJson(port: number, path: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, timeout: 1000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (body += c));
      res.on('end', () => {
        try {
          resolve(JSON.parse(body));
        } catch (e) {
          reject(e);
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** A minimal WebSocket client connection: send text, receive whole text messages. */
class WsConnection {
  private buf = Buffer.alloc(0);
  private fragments: Buffer[] = [];
  onMessage: (text: string) => void = () => {};
  onClose: (err?: Error) => void = () => {};

  constructor(private readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buf = Buffer.concat([this.buf, chunk]);
      this.parse();
    });
    socket.on('close', () => this.onClose());
    socket.on('error', (e) => this.onClose(e));
  }

  static connect(url: string): Promise<WsConnection> {
    const u = new URL(url);
    const key = randomBytes(16).toString('base64');
    return new Promise((resolve, reject) => {
      const req = request({
        host: u.hostname,
        port: Number(u.port),
        path: u.pathname + u.search,
        headers: {
          Connection: 'Upgrade',
          Upgrade: 'websocket',
          'Sec-WebSocket-Version': '13',
          'Sec-WebSocket-Key': key,
        },
      });
      req.on('upgrade', (_res, socket, head) => {
        const ws = new WsConnection(socket);
        if (head.length > 0) socket.unshift(head);
        resolve(ws);
      });
      req.on('response', (res) =>
        reject(new Error(`inspector refused the WebSocket (HTTP ${res.statusCode})`)),
      );
      req.on('error', reject);
      req.end();
    });
  }

  send(text: string): void {
    const payload = Buffer.from(text, 'utf8');
    const n = payload.length;
    const header: number[] = [0x81]; // FIN + text
    if (n < 126) header.push(0x80 | n);
    else if (n < 65536) header.push(0x80 | 126, n >> 8, n & 0xff);
    else {
      header.push(0x80 | 127, 0, 0, 0, 0);
      header.push((n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
    }
    const mask = randomBytes(4);
    const masked = Buffer.alloc(n);
    for (let i = 0; i < n; i++) masked[i] = payload[i]! ^ mask[i & 3]!;
    this.socket.write(Buffer.concat([Buffer.from(header), mask, masked]));
  }

  private parse(): void {
    for (;;) {
      const b = this.buf;
      if (b.length < 2) return;
      const fin = (b[0]! & 0x80) !== 0;
      const opcode = b[0]! & 0x0f;
      let len = b[1]! & 0x7f;
      let off = 2;
      if (len === 126) {
        if (b.length < 4) return;
        len = b.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (b.length < 10) return;
        len = Number(b.readBigUInt64BE(2));
        off = 10;
      }
      const masked = (b[1]! & 0x80) !== 0;
      const maskKey = masked ? b.subarray(off, off + 4) : null;
      if (masked) off += 4;
      if (b.length < off + len) return;
      let payload = b.subarray(off, off + len);
      if (maskKey !== null) payload = Buffer.from(payload.map((x, i) => x ^ maskKey[i & 3]!));
      this.buf = b.subarray(off + len);
      if (opcode === 0x8) {
        this.socket.end();
        return;
      }
      if (opcode === 0x9) continue; // ping: the inspector does not send them; ignore
      if (opcode === 0x1 || opcode === 0x0) {
        this.fragments.push(Buffer.from(payload));
        if (fin) {
          const text = Buffer.concat(this.fragments).toString('utf8');
          this.fragments = [];
          this.onMessage(text);
        }
      }
    }
  }

  close(): void {
    // A close frame (masked, empty), then drop the connection: the target must not wait on us.
    this.socket.end(Buffer.from([0x88, 0x80, 0, 0, 0, 0]));
    this.socket.destroySoon();
  }
}

/** Evaluate expressions in the target over one inspector session. */
class Session {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>();

  constructor(private readonly ws: WsConnection) {
    ws.onMessage = (text) => {
      const msg = JSON.parse(text) as { id?: number; result?: any; error?: { message: string } };
      if (msg.id === undefined) return;
      const w = this.waiting.get(msg.id);
      if (w === undefined) return;
      this.waiting.delete(msg.id);
      if (msg.error !== undefined) w.reject(new Error(msg.error.message));
      else w.resolve(msg.result);
    };
    ws.onClose = (err) => {
      for (const w of this.waiting.values()) w.reject(err ?? new Error('inspector connection closed'));
      this.waiting.clear();
    };
  }

  async evaluate(expression: string): Promise<unknown> {
    const id = this.nextId++;
    const result = await new Promise<any>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.ws.send(
        JSON.stringify({ id, method: 'Runtime.evaluate', params: { expression, returnByValue: true } }),
      );
    });
    if (result.exceptionDetails !== undefined) {
      throw new Error(
        `evaluation failed in the target: ${result.exceptionDetails.exception?.description ?? result.exceptionDetails.text}`,
      );
    }
    return result.result?.value;
  }

  close(): void {
    this.ws.close();
  }
}

const sleepMs = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function findTarget(port: number, deadline: number): Promise<string | null> {
  for (;;) {
    try {
      const list = (await getJson(port, '/json/list')) as { webSocketDebuggerUrl?: string }[];
      const url = list.find((t) => t.webSocketDebuggerUrl)?.webSocketDebuggerUrl;
      if (url !== undefined) return url;
    } catch {
      // Not listening (yet).
    }
    if (Date.now() >= deadline) return null;
    await sleepMs(50);
  }
}

const DUMP = `(() => {
  const hook = globalThis[Symbol.for('tsyncio.introspect')];
  return hook === undefined ? null : hook.dump();
})()`;

/**
 * The tasks of process `pid` (RemoteUnwinder.get_all_awaited_by()'s shape). Throws an Error whose message
 * says what went wrong (no such process, no permission, inspector unreachable, tsyncio not loaded).
 */
export async function getAllAwaitedBy(pid: number, options?: InspectOptions): Promise<AwaitedInfo[]> {
  if (!Number.isInteger(pid) || pid <= 0) throw new TypeError(`pid must be a positive integer, got ${pid}`);
  const port = options?.port ?? 9229;
  const deadline = Date.now() + (options?.timeoutMs ?? 5000);
  const wasOpen = (await findTarget(port, 0)) !== null;
  if (!wasOpen) {
    try {
      process.kill(pid, 'SIGUSR1');
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ESRCH') throw new Error(`no process with pid ${pid}`);
      if (code === 'EPERM')
        throw new Error(`no permission to signal process ${pid} (run as its user or root)`);
      throw e;
    }
  }
  const url = await findTarget(port, deadline);
  if (url === null) {
    throw new Error(
      `no inspector on 127.0.0.1:${port} after SIGUSR1 (is process ${pid} a Node process? use --port)`,
    );
  }
  const session = new Session(await WsConnection.connect(url));
  try {
    const targetPid = await session.evaluate('process.pid');
    if (targetPid !== pid) {
      throw new Error(
        `the inspector on port ${port} belongs to process ${targetPid}, not ${pid} (use --port)`,
      );
    }
    const dump = await session.evaluate(DUMP);
    if (dump === null || typeof dump !== 'string') {
      throw new Error(`process ${pid} has not loaded tsyncio (no introspection hook)`);
    }
    return JSON.parse(dump) as AwaitedInfo[];
  } finally {
    session.close();
  }
}
