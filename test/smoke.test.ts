import { type CancelledError, coroutine, createTask, gather, run, sleep } from 'tsyncio';
import { describe, expect, it } from 'vitest';

describe('smoke', () => {
  it('runs, sleeps, gathers and cancels', async () => {
    const log: string[] = [];
    const worker = coroutine(function* worker(name: string, d: number) {
      yield* sleep(d);
      log.push(name);
      return name.toUpperCase();
    });
    const main = coroutine(function* main() {
      const r = yield* gather(worker('b', 0.02), worker('a', 0.01));
      const t = createTask(sleep(10));
      yield* sleep(0);
      t.cancel('bye');
      try {
        yield* t;
      } catch (e) {
        log.push(`cancelled:${(e as CancelledError).message}`);
      }
      return r;
    });
    const r = await run(main());
    expect(r).toEqual(['B', 'A']);
    expect(log).toEqual(['a', 'b', 'cancelled:bye']);
  });
});
