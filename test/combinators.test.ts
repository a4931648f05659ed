/**
 * wait, asCompleted and shield — ported from CPython's Lib/test/test_asyncio/test_tasks.py (test names in
 * the descriptions). Orderings and messages were checked against CPython 3.14.
 */
import {
  ALL_COMPLETED,
  asCompleted,
  asyncFor,
  CancelledError,
  Coroutine,
  coroutine,
  createTask,
  type EventLoop,
  ensureFuture,
  FIRST_COMPLETED,
  FIRST_EXCEPTION,
  type Future,
  gather,
  getRunningLoop,
  type Instruction,
  RuntimeError,
  runSync,
  StopAsyncIteration,
  setEventLoop,
  shield,
  sleep,
  type Task,
  TimeoutError,
  ValueError,
  wait,
} from 'tsyncio';
import { describe, expect, it } from 'vitest';
import { liveTimers, rejection, thrown, withLoop } from './helpers.js';

/** CPython's test_utils.run_briefly: one task that yields once. */
function runBriefly(loop: EventLoop): Promise<unknown> {
  return loop.runUntilComplete(sleep(0));
}

/**
 * The same objects, by identity. (Not toEqual: vitest's deep equality iterates a Future — it is its own
 * `yield*` iterator — so two different done futures would compare equal, and a failed one would throw.)
 */
function expectIdentical(actual: Iterable<unknown>, expected: unknown[]): void {
  const a = [...actual];
  expect(a.length).toBe(expected.length);
  for (const x of expected) expect(a.includes(x)).toBe(true);
}

/** Iterate an async iterator (aiter/anext/StopAsyncIteration) inside a coroutine. */
function* collectAsync<T>(aiterable: { aiter(): { anext(): Coroutine<T> } }, body?: (x: T) => unknown) {
  const out: T[] = [];
  const it = aiterable.aiter();
  for (;;) {
    let x: T;
    try {
      x = yield* it.anext();
    } catch (e) {
      if (e instanceof StopAsyncIteration) return out;
      throw e;
    }
    out.push(x);
    const r = body?.(x);
    if (r !== undefined && typeof (r as Iterator<unknown>).next === 'function') {
      yield* r as Generator<Instruction, unknown, unknown>;
    }
  }
}

