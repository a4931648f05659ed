#!/usr/bin/env node
// `npm run bench [-- --quick] [-- --reps N] [-- --only a,b] [-- --no-scaling] [-- --out DIR]`
//
// Runs every workload of bench/README.md on tsyncio, native promises, CPython asyncio and (when
// importable) uvloop, in ONE run: one fresh process per (system, workload, repetition), repetitions
// interleaved across systems so a noisy minute hurts every column alike. Reports the median, the ratios
// tsyncio ÷ each anchor and the issue's targets, and writes BENCHMARKS.md + an SVG chart + JSON.
//
// Full run (default): default N, 7 repetitions of the cheap in-memory workloads and 5 of the socket ones
// (1 for mem_tasks), each after an in-process warm-up, plus the scaling check (10k/100k/1M tasks). Every
// median is reported with its min–max, every ratio with the min–max of the per-repetition ratios, every
// target as met in every repetition, by the median only, or not. Output: docs/BENCHMARKS.md,
// docs/benchmarks.svg, docs/benchmarks.json.
// --quick: N/10, 1 repetition (still warmed up), no scaling; output to $TMPDIR/tsyncio-bench/ (a smoke run
// never touches the docs).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUNDLE_TARGETS, EFFECTION_REFERENCE, measureBundles } from './bundle.mjs';
import { renderChart } from './chart.mjs';
import { DEFAULT_N, WARMUP_ROUNDS } from './common.mjs';
import {
  describeTarget,
  median,
  pairedCpuRatios,
  pairedRatios,
  rangeText,
  spreadOf,
  targetStatus,
} from './stats.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');

// ---------------------------------------------------------------------------------------------------
// options

const argv = process.argv.slice(2);
const opt = { quick: false, reps: undefined, only: undefined, scaling: true, out: undefined };
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--quick') opt.quick = true;
  else if (a === '--reps') opt.reps = Number(argv[++i]);
  else if (a === '--only') opt.only = argv[++i].split(',');
  else if (a === '--systems') opt.systems = argv[++i].split(',');
  else if (a === '--no-scaling') opt.scaling = false;
  else if (a === '--scaling-only') opt.scalingOnly = true;
  else if (a === '--out') opt.out = path.resolve(argv[++i]);
  else if (a === '--from-json') opt.fromJson = path.resolve(argv[++i]);
  else if (a === '--remark') opt.remark = argv[++i];
  else {
    console.error(`unknown option ${a}`);
    process.exit(2);
  }
}
if (opt.quick) opt.scaling = false;
// (--from-json: the repetitions of that run, read below)
let reps = opt.reps ?? (opt.quick ? 1 : 7);
// Repetitions per workload: the in-memory workloads take well under a second per process, so a full run
// affords 7 of them (the spread of 5 on a shared machine was as wide as the effects it should show); the
// socket workloads take several seconds each, 5; mem_tasks is deterministic enough for 1.
const SOCKET_WORKLOADS = new Set(['echo', 'echo_short', 'proto_echo', 'udp_pingpong']);
function repsOf(w) {
  if (w === 'mem_tasks') return 1;
  if (opt.reps === undefined && !opt.quick && SOCKET_WORKLOADS.has(w)) return 5;
  return reps;
}
const outDir = opt.out ?? (opt.quick ? path.join(os.tmpdir(), 'tsyncio-bench') : path.join(root, 'docs'));
const scale = opt.quick ? 0.1 : 1;

// Rows of the table: [workload, which systems run it]. switch_immediate is native only (the I/O-letting
// native yield: what a library's sleep(0) would cost if it were one macrotask).
const ROWS = [
  'switch',
  'switch_immediate',
  'pingpong',
  'spawn_gather',
  'gather_coros',
  'deep_await',
  'timers',
  'timers_light',
  'cancel',
  'mem_tasks',
  'echo',
  'echo_short',
  'proto_echo',
  'udp_pingpong',
].filter((w) => opt.only === undefined || opt.only.includes(w));

