// The statistics of bench/run.mjs, kept pure so test/bench.test.ts can check them: medians with their
// min–max, per-repetition ratios between systems, and whether a target holds in every repetition or only
// in the median (issue 18 asks for "in every run").

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Median, min and max of a non-empty list of numbers. */
export function spreadOf(xs) {
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), count: xs.length };
}

/**
 * Per-repetition ratios mine ÷ other: repetition k of one system against repetition k of the other
 * (measured one after the other, so they share the machine's state of that moment). Only repetitions
 * where both measured something count. Lines are the JSON lines of bench/README.md.
 */
export function pairedRatios(mine, other) {
  const byRep = new Map();
  for (const l of other) if (l.ops_per_s > 0) byRep.set(l.rep, l.ops_per_s);
  const out = [];
  for (const l of mine) {
    const o = byRep.get(l.rep);
    if (l.ops_per_s > 0 && o !== undefined) out.push(l.ops_per_s / o);
  }
  return out;
}

/**
 * Per-repetition ratios of throughput per on-CPU second (lines with `cpu_ms`): how much more work mine does
 * per second of the main thread's CPU than other, repetition k against repetition k. Preemption is out of
 * it, so on a busy machine it is much narrower than the wall-clock ratio — but it is a throughput ratio
 * only for workloads that never wait (not timers, not sockets).
 */
export function pairedCpuRatios(mine, other) {
  const byRep = new Map();
  for (const l of other) if (l.cpu_ms > 0 && l.n > 0) byRep.set(l.rep, l.cpu_ms / l.n);
  const out = [];
  for (const l of mine) {
    const o = byRep.get(l.rep);
    if (l.cpu_ms > 0 && l.n > 0 && o !== undefined) out.push(o / (l.cpu_ms / l.n));
  }
  return out;
}

/**
 * A "≥ want" target against the ratio of the medians and the per-repetition ratios: `every` when every
 * repetition meets it (the "in every run"), `median` when only the median does, `no` otherwise.
 */
export function targetStatus(medianRatio, perRep, want) {
  const met = perRep.filter((r) => r >= want).length;
  const status = medianRatio < want ? 'no' : met === perRep.length ? 'every' : 'median';
  return { status, met, reps: perRep.length };
}

/** The Markdown words for targetStatus(). */
export function describeTarget({ status, met, reps }) {
  if (status === 'every') return reps > 1 ? `met in every rep (${met}/${reps})` : 'met (1 rep)';
  if (status === 'median') return `**median only** (${met}/${reps} reps)`;
  return `**not met** (${met}/${reps} reps)`;
}

/** Compact number for ranges: 6.35M, 612k, 0.87. */
export function short(x) {
  if (x === undefined || x === null || Number.isNaN(x)) return '—';
  const a = Math.abs(x);
  if (a >= 1e6) return `${(x / 1e6).toFixed(a >= 1e8 ? 0 : 2)}M`;
  if (a >= 1e4) return `${(x / 1e3).toFixed(a >= 1e5 ? 0 : 1)}k`;
  if (a >= 100) return Math.round(x).toString();
  if (a >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

/** "[min–max]" of a spread, or '' for a single repetition. */
export function rangeText(s, unit = '') {
  return s.count > 1 ? ` [${short(s.min)}–${short(s.max)}${unit}]` : '';
}
