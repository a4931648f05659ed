/**
 * The benchmark workloads on tsyncio (definitions: bench/README.md), written with the public API only,
 * line for line like bench/asyncio_bench.py writes them with asyncio. Each workload is a coroutine
 * function taking N and returning the measurement's fields; bench/tsyncio_bench.ts runs one per process,
 * test/bench.test.ts runs each at a tiny N.
 *
 * Queue (pingpong) and the streams (echo) are looked up at run time, so the workloads report
 * "unavailable" instead of failing on a checkout that does not have them.
 */
import * as tsyncio from '../src/index.js';
import {
  type Awaitable,
  CancelledError,
  coroutine,
  createTask,
  gather,
  type Instruction,
  sleep,
  type Task,
} from '../src/index.js';

export const now = (): number => performance.now() / 1000;

export function delayMs(i: number): number {
  return (((i * 7919) % 10007) * 10) / 10007;
}

export function check(cond: boolean, what: string): void {
  if (!cond) throw new Error(`check failed: ${what}`);
}

/** Nearest-rank percentile of an ascending array. */
function percentile(sorted: Float64Array, p: number): number {
  const k = Math.max(1, Math.ceil((sorted.length * p) / 100));
  return sorted[k - 1]!;
}

export interface Measurement {
  n: number;
  seconds: number;
  unit: string;
  [field: string]: unknown;
}

/** Thrown when the library lacks what a workload needs (the runner records a skip, not a failure). */
export class Unavailable extends Error {
  override name = 'Unavailable';
}

/**
 * `gather(...tasks)`. A JavaScript call cannot take more than ~120k spread arguments (V8 puts them on the
 * stack: RangeError), so past CHUNK tasks (more than the default N of any workload) this is one gather of gathers of CHUNK
 * tasks each — the same
 * work plus one future per CHUNK tasks. Python's `gather(*tasks)` has no such limit.
 */
const CHUNK = 100_000;
const gatherAll = coroutine(function* gatherAll<T>(tasks: Awaitable<T>[], returnExceptions: boolean) {
  const opts = { returnExceptions };
  if (tasks.length <= CHUNK) return (yield* gather(...tasks, opts)) as (T | Error)[];
  const parts = [];
  for (let i = 0; i < tasks.length; i += CHUNK) parts.push(gather(...tasks.slice(i, i + CHUNK), opts));
  const results = (yield* gather(...parts)) as (T | Error)[][];
  return results.flat();
});

const switchW = coroutine(function* switchW(n: number) {
  const t0 = now();
  for (let i = 0; i < n; i++) yield* sleep(0);
  return { n, seconds: now() - t0, unit: 'zero-delay yields' } as Measurement;
});

const pingpong = coroutine(function* pingpong(n: number) {
  const Queue = (tsyncio as Record<string, any>).Queue;
  if (typeof Queue !== 'function') throw new Unavailable('tsyncio has no Queue yet');
  const q1 = new Queue();
  const q2 = new Queue();
  const ping = coroutine(function* ping() {
    for (let i = 0; i < n; i++) {
      q1.putNowait(i);
      check((yield* q2.get()) === i, 'pingpong order');
    }
  });
  const pong = coroutine(function* pong() {
    for (let i = 0; i < n; i++) q2.putNowait(yield* q1.get());
  });
  const t0 = now();
  yield* gather(createTask(ping()), createTask(pong()));
  return { n, seconds: now() - t0, unit: 'round trips' } as Measurement;
});

const child = coroutine(function* child(i: number) {
  yield* sleep(0);
  return i;
});

const spawnGather = coroutine(function* spawnGather(n: number) {
  const t0 = now();
  const tasks: Task<number>[] = [];
  for (let i = 0; i < n; i++) tasks.push(createTask(child(i)));
  const res = (yield* gatherAll(tasks, false)) as number[];
  return gathered('spawn_gather', res, n, now() - t0);
});

// Python's `gather(*(child(i) for i in range(n)))`: every coroutine is created before gather wraps them in
// tasks (so the never-awaited machinery sees them unstarted).
const gatherCoros = coroutine(function* gatherCoros(n: number) {
  const t0 = now();
  const res = (yield* gatherAll(
    Array.from({ length: n }, (_, i) => child(i)),
    false,
  )) as number[];
  return gathered('gather_coros', res, n, now() - t0);
});

/** spawn_gather's and gather_coros's measurement, once every child's `i` is checked to have come back. */
function gathered(workload: string, res: number[], n: number, seconds: number): Measurement {
  let sum = 0;
  for (const v of res) sum += v;
  check(sum === (n * (n - 1)) / 2, `${workload} sum`);
  return { n, seconds, unit: 'tasks' } as Measurement;
}

const rec = coroutine(function* rec(d: number): Generator<Instruction, number, unknown> {
  if (d === 0) return 0;
  return (yield* rec(d - 1)) + 1;
});

const deepAwait = coroutine(function* deepAwait(n: number) {
  const depth = 1000;
  const repeats = Math.max(1, Math.floor(n / depth));
  const t0 = now();
  for (let r = 0; r < repeats; r++) check((yield* rec(depth)) === depth, 'deep_await result');
  return { n: depth * repeats, seconds: now() - t0, unit: 'awaits' } as Measurement;
});