describe('wait()', () => {
  it('returns [done, pending] once all finish (test_wait)', () =>
    withLoop(async (loop) => {
      const a = loop.createTask(sleep(0.1));
      const b = loop.createTask(sleep(0.15));
      const foo = coroutine(function* foo() {
        const [done, pending] = yield* wait([b, a]);
        expectIdentical(done, [a, b]);
        expectIdentical(pending, []);
        return 42;
      });
      expect(await loop.runUntilComplete(loop.createTask(foo()))).toBe(42);
      expect(loop.time()).toBe(0.15);
      // Doing it again takes no time and exercises the already-done path.
      expect(await loop.runUntilComplete(loop.createTask(foo()))).toBe(42);
      expect(loop.time()).toBe(0.15);
    }));

  it('collapses duplicates (test_wait_duplicate_coroutines)', () =>
    withLoop(async (loop) => {
      const coro = coroutine(function* coro(s: string) {
        return s;
      });
      const c = loop.createTask(coro('test'));
      const [done, pending] = await loop.runUntilComplete(wait([c, c, loop.createTask(coro('spam'))]));
      expect(pending.size).toBe(0);
      expect(done.size).toBe(2);
      expect(new Set([...done].map((f) => f.result()))).toEqual(new Set(['test', 'spam']));
    }));

  it('raises ValueError for an empty set and an invalid returnWhen (test_wait_errors)', () =>
    withLoop(async (loop) => {
      let e = await rejection(loop.runUntilComplete(wait(new Set<Future<unknown>>())));
      expect(e).toBeInstanceOf(ValueError);
      expect(e.message).toBe('Set of Tasks/Futures is empty.');
      const t = loop.createTask(sleep(10));
      e = await rejection(loop.runUntilComplete(wait([t], { returnWhen: -1 as any })));
      expect(e).toBeInstanceOf(ValueError);
      expect(e.message).toBe('Invalid return_when value: -1');
      e = await rejection(loop.runUntilComplete(wait([t], { returnWhen: 'x' as any })));
      expect(e.message).toBe('Invalid return_when value: x');
      t.cancel();
    }));

  it('refuses a bare future or coroutine, coroutines inside, and [] (test_wait_invalid_args)', () =>
    withLoop(async (loop) => {
      const fut = loop.createFuture();
      let e = await rejection(loop.runUntilComplete(wait(fut as any)));
      expect(e).toBeInstanceOf(TypeError);
      expect(e.message).toBe('expect a list of futures, not Future');
      const task = loop.createTask(sleep(0));
      e = await rejection(loop.runUntilComplete(wait(task as any)));
      expect(e.message).toBe('expect a list of futures, not Task');
      const c = sleep(10);
      e = await rejection(loop.runUntilComplete(wait(c as any)));
      expect(e).toBeInstanceOf(TypeError);
      expect(e.message).toBe('expect a list of futures, not coroutine');
      e = await rejection(loop.runUntilComplete(wait([c] as any)));
      expect(e).toBeInstanceOf(TypeError);
      expect(e.message).toBe('Passing coroutines is forbidden, use tasks explicitly.');
      c.close();
      e = await rejection(loop.runUntilComplete(wait([])));
      expect(e).toBeInstanceOf(ValueError);
      e = await rejection(loop.runUntilComplete(wait([1] as any)));
      expect(e).toBeInstanceOf(TypeError);
      expect(e.message).toBe('wait() expects Futures or Tasks, got 1');
    }));

  it('validates only when awaited, like an async def', () => {
    // Calling wait() runs nothing: the error comes from the coroutine.
    const c = wait([]);
    expect(c).toBeInstanceOf(Coroutine);
    c.close();
  });

  it('FIRST_COMPLETED returns at the first completion (test_wait_first_completed)', () =>
    withLoop(async (loop) => {
      const a = loop.createTask(sleep(10.0));
      const b = loop.createTask(sleep(0.1));
      const [done, pending] = await loop.runUntilComplete(wait([b, a], { returnWhen: FIRST_COMPLETED }));
      expectIdentical(done, [b]);
      expectIdentical(pending, [a]);
      expect(a.done()).toBe(false);
      expect(b.done()).toBe(true);
      expect(b.result()).toBeUndefined();
      expect(loop.time()).toBe(0.1);
      await loop.runUntilComplete(wait([a, b]));
    }));

  it('reports futures that finished in the same iteration as done (test_wait_really_done)', () =>
    withLoop(async (loop) => {
      const coro1 = coroutine(function* coro1() {
        yield* sleep(0);
      });
      const coro2 = coroutine(function* coro2() {
        yield* sleep(0);
        yield* sleep(0);
      });
      const a = loop.createTask(coro1());
      const b = loop.createTask(coro2());
      const [done] = await loop.runUntilComplete(wait([b, a], { returnWhen: FIRST_COMPLETED }));
      expectIdentical(done, [a, b]);
    }));

  it('FIRST_EXCEPTION with a task that already failed (test_wait_first_exception)', () =>
    withLoop(async (loop) => {
      const a = loop.createTask(sleep(10.0));
      const exc = coroutine(function* exc() {
        throw new RangeError('err');
      });
      const b = loop.createTask(exc());
      const [done, pending] = await loop.runUntilComplete(wait([b, a], { returnWhen: FIRST_EXCEPTION }));
      expectIdentical(done, [b]);
      expectIdentical(pending, [a]);
      expect(loop.time()).toBe(0);
      await loop.runUntilComplete(wait([a, b]));
    }));

  it('FIRST_EXCEPTION with a failure while waiting (test_wait_first_exception_in_wait)', () =>
    withLoop(async (loop) => {
      const a = loop.createTask(sleep(10.0));
      const exc = coroutine(function* exc() {
        yield* sleep(0.01);
        throw new RangeError('err');
      });
      const b = loop.createTask(exc());
      const [done, pending] = await loop.runUntilComplete(wait([b, a], { returnWhen: FIRST_EXCEPTION }));
      expectIdentical(done, [b]);
      expectIdentical(pending, [a]);
      expect(loop.time()).toBe(0.01);
      await loop.runUntilComplete(wait([a, b]));
    }));

  it('FIRST_EXCEPTION without exceptions waits for all; a cancellation is not an exception', () =>
    withLoop(async (loop) => {
      const a = loop.createTask(sleep(0.1));
      const b = loop.createTask(sleep(0.2));
      loop.callLater(0.05, () => a.cancel());
      const [done, pending] = await loop.runUntilComplete(wait([a, b], { returnWhen: FIRST_EXCEPTION }));
      expectIdentical(done, [a, b]);
      expect(pending.size).toBe(0);
      expect(loop.time()).toBe(0.2);
    }));

  it('ALL_COMPLETED keeps a failed task in done (test_wait_with_exception)', () =>
    withLoop(async (loop) => {
      const a = loop.createTask(sleep(0.1));
      const sleeper = coroutine(function* sleeper() {
        yield* sleep(0.15);
        throw new RangeError('really');
      });
      const b = loop.createTask(sleeper());
      const foo = coroutine(function* foo() {
        const [done, pending] = yield* wait([b, a], { returnWhen: ALL_COMPLETED });
        expect(done.size).toBe(2);
        expect(pending.size).toBe(0);
        expectIdentical(
          [...done].filter((f) => f.exception() !== undefined),
          [b],
        );
      });
      await loop.runUntilComplete(loop.createTask(foo()));
      expect(loop.time()).toBe(0.15);
      await loop.runUntilComplete(loop.createTask(foo()));
      expect(loop.time()).toBe(0.15);
    }));

  it('timeout returns what is done, raises nothing, cancels nothing (test_wait_with_timeout)', () =>
    withLoop(async (loop) => {
      const a = loop.createTask(sleep(0.1));
      const b = loop.createTask(sleep(0.15));
      const foo = coroutine(function* foo() {
        const [done, pending] = yield* wait([b, a], { timeout: 0.11 });
        expectIdentical(done, [a]);
        expectIdentical(pending, [b]);
      });
      await loop.runUntilComplete(loop.createTask(foo()));
      expect(loop.time()).toBe(0.11);
      expect(b.cancelled()).toBe(false);
      await loop.runUntilComplete(wait([a, b]));
      expect(loop.time()).toBe(0.15);
    }));

  it('a timeout equal to a deadline: the timer scheduled first wins (test_wait_concurrent_complete)', () =>
    withLoop(async (loop) => {
      const a = loop.createTask(sleep(0.1));
      const b = loop.createTask(sleep(0.15));
      const [done, pending] = await loop.runUntilComplete(wait([b, a], { timeout: 0.1 }));
      expectIdentical(done, [a]);
      expectIdentical(pending, [b]);
      expect(loop.time()).toBe(0.1);
      await loop.runUntilComplete(wait([a, b]));
    }));

  it('accepts any iterable, including a generator object (test_wait_with_iterator_of_tasks, test_wait_generator)', () =>
    withLoop(async (loop) => {
      const a = loop.createTask(sleep(0.1));
      const b = loop.createTask(sleep(0.15));
      const [done, pending] = await loop.runUntilComplete(wait([b, a][Symbol.iterator]()));
      expectIdentical(done, [a, b]);
      expect(pending.size).toBe(0);
      const func = coroutine(function* func(x: number) {
        return x;
      });
      const main = coroutine(function* main() {
        const tasks = (function* () {
          for (let i = 0; i < 10; i++) yield createTask(func(i));
        })();
        return yield* wait(tasks, { returnWhen: ALL_COMPLETED });
      });
      const [done2, pending2] = await loop.runUntilComplete(main());
      expect(done2.size).toBe(10);
      expect(pending2.size).toBe(0);
      const empty = await rejection(loop.runUntilComplete(wait([][Symbol.iterator]())));
      expect(empty).toBeInstanceOf(ValueError);
    }));

  it('cancelling the caller of wait() does not cancel the waited tasks (test_yield_wait_does_not_shield_cancel)', () =>
    withLoop(async (loop) => {
      let proof = 0;
      const waiter = loop.createFuture();
      const inner = coroutine(function* inner() {
        yield* waiter;
        proof += 1;
      });
      let innerTask: Task<void> | undefined;
      const outer = coroutine(function* outer() {
        innerTask = createTask(inner());
        yield* wait([innerTask]);
        proof += 100;
      });
      const f = ensureFuture(outer(), { loop });
      await runBriefly(loop);
      f.cancel();
      expect(await rejection(loop.runUntilComplete(f))).toBeInstanceOf(CancelledError);
      expect(innerTask!.cancelled()).toBe(false);
      waiter.setResult(undefined);
      await runBriefly(loop);
      expect(proof).toBe(1);
    }));

  it('leaves no callbacks behind on the futures (CPython removes _on_completion in finally)', () =>
    withLoop(async (loop) => {
      const a = loop.createFuture();
      const b = loop.createFuture();
      loop.callLater(0.1, () => a.setResult(1));
      await loop.runUntilComplete(wait([a, b], { returnWhen: FIRST_COMPLETED }));
      expect(b._callbackList()).toEqual([]);
      expect(a._awaitedBy).toBeNull();
    }));

  it('the cancel message reaches result() after wait (test_cancel_with_message_then_future_result)', () =>
    withLoop(async (loop) => {
      for (const [args, expected] of [
        [[], []],
        [[undefined], []],
        [['my message'], ['my message']],
        [[5], [5]],
      ] as const) {
        const coro = coroutine(function* coro() {
          const task = createTask(sleep(10));
          yield* sleep(0);
          task.cancel(...(args as unknown as [unknown?]));
          yield* wait([task]);
          task.result();
        });
        const e = await rejection(loop.runUntilComplete(coro()));
        expect(e).toBeInstanceOf(CancelledError);
        expect(e.args).toEqual(expected);
      }
    }));

  it('wakes the waiter on the same iteration as CPython (checked against CPython 3.14)', () =>
    withLoop(async (loop) => {
      const log: unknown[] = [];
      const main = coroutine(function* main() {
        const a = createTask(sleep(0.1, 'a'));
        const b = createTask(sleep(0.1, 'b'));
        const tick = (n: number): void => {
          log.push(`tick${n}`);
          if (n < 6) loop.callSoon(tick, n + 1);
        };
        loop.callLater(0.1, tick, 0);
        const [done, pending] = yield* wait([a, b], { returnWhen: FIRST_COMPLETED });
        log.push([...done].map((t) => t.result()).sort(), pending.size);
        return [...log];
      });
      // CPython 3.14: ['tick0', 'tick1', 'tick2', 'tick3', ('wait', ['a', 'b'], 0, 0.1)]
      expect(await loop.runUntilComplete(main())).toEqual([
        'tick0',
        'tick1',
        'tick2',
        'tick3',
        ['a', 'b'],
        0,
      ]);
    }));
});

