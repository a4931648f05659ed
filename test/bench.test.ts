/**
 * Smoke test of the benchmark workloads (bench/workloads.ts): each runs on tsyncio at a tiny N through
 * run(), with its own correctness checks (sums, orders, cancelled states). No timing thresholds — this only
 * proves `npm run bench` still measures something real; .ci/run runs the whole `npm run bench -- --quick`.
 */

import { run } from 'tsyncio';
import { describe, expect, it } from 'vitest';
import { measureBundles } from '../bench/bundle.mjs';
import { type Measurement, prepare, Unavailable, WORKLOADS } from '../bench/workloads.js';

const TINY: Record<string, number> = {
  switch: 1000,
  pingpong: 500,
  spawn_gather: 1000,
  deep_await: 2000,
  timers: 200,
  timers_light: 20,
  cancel: 1000,
  mem_tasks: 1000,
  echo: 100,
  echo_short: 100,
  proto_echo: 100,
  udp_pingpong: 100,
};

// Workloads that need a module another issue lands (Queue, streams): they may report Unavailable, never fail.
const OPTIONAL = new Set(['pingpong', 'echo', 'echo_short']);

describe('benchmark workloads at tiny N', () => {
  it('covers every workload', () => {
    expect(Object.keys(WORKLOADS).sort()).toEqual(Object.keys(TINY).sort());
  });

  for (const [name, n] of Object.entries(TINY)) {
    it(`${name} runs and passes its own checks`, async () => {
      await prepare();
      let out: Measurement;
      try {
        out = await run(WORKLOADS[name]!(n));
      } catch (e) {
        if (OPTIONAL.has(name) && e instanceof Unavailable) return;
        throw e;
      }
      expect(out.n).toBe(name.includes('echo') || name === 'udp_pingpong' ? 100 : n);
      expect(out.seconds).toBeGreaterThan(0);
      if (name === 'timers' || name === 'timers_light') {
        // sleep(d) never returns before d has passed (1 µs of float slack for the ms/s conversions).
        expect(out.overshoot_ms_min as number).toBeGreaterThanOrEqual(-0.001);
      }
      if (name === 'mem_tasks') expect(out.heap_bytes_per_task).toBeTypeOf('number');
    });
  }
});

describe('bundle size measurement (bench/bundle.mjs)', () => {
  it('bundles the minimal program and the whole API, smaller than the whole API', async () => {
    const r = await measureBundles();
    expect(r.minimal.gzip).toBeGreaterThan(1000);
    expect(r.minimal.gzip).toBeLessThan(r.minimal.minified);
    expect(r.full.minified).toBeGreaterThan(r.minimal.minified);
    const modules = r.minimal.modules.map(([m]: [string, number]) => m);
    expect(modules).toContain('src/tasks.ts');
    // tree-shaking works at all: queues and locks are not in a program that does not use them
    expect(modules).not.toContain('src/queues.ts');
    expect(modules).not.toContain('src/locks.ts');
  });
});
