// Shared by the Node-side benchmark processes: CLI parsing, the deterministic delays, percentiles and the
// one-JSON-line output of bench/README.md.
import { readFileSync } from 'node:fs';

export const now = () => performance.now() / 1000; // seconds, monotonic

/**
 * Warm-up rounds before the measurement (`--warmup`): the workload at N/20, this many times, untimed.
 * Two, not one: the first round ends with the first task finishing and the first loop stopping, which
 * turns fields the optimizer had seen constant (a future's `_state`/`_result`, the loop's `_stopping`)
 * into mutable ones and deoptimizes the hot path that depended on them — with one round the timed
 * section began in the interpreter and re-tiered to Turbofan while being timed, at a moment that depends
 * on when the (concurrent) compiler thread gets a CPU. After the second round `--trace-opt --trace-deopt`
 * shows no compilation or deoptimization inside the timed section (bench/README.md, "Warm-up").
 */
export const WARMUP_ROUNDS = 2;

/**
 * The main thread's on-CPU time and run-queue wait so far, in ms (Linux: /proc/self/task/PID/schedstat),
 * or null elsewhere. `wait` is time the thread was runnable but another process had the CPU: the
 * machine's share of a measurement, not the program's.
 */
export function threadTimes() {
  try {
    const [cpu, wait] = readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'utf8').split(' ');
    return { cpu: Number(cpu) / 1e6, wait: Number(wait) / 1e6 };
  } catch {
    return null;
  }
}

/** The fields `cpu_ms` and `wait_ms` of a measurement line, from two threadTimes() readings. */
export function threadFields(t0, t1) {
  if (t0 === null || t1 === null) return {};
  return { cpu_ms: t1.cpu - t0.cpu, wait_ms: t1.wait - t0.wait };
}

export function delayMs(i) {
  return (((i * 7919) % 10007) * 10) / 10007;
}

export function parseArgs(argv) {
  const args = { workload: undefined, n: undefined, rep: 1, warmup: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--workload') args.workload = argv[++i];
    else if (a === '--n') args.n = Number(argv[++i]);
    else if (a === '--rep') args.rep = Number(argv[++i]);
    else if (a === '--warmup') args.warmup = true;
    else throw new Error(`unknown argument ${a}`);
  }
  if (!args.workload) throw new Error('--workload is required');
  return args;
}

export function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted, p) {
  const k = Math.max(1, Math.ceil((sorted.length * p) / 100));
  return sorted[k - 1];
}

export function overshootStats(overs) {
  const s = Float64Array.from(overs).sort();
  let sum = 0;
  for (const v of s) sum += v;
  return {
    overshoot_ms_min: s[0],
    overshoot_ms_mean: sum / s.length,
    overshoot_ms_p50: percentile(s, 50),
    overshoot_ms_p99: percentile(s, 99),
    overshoot_ms_max: s[s.length - 1],
  };
}

export function heapAfterGc() {
  globalThis.gc();
  globalThis.gc();
  return process.memoryUsage().heapUsed;
}

/** Run one measurement and print its JSON line (an "error" field instead of figures on failure). */
export async function report(system, version, args, workloads, defaults) {
  const line = { system, workload: args.workload, rep: args.rep, version };
  try {
    const fn = workloads[args.workload];
    if (fn === undefined) throw new Error(`unknown workload ${args.workload}`);
    const n = args.n ?? defaults[args.workload];
    const t0 = threadTimes();
    const out = await fn(n, args);
    const t1 = threadTimes();
    Object.assign(line, out, threadFields(t0, t1));
    line.ops_per_s = out.n / out.seconds;
  } catch (e) {
    line.error = `${e?.name ?? 'Error'}: ${e?.message ?? String(e)}`;
  }
  line.rss_mb = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

export const DEFAULT_N = {
  switch: 1_000_000,
  switch_immediate: 1_000_000,
  pingpong: 200_000,
  spawn_gather: 100_000,
  // gather(*(child(i) for i in range(n))): the coroutines exist before gather wraps them in tasks.
  gather_coros: 100_000,
  deep_await: 1_000_000,
  timers: 100_000,
  timers_light: 100,
  cancel: 100_000,
  mem_tasks: 200_000,
  echo: 100_000,
  // 50 clients x 500 round trips: connection setup and teardown weigh 4x more than in `echo`.
  echo_short: 25_000,
  // Issue 17: the transport/protocol layer (50 TCP clients) and UDP (10 clients), round trips.
  proto_echo: 100_000,
  udp_pingpong: 100_000,
};

/** Workloads whose warm-up would disturb the measurement itself (memory baseline, timer precision). */
export const NO_WARMUP = new Set(['mem_tasks', 'timers_light']);
