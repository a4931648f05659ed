/**
 * gather(): CPython's GatherTestsBase / FutureGatherTests / CoroutineGatherTests and the gather tests of
 * BaseTaskTests (test_tasks.py; names in the descriptions).
 */
import {
  CancelledError,
  coroutine,
  EventLoop,
  ensureFuture,
  type Future,
  gather,
  RuntimeError,
  setEventLoop,
  sleep,
  ValueError,
} from 'tsyncio';
import { describe, expect, it } from 'vitest';
import { rejection, thrown, withLoop } from './helpers.js';

/** CPython's GatherTestsBase._run_loop: run until nothing is ready. */
async function runLoop(loop: EventLoop): Promise<void> {
  do {
    await loop.runUntilComplete(sleep(0));
  } while (loop._ready.length > 0);
}

/** A done-callback recorder (CPython's test_utils.MockCallback). */
function mockCallback(): ((f: Future<any>) => void) & { calls: Future<any>[] } {
  const calls: Future<any>[] = [];
  const cb = (f: Future<any>): void => {
    calls.push(f);
  };
  return Object.assign(cb, { calls });
}

// Both flavours of GatherTestsBase: the children are futures, or coroutines awaiting them.
for (const flavour of ['futures', 'coroutines'] as const) {
  const wrap = (futs: Future<any>[]): any[] =>
    flavour === 'futures'
      ? futs
      : futs.map((fut) =>
          coroutine(function* coro() {
            return yield* fut;
          })(),
        );
  // CoroutineGatherTests gathers from inside a coroutine (the tasks need a running loop to start).
  // Returned in an array: a Future is thenable, and an async function would adopt it.
  const doGather = async (
    loop: EventLoop,
    args: any[],
    opts?: { returnExceptions?: boolean },
  ): Promise<[Future<any>]> => {
    if (flavour === 'futures') return [opts ? gather(...args, opts) : gather(...args)];
    const inLoop = coroutine(function* inLoop() {
      return [opts ? gather(...args, opts) : gather(...args)] as [Future<any>];
    });
    return await loop.runUntilComplete(inLoop());
  };

  describe(`gather() of ${flavour} (GatherTestsBase)`, () => {
    for (const returnExceptions of [undefined, false, true]) {
      it(`collects results in argument order (test_success / test_result_exception_success, returnExceptions=${returnExceptions})`, () =>
        withLoop(async (loop) => {
          const [a, b, c] = [loop.createFuture(), loop.createFuture(), loop.createFuture()];
          const [fut] = await doGather(
            loop,
            wrap([a!, b!, c!]),
            returnExceptions === undefined ? undefined : { returnExceptions },
          );
          const cb = mockCallback();
          fut.addDoneCallback(cb);
          b!.setResult(1);
          a!.setResult(2);
          await runLoop(loop);
          expect(cb.calls.length).toBe(0);
          expect(fut.done()).toBe(false);
          c!.setResult(3);
          await runLoop(loop);
          expect(cb.calls).toEqual([fut].map(() => expect.anything()));
          expect(cb.calls[0]).toBe(fut);
          expect(fut.result()).toEqual([2, 1, 3]);
        }));
    }

    it('the first exception is gather’s; the other children keep running (test_one_exception)', () =>
      withLoop(async (loop) => {
        const [a, b, c, d, e] = Array.from({ length: 5 }, () => loop.createFuture());
        const [fut] = await doGather(loop, wrap([a!, b!, c!, d!, e!]));
        const cb = mockCallback();
        fut.addDoneCallback(cb);
        const exc = new RangeError();
        a!.setResult(1);
        b!.setException(exc);
        await runLoop(loop);
        expect(fut.done()).toBe(true);
        expect(cb.calls.length).toBe(1);
        expect(cb.calls[0]).toBe(fut);
        expect(fut.exception()).toBe(exc);
        // Does nothing
        c!.setResult(3);
        d!.cancel();
        e!.setException(new RuntimeError());
        e!.exception();
        await runLoop(loop);
        expect(fut.exception()).toBe(exc);
      }));

    it('returnExceptions puts exceptions among the results (test_return_exceptions)', () =>
      withLoop(async (loop) => {
        const [a, b, c, d] = Array.from({ length: 4 }, () => loop.createFuture());
        const [fut] = await doGather(loop, wrap([a!, b!, c!, d!]), { returnExceptions: true });
        const cb = mockCallback();
        fut.addDoneCallback(cb);
        const exc = new RangeError();
        const exc2 = new RuntimeError();
        b!.setResult(1);
        c!.setException(exc);
        a!.setResult(3);
        await runLoop(loop);
        expect(fut.done()).toBe(false);
        d!.setException(exc2);
        await runLoop(loop);
        expect(fut.done()).toBe(true);
        expect(cb.calls.length).toBe(1);
        const res = fut.result() as unknown[];
        expect(res.length).toBe(4);
        expect(res[0]).toBe(3);
        expect(res[1]).toBe(1);
        expect(res[2]).toBe(exc);
        expect(res[3]).toBe(exc2);
      }));
  });
}