// Targets of issues 8 and 18 (tsyncio ÷ system).
const TARGETS = {
  switch: { 'cpython-asyncio': 15, 'node-native': 0.5 },
  pingpong: { 'cpython-uvloop': 10, 'node-native': 0.4 },
  spawn_gather: { 'cpython-asyncio': 10, 'node-native': 0.8 },
  deep_await: { 'node-native': 1.5 },
  timers: { 'node-native': 1 },
  cancel: { 'node-native': 2, 'cpython-asyncio': 4 },
  echo: { 'node-native': 0.95, 'cpython-asyncio': 2.5 },
  echo_short: { 'node-native': 0.9 },
  // Issue 17.
  proto_echo: { 'node-native': 0.95, 'cpython-asyncio': 2 },
  udp_pingpong: { 'node-native': 0.9, 'cpython-asyncio': 2 },
};
const MEM_TARGET = 560; // heap bytes per pending task

// ---------------------------------------------------------------------------------------------------
// systems

function findPython() {
  for (const p of ['/usr/bin/python3.11', 'python3']) {
    const r = spawnSync(p, ['-c', 'import sys; print(sys.version.split()[0])'], { encoding: 'utf8' });
    if (r.status === 0) return { exe: p, version: r.stdout.trim() };
  }
  return null;
}

const python = findPython();
let uvloopVersion = null;
if (python !== null) {
  const r = spawnSync(python.exe, ['-c', 'import uvloop; print(uvloop.__version__)'], { encoding: 'utf8' });
  if (r.status === 0) uvloopVersion = r.stdout.trim();
}

const SYSTEMS = [
  {
    name: 'tsyncio',
    cmd: (w, n, rep, warm) => [
      process.execPath,
      ['--expose-gc', '--import', 'tsx', path.join(here, 'tsyncio_bench.ts'), ...cli(w, n, rep, warm)],
    ],
    has: (w) => w !== 'switch_immediate',
  },
  {
    name: 'node-native',
    cmd: (w, n, rep, warm) => [
      process.execPath,
      ['--expose-gc', path.join(here, 'native_bench.mjs'), ...cli(w, n, rep, warm)],
    ],
    has: () => true,
  },
];
if (python !== null) {
  for (const loop of uvloopVersion !== null ? ['asyncio', 'uvloop'] : ['asyncio']) {
    SYSTEMS.push({
      name: `cpython-${loop}`,
      cmd: (w, n, rep, warm) => [
        python.exe,
        [path.join(here, 'asyncio_bench.py'), '--loop', loop, ...cli(w, n, rep, warm)],
      ],
      has: (w) => w !== 'switch_immediate',
    });
  }
}

if (opt.systems !== undefined) {
  for (let i = SYSTEMS.length - 1; i >= 0; i--)
    if (!opt.systems.includes(SYSTEMS[i].name)) SYSTEMS.splice(i, 1);
}

function cli(w, n, rep, warm) {
  const a = ['--workload', w, '--n', String(n), '--rep', String(rep)];
  if (warm) a.push('--warmup');
  return a;
}

function sizeOf(w) {
  return Math.max(
    w === 'timers_light' ? 100 : 1,
    Math.round(DEFAULT_N[w] * (w === 'timers_light' ? 1 : scale)),
  );
}

function measure(system, w, n, rep, warm) {
  const [exe, args] = system.cmd(w, n, rep, warm);
  const r = spawnSync(exe, args, { cwd: root, encoding: 'utf8', timeout: 300_000, maxBuffer: 1 << 24 });
  const last = (r.stdout ?? '').trim().split('\n').pop();
  try {
    return JSON.parse(last);
  } catch {
    const why = r.error?.message ?? (r.stderr || '').trim().split('\n').slice(-3).join(' | ');
    return { system: system.name, workload: w, rep, error: `no result (exit ${r.status}): ${why}` };
  }
}

// ---------------------------------------------------------------------------------------------------
// run

const previous = opt.fromJson !== undefined ? JSON.parse(readFileSync(opt.fromJson, 'utf8')) : null;
if (previous !== null) {
  // Re-render the docs from an earlier run: same systems, same rows, no measurement.
  opt.quick = previous.mode === 'quick';
  if (typeof previous.repetitions === 'number') reps = previous.repetitions;
  opt.scalingOnly = true;
  opt.scaling = false;
  for (let i = SYSTEMS.length - 1; i >= 0; i--) {
    if (!previous.systems.includes(SYSTEMS[i].name)) SYSTEMS.splice(i, 1);
  }
}
const started = previous !== null ? new Date(previous.machine.date) : new Date();
const loadBefore = os.loadavg();
const t0 = performance.now();
const lines = previous !== null ? previous.raw : [];
const log = (s) => process.stderr.write(`${s}\n`);
log(
  `bench: ${opt.quick ? 'quick' : 'full'} run, ${reps} repetition(s), systems: ${SYSTEMS.map((s) => s.name).join(', ')}` +
    (python === null ? ' (no python3: CPython columns skipped)' : '') +
    (python !== null && uvloopVersion === null ? ' (uvloop not importable: column skipped)' : ''),
);

