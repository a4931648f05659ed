/**
 * Type tests: these assertions are checked by `tsc` (npm run typecheck compiles test/), and the
 * `@ts-expect-error` lines prove that misuse does not compile. The runtime part only runs the code.
 */

import {
  type Coroutine,
  coroutine,
  createTask,
  type Future,
  gather,
  getRunningLoop,
  run,
  shield,
  sleep,
  type Task,
} from 'tsyncio';
import { describe, expectTypeOf, it } from 'vitest';

const square = coroutine(function* square(n: number) {
  return n * n;
});
const greet = coroutine(function* greet(name: string) {
  yield* sleep(0);
  return `hi ${name}`;
});

describe('types', () => {
  it('coroutine functions and yield* results are typed end to end', async () => {
    expectTypeOf(square).parameters.toEqualTypeOf<[n: number]>();
    expectTypeOf(square(2)).toEqualTypeOf<Coroutine<number>>();
    const main = coroutine(function* main() {
      const x = yield* square(10);
      expectTypeOf(x).toEqualTypeOf<number>();
      const pair = yield* gather(square(2), greet('bob'));
      expectTypeOf(pair).toEqualTypeOf<[number, string]>();
      const withErrors = yield* gather(square(2), greet('x'), { returnExceptions: true });
      expectTypeOf(withErrors).toEqualTypeOf<[number | Error, string | Error]>();
      const t = createTask(greet('ann'));
      expectTypeOf(t).toEqualTypeOf<Task<string>>();
      const s = yield* t;
      expectTypeOf(s).toEqualTypeOf<string>();
      const f = getRunningLoop().createFuture<Date>();
      expectTypeOf(f).toEqualTypeOf<Future<Date>>();
      f.setResult(new Date(0));
      const d = yield* f;
      expectTypeOf(d).toEqualTypeOf<Date>();
      const slept = yield* sleep(0, 'value' as const);
      expectTypeOf(slept).toEqualTypeOf<'value'>();
      const shielded = yield* shield(square(3));
      expectTypeOf(shielded).toEqualTypeOf<number>();
      return x + s.length;
    });
    const result = await run(main());
    expectTypeOf(result).toEqualTypeOf<number>();
  });

  it('misuse does not compile', () => {
    const bad = coroutine(function* bad() {
      // @ts-expect-error a number is not awaitable
      yield* 5;
      // @ts-expect-error a Promise is not awaitable with yield*: use fromPromise()
      yield* Promise.resolve(1);
      // @ts-expect-error wrong argument type
      yield* square('ten');
      const n: number = yield* square(1);
      // @ts-expect-error the result is a number, not a string
      const s: string = yield* square(1);
      return [n, s];
    });
    expectTypeOf(bad).returns.toEqualTypeOf<Coroutine<(string | number)[]>>();
  });
});
