/**
 * The suite-wide equality tester (test/setup/equality.ts): in Vitest's deep equality, Futures, Tasks,
 * coroutines and generators are equal only to themselves, and comparing them has no side effects.
 *
 * Without the tester, two distinct pending futures make a deep-equality assertion spin forever (a
 * synchronous loop the test timeout cannot stop), so every test below first checks, with comparisons that
 * fail cleanly without it, that the tester is installed.
 */
import {
  allTasks,
  Coroutine,
  coroutine,
  createTask,
  currentTask,
  EventLoop,
  Future,
  type Instruction,
  RuntimeError,
  sleep,
  Task,
} from 'tsyncio';
import { describe, expect, it, vi } from 'vitest';
import { F_BLOCKING, F_LOG_TRACEBACK } from '../src/futures.js';
import { arun, withLoop } from './helpers.js';

const forever = coroutine(function* forever() {
  yield* sleep(3600);
});

const answer = coroutine(function* answer() {
  return 42;
});

/** Fails (instead of hanging the file) when the tester is missing: done futures then compare by result. */
function expectTesterInstalled(loop: EventLoop): void {
  const f1 = new Future<number>({ loop });
  const f2 = new Future<number>({ loop });
  f1.setResult(1);
  f2.setResult(1);
  expect([f1], 'equality tester (test/setup/equality.ts) is not installed').not.toEqual([f2]);
}

describe('Futures and Tasks compare by identity', () => {
  it('two distinct pending tasks are not equal; a task is equal to itself', () =>
    arun(function* () {
      const loop = new EventLoop({ clock: 'virtual' });
      expectTesterInstalled(loop);
      loop.close();
      const a = createTask(forever(), { name: 'same-name' });
      const b = createTask(forever(), { name: 'same-name' });
      expect([a]).not.toEqual([b]);
      expect([a]).not.toStrictEqual([b]);
      expect({ task: a }).not.toEqual({ task: b });
      expect(a).not.toEqual(b);
      expect(a).toEqual(a);
      expect([a, b]).toStrictEqual([a, b]);
      expect({ task: a }).toEqual({ task: a });
      // The comparisons neither drove nor flagged them.
      expect(a.done() || b.done()).toBe(false);
      expect(a._flags & F_BLOCKING).toBe(0);
      expect(b._flags & F_BLOCKING).toBe(0);
      a.cancel();
      b.cancel();
      yield* sleep(0);
      expect([a.cancelled(), b.cancelled()]).toEqual([true, true]);
    }));

  it('two distinct done futures with equal results are not equal', () =>
    withLoop(async (loop) => {
      const f1 = new Future<number>({ loop });
      const f2 = new Future<number>({ loop });
      f1.setResult(1);
      f2.setResult(1);
      expect(f1).not.toEqual(f2);
      expect([f1]).not.toEqual([f2]);
      expect([f1]).not.toStrictEqual([f2]);
      expect([f1]).toEqual([f1]);
    }));

  it('two distinct done tasks with equal results are not equal', () =>
    withLoop(async (loop) => {
      const a = loop.createTask(answer());
      const b = loop.createTask(answer());
      await loop.runUntilComplete(a);
      await loop.runUntilComplete(b);
      expect([a.result(), b.result()]).toEqual([42, 42]);
      expect([a]).not.toEqual([b]);
      expect([a]).toEqual([a]);
    }));

  it('a Set, an array or a Map of tasks compares its tasks by identity', () =>
    arun(function* () {
      const loop = new EventLoop({ clock: 'virtual' });
      expectTesterInstalled(loop);
      loop.close();
      const a = createTask(forever());
      const b = createTask(forever());
      const c = createTask(forever());
      // Same members (in any order for a Set): equal.
      expect(new Set([a, b])).toEqual(new Set([b, a]));
      expect(allTasks()).toEqual(new Set([currentTask(), a, b, c]));
      expect(allTasks()).not.toEqual(new Set([currentTask(), a, b, createTask(forever())]));
      expect([a, b]).toEqual([a, b]);
      expect(new Map([['x', a]])).toEqual(new Map([['x', a]]));
      expect(new Map([[a, 1]])).toEqual(new Map([[a, 1]]));
      // A different task in the same place: not equal.
      expect(new Set([a, b])).not.toEqual(new Set([a, c]));
      expect(new Set([a])).not.toStrictEqual(new Set([b]));
      expect([a, b]).not.toEqual([a, c]);
      expect([a, b]).not.toEqual([b, a]);
      expect(new Map([['x', a]])).not.toEqual(new Map([['x', b]]));
      expect(new Map([[a, 1]])).not.toEqual(new Map([[b, 1]]));
      for (const t of [a, b, c]) t.cancel();
      yield* sleep(0);
    }));

  it('toContainEqual, toMatchObject and toHaveBeenCalledWith use identity too', () =>
    arun(function* () {
      const loop = new EventLoop({ clock: 'virtual' });
      expectTesterInstalled(loop);
      loop.close();
      const a = createTask(forever());
      const b = createTask(forever());
      expect([a]).toContainEqual(a);
      expect([a]).not.toContainEqual(b);
      expect({ task: a, n: 1 }).toMatchObject({ task: a });
      expect({ task: a, n: 1 }).not.toMatchObject({ task: b });
      const spy = vi.fn();
      spy(a);
      expect(spy).toHaveBeenCalledWith(a);
      expect(spy).not.toHaveBeenCalledWith(b);
      a.cancel();
      b.cancel();
      yield* sleep(0);
    }));

  it('asymmetric matchers still apply (expect.any(Task), expect.objectContaining)', () =>
    arun(function* () {
      const a = createTask(forever());
      expect([a]).toEqual([expect.any(Task)]);
      expect({ task: a }).toEqual(expect.objectContaining({ task: expect.any(Future) }));
      expect([new Future()]).not.toEqual([expect.any(Task)]);
      a.cancel();
      yield* sleep(0);
    }));

  it('a pending future compared in an assertion is not marked as awaited (plain `yield` still fails)', () =>
    withLoop(async (loop) => {
      expectTesterInstalled(loop);
      const pending = new Future<string>({ loop });
      const done = new Future<string>({ loop });
      done.setResult('x');
      expect([pending]).not.toEqual([done]);
      expect([done]).not.toEqual([pending]);
      expect(pending._flags & F_BLOCKING).toBe(0);
      // Behaviourally: a Task given the future through a plain `yield` must still reject it (a set
      // blocking flag would make the Task wait on it instead).
      const yieldsPlainly = coroutine(function* yieldsPlainly(): Generator<Instruction, unknown> {
        try {
          // @ts-expect-error a plain yield of a future, on purpose: the Task must reject it
          yield pending;
        } catch (e) {
          return e;
        }
        return 'waited';
      });
      loop.callLater(1, () => pending.setResult('late'));
      const err = await loop.runUntilComplete(yieldsPlainly());
      expect(err).toBeInstanceOf(RuntimeError);
      expect(String((err as Error).message)).toMatch(
        /^yield was used instead of yield from in task <Task .*> with <Future pending/,
      );
    }));

  it('a failed future compared in an assertion neither raises its exception nor counts as retrieved', () =>
    withLoop(async (loop) => {
      const a = new Future<number>({ loop });
      const b = new Future<number>({ loop });
      a.setException(new Error('boom'));
      b.setException(new Error('boom'));
      expect(() => expect([a]).toEqual([b])).toThrow(/expected \[ …\(1\) \] to deeply equal/);
      expect(a._flags & F_LOG_TRACEBACK).toBe(F_LOG_TRACEBACK);
      expect(b._flags & F_LOG_TRACEBACK).toBe(F_LOG_TRACEBACK);
      // Retrieve them here, so the test does not end with two unretrieved exceptions.
      expect([a.exception(), b.exception()]).toEqual([new Error('boom'), new Error('boom')]);
    }));
});

