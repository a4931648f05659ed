/**
 * A trace as a picture: an SVG timeline with one row per task (the same tracks Perfetto shows), step
 * spans as bars, create/cancel/done as markers and wakeup flows as arrows. Portable (a string out), so a
 * browser page or a docs script can render a trace without a trace viewer.
 */
import type { ChromeTrace, TraceEvent } from './trace.js';

export interface TraceSvgOptions {
  /** Picture width in pixels (default 1100). */
  width?: number;
  /** Title line above the timeline. */
  title?: string;
  /** Draw the wakeup flows (default true). */
  flows?: boolean;
}

const ROW = 30;
const BAR = 18;
const LABEL_W = 150;
const TOP = 56;
const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#b07aa1', '#76b7b2', '#edc948', '#9c755f', '#e15759'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function colorFor(name: string): string {
  let h = 0;
  for (const ch of name) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return PALETTE[h % PALETTE.length]!;
}

function niceStep(span: number, target: number): number {
  const raw = span / target;
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

/** Render a Chrome trace (as written by tsyncio) as an SVG document. */
export function traceToSvg(trace: ChromeTrace, options?: TraceSvgOptions): string {
  const width = options?.width ?? 1100;
  const events = trace.traceEvents;
  // Tracks in sort order, keeping only those with something on them.
  const names = new Map<number, string>();
  const order = new Map<number, number>();
  for (const e of events) {
    if (e.ph !== 'M') continue;
    if (e.name === 'thread_name') names.set(e.tid, String(e.args?.name));
    if (e.name === 'thread_sort_index') order.set(e.tid, Number(e.args?.sort_index));
  }
  const used = new Set(events.filter((e) => e.ph !== 'M').map((e) => e.tid));
  const tids = [...names.keys()]
    .filter((t) => used.has(t))
    .sort((a, b) => (order.get(a) ?? a) - (order.get(b) ?? b));
  const row = new Map(tids.map((t, i) => [t, i]));
  const timed = events.filter((e) => e.ph !== 'M' && row.has(e.tid));
  const t0 = Math.min(...timed.map((e) => e.ts));
  const t1 = Math.max(...timed.map((e) => e.ts + (e.dur ?? 0)));
  const span = Math.max(t1 - t0, 1);
  const plotW = width - LABEL_W - 20;
  const x = (ts: number): number => LABEL_W + ((ts - t0) / span) * plotW;
  const y = (tid: number): number => TOP + row.get(tid)! * ROW;
  const height = TOP + tids.length * ROW + 40;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="12">`,
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>',
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
  );
  if (options?.title)
    out.push(`<text x="12" y="22" font-size="15" font-weight="bold">${esc(options.title)}</text>`);
  // Rows and labels.
  tids.forEach((tid, i) => {
    const yy = TOP + i * ROW;
    if (i % 2 === 0) out.push(`<rect x="0" y="${yy}" width="${width}" height="${ROW}" fill="#f4f6f8"/>`);
    out.push(`<text x="12" y="${yy + ROW / 2 + 4}" fill="#222">${esc(names.get(tid)!)}</text>`);
  });
  // Time axis (milliseconds from the first event).
  const step = niceStep(span, 8);
  const axisY = TOP + tids.length * ROW;
  out.push(`<line x1="${LABEL_W}" y1="${axisY}" x2="${LABEL_W + plotW}" y2="${axisY}" stroke="#888"/>`);
  for (let t = 0; t <= span + 1e-9; t += step) {
    const xx = x(t0 + t);
    out.push(`<line x1="${xx}" y1="${TOP - 4}" x2="${xx}" y2="${axisY + 4}" stroke="#ddd"/>`);
    out.push(
      `<text x="${xx}" y="${axisY + 18}" text-anchor="middle" fill="#555">${+(t / 1000).toFixed(3)} ms</text>`,
    );
  }
  // Spans.
  for (const e of timed) {
    if (e.ph !== 'X') continue;
    const xx = x(e.ts);
    const w = Math.max(((e.dur ?? 0) / span) * plotW, 1.5);
    const yy = y(e.tid) + (ROW - BAR) / 2;
    const fill = e.tid === 0 ? '#9aa4ad' : colorFor(e.name);
    const tip = `${e.name} ${((e.dur ?? 0) / 1000).toFixed(3)} ms${e.args?.awaits ? ` → awaits ${e.args.awaits}` : ''}`;
    out.push(
      `<rect x="${xx}" y="${yy}" width="${w}" height="${BAR}" rx="2" fill="${fill}"><title>${esc(tip)}</title></rect>`,
    );
    if (w > 40) {
      out.push(
        `<text x="${xx + 4}" y="${yy + BAR / 2 + 4}" fill="#fff" font-size="11">${esc(e.name)}</text>`,
      );
    }
  }
  // Flows: an arrow from the waker's bar to the woken step.
  if (options?.flows !== false) {
    const starts = new Map<number, TraceEvent>();
    for (const e of timed) if (e.ph === 's' && e.id !== undefined) starts.set(e.id, e);
    for (const f of timed) {
      if (f.ph !== 'f' || f.id === undefined) continue;
      const s = starts.get(f.id);
      if (s === undefined || s.tid === f.tid) continue;
      const x1 = x(s.ts);
      const y1 = y(s.tid) + ROW / 2;
      const x2 = x(f.ts);
      const y2 = y(f.tid) + ROW / 2;
      const mx = (x1 + x2) / 2;
      out.push(
        `<path d="M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}" fill="none" stroke="#555" stroke-opacity="0.45" stroke-width="1" marker-end="url(#arrow)"/>`,
      );
    }
  }
  // Instants: create ▲, cancel ✕, done ●.
  for (const e of timed) {
    if (e.ph !== 'i') continue;
    const xx = x(e.ts);
    const yy = y(e.tid) + ROW / 2;
    if (e.name === 'create') {
      out.push(
        `<path d="M${xx - 5},${yy + 5} L${xx},${yy - 5} L${xx + 5},${yy + 5} z" fill="#2ca02c"><title>create</title></path>`,
      );
    } else if (e.name === 'cancel') {
      out.push(
        `<path d="M${xx - 5},${yy - 5} L${xx + 5},${yy + 5} M${xx + 5},${yy - 5} L${xx - 5},${yy + 5}" stroke="#d62728" stroke-width="2.5"><title>cancel ${esc(String(e.args?.msg ?? ''))}</title></path>`,
      );
    } else if (e.name === 'done') {
      const state = String(e.args?.state ?? '');
      const fill = state === 'finished' ? '#333' : state === 'cancelled' ? '#d62728' : '#ff7f0e';
      out.push(
        `<circle cx="${xx}" cy="${yy}" r="4.5" fill="${fill}"><title>done: ${esc(state)}</title></circle>`,
      );
    }
  }
  // Legend.
  const ly = 40;
  const lx = width - 470;
  out.push(
    `<path d="M${lx},${ly} L${lx + 5},${ly - 10} L${lx + 10},${ly} z" fill="#2ca02c"/><text x="${lx + 15}" y="${ly}">created</text>`,
    `<path d="M${lx + 80},${ly - 10} L${lx + 90},${ly} M${lx + 90},${ly - 10} L${lx + 80},${ly}" stroke="#d62728" stroke-width="2.5"/><text x="${lx + 95}" y="${ly}">cancel requested</text>`,
    `<circle cx="${lx + 215}" cy="${ly - 5}" r="4.5" fill="#333"/><text x="${lx + 225}" y="${ly}">done</text>`,
    `<path d="M${lx + 270},${ly - 5} L${lx + 300},${ly - 5}" stroke="#555" marker-end="url(#arrow)"/><text x="${lx + 305}" y="${ly}">woke (flow)</text>`,
    `<rect x="${lx + 390}" y="${ly - 12}" width="16" height="12" fill="#9aa4ad"/><text x="${lx + 410}" y="${ly}">callback</text>`,
  );
  out.push('</svg>');
  return out.join('\n');
}

/** A standalone HTML page showing the SVG timeline. */
export function traceToHtml(trace: ChromeTrace, options?: TraceSvgOptions): string {
  const title = esc(options?.title ?? 'tsyncio trace');
  return `<!doctype html>\n<html><head><meta charset="utf-8"><title>${title}</title><style>body{margin:0;background:#fff}</style></head>\n<body>\n${traceToSvg(trace, options)}\n</body></html>\n`;
}