if (!opt.scalingOnly) {
  for (const w of ROWS) {
    const n = sizeOf(w);
    const wreps = repsOf(w);
    for (let rep = 1; rep <= wreps; rep++) {
      for (const s of SYSTEMS) {
        if (!s.has(w)) continue;
        const line = measure(s, w, n, rep, true);
        lines.push(line);
        log(`  ${w.padEnd(16)} ${s.name.padEnd(16)} rep ${rep}: ${summarize(line)}`);
      }
    }
  }
}

function summarize(line) {
  if (line.error) return `ERROR ${line.error}`;
  if (line.skipped) return `skipped (${line.skipped})`;
  return `${fmt(line.ops_per_s)} ops/s (${line.seconds.toFixed(3)} s)`;
}

// Scaling check: per-op cost of the task-heavy workloads at 10k, 100k, 1M tasks (tsyncio only).
const SCALING_WORKLOADS = ['spawn_gather', 'timers', 'cancel', 'mem_tasks'];
const SCALING_N = [10_000, 100_000, 1_000_000];
const scaling = previous !== null ? previous.scaling : [];
if (opt.scaling) {
  for (const w of SCALING_WORKLOADS) {
    for (const n of SCALING_N) {
      const line = measure(SYSTEMS[0], w, n, 1, false);
      scaling.push(line);
      log(`  scaling ${w.padEnd(14)} n=${String(n).padEnd(8)}: ${summarize(line)}`);
    }
  }
}

// Bundle sizes are deterministic: measured in every run (quick or full), kept from --from-json.
const bundles = previous?.bundles ?? (await measureBundles());
log(
  `  bundle: minimal ${fmtKB(bundles.minimal.gzip)}, full API ${fmtKB(bundles.full.gzip)} (min+gzip)` +
    (bundles.effection ? `, effection ${fmtKB(bundles.effection.gzip)}` : ''),
);

function fmtKB(bytes) {
  return `${(bytes / 1024).toFixed(1)} KB`;
}

const elapsed = previous !== null ? previous.seconds : (performance.now() - t0) / 1000;
const loadAfter = os.loadavg();

// ---------------------------------------------------------------------------------------------------
// summarize

const systemNames = SYSTEMS.map((s) => s.name);
const results = {};
for (const w of ROWS) {
  results[w] = {};
  for (const s of systemNames) {
    const mine = lines.filter((l) => l.workload === w && l.system === s);
    if (mine.length === 0) continue;
    const ok = mine.filter((l) => !l.error && !l.skipped);
    if (ok.length === 0) {
      results[w][s] = { error: mine[0].error, skipped: mine[0].skipped };
      continue;
    }
    const ops = spreadOf(ok.map((l) => l.ops_per_s));
    const med = ops.median;
    const r = {
      ops_per_s: med,
      ops_min: ops.min,
      ops_max: ops.max,
      spread: ops.count > 1 ? (ops.max - ops.min) / 2 / med : 0,
      runs: ok.length,
      n: ok[0].n,
      unit: ok[0].unit,
      version: ok[0].version,
      rss_mb: median(ok.map((l) => l.rss_mb)),
    };
    for (const k of Object.keys(ok[0])) {
      if (k.startsWith('overshoot_ms_') || k.endsWith('_per_task') || k === 'wall_s' || k === 'create_s') {
        const xs = ok.map((l) => l[k]);
        r[k] = median(xs);
        // min–max over the repetitions (for the timers table): ranges[k] = [min, max]
        (r.ranges ??= {})[k] = [Math.min(...xs), Math.max(...xs)];
      }
    }
    // The machine's share: the main thread's run-queue wait ÷ the measurement's wall time (Linux only),
    // and the spread of its on-CPU time (identical work; a wide one means the work itself got slower).
    const timed = ok.filter((l) => typeof l.wait_ms === 'number' && typeof l.cpu_ms === 'number');
    if (timed.length > 0) {
      const share = timed.map((l) => l.wait_ms / 1000 / Math.max(l.seconds, 1e-9));
      r.wait_share = median(share);
      r.wait_share_max = Math.max(...share);
      const cpu = spreadOf(timed.map((l) => l.cpu_ms));
      r.cpu_ms = cpu.median;
      r.cpu_ms_min = cpu.min;
      r.cpu_ms_max = cpu.max;
    }
    results[w][s] = r;
  }
}