describe('coroutines and generators compare by identity', () => {
  it('comparing two coroutines neither runs nor claims them', () =>
    withLoop(async (loop) => {
      expectTesterInstalled(loop);
      const ran: number[] = [];
      const body = coroutine(function* body(x: number) {
        ran.push(x);
        return x;
      });
      const c1 = body(1);
      const c2 = body(1);
      expect(c1).toBeInstanceOf(Coroutine);
      expect([c1]).not.toEqual([c2]);
      expect([c1]).toEqual([c1]);
      expect(new Set([c1])).not.toEqual(new Set([c2]));
      expect(ran).toEqual([]);
      expect([c1.state, c2.state]).toEqual(['created', 'created']);
      // Both can still be awaited.
      expect(await loop.runUntilComplete(c1)).toBe(1);
      expect(await loop.runUntilComplete(c2)).toBe(1);
      expect(ran).toEqual([1, 1]);
    }));

  it('comparing two generators does not consume them', () =>
    withLoop(async (loop) => {
      expectTesterInstalled(loop);
      function* gen() {
        yield 1;
        return 2;
      }
      const g1 = gen();
      const g2 = gen();
      expect([g1]).not.toEqual([g2]);
      expect([g1]).toEqual([g1]);
      expect(g1.next()).toEqual({ value: 1, done: false });
      expect(g2.next()).toEqual({ value: 1, done: false });
    }));
});
