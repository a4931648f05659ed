/**
 * Regenerates docs/trace.png (the picture in the README) from a real run. Not part of `npm test`.
 *
 *   npx tsx scripts/trace_picture.ts            # needs Debian's chromium: apt-get install -y chromium
 *
 * On a busy machine preemption shows up as gaps: record with real-time priority (see --record-only).
 * It runs a small crawler with tracing on (the real clock), renders the trace with traceToHtml, and takes a
 * screenshot with headless Chromium. The trace itself is kept as docs/trace-example.json: open it in
 * https://ui.perfetto.dev to explore the same run.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  asyncWith,
  CancelledError,
  type ChromeTrace,
  coroutine,
  createTask,
  gather,
  run,
  sleep,
  startTracing,
  stopTracing,
  TaskGroup,
  traceToHtml,
} from '../src/node/index.js';

const docs = fileURLToPath(new URL('../docs/', import.meta.url));

/** Pretend to parse a page: real CPU work, so the steps have a visible width. */
function parse(ms: number): void {
  const t = performance.now();
  while (performance.now() - t < ms) {
    // busy
  }
}

const fetchPage = coroutine(function* fetchPage(url: string, latency: number) {
  yield* sleep(latency); // the network
  parse(2.5);
  return `${url}: ok`;
});

const crawler = coroutine(function* crawler(urls: string[]) {
  const pages = yield* asyncWith(new TaskGroup(), function* (tg) {
    return urls.map((url, i) => tg.createTask(fetchPage(url, 0.004 + 0.003 * i), { name: `fetch ${url}` }));
  });
  parse(1);
  return pages!.map((t) => t.result());
});

const heartbeat = coroutine(function* heartbeat() {
  for (;;) {
    yield* sleep(0.005);
    parse(0.3);
  }
});

const main = coroutine(function* main() {
  startTracing();
  const beat = createTask(heartbeat(), { name: 'heartbeat' });
  const slow = createTask(fetchPage('/slow', 1), { name: 'fetch /slow' });
  yield* createTask(crawler(['/a', '/b', '/c', '/d']), { name: 'crawler' });
  slow.cancel('crawl finished');
  beat.cancel();
  try {
    yield* gather(slow, beat);
  } catch (e) {
    if (!(e instanceof CancelledError)) throw e;
  }
  return stopTracing();
});

// The same as run(main(), { trace: 'trace.json' }) would record, without the runner's shutdown tasks.
// `--from-json` re-renders the kept trace instead (to record with real-time priority, e.g.
// `chrt -f 10 npx tsx scripts/trace_picture.ts --record-only`, and screenshot in a second, normal run).
const jsonFile = join(docs, 'trace-example.json');
let trace: ChromeTrace;
if (process.argv.includes('--from-json')) {
  trace = JSON.parse(readFileSync(jsonFile, 'utf8')) as ChromeTrace;
} else {
  trace = await run(main());
  writeFileSync(jsonFile, `${JSON.stringify(trace)}\n`);
  if (process.argv.includes('--record-only')) process.exit(0);
}

const dir = mkdtempSync(join(tmpdir(), 'tsyncio-picture-'));
try {
  const html = join(dir, 'trace.html');
  writeFileSync(
    html,
    traceToHtml(trace, {
      width: 1100,
      title: 'A crawler, traced: one row per task, arrows for who woke whom',
    }),
  );
  const rows = new Set(trace.traceEvents.filter((e) => e.ph !== 'M').map((e) => e.tid)).size;
  const height = 56 + rows * 30 + 40;
  execFileSync('/usr/bin/chromium', [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-dev-shm-usage',
    '--hide-scrollbars',
    `--window-size=1100,${height}`,
    `--screenshot=${join(docs, 'trace.png')}`,
    `file://${html}`,
  ]);
  console.log(`wrote ${join(docs, 'trace.png')} and ${join(docs, 'trace-example.json')}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