const timers = coroutine(function* timers(n: number) {
  const overs = new Float64Array(n);
  const sleeper = coroutine(function* sleeper(i: number) {
    const d = delayMs(i);
    const t = now();
    yield* sleep(d / 1000);
    overs[i] = (now() - t) * 1000 - d;
  });
  const t0 = now();
  const tasks: Task<void>[] = [];
  for (let i = 0; i < n; i++) tasks.push(createTask(sleeper(i)));
  yield* gatherAll(tasks, false);
  const seconds = now() - t0;
  const s = overs.slice().sort();
  let sum = 0;
  for (const v of s) sum += v;
  return {
    n,
    seconds,
    unit: 'timers',
    wall_s: seconds,
    overshoot_ms_min: s[0],
    overshoot_ms_mean: sum / n,
    overshoot_ms_p50: percentile(s, 50),
    overshoot_ms_p99: percentile(s, 99),
    overshoot_ms_max: s[n - 1],
  } as Measurement;
});

const sleeperLong = coroutine(function* sleeperLong() {
  yield* sleep(3600);
});

const cancel = coroutine(function* cancel(n: number) {
  const t0 = now();
  const tasks: Task<void>[] = [];
  for (let i = 0; i < n; i++) tasks.push(createTask(sleeperLong()));
  yield* sleep(0);
  const t1 = now();
  for (const t of tasks) t.cancel();
  const res = yield* gatherAll(tasks, true);
  const t2 = now();
  check(
    tasks.every((t) => t.cancelled()),
    'all cancelled',
  );
  check(
    res.every((r) => r instanceof CancelledError),
    'CancelledError results',
  );
  return { n, seconds: t2 - t1, unit: 'cancellations', create_s: t1 - t0 } as Measurement;
});

