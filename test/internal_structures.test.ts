/**
 * The loop's hot data structures (src/_internal): the ready queue of triples, the intrusive task list
 * and the timer heap with its keys in flat arrays. Each is checked against a plain model (an array, a
 * Set, a sort) over random operation sequences, including growth, block boundaries and shrinking — the
 * places where a chained queue or a heap breaks. Through the loop they are covered by every other test; these
 * pin the structures themselves.
 */
import { describe, expect, it } from 'vitest';
import { rng } from '../difftest/generate.js'; // mulberry32: a failure names its seed
import { TimerHeap } from '../src/_internal/heap.js';
import { ReadyQueue } from '../src/_internal/ready.js';
import { TaskList } from '../src/_internal/tasklist.js';
import { Context } from '../src/contextvars.js';
import { Handle } from '../src/events.js';
import { EventLoop } from '../src/index.js';

/** Per-step checks without expect()'s cost (hundreds of thousands of them); the message says where. */
function check(cond: boolean, what: string): void {
  if (!cond) throw new Error(`check failed: ${what}`);
}

describe('ReadyQueue', () => {
  it('is FIFO across block boundaries, for triples and Handles alike', () => {
    const loop = new EventLoop();
    const ctx = new Context();
    const fn = (_: unknown): void => {};
    for (const seed of [1, 2, 3, 4, 5]) {
      const r = rng(seed);
      const q = new ReadyQueue();
      const model: unknown[] = [];
      let next = 0;
      let longest = 0;
      for (let step = 0; step < 40_000; step++) {
        // Pushes outnumber shifts: the queue drifts past a block of 1,024 entries and back.
        if (r() < 0.56) {
          const id = next++;
          if (r() < 0.3) {
            const h = Handle._one(fn, id, loop, ctx);
            q.pushHandle(h);
            model.push(h);
          } else {
            q.push(fn, id, ctx);
            model.push(id);
          }
        } else if (model.length > 0) {
          const want = model.shift();
          const got = q.shift();
          if (want instanceof Handle) {
            check(got === null && q._arg === want && q._ctx === null, `seed ${seed} step ${step}: handle`);
          } else {
            check(got === fn && q._arg === want && q._ctx === ctx, `seed ${seed} step ${step}: triple`);
          }
        }
        check(q.length === model.length, `seed ${seed} step ${step}: length`);
        longest = Math.max(longest, model.length);
      }
      expect(longest).toBeGreaterThan(2 * 1024);
    }
    loop.close();
  });

  it('at(i) sees the Handles in order and skips plain triples', () => {
    const loop = new EventLoop();
    const ctx = new Context();
    const fn = (): void => {};
    const q = new ReadyQueue();
    const handles: Handle[] = [];
    for (let i = 0; i < 300; i++) {
      if (i % 3 === 0) {
        const h = Handle._one(fn, i, loop, ctx);
        handles.push(h);
        q.pushHandle(h);
      } else {
        q.push(fn, i, ctx);
      }
      if (i % 7 === 0) q.shift(); // move the head so that indices wrap
    }
    const seen: Handle[] = [];
    for (let i = 0; i < q.length; i++) {
      const h = q.at(i);
      if (h !== undefined) seen.push(h);
    }
    expect(seen).toEqual(handles.slice(handles.length - seen.length));
    expect(q.at(-1)).toBeUndefined();
    expect(q.at(q.length)).toBeUndefined();
    loop.close();
  });

  it('links blocks in a burst, drops them as it drains, keeps working afterwards; clear() empties it', () => {
    const ctx = new Context();
    const fn = (): void => {};
    const q = new ReadyQueue();
    const blocks = (): number => {
      let n = 0;
      for (let b: unknown[] | null = q._headBlock; b !== null; b = b[b.length - 1] as unknown[] | null) n++;
      return n;
    };
    for (let i = 0; i < 200_000; i++) q.push(fn, i, ctx);
    expect(blocks()).toBeGreaterThanOrEqual(Math.ceil(200_000 / 1024));
    for (let i = 0; i < 200_000; i++) {
      q.shift();
      check(q._arg === i, `entry ${i}`);
    }
    expect(q.length).toBe(0);
    // What stays after the burst: the block in use and one spare.
    expect(blocks()).toBe(1);
    expect(q._headBlock).toBe(q._tailBlock);
    q.push(fn, 'again', ctx);
    q.shift();
    expect(q._arg).toBe('again');
    for (let i = 0; i < 5000; i++) q.push(fn, i, ctx);
    q.clear();
    expect(q.length).toBe(0);
    expect(blocks()).toBe(1);
    q.push(fn, 'after clear', ctx);
    q.shift();
    expect(q._arg).toBe('after clear');
  });
});

