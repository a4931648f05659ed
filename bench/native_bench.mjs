// The native-promise side of tsyncio's benchmark: plain async/await + Promises, no library
// (workload definitions: bench/README.md). One process = one measurement = one JSON line.
import dgram from 'node:dgram';
import net from 'node:net';
import {
  check,
  DEFAULT_N,
  delayMs,
  heapAfterGc,
  NO_WARMUP,
  now,
  overshootStats,
  parseArgs,
  report,
  WARMUP_ROUNDS,
} from './common.mjs';

async function switchNull(n) {
  const t0 = now();
  for (let i = 0; i < n; i++) await null;
  return { n, seconds: now() - t0, unit: 'zero-delay yields (await null: never lets I/O run)' };
}

async function switchImmediate(n) {
  const t0 = now();
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
  return { n, seconds: now() - t0, unit: 'setImmediate yields' };
}

/** An unbounded queue: a synchronous put that resolves a waiting getter. */
class NativeQueue {
  items = [];
  head = 0;
  waiter = null;
  put(v) {
    const w = this.waiter;
    if (w !== null) {
      this.waiter = null;
      w(v);
    } else this.items.push(v);
  }
  get() {
    if (this.head < this.items.length) {
      const v = this.items[this.head++];
      if (this.head === this.items.length) {
        this.items.length = 0;
        this.head = 0;
      }
      return Promise.resolve(v);
    }
    return new Promise((r) => {
      this.waiter = r;
    });
  }
}

async function pingpong(n) {
  const q1 = new NativeQueue();
  const q2 = new NativeQueue();
  async function ping() {
    for (let i = 0; i < n; i++) {
      q1.put(i);
      check((await q2.get()) === i, 'pingpong order');
    }
  }
  async function pong() {
    for (let i = 0; i < n; i++) q2.put(await q1.get());
  }
  const t0 = now();
  await Promise.all([ping(), pong()]);
  return { n, seconds: now() - t0, unit: 'round trips' };
}

async function gatherChild(i) {
  await null;
  return i;
}

/** spawn_gather's and gather_coros's measurement, once every child's `i` is checked to have come back. */
function gathered(workload, res, n, seconds) {
  let sum = 0;
  for (const v of res) sum += v;
  check(sum === (n * (n - 1)) / 2, `${workload} sum`);
  return { n, seconds, unit: 'tasks' };
}

async function spawnGather(n) {
  const t0 = now();
  const tasks = [];
  for (let i = 0; i < n; i++) tasks.push(gatherChild(i));
  const res = await Promise.all(tasks);
  return gathered('spawn_gather', res, n, now() - t0);
}

// Promise.all(items.map(child)): the native form of Python's gather(*(child(i) for i in range(n))).
async function gatherCoros(n) {
  const t0 = now();
  const res = await Promise.all(Array.from({ length: n }, (_, i) => gatherChild(i)));
  return gathered('gather_coros', res, n, now() - t0);
}

async function deepAwait(n) {
  const depth = 1000;
  const repeats = Math.max(1, Math.floor(n / depth));
  async function rec(d) {
    if (d === 0) return 0;
    return (await rec(d - 1)) + 1;
  }
  const t0 = now();
  for (let r = 0; r < repeats; r++) check((await rec(depth)) === depth, 'deep_await result');
  return { n: depth * repeats, seconds: now() - t0, unit: 'awaits' };
}

async function timers(n) {
  const overs = new Float64Array(n);
  async function sleeper(i) {
    const d = delayMs(i);
    const t = now();
    await new Promise((r) => setTimeout(r, d));
    overs[i] = (now() - t) * 1000 - d;
  }
  const t0 = now();
  const tasks = [];
  for (let i = 0; i < n; i++) tasks.push(sleeper(i));
  await Promise.all(tasks);
  const seconds = now() - t0;
  return { n, seconds, unit: 'timers', wall_s: seconds, ...overshootStats(overs) };
}

class Cancelled extends Error {
  name = 'Cancelled';
}

/** The minimal cancellable sleep: the token's cancel() clears the timer and rejects the sleep. */
function sleeper(token) {
  return (async () => {
    await new Promise((resolve, reject) => {
      const h = setTimeout(resolve, 3600_000);
      token.cancel = () => {
        clearTimeout(h);
        reject(new Cancelled('cancelled'));
      };
    });
  })();
}

async function cancel(n) {
  const t0 = now();
  const tokens = [];
  const tasks = [];
  for (let i = 0; i < n; i++) {
    const token = { cancel: null };
    tokens.push(token);
    tasks.push(sleeper(token));
  }
  await null;
  const t1 = now();
  for (const t of tokens) t.cancel();
  const settled = await Promise.allSettled(tasks);
  const t2 = now();
  check(
    settled.every((s) => s.status === 'rejected' && s.reason instanceof Cancelled),
    'all cancelled',
  );
  return { n, seconds: t2 - t1, unit: 'cancellations', create_s: t1 - t0 };
}

async function memTasks(n) {
  const h0 = heapAfterGc();
  const r0 = process.memoryUsage().rss;
  const t0 = now();
  const tokens = [];
  const tasks = [];
  for (let i = 0; i < n; i++) {
    const token = { cancel: null };
    tokens.push(token);
    tasks.push(sleeper(token));
  }
  await null;
  const seconds = now() - t0;
  const h1 = heapAfterGc();
  const r1 = process.memoryUsage().rss;
  for (const t of tokens) t.cancel();
  await Promise.allSettled(tasks);
  return {
    n,
    seconds,
    unit: 'tasks created+started',
    heap_bytes_per_task: (h1 - h0) / n,
    rss_bytes_per_task: (r1 - r0) / n,
    heap_how: 'heapUsed after gc()',
  };
}