// ratios[w][s]: ratio of the medians (the headline figure); ratioReps[w][s]: the per-repetition ratios
// (repetition k of tsyncio ÷ repetition k of s, measured back to back), whose min–max is reported.
const ratios = {};
const ratioReps = {};
// Per-repetition ratios of operations per on-CPU second (see pairedCpuRatios), for the noise table.
const cpuRatioReps = {};
// Workloads that spend part of their wall time waiting (timers, sockets): no on-CPU throughput ratio.
const WAITING_WORKLOADS = new Set([
  'timers',
  'timers_light',
  'echo',
  'echo_short',
  'proto_echo',
  'udp_pingpong',
]);
for (const w of ROWS) {
  const mine = results[w].tsyncio;
  if (!mine?.ops_per_s) continue;
  ratios[w] = {};
  ratioReps[w] = {};
  const myLines = lines.filter((l) => l.workload === w && l.system === 'tsyncio' && !l.error && !l.skipped);
  for (const s of systemNames.slice(1)) {
    const other = results[w][s];
    if (!other?.ops_per_s) continue;
    ratios[w][s] = mine.ops_per_s / other.ops_per_s;
    const theirs = lines.filter((l) => l.workload === w && l.system === s && !l.error && !l.skipped);
    ratioReps[w][s] = pairedRatios(myLines, theirs);
    (cpuRatioReps[w] ??= {})[s] = pairedCpuRatios(myLines, theirs);
  }
}

function targetVerdict(w) {
  if (w === 'mem_tasks') {
    const b = results[w].tsyncio?.heap_bytes_per_task;
    if (b === undefined) return '';
    return `≤ ${MEM_TARGET} B/task: ${b <= MEM_TARGET ? 'met' : `**not met** (${fmt(b)})`}`;
  }
  const t = TARGETS[w];
  if (!t) return '';
  const parts = Object.entries(t).map(([s, want]) => {
    const got = ratios[w]?.[s];
    const label = `≥ ${want}× ${shortName(s)}`;
    if (got === undefined) return `${label}: n/a`;
    const perRep = ratioReps[w][s];
    return `${label}: ${describeTarget(targetStatus(got, perRep.length > 0 ? perRep : [got], want))}`;
  });
  if (w === 'timers') parts.push(...timerVerdicts());
  return parts.join('; ');
}

// Issue 18's timers target beyond throughput: overshoot no larger than native's (p99 and mean of the
// medians) and never early (the smallest overshoot of every repetition ≥ 0, with 1 µs of float slack).
function timerVerdicts() {
  const mine = results.timers?.tsyncio;
  const nat = results.timers?.['node-native'];
  if (!mine?.ops_per_s) return [];
  const out = [];
  if (nat?.ops_per_s) {
    const ok =
      mine.overshoot_ms_p99 <= nat.overshoot_ms_p99 && mine.overshoot_ms_mean <= nat.overshoot_ms_mean;
    out.push(`overshoot (p99, mean) ≤ native: ${ok ? 'met' : '**not met**'}`);
  }
  const mins = lines
    .filter(
      (l) => l.workload === 'timers' && l.system === 'tsyncio' && typeof l.overshoot_ms_min === 'number',
    )
    .map((l) => l.overshoot_ms_min);
  const early = mins.filter((m) => m < -0.001).length;
  out.push(
    `never early: ${early === 0 ? `met (${mins.length}/${mins.length} reps)` : `**not met** (${early} reps early)`}`,
  );
  return out;
}

function shortName(s) {
  return { 'node-native': 'native', 'cpython-asyncio': 'asyncio', 'cpython-uvloop': 'uvloop' }[s] ?? s;
}

