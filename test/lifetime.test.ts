/**
 * Resources and process lifetime at the host boundary (issue 13 §5): independent runs in one process,
 * host operations refused by runSync, servers left open, cancellation cycles, worker memory limits.
 */
import { coroutine, getRunningLoop, RuntimeError, run, sleep } from 'tsyncio';
import { describe, expect, it } from 'vitest';

const worker = coroutine(function* worker(name: string, seconds: number) {
  const loop = getRunningLoop();
  yield* sleep(seconds);
  if (getRunningLoop() !== loop) throw new Error('saw another loop as running');
  return name;
});

describe('independent run() calls in one process', () => {
  it('a second run() started while the first waits (not from inside it) runs alongside it', async () => {
    const log: string[] = [];
    const first = run(worker('first', 0.05)).then((v) => {
      log.push(v);
      return v;
    });
    // Called from the test body (a host turn), not from the first loop's callbacks: not nested.
    const second = run(worker('second', 0.01)).then((v) => {
      log.push(v);
      return v;
    });
    expect(await Promise.all([first, second])).toEqual(['first', 'second']);
    expect(log).toEqual(['second', 'first']);
  });

  it('two request handlers (host callbacks) each calling run() both get their result', async () => {
    const results = await Promise.all(
      [0.03, 0.01].map(
        (d, i) =>
          new Promise((resolve, reject) => {
            setTimeout(() => run(worker(`req${i}`, d)).then(resolve, reject), i);
          }),
      ),
    );
    expect(results).toEqual(['req0', 'req1']);
  });

  it('host callbacks see the running loop while one loop runs, none while two interleave', async () => {
    const seen: string[] = [];
    const probe = (): void => {
      try {
        getRunningLoop();
        seen.push('loop');
      } catch (e) {
        seen.push((e as Error).message);
      }
    };
    const main = coroutine(function* main(d: number, probeAt: number | null) {
      if (probeAt !== null) setTimeout(probe, probeAt);
      yield* sleep(d);
    });
    await run(main(0.05, 10));
    const a = run(main(0.08, 20));
    const b = run(main(0.05, null));
    await Promise.all([a, b]);
    expect(seen).toEqual(['loop', 'no running event loop']);
  });

  it('run() from inside a running loop still throws synchronously (nested, as in Python)', async () => {
    const nested = coroutine(function* nested() {
      try {
        void run(worker('inner', 0));
        return 'no error';
      } catch (e) {
        return `${(e as Error).name}: ${(e as Error).message}`;
      }
    });
    expect(await run(nested())).toBe('RuntimeError: run() cannot be called from a running event loop');
    expect(RuntimeError).toBeDefined();
  });
});