describe('gather() of futures (FutureGatherTests)', () => {
  it('with no awaitables needs a loop (test_constructor_empty_sequence_without_loop)', () => {
    const e = thrown(() => gather());
    expect(e).toBeInstanceOf(RuntimeError);
    expect(e.message).toBe("There is no current event loop in thread 'MainThread'.");
  });

  it('with no awaitables is a done future of [] on the running loop (test_constructor_empty_sequence_use_running_loop)', () =>
    withLoop(async (loop) => {
      const inLoop = coroutine(function* inLoop() {
        return [gather()] as const;
      });
      const [fut] = await loop.runUntilComplete(inLoop());
      expect(fut.getLoop()).toBe(loop);
      expect(fut.done()).toBe(true);
      expect(fut.result()).toEqual([]);
    }));

  it('with no awaitables uses the current loop (test_constructor_empty_sequence_use_global_loop)', () =>
    withLoop(async (loop) => {
      setEventLoop(loop);
      try {
        const fut = gather();
        expect(fut.getLoop()).toBe(loop);
        expect(fut.result()).toEqual([]);
      } finally {
        setEventLoop(null);
      }
    }));

  it('refuses futures of different loops; takes the loop of its futures (test_constructor_heterogenous/homogenous_futures)', () =>
    withLoop(async (loop) => {
      const other = new EventLoop({ clock: 'virtual' });
      try {
        const e = thrown(() => gather(loop.createFuture(), other.createFuture()));
        expect(e).toBeInstanceOf(ValueError);
        expect(e.message).toBe(
          'The future belongs to a different loop than the one specified as the loop argument',
        );
        const children = [other.createFuture(), other.createFuture(), other.createFuture()];
        const fut = gather(...children);
        expect(fut.getLoop()).toBe(other);
        await runLoop(other);
        expect(fut.done()).toBe(false);
      } finally {
        other.close();
      }
    }));

  it('a cancelled child fails gather with CancelledError, gather itself not cancelled (test_one_cancellation)', () =>
    withLoop(async (loop) => {
      const [a, b, c, d, e] = Array.from({ length: 5 }, () => loop.createFuture());
      const fut = gather(a!, b!, c!, d!, e!);
      const cb = mockCallback();
      fut.addDoneCallback(cb);
      a!.setResult(1);
      b!.cancel();
      await runLoop(loop);
      expect(fut.done()).toBe(true);
      expect(cb.calls.length).toBe(1);
      expect(fut.cancelled()).toBe(false);
      expect(fut.exception()).toBeInstanceOf(CancelledError);
      c!.setResult(3);
      d!.cancel();
      e!.setException(new RuntimeError());
      e!.exception();
    }));

  it('with returnExceptions a cancelled child is a CancelledError result (test_result_exception_one_cancellation)', () =>
    withLoop(async (loop) => {
      const [a, b, c, d, e, f] = Array.from({ length: 6 }, () => loop.createFuture());
      const fut = gather(a!, b!, c!, d!, e!, f!, { returnExceptions: true });
      const cb = mockCallback();
      fut.addDoneCallback(cb);
      a!.setResult(1);
      const zde = new RangeError();
      b!.setException(zde);
      c!.cancel();
      await runLoop(loop);
      expect(fut.done()).toBe(false);
      d!.setResult(3);
      e!.cancel('why');
      const rte = new RuntimeError();
      f!.setException(rte);
      const res = (await loop.runUntilComplete(fut)) as unknown[];
      expect(res[2]).toBeInstanceOf(CancelledError);
      expect(res[4]).toBeInstanceOf(CancelledError);
      expect((res[4] as CancelledError).message).toBe('why');
      expect([res[0], res[1], res[3], res[5]]).toEqual([1, zde, 3, rte]);
      expect(res[1]).toBe(zde);
      expect(cb.calls.length).toBe(1);
    }));
});