describe('asCompleted()', () => {
  const sleeper = coroutine(function* sleeper(dt: number, x: string) {
    yield* sleep(dt);
    return x;
  });

  function* tryIterator<T>(aws: Iterable<unknown>) {
    const values: T[] = [];
    for (const f of asCompleted(aws)) values.push((yield* f) as T);
    return values;
  }

  function* tryAsyncIterator<T>(aws: Iterable<unknown>) {
    const values: T[] = [];
    yield* collectAsync(asCompleted(aws), function* (f: any) {
      values.push((yield* f) as T);
    } as any);
    return values;
  }

  for (const [name, foo] of [
    ['plain iterator', tryIterator],
    ['async iterator', tryAsyncIterator],
  ] as const) {
    it(`gives results in completion order (test_as_completed, ${name})`, () =>
      withLoop(async (loop) => {
        const res = await loop.runUntilComplete(
          new Coroutine(foo<string>([sleeper(0.01, 'b'), sleeper(0.15, 'c'), sleeper(0.01, 'a')]), {
            name: 'foo',
          }),
        );
        expect(loop.time()).toBe(0.15);
        expect(new Set(res.slice(0, 2))).toEqual(new Set(['a', 'b']));
        expect(res[2]).toBe('c');
      }));

    it(`can be resumed after a break (test_as_completed_resume_iterator, ${name})`, () =>
      withLoop(async (loop) => {
        const coro = coroutine(function* coro(i: number) {
          return i;
        });
        const main = coroutine(function* main() {
          const iterator = asCompleted([coro(0), coro(1), coro(2), coro(3)]);
          const collected: number[] = [];
          if (name === 'plain iterator') {
            for (const f of iterator) {
              collected.push(yield* f);
              if (collected.length === 2) break;
            }
            expect(collected.length).toBe(2);
            for (const f of iterator) collected.push(yield* f);
          } else {
            const it = iterator.aiter();
            for (let i = 0; i < 2; i++) collected.push(yield* yield* it.anext());
            expect(collected.length).toBe(2);
            for (const f of yield* collectAsync(iterator)) collected.push(f.result());
          }
          return collected;
        });
        expect((await loop.runUntilComplete(main())).sort()).toEqual([0, 1, 2, 3]);
      }));

    it(`collapses duplicate coroutines (test_as_completed_duplicate_coroutines, ${name})`, () =>
      withLoop(async (loop) => {
        const coro = coroutine(function* coro(s: string) {
          return s;
        });
        const main = coroutine(function* main() {
          const c = coro('ham');
          return yield* foo<string>([c, c, coro('spam')]);
        });
        const result = await loop.runUntilComplete(main());
        expect(result.length).toBe(2);
        expect(new Set(result)).toEqual(new Set(['ham', 'spam']));
      }));
  }

  it('async iteration yields the tasks passed in, never the coroutines (test_as_completed_same_tasks_in_as_out)', () =>
    withLoop(async (loop) => {
      const coro = coroutine(function* coro(x: string) {
        return x;
      });
      const ins = [coro('a'), loop.createTask(coro('b')), coro('c'), loop.createTask(coro('d'))];
      const main = coroutine(function* main() {
        return yield* collectAsync(asCompleted(ins));
      });
      const out = await loop.runUntilComplete(main());
      expect(out.length).toBe(4);
      // (Identity checks only: vitest's toEqual would iterate — and so await — the coroutines.)
      const passedThrough = out.filter((f) => ins.includes(f as any));
      expect(passedThrough.length).toBe(2);
      expect(passedThrough.includes(ins[1] as any) && passedThrough.includes(ins[3] as any)).toBe(true);
      expect(new Set(out.map((f) => f.result()))).toEqual(new Set(['a', 'b', 'c', 'd']));
      // anext() after the end raises StopAsyncIteration when awaited.
      const atEnd = coroutine(function* atEnd() {
        return yield* asCompleted([]).aiter().anext();
      });
      const end = await rejection(loop.runUntilComplete(atEnd()));
      expect(end).toBeInstanceOf(StopAsyncIteration);
    }));

  it('works with asyncFor: the finished tasks, earliest first (the asyncio docs example)', () =>
    withLoop(async (loop) => {
      const main = coroutine(function* main() {
        const ipv4 = createTask(sleep(0.2, 'v4'), { name: 'ipv4' });
        const ipv6 = createTask(sleep(0.1, 'v6'), { name: 'ipv6' });
        const seen: string[] = [];
        yield* asyncFor(asCompleted([ipv4, ipv6]), function* (earliest) {
          const r = yield* earliest;
          seen.push(`${earliest === ipv6 ? 'IPv6' : 'IPv4'} ${r} at ${getRunningLoop().time()}`);
        });
        return seen;
      });
      expect(await loop.runUntilComplete(main())).toEqual(['IPv6 v6 at 0.1', 'IPv4 v4 at 0.2']);
    }));

  it('raises TimeoutError for what is left when the timeout passes (test_as_completed_with_timeout)', () =>
    withLoop(async (loop) => {
      // Plain iterator: each remaining awaitable raises.
      let a = loop.createTask(sleep(0.1, 'a'));
      let b = loop.createTask(sleep(0.15, 'b'));
      const tryIter = coroutine(function* tryIter() {
        const values: [number, unknown][] = [];
        for (const f of asCompleted([a, b], { timeout: 0.12 })) {
          try {
            values.push([1, yield* f]);
          } catch (e) {
            values.push([2, e]);
          }
        }
        return values;
      });
      let res = await loop.runUntilComplete(tryIter());
      expect(res.length).toBe(2);
      expect(res[0]).toEqual([1, 'a']);
      expect(res[1]![0]).toBe(2);
      expect(res[1]![1]).toBeInstanceOf(TimeoutError);
      expect(loop.time()).toBe(0.12);
      await loop.runUntilComplete(wait([a, b]));

      // Async iterator: the iteration raises.
      const t0 = loop.time();
      a = loop.createTask(sleep(0.1, 'a'));
      b = loop.createTask(sleep(0.15, 'b'));
      const tryAsync = coroutine(function* tryAsync() {
        const values: [number, unknown][] = [];
        try {
          yield* collectAsync(asCompleted([a, b], { timeout: 0.12 }), (f) => {
            values.push([1, f.result()]);
          });
        } catch (e) {
          values.push([2, e]);
        }
        return values;
      });
      res = await loop.runUntilComplete(tryAsync());
      expect(res[0]).toEqual([1, 'a']);
      expect(res[1]![1]).toBeInstanceOf(TimeoutError);
      expect(loop.time()).toBeCloseTo(t0 + 0.12, 9);
      await loop.runUntilComplete(wait([a, b]));
    }));

  it('cancels its timer once everything is done (test_as_completed_with_unused_timeout)', () =>
    withLoop(async (loop) => {
      const main = coroutine(function* main() {
        for (const f of asCompleted([sleep(0.01, 'a')], { timeout: 1 })) expect(yield* f).toBe('a');
      });
      await loop.runUntilComplete(main());
      expect(loop.time()).toBe(0.01);
      // No live timer is left behind (it would keep a real-clock process alive).
      expect(liveTimers(loop)).toEqual([]);
    }));

  it('the first awaitable awaited gets the earliest result (test_as_completed_reverse_wait)', () =>
    withLoop(async (loop) => {
      const test = coroutine(function* test() {
        const futs = [...asCompleted([sleep(0.05, 'a'), sleep(0.1, 'b')])];
        expect(futs.length).toBe(2);
        expect(yield* futs[1]!).toBe('a');
        expect(loop.time()).toBe(0.05);
        expect(yield* futs[0]!).toBe('b');
        expect(loop.time()).toBe(0.1);
      });
      await loop.runUntilComplete(test());
    }));

  it('awaitables can be awaited concurrently (test_as_completed_concurrent)', () =>
    withLoop(async (loop) => {
      const test = coroutine(function* test() {
        const futs = [...asCompleted([sleep(0.05, 'a'), sleep(0.05, 'b')])];
        const [done] = yield* wait(futs.map((f) => ensureFuture(f)));
        return new Set([...done].map((f) => f.result()));
      });
      expect(await loop.runUntilComplete(test())).toEqual(new Set(['a', 'b']));
    }));

  it('needs a loop for coroutines (test_as_completed_coroutine_without_loop / _use_running_loop)', async () => {
    const c = sleep(0, 42);
    const e = thrown(() => asCompleted([c]));
    expect(e).toBeInstanceOf(RuntimeError);
    expect(e.message).toBe("There is no current event loop in thread 'MainThread'.");
    c.close();
    await withLoop(async (loop) => {
      const test = coroutine(function* test() {
        const futs = [...asCompleted([sleep(0, 42)])];
        expect(futs.length).toBe(1);
        return yield* futs[0]!;
      });
      expect(await loop.runUntilComplete(test())).toBe(42);
    });
  });

  it('refuses a single future or coroutine (test_as_completed_invalid_args)', () =>
    withLoop(async (loop) => {
      const fut = loop.createFuture();
      let e = thrown(() => asCompleted(fut as any));
      expect(e).toBeInstanceOf(TypeError);
      expect(e.message).toBe('expects an iterable of awaitables, not Future');
      const c = sleep(1);
      e = thrown(() => asCompleted(c as any));
      expect(e).toBeInstanceOf(TypeError);
      expect(e.message).toBe('expects an iterable of awaitables, not coroutine');
      c.close();
      e = thrown(() => asCompleted(5 as any));
      expect(e.message).toBe("'int' object is not iterable");
    }));

  it('resumes consumers on the same iterations as CPython (checked against CPython 3.14)', () =>
    withLoop(async (loop) => {
      const main = coroutine(function* main() {
        let log: unknown[] = [];
        const tick = (n: number): void => {
          log.push(`tick${n}`);
          if (n < 6) loop.callSoon(tick, n + 1);
        };
        let ts = [0.3, 0.1, 0.2].map((x) => createTask(sleep(x, x)));
        loop.callLater(0.1, tick, 0);
        for (const f of asCompleted(ts)) log.push(yield* f);
        // CPython 3.14: ['tick0', 'tick1', 'tick2', 'tick3', 0.1, 'tick4', 'tick5', 'tick6', 0.2, 0.3]
        expect(log).toEqual(['tick0', 'tick1', 'tick2', 'tick3', 0.1, 'tick4', 'tick5', 'tick6', 0.2, 0.3]);
        log = [];
        ts = [0.3, 0.1, 0.2].map((x) => createTask(sleep(x, x)));
        loop.callLater(0.1, tick, 0);
        yield* collectAsync(asCompleted(ts), (f) => {
          log.push(ts.indexOf(f as Task<number>));
        });
        // CPython 3.14: ['tick0', 'tick1', 'tick2', 'tick3', 1, 'tick4', 'tick5', 'tick6', 2, 0]
        expect(log).toEqual(['tick0', 'tick1', 'tick2', 'tick3', 1, 'tick4', 'tick5', 'tick6', 2, 0]);
      });
      await loop.runUntilComplete(main());
    }));

  it('a cancelled consumer passes its wake-up on to the next one', () =>
    withLoop(async (loop) => {
      const f1 = loop.createFuture<string>();
      setEventLoop(loop);
      const it = asCompleted([f1]);
      setEventLoop(null);
      const [c1] = [...it];
      const t1 = loop.createTask(c1!);
      await runBriefly(loop);
      t1.cancel();
      f1.setResult('x');
      expect(await rejection(loop.runUntilComplete(t1))).toBeInstanceOf(CancelledError);
      // The result stays in the iterator's queue: nothing is lost.
      expect(it._done.qsize()).toBe(1);
      expect(it._done.getNowait()).toBe(f1);
    }));
});

