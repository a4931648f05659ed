/**
 * Comparing traces, the intentional differences the comparator knows about, and the side-by-side report.
 */
import type { TraceEvent } from './scenario.js';

/**
 * Intentional differences (each also in docs/PYTHON_DIFFERENCES.md): rewrites applied to CPython's trace
 * before it is compared with tsyncio's. Keep each one narrow and give its reason.
 */
export const KNOWN_DIFFERENCES: { name: string; reason: string; rewrite: (value: string) => string }[] = [
  {
    name: 'BaseExceptionGroup',
    reason:
      'tsyncio has one ExceptionGroup class (JavaScript has one error hierarchy); CPython uses ' +
      'BaseExceptionGroup when a member is a BaseException.',
    rewrite: (v) => v.replaceAll('!BaseExceptionGroup(', '!ExceptionGroup('),
  },
];
// Equal timer deadlines are not listed here: python.ts makes CPython's heap FIFO for them instead, which is
// the order tsyncio promises (see its header comment).

export function normalize(trace: TraceEvent[]): TraceEvent[] {
  return trace.map(([t, actor, what, value]) => {
    let v = value;
    for (const d of KNOWN_DIFFERENCES) v = d.rewrite(v);
    return [t, actor, what, v];
  });
}

/** Index of the first differing event, or -1 when the traces agree. */
export function firstDifference(python: TraceEvent[], ts: TraceEvent[]): number {
  const a = normalize(python);
  const n = Math.max(a.length, ts.length);
  for (let i = 0; i < n; i++) {
    const x = a[i];
    const y = ts[i];
    if (x === undefined || y === undefined) return i;
    if (x[0] !== y[0] || x[1] !== y[1] || x[2] !== y[2] || x[3] !== y[3]) return i;
  }
  return -1;
}

function show(e: TraceEvent | undefined): string {
  if (e === undefined) return '';
  const [t, actor, what, value] = e;
  return `${t === null ? '-' : t} ${actor} ${what}${value === '' ? '' : ` → ${value}`}`;
}

/** Both traces in two columns; `>>` marks the first difference, `!=` every later differing row. */
export function sideBySide(python: TraceEvent[], ts: TraceEvent[]): string {
  const a = normalize(python);
  const first = firstDifference(python, ts);
  const left = a.map(show);
  const right = ts.map(show);
  const width = Math.min(70, Math.max(20, ...left.map((s) => s.length)));
  const rows = [
    `    ${'CPython 3.14'.padEnd(width)} | tsyncio`,
    `    ${'-'.repeat(width)}-+-${'-'.repeat(width)}`,
  ];
  const n = Math.max(left.length, right.length);
  for (let i = 0; i < n; i++) {
    const l = left[i] ?? '';
    const r = right[i] ?? '';
    const mark = i === first ? '>> ' : l !== r ? '!= ' : '   ';
    rows.push(`${mark} ${l.padEnd(width)} | ${r}`);
  }
  return rows.join('\n');
}
