import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  type ChromeTrace,
  coroutine,
  createTask,
  EventLoop,
  fromPromise,
  gather,
  getRunningLoop,
  RuntimeError,
  run,
  sleep,
  startTracing,
  stopTracing,
  type TraceEvent,
  traceTo,
  traceToHtml,
  traceToSvg,
} from '../src/node/index.js';
import { collectGarbage } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'tsyncio-trace-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const worker = coroutine(function* worker(d: number) {
  yield* sleep(d);
  yield* sleep(d);
  return d;
});

const program = coroutine(function* program() {
  const victim = createTask(sleep(10), { name: 'victim' });
  const r = yield* gather(
    createTask(worker(0.002), { name: 'w1' }),
    createTask(worker(0.003), { name: 'w2' }),
    createTask(worker(0.001), { name: 'w3' }),
  );
  victim.cancel('enough');
  yield* sleep(0);
  return r;
});

/** The trace-event format's required fields, by phase. */
function validate(trace: ChromeTrace): void {
  expect(Array.isArray(trace.traceEvents)).toBe(true);
  for (const e of trace.traceEvents) {
    expect(typeof e.name).toBe('string');
    expect(['X', 'i', 's', 'f', 'M']).toContain(e.ph);
    expect(typeof e.ts).toBe('number');
    expect(Number.isFinite(e.ts)).toBe(true);
    expect(Number.isInteger(e.pid)).toBe(true);
    expect(Number.isInteger(e.tid)).toBe(true);
    if (e.ph === 'X') expect(e.dur).toBeGreaterThanOrEqual(0);
    if (e.ph === 's' || e.ph === 'f') expect(Number.isInteger(e.id)).toBe(true);
    if (e.ph === 'i') expect(e.s).toBe('t');
  }
}

function tracks(trace: ChromeTrace): Map<string, number> {
  const m = new Map<string, number>();
  for (const e of trace.traceEvents) {
    if (e.ph === 'M' && e.name === 'thread_name') m.set(String(e.args!.name), e.tid);
  }
  return m;
}

function on(trace: ChromeTrace, tid: number, ph: TraceEvent['ph']): TraceEvent[] {
  return trace.traceEvents.filter((e) => e.tid === tid && e.ph === ph);
}