describe('gather() of coroutines (CoroutineGatherTests)', () => {
  const abc = coroutine(function* abc(s = 'abc') {
    return s;
  });

  it('wrapping coroutines needs a loop (test_constructor_without_loop)', () => {
    const gen1 = abc();
    const gen2 = abc();
    const e = thrown(() => gather(gen1, gen2));
    expect(e).toBeInstanceOf(RuntimeError);
    expect(e.message).toBe("There is no current event loop in thread 'MainThread'.");
    gen1.close();
    gen2.close();
  });

  it('uses the running loop, else the current one (test_constructor_use_running_loop / _use_global_loop)', () =>
    withLoop(async (loop) => {
      const inLoop = coroutine(function* inLoop() {
        return [gather(abc(), abc())] as const;
      });
      const [fut] = await loop.runUntilComplete(inLoop());
      expect(fut.getLoop()).toBe(loop);
      expect(await loop.runUntilComplete(fut)).toEqual(['abc', 'abc']);
      setEventLoop(loop);
      try {
        const fut2 = gather(abc(), abc('x'));
        expect(fut2.getLoop()).toBe(loop);
        expect(await loop.runUntilComplete(fut2)).toEqual(['abc', 'x']);
      } finally {
        setEventLoop(null);
      }
    }));

  it('a coroutine passed twice runs once and its result appears at each place (test_duplicate_coroutines)', () =>
    withLoop(async (loop) => {
      const c = abc('abc');
      const inLoop = coroutine(function* inLoop() {
        return [gather(c, c, abc('def'), c)] as const;
      });
      const [fut] = await loop.runUntilComplete(inLoop());
      await runLoop(loop);
      expect(fut.result()).toEqual(['abc', 'abc', 'def', 'abc']);
    }));

  it('cancelling the task awaiting gather cancels every child (test_cancellation_broadcast)', () =>
    withLoop(async (loop) => {
      let proof = 0;
      const waiter = loop.createFuture();
      const inner = coroutine(function* inner() {
        yield* waiter;
        proof += 1;
      });
      const child1 = ensureFuture(inner(), { loop });
      const child2 = ensureFuture(inner(), { loop });
      let gatherer: Future<unknown> | undefined;
      const outer = coroutine(function* outer() {
        gatherer = gather(child1, child2);
        yield* gatherer;
        proof += 100;
      });
      const f = ensureFuture(outer(), { loop });
      await loop.runUntilComplete(sleep(0));
      expect(f.cancel()).toBe(true);
      expect(await rejection(loop.runUntilComplete(f))).toBeInstanceOf(CancelledError);
      expect(gatherer!.cancel()).toBe(false);
      expect(waiter.cancelled()).toBe(true);
      expect(child1.cancelled()).toBe(true);
      expect(child2.cancelled()).toBe(true);
      await loop.runUntilComplete(sleep(0));
      expect(proof).toBe(0);
    }));

  it('exceptions of children that finish after the first are marked retrieved (test_exception_marking)', () =>
    withLoop(async (loop, reports) => {
      const inner = coroutine(function* inner(f: Future<unknown>) {
        yield* f;
        throw new RuntimeError('should not be ignored');
      });
      const a = loop.createFuture();
      const b = loop.createFuture();
      const outer = coroutine(function* outer() {
        yield* gather(inner(a), inner(b));
      });
      const f = ensureFuture(outer(), { loop });
      await loop.runUntilComplete(sleep(0));
      a.setResult(undefined);
      await loop.runUntilComplete(sleep(0));
      b.setResult(undefined);
      await loop.runUntilComplete(sleep(0));
      expect(f.exception()).toBeInstanceOf(RuntimeError);
      loop.close();
      // The second child's exception was retrieved by gather: nothing reported at close.
      expect(reports).toEqual([]);
    }));

  it('a bad argument after a coroutine raises TypeError; the orphan task reports nothing (test_issue46672)', () =>
    withLoop(async (loop, reports) => {
      const c = abc('abc');
      const inLoop = coroutine(function* inLoop() {
        gather(c, 42 as any);
      });
      const e = await rejection(loop.runUntilComplete(inLoop()));
      expect(e).toBeInstanceOf(TypeError);
      expect(e.message).toBe('An asyncio.Future, a coroutine or an awaitable is required');
      await runLoop(loop);
      expect(reports).toEqual([]);
    }));
});

