/**
 * Vitest setup (vitest.config.ts `setupFiles`): Futures, Tasks and coroutines compare by identity in every
 * deep-equality assertion (toEqual, toStrictEqual, toContainEqual, toMatchObject, toHaveBeenCalledWith, …).
 *
 * Why: Vitest's deep equality iterates anything with `[Symbol.iterator]`, and all three are iterators with
 * side effects, so without this tester an assertion is wrong AND changes what it asserts on:
 *   - a Future (or Task) is its own `yield*` iterator. Two *pending* ones never finish iterating: the
 *     assertion spins forever, and a synchronous loop cannot be stopped by the test timeout. A pending one
 *     compared with anything else gets its blocking flag set, as if a Task were awaiting it. Two *done*
 *     ones compare by result and internal fields, so distinct futures with equal results are "equal"; and
 *     a failed one raises its exception out of the assertion and is marked retrieved (which hides the
 *     "exception was never retrieved" report a test may be checking).
 *   - iterating a Coroutine claims it (`[Symbol.iterator]` hands out the generator) and runs its body:
 *     two distinct coroutines compare "equal" after the assertion ran both, and neither can be awaited
 *     afterwards.
 *   - a plain generator (a generator-based coroutine) is consumed the same way.
 * None of them has a meaningful structural equality: like Python's asyncio objects, they are equal only to
 * themselves. Everything else (including asymmetric matchers such as `expect.any(Task)`, which Vitest
 * checks before custom testers) keeps Vitest's default comparison.
 */
import { Coroutine, isFuture } from 'tsyncio';
import { expect } from 'vitest';

/** True for the objects whose only equality is identity (see the header). */
function comparedByIdentity(x: unknown): boolean {
  if (typeof x !== 'object' || x === null) return false;
  // isFuture also recognises branded futures from another copy of the library (e.g. a built dist/).
  return isFuture(x) || x instanceof Coroutine || Object.prototype.toString.call(x) === '[object Generator]';
}

expect.addEqualityTesters([
  function awaitablesByIdentity(a: unknown, b: unknown): boolean | undefined {
    return comparedByIdentity(a) || comparedByIdentity(b) ? a === b : undefined;
  },
]);