describe('shield()', () => {
  it('passes the result through (test_shield_result)', () =>
    withLoop(async (loop) => {
      const inner = loop.createFuture<number>();
      const outer = shield(inner);
      inner.setResult(42);
      expect(await loop.runUntilComplete(outer)).toBe(42);
    }));

  it('passes the exception through (test_shield_exception)', () =>
    withLoop(async (loop) => {
      const inner = loop.createFuture();
      const outer = shield(inner);
      await runBriefly(loop);
      const exc = new RuntimeError('expected');
      inner.setException(exc);
      await runBriefly(loop);
      expect(outer.exception()).toBe(exc);
    }));

  it('cancelling the inner cancels the outer (test_shield_cancel_inner)', () =>
    withLoop(async (loop) => {
      const inner = loop.createFuture();
      const outer = shield(inner);
      await runBriefly(loop);
      inner.cancel();
      await runBriefly(loop);
      expect(outer.cancelled()).toBe(true);
    }));

  it('cancelling the outer leaves the inner alone (test_shield_cancel_outer)', () =>
    withLoop(async (loop) => {
      const inner = loop.createFuture();
      const outer = shield(inner);
      await runBriefly(loop);
      outer.cancel();
      await runBriefly(loop);
      expect(outer.cancelled()).toBe(true);
      expect(inner.cancelled()).toBe(false);
      expect(outer._callbackList()).toEqual([]);
    }));

  it('an inner result after the outer was cancelled is not reported (test_shield_cancel_outer_result)', () =>
    withLoop(async (loop, reports) => {
      const inner = loop.createFuture();
      const outer = shield(inner);
      await runBriefly(loop);
      outer.cancel();
      await runBriefly(loop);
      inner.setResult(1);
      await runBriefly(loop);
      expect(reports).toEqual([]);
    }));

  it('an inner failure after the outer was cancelled is reported once (test_shield_cancel_outer_exception, test_shield_duplicate_log_once)', () =>
    withLoop(async (loop, reports) => {
      const inner = loop.createFuture();
      let outer = shield(inner);
      await runBriefly(loop);
      outer.cancel();
      await runBriefly(loop);
      outer = shield(inner);
      await runBriefly(loop);
      outer.cancel();
      await runBriefly(loop);
      const exc = new RuntimeError('foo');
      inner.setException(exc);
      await runBriefly(loop);
      expect(reports.length).toBe(1);
      // CPython: "Exception exception in shielded future" (the class name, then the words).
      expect(reports[0]!.message).toBe('RuntimeError exception in shielded future');
      expect(reports[0]!.exception).toBe(exc);
      expect(reports[0]!.future).toBe(inner);
    }));

  it('returns a done future itself (test_shield_shortcut)', () =>
    withLoop(async (loop) => {
      const fut = loop.createFuture<number>();
      fut.setResult(42);
      expect(shield(fut)).toBe(fut);
      expect(await loop.runUntilComplete(shield(fut))).toBe(42);
    }));

  it('cancelling the awaiting task does not cancel the shielded coroutine (test_shield_effect)', () =>
    withLoop(async (loop) => {
      let proof = 0;
      const waiter = loop.createFuture();
      const inner = coroutine(function* inner() {
        yield* waiter;
        proof += 1;
      });
      const outer = coroutine(function* outer() {
        yield* shield(inner());
        proof += 100;
      });
      const f = ensureFuture(outer(), { loop });
      await runBriefly(loop);
      f.cancel();
      expect(await rejection(loop.runUntilComplete(f))).toBeInstanceOf(CancelledError);
      waiter.setResult(undefined);
      await runBriefly(loop);
      expect(proof).toBe(1);
    }));

  it('shields a gather (test_shield_gather) and gather cancels shields, not children (test_gather_shield)', () =>
    withLoop(async (loop) => {
      let child1 = loop.createFuture<number>();
      let child2 = loop.createFuture<number>();
      const parent = gather(child1, child2);
      const outer = shield(parent);
      await runBriefly(loop);
      outer.cancel();
      await runBriefly(loop);
      expect(outer.cancelled()).toBe(true);
      child1.setResult(1);
      child2.setResult(2);
      await runBriefly(loop);
      expect(parent.result()).toEqual([1, 2]);

      child1 = loop.createFuture<number>();
      child2 = loop.createFuture<number>();
      const inner1 = shield(child1);
      const inner2 = shield(child2);
      const parent2 = gather(inner1, inner2);
      await runBriefly(loop);
      parent2.cancel();
      await runBriefly(loop);
      expect(parent2.exception()).toBeInstanceOf(CancelledError);
      expect(inner1.cancelled()).toBe(true);
      expect(inner2.cancelled()).toBe(true);
      expect(child1.cancelled()).toBe(false);
      child1.setResult(1);
      child2.setResult(2);
      await runBriefly(loop);
    }));

  it('wraps a coroutine in a task on the running or current loop (test_shield_coroutine_*)', async () => {
    const c = sleep(0, 42);
    const e = thrown(() => shield(c));
    expect(e).toBeInstanceOf(RuntimeError);
    expect(e.message).toBe("There is no current event loop in thread 'MainThread'.");
    c.close();
    await withLoop(async (loop) => {
      const test = coroutine(function* test() {
        // In an array: a Future is thenable, so the Promise would adopt it.
        return [shield(sleep(0, 42))] as const;
      });
      const [outer] = await loop.runUntilComplete(test());
      expect(outer.getLoop()).toBe(loop);
      expect(await loop.runUntilComplete(outer)).toBe(42);
      setEventLoop(loop);
      try {
        const outer2 = shield(sleep(0, 43));
        expect(outer2.getLoop()).toBe(loop);
        expect(await loop.runUntilComplete(outer2)).toBe(43);
      } finally {
        setEventLoop(null);
      }
    });
  });

  it('in a program: the outer task is cancelled, the shielded task finishes (runSync)', () => {
    const log: string[] = [];
    const work = coroutine(function* work() {
      yield* sleep(1);
      log.push('work done');
      return 'w';
    });
    const main = coroutine(function* main() {
      const t = createTask(work());
      const waiter = createTask(
        coroutine(function* waiter() {
          try {
            return yield* shield(t);
          } catch (e) {
            log.push(`waiter ${(e as Error).name}`);
            throw e;
          }
        })(),
      );
      yield* sleep(0.5);
      waiter.cancel();
      yield* wait([waiter]);
      log.push(`t done: ${t.done()} at ${getRunningLoop().time()}`);
      return yield* t;
    });
    expect(runSync(main(), { clock: 'virtual' })).toBe('w');
    expect(log).toEqual(['waiter CancelledError', 't done: false at 0.5', 'work done']);
  });
});

describe('Future typing of the combinators', () => {
  it('wait() keeps the element type', () =>
    withLoop(async (loop) => {
      const a: Future<number> = loop.createFuture<number>();
      a.setResult(1);
      const [done] = await loop.runUntilComplete(wait([a]));
      const n: number = [...done][0]!.result();
      expect(n).toBe(1);
    }));
});

describe('core regressions found while porting', () => {
  it('runUntilComplete() with an already-done future returns at once (it used to hang)', () =>
    withLoop(async (loop) => {
      const fut = loop.createFuture<number>();
      fut.setResult(7);
      expect(await loop.runUntilComplete(fut)).toBe(7);
      const failed = loop.createFuture();
      failed.setException(new ValueError('x'));
      expect(await rejection(loop.runUntilComplete(failed))).toBeInstanceOf(ValueError);
    }));
});
