import {
  CancelledError,
  coroutine,
  createTask,
  EventLoop,
  fromPromise,
  gather,
  getRunningLoop,
  now,
  RuntimeError,
  run,
  runVirtual,
  runVirtualSync,
  sleep,
  wait,
} from 'tsyncio';
import { describe, expect, it } from 'vitest';
import { defaultHost, type Host } from '../src/host.js';

/**
 * A virtual loop on the default host that records every real-time wait it asks the host for: "time
 * jumped, nothing waited" is then a count, which a loaded CI machine cannot make flaky (a stopwatch can).
 */
function recordingWaits(): { loopFactory: () => EventLoop; waits: number[] } {
  const waits: number[] = [];
  const host: Host = {
    ...defaultHost,
    timer(cb, ms) {
      waits.push(ms);
      return defaultHost.timer(cb, ms);
    },
  };
  return { loopFactory: () => new EventLoop({ clock: 'virtual', host }), waits };
}

describe('virtual time', () => {
  it('sleep(3600) completes at once, with loop.time() exactly 3600', async () => {
    const main = coroutine(function* main() {
      yield* sleep(3600);
      return now();
    });
    const { loopFactory, waits } = recordingWaits();
    expect(await runVirtual(main(), { loopFactory })).toBe(3600);
    expect(waits).toEqual([]);
  });

  it('10 simulated hours in 1,000 steps finish in well under a second', async () => {
    const main = coroutine(function* main() {
      let ticks = 0;
      const other = createTask(
        coroutine(function* other() {
          for (let i = 0; i < 100; i++) {
            yield* sleep(360);
            ticks++;
          }
        })(),
      );
      for (let i = 0; i < 1000; i++) yield* sleep(36);
      yield* other;
      return [now(), ticks];
    });
    const { loopFactory, waits } = recordingWaits();
    const t0 = performance.now();
    expect(await runVirtual(main(), { loopFactory })).toEqual([36000, 100]);
    expect(waits).toEqual([]);
    // Typically ~10 ms; the bound only catches a gross slowdown, with room for a loaded CI machine.
    expect(performance.now() - t0).toBeLessThan(5000);
  });

  it('observes the same order of events as the real clock (the same program on both clocks)', async () => {
    // Deadlines at least 105 ms apart, so the real clock's scheduling drift (even on a loaded CI machine
    // running test files in parallel) cannot reorder them; equal deadlines (the two 'd' tasks) run in
    // scheduling order on both clocks.
    const program = coroutine(function* program() {
      const log: string[] = [];
      const worker = coroutine(function* worker(name: string, delays: number[]) {
        for (const [i, d] of delays.entries()) {
          yield* sleep(d);
          log.push(`${name}${i}`);
        }
      });
      const loop = getRunningLoop();
      loop.callLater(0.78, () => log.push('timer'));
      loop.callSoon(() => log.push('soon'));
      yield* gather(
        worker('a', [0.45, 0.45, 0.45]),
        worker('b', [0.225, 0.45, 0.45]),
        worker('c', [1.5]),
        worker('d1', [0]),
        worker('d2', [0]),
      );
      return log;
    });
    const virtual = await runVirtual(program());
    const real = await run(program());
    expect(virtual).toEqual(['soon', 'd10', 'd20', 'b0', 'a0', 'b1', 'timer', 'a1', 'b2', 'a2', 'c0']);
    expect(real).toEqual(virtual);
  });

  it('host work (a real promise) holds the clock still until it settles', async () => {
    const main = coroutine(function* main() {
      const log: [string, number][] = [];
      const sleeper = createTask(
        coroutine(function* sleeper() {
          yield* sleep(10);
          log.push(['timer', now()]);
        })(),
      );
      const value = yield* fromPromise(new Promise<string>((r) => setTimeout(() => r('host'), 30)));
      log.push([value, now()]);
      yield* sleeper;
      return log;
    });
    const t0 = performance.now();
    const log = await runVirtual(main());
    expect(performance.now() - t0).toBeGreaterThanOrEqual(25);
    // The 10 s timer did not fire while the host promise was pending, though it was the next timer.
    expect(log).toEqual([
      ['host', 0],
      ['timer', 10],
    ]);
  });

  it('runVirtualSync runs timer-only code synchronously; host work is refused as in runSync', () => {
    const main = coroutine(function* main() {
      yield* sleep(86400);
      return now();
    });
    expect(runVirtualSync(main())).toBe(86400);
    const host = coroutine(function* host() {
      yield* fromPromise(Promise.resolve(1));
    });
    expect(() => runVirtualSync(host())).toThrow(RuntimeError);
    expect(() => runVirtualSync(host())).toThrow(
      'runSync() cannot wait for host I/O (a Promise); use run() instead',
    );
  });
});