async function echo(n) {
  const clients = 50;
  const perClient = Math.max(1, Math.floor(n / clients));
  const MSG = Buffer.from(`${'x'.repeat(63)}\n`);
  const server = net.createServer((sock) => {
    sock.setNoDelay(true);
    let buf = Buffer.alloc(0);
    sock.on('data', (chunk) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      let nl = buf.indexOf(10);
      let start = 0;
      while (nl !== -1) {
        sock.write(buf.subarray(start, nl + 1));
        start = nl + 1;
        nl = buf.indexOf(10, start);
      }
      buf = start === buf.length ? Buffer.alloc(0) : buf.subarray(start);
    });
    sock.on('end', () => sock.end());
    sock.on('error', () => sock.destroy());
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const port = server.address().port;

  async function client() {
    const sock = net.connect(port, '127.0.0.1');
    sock.setNoDelay(true);
    await new Promise((r, j) => {
      sock.once('connect', r);
      sock.once('error', j);
    });
    // A small promise-based line reader.
    let buf = Buffer.alloc(0);
    let waiter = null;
    sock.on('data', (chunk) => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      if (waiter !== null) {
        const w = waiter;
        waiter = null;
        w();
      }
    });
    const readline = async () => {
      for (;;) {
        const nl = buf.indexOf(10);
        if (nl !== -1) {
          const line = buf.subarray(0, nl + 1);
          buf = buf.subarray(nl + 1);
          return line;
        }
        await new Promise((r) => {
          waiter = r;
        });
      }
    };
    for (let i = 0; i < perClient; i++) {
      sock.write(MSG);
      check((await readline()).equals(MSG), 'echo line');
    }
    await new Promise((r) => sock.end(r));
    sock.destroy();
  }

  const t0 = now();
  const cs = [];
  for (let i = 0; i < clients; i++) cs.push(client());
  await Promise.all(cs);
  const seconds = now() - t0;
  await new Promise((r) => server.close(r));
  return { n: clients * perClient, seconds, unit: 'round trips' };
}

const ECHO_MSG = Buffer.from(`${'x'.repeat(63)}\n`);

/** proto_echo with node:net callbacks: the server writes back what it gets; 50 clients, 64-byte messages. */
async function protoEcho(n) {
  const clients = 50;
  const perClient = Math.max(1, Math.floor(n / clients));
  const server = net.createServer({ noDelay: true }, (sock) => {
    sock.setNoDelay(true);
    sock.on('data', (chunk) => sock.write(chunk));
    sock.on('end', () => sock.end());
    sock.on('error', () => sock.destroy());
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const port = server.address().port;
  const client = () =>
    new Promise((resolve, reject) => {
      const sock = net.connect({ port, host: '127.0.0.1', noDelay: true });
      let got = 0;
      let left = perClient;
      sock.on('connect', () => sock.write(ECHO_MSG));
      sock.on('data', (chunk) => {
        got += chunk.length;
        if (got < 64) return;
        check(got === 64 && chunk[chunk.length - 1] === 10, 'echo reply');
        got = 0;
        if (--left > 0) sock.write(ECHO_MSG);
        else sock.end();
      });
      sock.on('error', reject);
      sock.on('close', () => (left === 0 ? resolve() : reject(new Error('closed early'))));
    });
  const t0 = now();
  const cs = [];
  for (let i = 0; i < clients; i++) cs.push(client());
  await Promise.all(cs);
  const seconds = now() - t0;
  await new Promise((r) => server.close(r));
  return { n: clients * perClient, seconds, unit: 'round trips' };
}

/** udp_pingpong with node:dgram: an echo socket and 10 connected clients, one datagram in flight each. */
async function udpPingpong(n) {
  const clients = 10;
  const perClient = Math.max(1, Math.floor(n / clients));
  const server = dgram.createSocket('udp4');
  server.on('message', (msg, rinfo) => server.send(msg, rinfo.port, rinfo.address));
  await new Promise((r) => server.bind(0, '127.0.0.1', r));
  const port = server.address().port;
  const socks = [];
  const client = () =>
    new Promise((resolve, reject) => {
      const sock = dgram.createSocket('udp4');
      socks.push(sock);
      let left = perClient;
      sock.on('message', (msg) => {
        check(msg.length === 64 && msg[63] === 10, 'udp reply');
        if (--left > 0) sock.send(ECHO_MSG);
        else resolve();
      });
      sock.on('error', reject);
      sock.connect(port, '127.0.0.1', () => sock.send(ECHO_MSG));
    });
  const t0 = now();
  const cs = [];
  for (let i = 0; i < clients; i++) cs.push(client());
  await Promise.all(cs);
  const seconds = now() - t0;
  for (const s of socks) s.close();
  server.close();
  return { n: clients * perClient, seconds, unit: 'round trips' };
}

const workloads = {
  switch: switchNull,
  switch_immediate: switchImmediate,
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

const args = parseArgs(process.argv.slice(2));
if (args.warmup && !NO_WARMUP.has(args.workload) && workloads[args.workload]) {
  const n = args.n ?? DEFAULT_N[args.workload];
  for (let r = 0; r < WARMUP_ROUNDS; r++) await workloads[args.workload](Math.max(1, Math.floor(n / 20)));
}
await report('node-native', process.version, args, workloads, DEFAULT_N);
