#!/usr/bin/env node
// `node bench/icount.mjs --workload spawn_gather [--n 100000] [--ref COMMIT]…`
//
// Instructions per operation of a tsyncio workload, counted by valgrind (cachegrind, no cache
// simulation) — a load-independent figure for A/B comparisons on a shared machine, where timings of
// allocation-heavy code swing 2x with the neighbours' load (bench/README.md, "Reading the spread").
//
// How: the workload of bench/workloads.ts is bundled with esbuild (no loader runs inside valgrind) and run
// under `node --predictable` (single-threaded, deterministic: no concurrent compiler or GC threads) with
// a 512 MB young generation (no GC inside a 100k-task section). Each process warms up as the benchmark
// does (WARMUP_ROUNDS x N/20), then runs the workload at N — and once more at 0: the difference ÷ N is the
// cost of one operation with start-up and warm-up cancelled out. Repeated runs agree to about 0.001 %.
//
// --ref COMMIT (repeatable) measures the same workload code against that commit's src/ (a temporary git
// worktree); without it, this checkout's src/. Needs valgrind; in-memory workloads only (the socket ones
// load src/node at run time, which the bundle leaves out).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_N, WARMUP_ROUNDS } from './common.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');

const argv = process.argv.slice(2);
const opt = { workload: 'spawn_gather', n: undefined, refs: [] };
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--workload') opt.workload = argv[++i];
  else if (a === '--n') opt.n = Number(argv[++i]);
  else if (a === '--ref') opt.refs.push(argv[++i]);
  else {
    console.error(`unknown option ${a}`);
    process.exit(2);
  }
}
const n = opt.n ?? DEFAULT_N[opt.workload];
if (n === undefined) {
  console.error(`unknown workload ${opt.workload}`);
  process.exit(2);
}
if (spawnSync('valgrind', ['--version']).status !== 0) {
  console.error('icount: valgrind is not installed');
  process.exit(2);
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'tsyncio-icount-'));
const esbuild = await import('esbuild');

/** Bundle the workload runner against `srcRoot`'s src/index.ts; returns the bundle's path. */
async function bundleFor(srcRoot, name) {
  const entry = path.join(tmp, `${name}-entry.ts`);
  writeFileSync(
    entry,
    `import { run } from ${JSON.stringify(path.join(root, 'src', 'index.ts'))};
import { prepare, WORKLOADS } from ${JSON.stringify(path.join(here, 'workloads.ts'))};
const [w, n, warm, rounds] = process.argv.slice(2);
const fn = WORKLOADS[w];
await prepare();
for (let r = 0; r < Number(rounds); r++) await run(fn(Number(warm)));
if (Number(n) > 0) await run(fn(Number(n)));
`,
  );
  const target = path.join(srcRoot, 'src', 'index.ts');
  const redirect = {
    name: 'src-of-ref',
    setup(build) {
      // Every import of this checkout's src/index.(js|ts) goes to the measured checkout's.
      build.onResolve({ filter: /(^|\/)src\/index\.(js|ts)$/ }, () => ({ path: target }));
    },
  };
  const outfile = path.join(tmp, `${name}.mjs`);
  await esbuild.build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    outfile,
    keepNames: true,
    logLevel: 'error',
    plugins: srcRoot === root ? [] : [redirect],
  });
  return outfile;
}

function instructions(bundle, count) {
  const warm = Math.max(1, Math.floor(n / 20));
  const r = spawnSync(
    'valgrind',
    [
      '--tool=cachegrind',
      '--cache-sim=no',
      '--cachegrind-out-file=/dev/null',
      process.execPath,
      '--predictable',
      '--min-semi-space-size=512',
      '--max-semi-space-size=512',
      bundle,
      opt.workload,
      String(count),
      String(warm),
      String(WARMUP_ROUNDS),
    ],
    { encoding: 'utf8', maxBuffer: 1 << 26 },
  );
  const m = /I\s+refs:\s+([\d,]+)/.exec(r.stderr ?? '');
  if (r.status !== 0 || m === null) throw new Error(`valgrind failed: ${(r.stderr ?? '').slice(-800)}`);
  return Number(m[1].replaceAll(',', ''));
}

const worktrees = [];
try {
  const targets = opt.refs.length === 0 ? [['this checkout', root]] : [];
  for (const ref of opt.refs) {
    const dir = path.join(tmp, `ref-${ref.replace(/[^\w.-]/g, '_')}`);
    execFileSync('git', ['worktree', 'add', '--detach', dir, ref], { cwd: root, stdio: 'ignore' });
    worktrees.push(dir);
    const modules = path.join(dir, 'node_modules');
    if (!existsSync(modules)) symlinkSync(path.join(root, 'node_modules'), modules);
    targets.push([ref, dir]);
  }
  for (const [i, [label, dir]] of targets.entries()) {
    const bundle = await bundleFor(dir, `b${i}`);
    const base = instructions(bundle, 0);
    const full = instructions(bundle, n);
    const per = (full - base) / n;
    console.log(
      `${opt.workload} n=${n} ${label}: ${per.toFixed(0)} instructions/op ` +
        `(${full.toLocaleString('en-US')} - ${base.toLocaleString('en-US')} baseline)`,
    );
  }
} finally {
  for (const dir of worktrees) {
    spawnSync('git', ['worktree', 'remove', '--force', dir], { cwd: root, stdio: 'ignore' });
  }
  rmSync(tmp, { recursive: true, force: true });
}