describe('virtual time: testing time-dependent code in milliseconds', () => {
  it('a timeout: wait() gives up after exactly 30 simulated seconds', async () => {
    const slowOperation = coroutine(function* slowOperation() {
      yield* sleep(60);
      return 'too late';
    });
    const main = coroutine(function* main() {
      const task = createTask(slowOperation());
      const [done, pending] = yield* wait([task], { timeout: 30 });
      const at = now();
      task.cancel();
      try {
        yield* task;
      } catch (e) {
        if (!(e instanceof CancelledError)) throw e;
      }
      return { done: done.size, pending: pending.size, at };
    });
    expect(await runVirtual(main())).toEqual({ done: 0, pending: 1, at: 30 });
  });

  it('retries with exponential backoff happen at 0, 1, 3 and 7 seconds', async () => {
    const attempts: number[] = [];
    const flaky = coroutine(function* flaky() {
      attempts.push(now());
      if (attempts.length < 4) throw new Error(`attempt ${attempts.length} failed`);
      return 'ok';
    });
    const retry = coroutine(function* retry(tries: number, base: number) {
      for (let i = 0; ; i++) {
        try {
          return yield* flaky();
        } catch (e) {
          if (i + 1 >= tries) throw e;
          yield* sleep(base * 2 ** i);
        }
      }
    });
    expect(await runVirtual(retry(5, 1))).toBe('ok');
    expect(attempts).toEqual([0, 1, 3, 7]);
    attempts.length = 0;
    await expect(runVirtual(retry(3, 0.5))).rejects.toThrow('attempt 3 failed');
    expect(attempts).toEqual([0, 0.5, 1.5]);
  });

  it('a rate limiter lets 4 calls a second through, evenly spaced, whoever asks', async () => {
    class RateLimiter {
      private next = 0;
      constructor(private readonly perSecond: number) {}
      acquire = coroutine(
        function* acquire(this: RateLimiter) {
          const t = Math.max(now(), this.next);
          this.next = t + 1 / this.perSecond;
          if (t > now()) yield* sleep(t - now());
        }.bind(this),
      );
    }
    const main = coroutine(function* main() {
      const limiter = new RateLimiter(4);
      const calls: [string, number][] = [];
      const client = coroutine(function* client(name: string, n: number) {
        for (let i = 0; i < n; i++) {
          yield* limiter.acquire();
          calls.push([name, now()]);
        }
      });
      yield* gather(client('x', 3), client('y', 3));
      return calls;
    });
    const calls = await runVirtual(main());
    expect(calls.map(([, t]) => t)).toEqual([0, 0.25, 0.5, 0.75, 1, 1.25]);
    expect(calls.filter(([who]) => who === 'x')).toHaveLength(3);
  });
});

describe('host events on the virtual clock (issue 19 §3)', () => {
  // A graceful shutdown driven by a signal the program sends itself at virtual time 1.0, while a ticker keeps
  // scheduling timers. Without a host turn before each jump the clock ran on for as long as Node took to
  // deliver the signal (the handler ran at 5.43 s, 2.31 s, … — a different time on every run).
  const service = coroutine(function* service(sig: 'SIGUSR2') {
    const loop = getRunningLoop();
    const stop = loop.createFuture<number>();
    const ticks: number[] = [];
    loop.addSignalHandler(sig, () => stop.setResult(loop.time()));
    loop.callLater(1.0, () => process.kill(process.pid, sig));
    const ticker = createTask(
      coroutine(function* ticker() {
        for (;;) {
          yield* sleep(0.25);
          ticks.push(loop.time());
        }
      })(),
    );
    try {
      const at = yield* stop;
      return { at, ticks: [...ticks] };
    } finally {
      ticker.cancel();
      loop.removeSignalHandler(sig);
    }
  });

  it('a signal handler runs at the virtual time the signal was sent, every time', async () => {
    const { run: runNode } = await import('tsyncio/node');
    for (let i = 0; i < 5; i++) {
      const r = await runNode(service('SIGUSR2'), { clock: 'virtual' });
      expect(r).toEqual({ at: 1, ticks: [0.25, 0.5, 0.75, 1] });
    }
  });

  it('a connection to a listening server arrives at the virtual time it was made', async () => {
    const node = await import('tsyncio/node');
    const net = await import('node:net');
    const main = coroutine(function* main() {
      const loop = getRunningLoop();
      const arrived = loop.createFuture<number>();
      const handler = coroutine(function* (
        r: InstanceType<typeof node.StreamReader>,
        w: InstanceType<typeof node.StreamWriter>,
      ) {
        if (!arrived.done()) arrived.setResult(loop.time());
        yield* r.read();
        w.close();
      });
      const server = yield* node.startServer(handler, '127.0.0.1', 0);
      const port = (server.sockets[0]!.getsockname() as [string, number])[1];
      // A raw Node socket: the loop does not know about it (no pending host operation holds the clock).
      loop.callLater(2.0, () => {
        const sock = net.connect(port, '127.0.0.1', () => sock.end());
        sock.on('error', () => {});
      });
      const ticker = createTask(
        coroutine(function* ticker() {
          for (;;) yield* sleep(0.5);
        })(),
      );
      try {
        return yield* arrived;
      } finally {
        ticker.cancel();
        server.close();
        yield* server.waitClosed();
      }
    });
    for (let i = 0; i < 3; i++) expect(await node.run(main(), { clock: 'virtual' })).toBe(2);
  });
});