interface Node {
  id: number;
  _prevTask: Node | null;
  _nextTask: Node | null;
}

describe('TaskList', () => {
  it('matches an insertion-ordered Set under random adds and deletes', () => {
    for (const seed of [7, 8, 9]) {
      const r = rng(seed);
      const list = new TaskList<Node>();
      const model = new Set<Node>();
      const nodes: Node[] = Array.from({ length: 200 }, (_, id) => ({
        id,
        _prevTask: null,
        _nextTask: null,
      }));
      for (let step = 0; step < 5000; step++) {
        const n = nodes[Math.floor(r() * nodes.length)]!;
        if (r() < 0.5) {
          list.add(n);
          model.add(n);
        } else {
          list.delete(n);
          model.delete(n);
        }
        check(list.size === model.size && list.has(n) === model.has(n), `seed ${seed} step ${step}`);
      }
      expect([...list].map((n) => n.id)).toEqual([...model].map((n) => n.id));
    }
  });

  it('lets the visited task be deleted during iteration, and a deleted task keeps no links', () => {
    const list = new TaskList<Node>();
    const nodes: Node[] = Array.from({ length: 5 }, (_, id) => ({ id, _prevTask: null, _nextTask: null }));
    for (const n of nodes) list.add(n);
    const visited: number[] = [];
    for (const n of list) {
      visited.push(n.id);
      if (n.id % 2 === 0) list.delete(n);
    }
    expect(visited).toEqual([0, 1, 2, 3, 4]);
    expect([...list].map((n) => n.id)).toEqual([1, 3]);
    expect(nodes[2]!._prevTask).toBe(null);
    expect(nodes[2]!._nextTask).toBe(null);
    list.add(nodes[1]!); // already listed: no-op
    expect(list.size).toBe(2);
  });
});

interface Timer {
  _when: number;
  /** the model's copy of the push order (the heap keeps its own) */
  _seq: number;
  dead?: boolean;
}

describe('TimerHeap', () => {
  it('pops in (when, seq) order under random pushes, pops and filters, across growth and shrinking', () => {
    for (const seed of [11, 12, 13]) {
      const r = rng(seed);
      const heap = new TimerHeap<Timer>();
      // The model: a sorted array (binary insertion).
      let model: Timer[] = [];
      const before = (a: Timer, b: Timer): boolean =>
        a._when < b._when || (a._when === b._when && a._seq < b._seq);
      let seq = 0;
      for (let step = 0; step < 30_000; step++) {
        const x = r();
        // Phases: mostly pushes early on (growth), mostly pops later (shrinking), filters now and then.
        const pushBias = step < 15_000 ? 0.7 : 0.3;
        if (x < pushBias) {
          // Few distinct deadlines, so that ties are common and seq decides.
          const t: Timer = { _when: Math.floor(r() * 50) / 10, _seq: seq++ };
          heap.push(t, t._when);
          let lo = 0;
          let hi = model.length;
          while (lo < hi) {
            const mid = (lo + hi) >> 1;
            if (before(model[mid]!, t)) lo = mid + 1;
            else hi = mid;
          }
          model.splice(lo, 0, t);
        } else if (x < 0.995) {
          check(heap.peek() === model[0], `seed ${seed} step ${step}: peek`);
          if (model.length > 0)
            check(heap.peekWhen() === model[0]!._when, `seed ${seed} step ${step}: peekWhen`);
          check(heap.pop() === model.shift(), `seed ${seed} step ${step}: pop`);
        } else {
          for (const t of model) if (r() < 0.5) t.dead = true;
          heap.filter((t) => !t.dead);
          model = model.filter((t) => !t.dead);
        }
        check(heap.length === model.length, `seed ${seed} step ${step}: length`);
      }
      model.sort((a, b) => a._when - b._when || a._seq - b._seq);
      const rest: Timer[] = [];
      for (let t = heap.pop(); t !== undefined; t = heap.pop()) rest.push(t);
      expect(rest).toEqual(model);
    }
  });

  it('orders equal deadlines by scheduling (push) order and handles infinite deadlines', () => {
    const heap = new TimerHeap<Timer>();
    const ts: Timer[] = [
      { _when: 1, _seq: 0 },
      { _when: Number.POSITIVE_INFINITY, _seq: 1 },
      { _when: 1, _seq: 2 },
      { _when: 0.5, _seq: 3 },
      { _when: 1, _seq: 4 },
    ];
    for (const t of ts) heap.push(t, t._when);
    const order: number[] = [];
    for (let t = heap.pop(); t !== undefined; t = heap.pop()) order.push(t._seq);
    expect(order).toEqual([3, 0, 2, 4, 1]);
    expect(heap.pop()).toBeUndefined();
  });
});