describe('trace export (Chrome trace-event JSON)', () => {
  it('run(main(), { trace: file }) writes a file that parses and validates, one track per task', async () => {
    const file = join(dir, 'trace.json');
    expect(await run(program(), { trace: file })).toEqual([0.002, 0.003, 0.001]);
    const trace = JSON.parse(readFileSync(file, 'utf8')) as ChromeTrace;
    validate(trace);
    const t = tracks(trace);
    // Each named task has exactly one track, and no two tasks share one.
    for (const name of ['victim', 'w1', 'w2', 'w3']) expect(t.has(name)).toBe(true);
    expect(new Set(t.values()).size).toBe(t.size);
    expect(t.get('event loop')).toBe(0);
    // w1 stepped three times (start, after each sleep): three spans named after its coroutine.
    const w1 = t.get('w1')!;
    expect(on(trace, w1, 'X').map((e) => [e.name, e.args!.step])).toEqual([
      ['worker', 1],
      ['worker', 2],
      ['worker', 3],
    ]);
    expect(on(trace, w1, 'i').map((e) => e.name)).toEqual(['create', 'done']);
    const victim = on(trace, t.get('victim')!, 'i');
    expect(victim.map((e) => e.name)).toEqual(['create', 'cancel', 'done']);
    expect(victim[1]!.args).toEqual({ msg: "'enough'" });
    expect(victim[2]!.args).toEqual({ state: 'cancelled' });
  });

  it('flows say who woke whom: every flow start has its end on the woken task', async () => {
    let trace: ChromeTrace | undefined;
    await run(program(), { trace: (t) => (trace = t) });
    validate(trace!);
    const starts = new Map(trace!.traceEvents.filter((e) => e.ph === 's').map((e) => [e.id, e]));
    const ends = trace!.traceEvents.filter((e) => e.ph === 'f');
    expect(ends.length).toBeGreaterThan(0);
    for (const f of ends) {
      const s = starts.get(f.id)!;
      expect(s).toBeDefined();
      expect(f.ts).toBeGreaterThanOrEqual(s.ts);
      expect(f.bp).toBe('e');
    }
    const t = tracks(trace!);
    const mainTid = [...t.entries()].find(([name]) => /^Task-\d+$/.test(name))![1];
    // The main task created w1: a flow from main's first step to w1's first step.
    const w1First = ends.find((f) => f.tid === t.get('w1'));
    expect(starts.get(w1First!.id)!.tid).toBe(mainTid);
    // w1's second step was woken by its sleep timer, a callback on the loop's own track.
    const w1Ends = ends.filter((f) => f.tid === t.get('w1'));
    expect(starts.get(w1Ends[1]!.id)!.tid).toBe(0);
  });

  it('traceTo(fn) as the trace option: the same trace as the plain function, from any entry', async () => {
    let trace: ChromeTrace | undefined;
    expect(await run(program(), { trace: traceTo((t) => (trace = t)) })).toEqual([0.002, 0.003, 0.001]);
    validate(trace!);
    expect([...tracks(trace!).keys()]).toEqual(expect.arrayContaining(['w1', 'w2', 'w3']));
    expect(() => traceTo(42 as never)).toThrow(new TypeError('traceTo() needs a function, got 42'));
  });

  it('startTracing / stopTracing return the events recorded in between', async () => {
    const main = coroutine(function* main() {
      yield* sleep(0);
      startTracing();
      yield* gather(worker(0.001), worker(0.001));
      const trace = stopTracing();
      yield* createTask(worker(0.001), { name: 'after' });
      return trace;
    });
    const trace = await run(main());
    validate(trace);
    const names = [...tracks(trace).keys()];
    expect(names).not.toContain('after');
    // main (seen first when its step ended) and the two gathered tasks.
    expect(names.filter((n) => n !== 'event loop')).toHaveLength(3);
    expect(trace.otherData).toEqual({ tool: 'tsyncio', timebase: 'host' });
  });

  it("timebase 'loop' puts a virtual-clock run on the simulated timeline", async () => {
    let trace: ChromeTrace | undefined;
    const loop = new EventLoop({ clock: 'virtual' });
    startTracing(loop, { timebase: 'loop', onClose: (t) => (trace = t) });
    await loop.runUntilComplete(createTaskOn(loop));
    loop.close();
    const spans = trace!.traceEvents.filter((e) => e.ph === 'X' && e.name === 'worker');
    expect(spans.map((e) => Math.round(e.ts))).toEqual([0, 5_000_000, 10_000_000]);
  });

  it('errors: tracing twice, stopping an untraced loop, a bad trace option', async () => {
    const loop = new EventLoop();
    startTracing(loop);
    expect(() => startTracing(loop)).toThrow(RuntimeError);
    stopTracing(loop);
    expect(() => stopTracing(loop)).toThrow(`${loop} is not being traced`);
    loop.close();
    expect(() => stopTracing()).toThrow('stopTracing() needs a loop: none is running');
    expect(() => run(worker(0), { trace: 42 as never })).toThrow(
      new TypeError('trace must be a file path or a function, got 42'),
    );
  });

  it('a trace does not keep finished tasks alive while it records', async () => {
    const main = coroutine(function* main() {
      startTracing();
      let ref: WeakRef<object> | undefined;
      yield* (function* () {
        const t = createTask(worker(0.001), { name: 'short-lived' });
        ref = new WeakRef(t);
        yield* t;
      })();
      yield* sleep(0);
      yield* fromPromise(collectGarbage());
      const alive = ref!.deref() !== undefined;
      return [alive, stopTracing()] as const;
    });
    const [alive, trace] = await run(main());
    expect(alive).toBe(false);
    expect([...tracks(trace).keys()]).toContain('short-lived');
  });

  it('maxEvents bounds the memory a long trace takes, and says how many were dropped', async () => {
    let trace: ChromeTrace | undefined;
    const main = coroutine(function* main() {
      const loop = getRunningLoop();
      startTracing(loop, { maxEvents: 20, onClose: (t) => (trace = t) });
      for (let i = 0; i < 50; i++) yield* sleep(0);
    });
    const loop = new EventLoop();
    await loop.runUntilComplete(main());
    loop.close();
    expect(trace!.traceEvents.length).toBe(20);
    expect(trace!.otherData.droppedEvents).toBeGreaterThan(30);
  });
});

describe('trace pictures (traceToSvg)', () => {
  it('draws one labelled row per task, a bar per step, markers and flows', async () => {
    let trace: ChromeTrace | undefined;
    await run(program(), { trace: (t) => (trace = t) });
    const svg = traceToSvg(trace!, { title: 'demo <run>' });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.endsWith('</svg>')).toBe(true);
    expect(svg).toContain('demo &lt;run&gt;');
    for (const name of ['event loop', 'victim', 'w1', 'w2', 'w3']) expect(svg).toContain(`>${name}</text>`);
    const spans = trace!.traceEvents.filter((e) => e.ph === 'X').length;
    expect(svg.match(/<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="18"/g)).toHaveLength(spans);
    expect(svg.match(/marker-end="url\(#arrow\)"\/>/g)!.length).toBeGreaterThan(1);
    expect(svg).toContain("<title>cancel 'enough'</title>");
    expect(traceToHtml(trace!)).toMatch(/^<!doctype html>[\s\S]*<svg[\s\S]*<\/svg>[\s\S]*<\/html>\n$/);
  });
});

function createTaskOn(loop: EventLoop) {
  return loop.createTask(worker(5));
}
