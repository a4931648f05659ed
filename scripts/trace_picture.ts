/**
 * Regenerates docs/trace.png (the picture in the README) from a real run. Not part of `npm test`.
 *
 *   npx tsx scripts/trace_picture.ts            # needs Debian's chromium: apt-get install -y chromium
 *
 * Run it niced up on a busy machine (`nice -n -10 npx tsx …`): preemption shows up as gaps.
 * It runs a small crawler with tracing on (the real clock), renders the trace with traceToHtml, and takes a
 * screenshot with headless Chromium. The trace itself is kept as docs/trace-example.json: open it in
 * https://ui.perfetto.dev to explore the same run.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
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
const trace: ChromeTrace = await run(main());
writeFileSync(join(docs, 'trace-example.json'), `${JSON.stringify(trace)}\n`);

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
