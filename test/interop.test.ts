/** Promises and AbortSignal: fromPromise, abortable, Task.signal. */

import {
  abortable,
  CancelledError,
  coroutine,
  createTask,
  fromPromise,
  getRunningLoop,
  RuntimeError,
  run,
  sleep,
} from 'tsyncio';
import { describe, expect, it } from 'vitest';

describe('fromPromise', () => {
  it('awaits any promise or thenable inside a coroutine, result or rejection', async () => {
    const main = coroutine(function* main() {
      const a = yield* fromPromise(new Promise<number>((r) => setTimeout(() => r(1), 5)));
      const thenable = {
        then: (res: (v: string) => void) => res('thenable'),
      } as unknown as PromiseLike<string>;
      const b = yield* fromPromise(thenable);
      let err: unknown;
      try {
        yield* fromPromise(Promise.reject(new TypeError('rejected')));
      } catch (e) {
        err = e;
      }
      return [a, b, err];
    });
    expect(await run(main())).toEqual([1, 'thenable', new TypeError('rejected')]);
  });

  it('needs a running loop', () => {
    expect(() => fromPromise(Promise.resolve())).toThrow(new RuntimeError('no running event loop'));
  });

  it('stops the virtual clock from jumping while the promise is pending', async () => {
    const main = coroutine(function* main() {
      const loop = getRunningLoop();
      const slow = createTask(sleep(1000, 'timer'));
      const host = yield* fromPromise(new Promise((r) => setTimeout(() => r('host'), 20)));
      // The host promise settled first even though a 1000 s virtual timer was pending.
      const t = loop.time();
      slow.cancel();
      return [host, t];
    });
    expect(await run(main(), { clock: 'virtual' })).toEqual(['host', 0]);
  });

  it('cancelling the awaiting task cancels the wait (the promise itself keeps running)', async () => {
    const main = coroutine(function* main() {
      let settled = false;
      const waiter = coroutine(function* waiter() {
        return yield* fromPromise(
          new Promise((r) =>
            setTimeout(() => {
              settled = true;
              r(1);
            }, 10),
          ),
        );
      });
      const t = createTask(waiter());
      yield* sleep(0);
      t.cancel();
      try {
        yield* t;
      } catch (e) {
        return [e instanceof CancelledError, settled];
      }
    });
    expect(await run(main())).toEqual([true, false]);
  });
});

describe('abortable', () => {
  it('cancelling the future aborts the signal with a CancelledError reason', async () => {
    const main = coroutine(function* main() {
      let seen: AbortSignal | undefined;
      const op = coroutine(function* op() {
        return yield* abortable(
          (signal) =>
            new Promise((resolve, reject) => {
              seen = signal;
              const h = setTimeout(resolve, 10_000);
              signal.addEventListener('abort', () => {
                clearTimeout(h);
                reject(signal.reason);
              });
            }),
        );
      });
      const t = createTask(op());
      yield* sleep(0.01);
      t.cancel('enough');
      try {
        yield* t;
      } catch (e) {
        return [e instanceof CancelledError, seen?.aborted, (seen!.reason as CancelledError).message];
      }
    });
    expect(await run(main())).toEqual([true, true, 'enough']);
  });

  it('resolves like the promise when not cancelled; a throwing starter rejects', async () => {
    const main = coroutine(function* main() {
      const v = yield* abortable(async () => 'value');
      let err: unknown;
      try {
        yield* abortable(() => {
          throw new RuntimeError('sync');
        });
      } catch (e) {
        err = e;
      }
      return [v, err];
    });
    expect(await run(main())).toEqual(['value', new RuntimeError('sync')]);
    expect(() => abortable(1 as any)).toThrow(TypeError);
  });
});
