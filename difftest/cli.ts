/**
 * `npm run difftest -- [--seeds N] [--start S] [--batch B] [--no-shrink] [--save DIR] [--scenario FILE]`
 *
 * Generates N random scenarios from seeds S, S+1, …, runs each on CPython 3.14 (Pyodide) and on tsyncio,
 * and compares the traces. A mismatch is shrunk to a minimal scenario and reported with both traces side
 * by side (and, with --save, written as a corpus candidate). `--scenario FILE` runs one JSON scenario and
 * prints both traces. Exits 1 when any scenario mismatched.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sideBySide } from './compare.js';
import { generate } from './generate.js';
import { check, report, shrink } from './harness.js';
import { toPython } from './python.js';
import type { Scenario } from './scenario.js';
import { features } from './tsyncio.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : fallback;
}

async function main(): Promise<number> {
  const file = arg('scenario', '');
  if (file !== '') {
    const sc = JSON.parse(readFileSync(file, 'utf8')) as Scenario;
    const [o] = await check([sc]);
    console.log(toPython(sc));
    console.log(sideBySide(o!.python, o!.tsyncio));
    console.log(o!.diff < 0 ? 'same trace' : `MISMATCH at event ${o!.diff}`);
    return o!.diff < 0 ? 0 : 1;
  }
  const seeds = Number(arg('seeds', '1000'));
  const start = Number(arg('start', '1'));
  const batch = Number(arg('batch', '100'));
  const save = arg('save', '');
  const doShrink = !process.argv.includes('--no-shrink');
  const feats = features();
  console.log(
    `difftest: seeds ${start}..${start + seeds - 1}; features: ${Object.keys(feats)
      .filter((k) => feats[k])
      .join(' ')}`,
  );
  const t0 = Date.now();
  let mismatches = 0;
  let skipped = 0;
  let events = 0;
  for (let s = start; s < start + seeds; s += batch) {
    const ids: number[] = [];
    for (let k = s; k < Math.min(s + batch, start + seeds); k++) ids.push(k);
    const outcomes = await check(ids.map((k) => generate(k, feats)));
    for (let i = 0; i < outcomes.length; i++) {
      const o = outcomes[i]!;
      events += o.python.length;
      if (o.skipped) skipped++;
      if (o.diff < 0) continue;
      mismatches++;
      const min = doShrink ? await shrink(o, (m) => process.stderr.write(`${m}\n`)) : o;
      console.log(report(min, `seed ${ids[i]}`));
      if (save !== '') {
        mkdirSync(save, { recursive: true });
        const path = join(save, `seed-${ids[i]}.json`);
        writeFileSync(
          path,
          `${JSON.stringify({ note: `found by seed ${ids[i]}`, ...min.scenario }, null, 2)}\n`,
        );
        console.log(`saved ${path}`);
      }
    }
    process.stderr.write(
      `  ${Math.min(s + batch, start + seeds) - start}/${seeds} scenarios, ${mismatches} mismatched, ${((Date.now() - t0) / 1000).toFixed(1)} s\n`,
    );
  }
  console.log(
    `difftest: ${seeds} scenarios, ${events} CPython events, ${mismatches} mismatched, ${skipped} skipped (CPython crashed), ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
  return mismatches === 0 ? 0 : 1;
}

process.exitCode = await main();