function heapAfterGc(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Unavailable('mem_tasks needs node --expose-gc');
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

const memTasks = coroutine(function* memTasks(n: number) {
  const h0 = heapAfterGc();
  const r0 = process.memoryUsage().rss;
  const t0 = now();
  const tasks: Task<void>[] = [];
  for (let i = 0; i < n; i++) tasks.push(createTask(sleeperLong()));
  yield* sleep(0);
  const seconds = now() - t0;
  const h1 = heapAfterGc();
  const r1 = process.memoryUsage().rss;
  for (const t of tasks) t.cancel();
  yield* gatherAll(tasks, true);
  return {
    n,
    seconds,
    unit: 'tasks created+started',
    heap_bytes_per_task: (h1 - h0) / n,
    rss_bytes_per_task: (r1 - r0) / n,
    heap_how: 'heapUsed after gc()',
  } as Measurement;
});

/** The Node streams API, when this checkout has it. */
export async function loadStreams(): Promise<Record<string, any> | null> {
  try {
    const path = '../src/node/index.js';
    const mod = (await import(/* @vite-ignore */ path)) as Record<string, any>;
    return typeof mod.startServer === 'function' && typeof mod.openConnection === 'function' ? mod : null;
  } catch {
    return null;
  }
}

let streams: Record<string, any> | null = null;

/** Resolve the optional modules before the loop starts (a dynamic import is a host promise). */
export async function prepare(): Promise<void> {
  streams = await loadStreams();
}

function serverPort(server: any): number {
  const sock = server.sockets?.[0];
  const addr = typeof sock?.address === 'function' ? sock.address() : sock?.getsockname?.();
  const port = Array.isArray(addr) ? addr[1] : addr?.port;
  if (typeof port !== 'number') throw new Error('cannot find the server port');
  return port;
}

const echo = coroutine(function* echo(n: number) {
  const s = streams;
  if (s === null) throw new Unavailable('tsyncio has no streams (src/node/streams.ts) yet');
  const clients = 50;
  const perClient = Math.max(1, Math.floor(n / clients));
  const MSG = new TextEncoder().encode(`${'x'.repeat(63)}\n`);
  const handle = coroutine(function* handle(reader: any, writer: any) {
    for (;;) {
      const line = yield* reader.readline();
      if (line.length === 0) break;
      writer.write(line);
      yield* writer.drain();
    }
    writer.close();
  });
  const server: any = yield* s.startServer(handle, '127.0.0.1', 0);
  const port = serverPort(server);
  const client = coroutine(function* client() {
    const [reader, writer]: [any, any] = yield* s.openConnection('127.0.0.1', port);
    for (let i = 0; i < perClient; i++) {
      writer.write(MSG);
      yield* writer.drain();
      const line: Uint8Array = yield* reader.readline();
      check(line.length === 64 && line[0] === 120 && line[63] === 10, 'echo line');
    }
    writer.close();
    yield* writer.waitClosed();
  });
  const t0 = now();
  const cs = [];
  for (let i = 0; i < clients; i++) cs.push(client());
  yield* gather(...cs);
  const seconds = now() - t0;
  server.close();
  yield* server.waitClosed();
  return { n: clients * perClient, seconds, unit: 'round trips' } as Measurement;
});

const ECHO_MSG = Buffer.from(`${'x'.repeat(63)}\n`);

/**
 * proto_echo: the echo workload one level down (issue 17): a Protocol server that writes back what it
 * receives, 50 Protocol clients each doing N/50 round trips of a 64-byte message (the next one is sent
 * when the whole reply is in). Timed from launching the clients (connects included).
 */
const protoEcho = coroutine(function* protoEcho(n: number) {
  const s = streams;
  if (s === null || typeof s.Protocol !== 'function')
    throw new Unavailable('tsyncio has no Protocol API yet');
  const loop: any = tsyncio.getRunningLoop();
  const clients = 50;
  const perClient = Math.max(1, Math.floor(n / clients));
  const Proto = s.Protocol as new () => any;
  class EchoServer extends Proto {
    transport: any = null;
    connectionMade(t: any): void {
      this.transport = t;
    }
    dataReceived(data: Buffer): void {
      this.transport.write(data);
    }
  }
  const server: any = yield* loop.createServer(() => new EchoServer(), '127.0.0.1', 0);
  const port = serverPort(server);
  class Client extends Proto {
    transport: any = null;
    got = 0;
    left = perClient;
    constructor(readonly done: tsyncio.Future<void>) {
      super();
    }
    connectionMade(t: any): void {
      this.transport = t;
      t.write(ECHO_MSG);
    }
    dataReceived(data: Buffer): void {
      this.got += data.length;
      if (this.got < 64) return;
      check(this.got === 64 && data[data.length - 1] === 10, 'echo reply');
      this.got = 0;
      if (--this.left > 0) this.transport.write(ECHO_MSG);
      else this.transport.close();
    }
    connectionLost(exc: unknown): void {
      if (exc) this.done.setException(exc);
      else {
        check(this.left === 0, 'all round trips');
        this.done.setResult(undefined);
      }
    }
  }
  const t0 = now();
  const dones: tsyncio.Future<void>[] = [];
  const connects = [];
  for (let i = 0; i < clients; i++) {
    const done = loop.createFuture();
    dones.push(done);
    connects.push(loop.createConnection(() => new Client(done), '127.0.0.1', port));
  }
  yield* gather(...connects);
  yield* gather(...dones);
  const seconds = now() - t0;
  server.close();
  yield* server.waitClosed();
  return { n: clients * perClient, seconds, unit: 'round trips' } as Measurement;
});

/**
 * udp_pingpong: a DatagramProtocol echo server and 10 connected DatagramProtocol clients, each doing
 * N/10 round trips of a 64-byte datagram (one in flight per client).
 */
const udpPingpong = coroutine(function* udpPingpong(n: number) {
  const s = streams;
  if (s === null || typeof s.DatagramProtocol !== 'function') throw new Unavailable('tsyncio has no UDP yet');
  const loop: any = tsyncio.getRunningLoop();
  const clients = 10;
  const perClient = Math.max(1, Math.floor(n / clients));
  const DProto = s.DatagramProtocol as new () => any;
  class EchoServer extends DProto {
    transport: any = null;
    connectionMade(t: any): void {
      this.transport = t;
    }
    datagramReceived(data: Buffer, addr: unknown): void {
      this.transport.sendto(data, addr);
    }
  }
  const [st]: [any] = yield* loop.createDatagramEndpoint(() => new EchoServer(), {
    localAddr: ['127.0.0.1', 0],
  });
  const addr = st.getExtraInfo('sockname');
  class Client extends DProto {
    transport: any = null;
    left = perClient;
    constructor(readonly done: tsyncio.Future<void>) {
      super();
    }
    connectionMade(t: any): void {
      this.transport = t;
    }
    datagramReceived(data: Buffer): void {
      check(data.length === 64 && data[63] === 10, 'udp reply');
      if (--this.left > 0) this.transport.sendto(ECHO_MSG);
      else this.done.setResult(undefined);
    }
    errorReceived(exc: unknown): void {
      this.done.setException(exc);
    }
  }
  const t0 = now();
  const dones: tsyncio.Future<void>[] = [];
  const transports: any[] = [];
  for (let i = 0; i < clients; i++) {
    const done = loop.createFuture();
    dones.push(done);
    const [t]: [any] = yield* loop.createDatagramEndpoint(() => new Client(done), { remoteAddr: addr });
    transports.push(t);
    t.sendto(ECHO_MSG);
  }
  // A datagram lost on loopback would stall a client forever: fail the measurement instead.
  yield* tsyncio.waitFor(gather(...dones), 120);
  const seconds = now() - t0;
  for (const t of transports) t.close();
  st.close();
  return { n: clients * perClient, seconds, unit: 'round trips' } as Measurement;
});

export const WORKLOADS: Record<string, (n: number) => tsyncio.Coroutine<Measurement>> = {
  switch: switchW,
  pingpong,
  spawn_gather: spawnGather,
  gather_coros: gatherCoros,
  deep_await: deepAwait,
  timers,
  timers_light: timers,
  cancel,
  mem_tasks: memTasks,
  echo,
  echo_short: echo,
  proto_echo: protoEcho,
  udp_pingpong: udpPingpong,
};
