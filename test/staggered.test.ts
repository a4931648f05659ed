/** staggeredRace: CPython 3.14's test_staggered.py, every test, under the virtual clock. */
import {
  asyncWith,
  CancelledError,
  coroutine,
  Event,
  type Instruction,
  sleep,
  staggeredRace,
  TimeoutError,
  timeout,
  ValueError,
} from 'tsyncio';
import { describe, expect, it } from 'vitest';
import { arun } from './helpers.js';

describe('staggeredRace (test_staggered.py)', () => {
  it('test_empty', async () => {
    const r = await arun(function* () {
      return yield* staggeredRace([], null);
    });
    expect(r).toEqual([null, null, []]);
  });

  it('test_one_successful', async () => {
    const coro = coroutine(function* (index: number): Generator<Instruction, string, unknown> {
      return `Res: ${index}`;
    });
    const r = await arun(function* () {
      return yield* staggeredRace([() => coro(0), () => coro(1)], null);
    });
    expect(r).toEqual(['Res: 0', 0, [null]]);
  });

  it('test_first_error_second_successful', async () => {
    const coro = coroutine(function* (index: number): Generator<Instruction, string, unknown> {
      if (index === 0) throw new ValueError(String(index));
      return `Res: ${index}`;
    });
    const [winner, index, excs] = await arun(function* () {
      return yield* staggeredRace([() => coro(0), () => coro(1)], null);
    });
    expect([winner, index, excs.length]).toEqual(['Res: 1', 1, 2]);
    expect(excs[0]).toBeInstanceOf(ValueError);
    expect(excs[1]).toBeNull();
  });

  it('test_first_timeout_second_successful', async () => {
    const coro = coroutine(function* (index: number): Generator<Instruction, string, unknown> {
      if (index === 0) yield* sleep(10); // much bigger than delay
      return `Res: ${index}`;
    });
    const [winner, index, excs] = await arun(function* () {
      return yield* staggeredRace([() => coro(0), () => coro(1)], 0.1);
    });
    expect([winner, index, excs.length]).toEqual(['Res: 1', 1, 2]);
    expect(excs[0]).toBeInstanceOf(CancelledError);
    expect(excs[1]).toBeNull();
  });

  it('test_none_successful', async () => {
    const coro = coroutine(function* (index: number): Generator<Instruction, string, unknown> {
      throw new ValueError(String(index));
    });
    const [winner, index, excs] = await arun(function* () {
      return yield* staggeredRace([() => coro(0), () => coro(1)], null);
    });
    expect([winner, index, excs.length]).toEqual([null, null, 2]);
    expect(excs[0]).toBeInstanceOf(ValueError);
    expect(excs[1]).toBeInstanceOf(ValueError);
  });

  it('test_multiple_winners', async () => {
    const [winner, index, excs] = await arun(function* () {
      const event = new Event();
      const coro = coroutine(function* (index: number): Generator<Instruction, number, unknown> {
        yield* event.wait();
        return index;
      });
      const doSet = coroutine(function* (): Generator<Instruction, number, unknown> {
        event.set();
        yield* new Event().wait();
        return -1;
      });
      return yield* staggeredRace([() => coro(0), () => coro(1), doSet], 0.1);
    });
    expect([winner, index, excs.length]).toEqual([0, 0, 3]);
    expect(excs[0]).toBeNull();
    expect(excs[1]).toBeInstanceOf(CancelledError);
    expect(excs[2]).toBeInstanceOf(CancelledError);
  });

  it('test_cancelled: cancellation reaches the racing coroutine, then the caller', async () => {
    const log: string[] = [];
    const outcome = await arun(function* () {
      try {
        yield* asyncWith(timeout(null), (csOuter) =>
          asyncWith(timeout(null), function* (csInner) {
            const coroFn = coroutine(function* (): Generator<Instruction, void, unknown> {
              csInner.reschedule(-1);
              yield* sleep(0);
              try {
                yield* sleep(0);
              } catch (e) {
                if (!(e instanceof CancelledError)) throw e;
                log.push('cancelled 1');
              }
              csOuter.reschedule(-1);
              yield* sleep(0);
              try {
                yield* sleep(0);
              } catch (e) {
                if (!(e instanceof CancelledError)) throw e;
                log.push('cancelled 2');
              }
            });
            try {
              yield* staggeredRace([coroFn], null);
            } catch (e) {
              if (e instanceof CancelledError) log.push('cancelled 3');
              throw e;
            }
          }),
        );
      } catch (e) {
        return e instanceof TimeoutError;
      }
      return false;
    });
    expect(outcome).toBe(true);
    expect(log).toEqual(['cancelled 1', 'cancelled 2', 'cancelled 3']);
  });
});
