/**
 * Differential tests against CPython 3.14 (see difftest/): the corpus — every scenario that ever exposed a
 * difference — and a band of random seeds. `npm run difftest -- --seeds 10000` runs many more.
 * DIFFTEST_SEEDS / DIFFTEST_START change the band (e.g. to reproduce a CI failure).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../difftest/generate.js';
import { check, type Outcome, report } from '../difftest/harness.js';
import { loadPython } from '../difftest/python.js';
import { type Scenario, features as usedFeatures } from '../difftest/scenario.js';
import { features } from '../difftest/tsyncio.js';

const CORPUS = join(import.meta.dirname, 'difftest', 'corpus');
const SEEDS = Number(process.env.DIFFTEST_SEEDS ?? 1000);
const START = Number(process.env.DIFFTEST_START ?? 1);

function mismatches(outcomes: Outcome[], labels: string[]): string[] {
  return outcomes.flatMap((o, i) => (o.diff >= 0 ? [report(o, labels[i]!)] : []));
}

describe('differential tests against CPython 3.14', () => {
  beforeAll(async () => {
    await loadPython();
  }, 120_000);

  it('every corpus scenario gives the same trace as CPython', async () => {
    const files = readdirSync(CORPUS).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThan(0);
    const scenarios = files.map((f) => JSON.parse(readFileSync(join(CORPUS, f), 'utf8')) as Scenario);
    const outcomes = await check(scenarios);
    expect(files.filter((_, i) => outcomes[i]!.skipped)).toEqual([]);
    expect(mismatches(outcomes, files).join('\n\n')).toBe('');
  }, 120_000);

  it(`${SEEDS} random scenarios give the same traces as CPython`, async () => {
    const feats = features();
    const failures: string[] = [];
    const used = new Map<string, number>();
    let events = 0;
    let hung = 0;
    for (let s = START; s < START + SEEDS; s += 100) {
      const seeds = Array.from({ length: Math.min(100, START + SEEDS - s) }, (_, k) => s + k);
      const scenarios = seeds.map((k) => generate(k, feats));
      for (const sc of scenarios) for (const f of usedFeatures(sc)) used.set(f, (used.get(f) ?? 0) + 1);
      const outcomes = await check(scenarios);
      for (const o of outcomes) {
        events += o.python.length;
        // Deadlocks: CPython's DiffHung, run()'s idle detection on tsyncio's side.
        if (o.python.some((e) => e[1] === 'run' && e[3].startsWith('!DiffHung'))) hung++;
      }
      failures.push(
        ...mismatches(
          outcomes,
          seeds.map((k) => `seed ${k}`),
        ),
      );
      if (failures.length > 0) break; // report the first failing batch; shrink with npm run difftest
    }
    expect(failures.join('\n\n')).toBe('');
    expect(events).toBeGreaterThan(SEEDS * 5);
    // Every part of the language comes up in a fair share of the band (check() runs each scenario under
    // both runSync() and run()). Rates are per scenario.
    if (SEEDS >= 1000) {
      const rate = (tag: string): number => (used.get(tag) ?? 0) / SEEDS;
      expect(rate('taskFactory:eager')).toBeGreaterThan(0.15);
      expect(rate('debug')).toBeGreaterThan(0.05);
      expect(rate('callback:soon')).toBeGreaterThan(0.1);
      expect(rate('callback:later')).toBeGreaterThan(0.1);
      expect(rate('callback:threadsafe')).toBeGreaterThan(0.03);
      expect(rate('op:cancelHandle')).toBeGreaterThan(0.03);
      expect(rate('op:allTasks')).toBeGreaterThan(0.1);
      expect(rate('call:set_result')).toBeGreaterThan(0.1);
      expect(rate('eager_start=True')).toBeGreaterThan(0.15);
      expect(rate('eager_start=False')).toBeGreaterThan(0.03);
      expect(rate('timeout_at')).toBeGreaterThan(0.05);
      expect(rate('timeout.when')).toBeGreaterThan(0.05);
      expect(rate('timeout.expired')).toBeGreaterThan(0.05);
      expect(rate('op:reschedule')).toBeGreaterThan(0.03);
      expect(rate('op:condWaitFor')).toBeGreaterThan(0.05);
      expect(rate('op:bump')).toBeGreaterThan(0.05);
      expect(rate('except*')).toBeGreaterThan(0.1);
      expect(hung / SEEDS).toBeGreaterThan(0.003);
    }
  }, 300_000);
});
