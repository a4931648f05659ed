import { CancelledError, coroutine, createTask, gather, runSync, sleep } from 'tsyncio';
import { describe, expect, it } from 'vitest';

describe('gather: cancelling the gather itself', () => {
  // Found by the differential tests (test/difftest/corpus/gather-cancel-message.json). CPython's
  // _done_callback takes the CancelledError it raises from the last child in argument order (its results
  // loop rebinds `fut`), so the cancel message survives only when that child was the one cancelled.
  // CPython 3.14 prints: a,b () / b,a ('m',)
  const program = (order: 'a,b' | 'b,a') =>
    coroutine(function* main() {
      const a = coroutine(function* a() {
        yield* sleep(10);
      });
      const b = coroutine(function* b() {
        return 1;
      });
      const tb = createTask(b());
      const ta = createTask(a());
      yield* sleep(0);
      const g =
        order === 'a,b'
          ? gather(ta, tb, { returnExceptions: true })
          : gather(tb, ta, { returnExceptions: true });
      yield* sleep(0);
      g.cancel('m');
      try {
        yield* g;
      } catch (e) {
        if (!(e instanceof CancelledError)) throw e;
        return e.args;
      }
      return 'not cancelled';
    })();

  it('raises the last child’s CancelledError with returnExceptions, as CPython does', () => {
    expect(runSync(program('a,b'), { clock: 'virtual' })).toEqual([]);
    expect(runSync(program('b,a'), { clock: 'virtual' })).toEqual(['m']);
  });
});
