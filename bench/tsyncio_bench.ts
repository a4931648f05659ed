/**
 * The tsyncio side of the benchmark: one process = one measurement = one JSON line (bench/README.md).
 * CLI: --workload NAME [--n N] [--rep K] [--warmup]. Everything runs inside the main task of run().
 */
import { run } from '../src/index.js';
import { DEFAULT_N, NO_WARMUP, parseArgs, threadFields, threadTimes, WARMUP_ROUNDS } from './common.mjs';
import { prepare, Unavailable, WORKLOADS } from './workloads.js';

const pkg = JSON.parse(
  (await import('node:fs')).readFileSync(new URL('../package.json', import.meta.url), 'utf8'),
) as { version: string };

const args = parseArgs(process.argv.slice(2));
const line: Record<string, unknown> = {
  system: 'tsyncio',
  workload: args.workload,
  rep: args.rep,
  version: `${pkg.version} (node ${process.version})`,
};
try {
  const fn = WORKLOADS[args.workload];
  if (fn === undefined) throw new Error(`unknown workload ${args.workload}`);
  const n = args.n ?? (DEFAULT_N as Record<string, number>)[args.workload]!;
  await prepare();
  if (args.warmup && !NO_WARMUP.has(args.workload)) {
    for (let r = 0; r < WARMUP_ROUNDS; r++) await run(fn(Math.max(1, Math.floor(n / 20))));
  }
  const t0 = threadTimes();
  const out = await run(fn(n));
  const t1 = threadTimes();
  Object.assign(line, out, threadFields(t0, t1));
  line.ops_per_s = out.n / out.seconds;
} catch (e) {
  const err = e as Error;
  if (err instanceof Unavailable) line.skipped = err.message;
  else line.error = `${err?.name ?? 'Error'}: ${err?.message ?? String(e)}`;
}
line.rss_mb = process.resourceUsage().maxRSS / 1024;
process.stdout.write(`${JSON.stringify(line)}\n`);