function fmt(x) {
  if (x === undefined || x === null || Number.isNaN(x)) return '—';
  if (x >= 100) return Math.round(x).toLocaleString('en-US');
  if (x >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

function cell(w, s) {
  const r = results[w][s];
  if (r === undefined) return '—';
  if (r.skipped) return 'skipped';
  if (r.error) return 'error';
  return `${fmt(r.ops_per_s)}${rangeText({ median: r.ops_per_s, min: r.ops_min, max: r.ops_max, count: r.runs })}`;
}

// ---------------------------------------------------------------------------------------------------
// write

function gitRev() {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

const machine = {
  date: started.toISOString(),
  cpus: `${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown'}`,
  memory_gib: Math.round(os.totalmem() / 2 ** 30),
  os: `${os.type()} ${os.release()}`,
  node: process.version,
  v8: process.versions.v8,
  python: python === null ? null : `${python.version} (${python.exe})`,
  uvloop: uvloopVersion,
  tsyncio_commit: process.env.TSYNCIO_COMMIT ?? gitRev(),
  // 1-minute load average before and after the run: on a shared machine, the context for every figure.
  load_avg_1m:
    previous !== null
      ? previous.machine.load_avg_1m
      : [Number(loadBefore[0].toFixed(1)), Number(loadAfter[0].toFixed(1))],
};
if (previous !== null) {
  Object.assign(machine, previous.machine, { load_avg_1m: machine.load_avg_1m });
  if (process.env.TSYNCIO_COMMIT) machine.tsyncio_commit = process.env.TSYNCIO_COMMIT;
}

const json = {
  mode: opt.quick ? 'quick' : 'full',
  repetitions: reps,
  seconds: elapsed,
  machine,
  systems: systemNames,
  results,
  ratios,
  ratio_reps: ratioReps,
  cpu_ratio_reps: cpuRatioReps,
  warmup_rounds: WARMUP_ROUNDS,
  scaling: scaling.map((l) => ({
    ...l,
    workload: l.workload,
    n: l.n,
    seconds: l.seconds,
    ops_per_s: l.ops_per_s,
    us_per_op: l.seconds !== undefined ? (l.seconds / l.n) * 1e6 : undefined,
    heap_bytes_per_task: l.heap_bytes_per_task,
    error: l.error,
  })),
  bundles,
  raw: lines,
};

mkdirSync(outDir, { recursive: true });
writeFileSync(path.join(outDir, 'benchmarks.json'), `${JSON.stringify(json, null, 2)}\n`);
writeFileSync(path.join(outDir, 'benchmarks.svg'), renderChart(ROWS, systemNames, results));
writeFileSync(path.join(outDir, 'BENCHMARKS.md'), renderMarkdown());
log(`bench: done in ${elapsed.toFixed(1)} s → ${path.relative(root, outDir) || '.'}/BENCHMARKS.md`);

// A failed measurement is a failed benchmark run (skips are not).
const failed = [...lines, ...scaling].filter((l) => l.error);
if (failed.length > 0) {
  log(`bench: ${failed.length} measurement(s) failed`);
  process.exitCode = 1;
}

/** "7 repetitions (5: echo, …; 1: mem_tasks)", from the repetitions actually measured. */
function repsText() {
  const per = {};
  for (const l of lines) per[l.workload] = Math.max(per[l.workload] ?? 0, l.rep ?? 1);
  const groups = new Map();
  for (const [w, k] of Object.entries(per)) groups.set(k, [...(groups.get(k) ?? []), w]);
  const sorted = [...groups.entries()].sort((a, b) => b[1].length - a[1].length);
  if (sorted.length === 0) return `${reps} repetitions`;
  const [[main], ...rest] = sorted;
  const more = rest.map(([k, ws]) => `${k}: ${ws.join(', ')}`).join('; ');
  return `${main} repetitions${more ? ` (${more})` : ''}`;
}

/** The spread of every row next to the machine's share of it (see bench/README.md, "Reading the spread"). */
function renderNoise(out) {
  const rows = [];
  for (const w of ROWS) {
    for (const s of ['tsyncio', 'node-native']) {
      const r = results[w]?.[s];
      if (!r?.ops_per_s || r.runs < 2) continue;
      const cpu =
        r.cpu_ms === undefined ? '—' : `${fmt(r.cpu_ms)} [${fmt(r.cpu_ms_min)}–${fmt(r.cpu_ms_max)}]`;
      const wait =
        r.wait_share === undefined
          ? '—'
          : `${(r.wait_share * 100).toFixed(0)}% (max ${(r.wait_share_max * 100).toFixed(0)}%)`;
      const cr = s === 'tsyncio' ? cpuRatioReps[w]?.['node-native'] : undefined;
      const cpuRatio =
        cr === undefined || cr.length === 0
          ? ''
          : `${fmt(median(cr))}×${cr.length > 1 ? rangeText(spreadOf(cr)) : ''}${WAITING_WORKLOADS.has(w) ? ' (waits: not a throughput ratio)' : ''}`;
      rows.push(
        `| ${w} | ${s} | ${r.runs} | ${(r.ops_max / r.ops_min).toFixed(2)} | ${r.cpu_ms === undefined ? '—' : (r.cpu_ms_max / r.cpu_ms_min).toFixed(2)} | ${cpu} | ${wait} | ${cpuRatio} |`,
      );
    }
  }
  if (rows.length === 0) return;
  out.push('## Spread and the machine');
  out.push('');
  out.push(
    'How far apart the repetitions are, next to what the machine did to them (Linux schedstat of the main ' +
      'thread over the whole measured run, warm-up excluded). A wide throughput spread with a narrow ' +
      'on-CPU spread and a large run-queue wait is preemption by other processes; a wide on-CPU spread for ' +
      'the same work is the work itself running slower (shared caches and memory, or JIT/GC timing). ' +
      "The native column's spread is the noise floor of the machine for the same kind of work. " +
      "The last column is tsyncio ÷ native in operations per second of the main thread's CPU, repetition " +
      'against repetition (median [min–max]): preemption is out of it, so on a busy machine it is the ' +
      'steadier ratio — for workloads that never wait; timers and sockets spend part of their wall time ' +
      'waiting, so theirs is not a throughput ratio.',
  );
  out.push('');
  out.push(
    '| workload | system | reps | ops/s max ÷ min | on-CPU max ÷ min | on-CPU ms [min–max] | run-queue wait ÷ wall | on-CPU ratio ÷ native |',
  );
  out.push('|---|---|---:|---:|---:|---:|---:|---:|');
  out.push(...rows);
  out.push('');
}

/** A median of the timers table with its min–max over the repetitions: "0.450 [0.431–0.502]". */
function withRange(r, k, digits) {
  const [lo, hi] = r.ranges?.[k] ?? [];
  const med = r[k].toFixed(digits);
  return r.runs > 1 && lo !== undefined ? `${med} [${lo.toFixed(digits)}–${hi.toFixed(digits)}]` : med;
}

function renderMarkdown() {
  const out = [];
  const cols = systemNames;
  out.push('# Benchmarks');
  out.push('');
  out.push(
    'tsyncio next to native promises, CPython asyncio and uvloop, measured in **one run on one machine** ' +
      "(`npm run bench`; the workloads are defined in the repository's `bench/README.md`). " +
      'Every figure is the median of the repetitions, each a fresh process that first runs the workload ' +
      `at N/20 ${WARMUP_ROUNDS === 2 ? 'twice' : `${WARMUP_ROUNDS} times`} as a warm-up (all systems alike), ` +
      'with its min–max in brackets. Higher is better. This file, the chart and ' +
      '`benchmarks.json` are generated by `bench/run.mjs`; do not edit them by hand.',
  );
  out.push('');
  out.push(
    `- Date: ${machine.date} (${opt.quick ? 'quick run: N/10, 1 repetition' : `full run, ${repsText()}`}; the whole run took ${elapsed.toFixed(0)} s)`,
  );
  out.push(`- Machine: ${machine.cpus}, ${machine.memory_gib} GiB, ${machine.os}`);
  out.push(`- Node ${machine.node} (V8 ${machine.v8}); tsyncio ${machine.tsyncio_commit}`);
  if (machine.load_avg_1m) {
    out.push(
      `- Load average (1 min) before / after: ${machine.load_avg_1m.join(' / ')} on ${os.cpus().length} CPUs`,
    );
  }
  if (opt.remark) out.push(`- ${opt.remark}`);
  out.push(
    `- CPython: ${machine.python ?? 'not found (columns skipped)'}; uvloop: ${machine.uvloop ?? 'not importable (column skipped)'}`,
  );
  out.push('');
  out.push('## Throughput (operations per second) and ratios');
  out.push('');
  out.push(`![ops/s per workload and system](benchmarks.svg)`);
  out.push('');
  const ratioCols = cols.slice(1).map((s) => `tsyncio ÷ ${shortName(s)}`);
  out.push(`| workload | N | unit | ${cols.join(' | ')} | ${ratioCols.join(' | ')} | target |`);
  out.push(`|---|---:|---|${cols.map(() => '---:').join('|')}|${ratioCols.map(() => '---:').join('|')}|---|`);
  for (const w of ROWS) {
    const any = Object.values(results[w]).find((r) => r.unit);
    const rs = cols.slice(1).map((s) => {
      if (w === 'timers_light') return '—';
      const x = ratios[w]?.[s];
      if (x === undefined) return '—';
      const per = ratioReps[w]?.[s] ?? [];
      return `${fmt(x)}×${per.length > 1 ? rangeText(spreadOf(per)) : ''}`;
    });
    out.push(
      `| ${w} | ${any ? any.n.toLocaleString('en-US') : '—'} | ${any?.unit ?? ''} | ${cols.map((s) => cell(w, s)).join(' | ')} | ${rs.join(' | ')} | ${targetVerdict(w)} |`,
    );
  }
  out.push('');
  out.push(
    'Native `switch` is `await null` (one microtask: never lets I/O run); `switch_immediate` is the native ' +
      'yield that does let I/O run (`setImmediate`). tsyncio `sleep(0)` lets I/O run: the loop drains its ready ' +
      'queue in batches and gives the host a turn at least every 4 ms. `timers_light` ops/s is meaningless ' +
      '(wall ≈ the longest delay): read its overshoot below. [min–max] after a figure is the range of its ' +
      'repetitions; after a ratio, the range of the per-repetition ratios (repetition k of tsyncio ÷ ' +
      'repetition k of the other system, measured back to back). A target is "met in every rep" when every ' +
      'per-repetition ratio meets it, "median only" when the ratio of the medians does but some repetition ' +
      'does not.',
  );
  out.push('');
  if (ROWS.includes('mem_tasks')) {
    out.push('## Memory per pending task (mem_tasks: tasks parked in `sleep(3600)`)');
    out.push('');
    out.push('| system | N | heap bytes/task | how | RSS bytes/task | peak RSS MB |');
    out.push('|---|---:|---:|---|---:|---:|');
    for (const s of cols) {
      const r = results.mem_tasks[s];
      if (!r?.ops_per_s) continue;
      out.push(
        `| ${s} | ${r.n.toLocaleString('en-US')} | ${fmt(r.heap_bytes_per_task)} | ${lines.find((l) => l.workload === 'mem_tasks' && l.system === s)?.heap_how ?? ''} | ${fmt(r.rss_bytes_per_task)} | ${fmt(r.rss_mb)} |`,
      );
    }
    out.push('');
  }
  renderNoise(out);
  const timerRows = ['timers', 'timers_light'].filter((w) => ROWS.includes(w));
  if (timerRows.length > 0) {
    out.push('## Timers: wall time and sleep overshoot (ms, signed; negative = woke early)');
    out.push('');
    out.push('Medians of the repetitions, [min–max] over them.');
    out.push('');
    out.push('| workload | system | N | wall s | min | mean | p50 | p99 | max |');
    out.push('|---|---|---:|---:|---:|---:|---:|---:|---:|');
    for (const w of timerRows) {
      for (const s of cols) {
        const r = results[w][s];
        if (!r?.ops_per_s) continue;
        out.push(
          `| ${w} | ${s} | ${r.n.toLocaleString('en-US')} | ${withRange(r, 'wall_s', 3)} | ${withRange(r, 'overshoot_ms_min', 2)} | ${withRange(r, 'overshoot_ms_mean', 2)} | ${withRange(r, 'overshoot_ms_p50', 2)} | ${withRange(r, 'overshoot_ms_p99', 2)} | ${withRange(r, 'overshoot_ms_max', 2)} |`,
        );
      }
    }
    out.push('');
  }
  if (scaling.length > 0) {
    out.push('## Scaling: per-task cost at 10k, 100k and 1M tasks (tsyncio, one run each)');
    out.push('');
    out.push(
      'Flat per-op cost means no O(n²) anywhere (ready queue, timer heap with cancellation, done-callback ' +
        'lists). These runs are cold (no warm-up), so the 10k figure is dominated by JIT warm-up; ' +
        '"1M ÷ 100k" is the growth of the per-op cost over the last tenfold increase (1.00 = flat).',
    );
    out.push('');
    out.push(
      `| workload | ${SCALING_N.map((n) => `µs/op @ ${n.toLocaleString('en-US')}`).join(' | ')} | 1M ÷ 100k |`,
    );
    out.push(`|---|${SCALING_N.map(() => '---:').join('|')}|---:|`);
    for (const w of SCALING_WORKLOADS) {
      const per = SCALING_N.map((n) => {
        const l = scaling.find((x) => x.workload === w && x.n === n);
        return l && !l.error ? (l.seconds / l.n) * 1e6 : undefined;
      });
      const [, p100k, p1m] = per;
      const ratio = p100k !== undefined && p1m !== undefined ? (p1m / p100k).toFixed(2) : '—';
      out.push(
        `| ${w} | ${per.map((x) => (x === undefined ? 'error' : x.toFixed(2))).join(' | ')} | ${ratio} |`,
      );
    }
    const mem = SCALING_N.map((n) => scaling.find((x) => x.workload === 'mem_tasks' && x.n === n));
    if (mem.some((l) => l?.heap_bytes_per_task !== undefined)) {
      out.push(
        `| mem_tasks heap B/task | ${mem.map((l) => (l?.heap_bytes_per_task !== undefined ? fmt(l.heap_bytes_per_task) : 'error')).join(' | ')} | |`,
      );
    }
    out.push('');
  }
  out.push('## Browser bundle size (esbuild, ESM, platform=browser, minified, then gzip -9)');
  out.push('');
  out.push(
    '`minimal` is a program using `coroutine`, `run`, `sleep`, `createTask` and `gather`; `full` is ' +
      "`export * from 'tsyncio'` (the portable API). Both are bundled from the package's portable entry, " +
      'tree-shaken as a browser app would be (`bench/bundle.mjs`).',
  );
  out.push('');
  out.push('| bundle | minified | min+gzip | target | largest modules (minified bytes) |');
  out.push('|---|---:|---:|---|---|');
  for (const [name, b] of Object.entries(bundles)) {
    const target = BUNDLE_TARGETS[name];
    const verdict =
      target === undefined ? '' : `≤ ${fmtKB(target)}: ${b.gzip <= target ? 'met' : '**not met**'}`;
    const label = name === 'effection' ? `effection ${b.version} (whole API)` : name;
    const top = b.modules
      .filter(([m]) => m.startsWith('src/') || m.includes('node_modules'))
      .slice(0, 5)
      .map(([m, n]) => `${m.replace(/^.*node_modules\//, '')} ${n.toLocaleString('en-US')}`)
      .join(', ');
    out.push(`| ${label} | ${fmtKB(b.minified)} | ${fmtKB(b.gzip)} | ${verdict} | ${top} |`);
  }
  if (bundles.effection === undefined) {
    const e = EFFECTION_REFERENCE;
    out.push(
      `| effection ${e.version} (whole API; issue 18's figure, not measured here: the package is not installed) | | ${fmtKB(e.gzip)} | | |`,
    );
  }
  out.push('');
  const skipped = lines.filter((l) => l.skipped);
  const errors = lines.filter((l) => l.error);
  if (skipped.length + errors.length > 0 || python === null || uvloopVersion === null) {
    out.push('## Skipped and failed measurements');
    out.push('');
    if (python === null) out.push('- No python3: the CPython columns were skipped.');
    else if (uvloopVersion === null) out.push('- uvloop is not importable: its column was skipped.');
    const seen = new Set();
    for (const l of [...skipped, ...errors]) {
      const key = `${l.system} ${l.workload} ${l.skipped ?? l.error}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(`- ${l.system} ${l.workload}: ${l.skipped ? `skipped — ${l.skipped}` : `error — ${l.error}`}`);
    }
    out.push('');
  }
  return `${out.join('\n')}\n`;
}