describe('gather() cancellation rules (test_tasks.py)', () => {
  it('a gather whose children are all done refuses cancel() (test_cancel_gather_1, bpo-26923)', () =>
    withLoop(async (loop) => {
      const fut = loop.createFuture<number>();
      const create = coroutine(function* create() {
        const childCoro = coroutine(function* childCoro() {
          return yield* fut;
        });
        return [ensureFuture(gather(childCoro()))] as const;
      });
      const [gatherTask] = await loop.runUntilComplete(create());
      let cancelResult: boolean | undefined;
      fut.addDoneCallback(() => {
        cancelResult = gatherTask.cancel();
      });
      fut.setResult(42);
      await loop.runUntilComplete(gatherTask);
      expect(cancelResult).toBe(false);
      expect(gatherTask.cancelled()).toBe(false);
      expect(gatherTask.result()).toEqual([42]);
    }));

  it('returnExceptions does not swallow the cancellation of the gather’s caller (test_cancel_gather_2)', () =>
    withLoop(async (loop) => {
      for (const [args, expected] of [
        [[], []],
        [[undefined], []],
        [['my message'], ['my message']],
        [[5], [5]],
      ] as [unknown[], unknown[]][]) {
        const test = coroutine(function* test() {
          let time = 0;
          for (;;) {
            time += 0.05;
            yield* gather(sleep(0.05), { returnExceptions: true });
            if (time > 1) return;
          }
        });
        const main = coroutine(function* main() {
          const qwe = loop.createTask(test());
          yield* sleep(0.2);
          qwe.cancel(...(args as [unknown?]));
          yield* qwe;
        });
        const e = await rejection(loop.runUntilComplete(main()));
        expect(e).toBeInstanceOf(CancelledError);
        expect(e.args).toEqual(expected);
      }
    }));

  it('cancelling the gather future itself cancels the children and fails it with CancelledError', () =>
    withLoop(async (loop) => {
      const a = loop.createTask(sleep(10, 'a'));
      const b = loop.createTask(sleep(10, 'b'));
      const g = gather(a, b, { returnExceptions: true });
      await loop.runUntilComplete(sleep(0));
      expect(g.cancel('stop')).toBe(true);
      const e = await rejection(loop.runUntilComplete(g));
      expect(e).toBeInstanceOf(CancelledError);
      expect(e.message).toBe('stop');
      expect(a.cancelled() && b.cancelled()).toBe(true);
      expect(g.cancelled()).toBe(false);
    }));

  it('is typed as a tuple of the children’s results', () =>
    withLoop(async (loop) => {
      const main = coroutine(function* main() {
        const [n, s] = yield* gather(sleep(0.1, 1), sleep(0.2, 'x'));
        const sum: number = n + 1;
        const up: string = s.toUpperCase();
        return [sum, up];
      });
      expect(await loop.runUntilComplete(main())).toEqual([2, 'X']);
      expect(loop.time()).toBe(0.2);
    }));
});

describe('gather() cancellation message (checked against CPython 3.14)', () => {
  it('with returnExceptions the error comes from the last child, as in CPython 3.14', () =>
    withLoop(async (loop) => {
      const main = coroutine(function* main() {
        const out: unknown[][] = [];
        for (const [order, returnExceptions] of [
          ['ab', false],
          ['ba', false],
          ['ab', true],
          ['ba', true],
        ] as const) {
          const a = loop.createTask(sleep(10));
          const b = loop.createTask(sleep(0, 'b'));
          const children = order === 'ab' ? [a, b] : [b, a];
          const g = gather(...children, { returnExceptions });
          yield* sleep(0);
          yield* sleep(0);
          expect(g.cancel('msg')).toBe(true);
          try {
            yield* g;
          } catch (e) {
            out.push((e as CancelledError).args);
          }
        }
        return out;
      });
      // CPython 3.14: ('msg',) ('msg',) () and — with the cancelled child last — ('msg',).
      expect(await loop.runUntilComplete(main())).toEqual([['msg'], ['msg'], [], ['msg']]);
    }));

  it("a cancelled gather whose last child failed raises CancelledError, never that child's error (difftest seed 553)", () =>
    withLoop(async (loop) => {
      const failing = coroutine(function* c4() {
        throw new RuntimeError('e60');
      });
      const main = coroutine(function* main() {
        const g = gather(sleep(1), failing(), { returnExceptions: true });
        yield* sleep(0);
        yield* sleep(0);
        g.cancel('bye');
        try {
          yield* g;
        } catch (e) {
          return [(e as Error).name, String((e as Error).message)];
        }
        return 'not raised';
      });
      // CPython 3.14 prints: CancelledError '' (the message is lost: the last child finished).
      expect(await loop.runUntilComplete(main())).toEqual(['CancelledError', '']);
    }));
});
