// The SVG bar chart of docs/BENCHMARKS.md, drawn from the same medians as the table (no dependencies).
// One group of horizontal bars per workload, one bar per system, on a log scale: the systems differ by
// up to 100× within a workload, which a linear axis would flatten into nothing.

const COLORS = {
  tsyncio: '#2f6fdf',
  'node-native': '#7a7a7a',
  'cpython-asyncio': '#e0a030',
  'cpython-uvloop': '#6aa84f',
};

function esc(s) {
  return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function label(x) {
  if (x >= 1e6) return `${(x / 1e6).toFixed(x >= 1e7 ? 0 : 1)}M`;
  if (x >= 1e3) return `${(x / 1e3).toFixed(x >= 1e4 ? 0 : 1)}k`;
  return x.toFixed(0);
}

export function renderChart(rows, systems, results) {
  // timers_light has no meaningful ops/s.
  const workloads = rows.filter(
    (w) => w !== 'timers_light' && systems.some((s) => results[w]?.[s]?.ops_per_s),
  );
  const values = workloads.flatMap((w) => systems.map((s) => results[w][s]?.ops_per_s).filter(Boolean));
  const lo = 10 ** Math.floor(Math.log10(Math.min(...values, 1e3)));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(...values, 1e4)));
  const barH = 12;
  const gap = 3;
  const groupGap = 16;
  const left = 120;
  const plotW = 560;
  const top = 40;
  const groupH = systems.length * (barH + gap) + groupGap;
  const height = top + workloads.length * groupH + 40;
  const width = left + plotW + 90;
  const x = (v) => left + ((Math.log10(v) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * plotW;
  const out = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11" role="img">`,
  );
  out.push('<title>tsyncio benchmarks: operations per second per workload and system</title>');
  out.push(`<rect width="${width}" height="${height}" fill="#fff"/>`);
  out.push(
    `<text x="${left}" y="16" font-size="13" font-weight="bold">Operations per second (log scale, higher is better)</text>`,
  );
  // legend
  let lx = left;
  for (const s of systems) {
    out.push(`<rect x="${lx}" y="24" width="10" height="10" fill="${COLORS[s] ?? '#999'}"/>`);
    out.push(`<text x="${lx + 14}" y="33">${esc(s)}</text>`);
    lx += 24 + s.length * 6.5;
  }
  // grid
  for (let v = lo; v <= hi; v *= 10) {
    const gx = x(v).toFixed(1);
    out.push(`<line x1="${gx}" y1="${top}" x2="${gx}" y2="${height - 30}" stroke="#ddd"/>`);
    out.push(`<text x="${gx}" y="${height - 16}" text-anchor="middle" fill="#555">${label(v)}</text>`);
  }
  workloads.forEach((w, gi) => {
    const gy = top + gi * groupH;
    out.push(
      `<text x="${left - 8}" y="${gy + (systems.length * (barH + gap)) / 2 + 4}" text-anchor="end" font-weight="bold">${esc(w)}</text>`,
    );
    systems.forEach((s, si) => {
      const v = results[w][s]?.ops_per_s;
      const y = gy + si * (barH + gap);
      if (!v) {
        const why = results[w][s]?.skipped ? 'skipped' : results[w][s]?.error ? 'error' : 'n/a';
        out.push(`<text x="${left + 4}" y="${y + barH - 2}" fill="#999">${esc(s)}: ${why}</text>`);
        return;
      }
      const bw = Math.max(1, x(v) - left);
      out.push(
        `<rect x="${left}" y="${y}" width="${bw.toFixed(1)}" height="${barH}" fill="${COLORS[s] ?? '#999'}"><title>${esc(`${w} ${s}: ${Math.round(v)} ops/s`)}</title></rect>`,
      );
      out.push(`<text x="${(left + bw + 4).toFixed(1)}" y="${y + barH - 2}" fill="#333">${label(v)}</text>`);
    });
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
