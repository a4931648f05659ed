/**
 * No lost wake-ups (issue 13 §2): loop work scheduled from a host callback (a raw setTimeout, an
 * EventEmitter listener, a promise reaction) wakes an idle loop, as callSoonThreadsafe does. In Python
 * that code would run on another thread; in JavaScript it is the same thread, outside the loop's batches.
 */
import { EventEmitter } from 'node:events';
import {
  coroutine,
  createTask,
  Event,
  EventLoop,
  Future,
  fromPromise,
  getRunningLoop,
  type Host,
  Queue,
  RuntimeError,
  run,
  sleep,
  waitFor,
} from 'tsyncio';
import { describe, expect, it } from 'vitest';
import { defaultHost } from '../src/host.js';

const clocks = ['monotonic', 'virtual'] as const;

/** `p`, or a rejection after `ms` (a lost wake-up leaves the run pending forever). */
function within<T>(p: Promise<T>, ms = 2000): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`lost wake-up: still pending after ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

describe.each(clocks)('a host callback wakes an idle loop (%s clock)', (clock) => {
  it('setTimeout → ev.set() ends ev.wait()', async () => {
    const main = coroutine(function* main() {
      const ev = new Event();
      setTimeout(() => ev.set(), 10);
      yield* ev.wait();
      return 'woken';
    });
    expect(await within(run(main(), { clock }))).toBe('woken');
  });

  it('EventEmitter listener → queue.putNowait() ends queue.get()', async () => {
    const main = coroutine(function* main() {
      const emitter = new EventEmitter();
      const queue = new Queue<string>();
      emitter.on('data', (d: string) => queue.putNowait(d));
      setTimeout(() => emitter.emit('data', 'a'), 5);
      setTimeout(() => emitter.emit('data', 'b'), 15);
      const got = [yield* queue.get(), yield* queue.get()];
      return got;
    });
    expect(await within(run(main(), { clock }))).toEqual(['a', 'b']);
  });

  it('fut.setResult() from setTimeout ends the await', async () => {
    const main = coroutine(function* main() {
      const fut = getRunningLoop().createFuture<number>();
      setTimeout(() => fut.setResult(42), 10);
      return yield* fut;
    });
    expect(await within(run(main(), { clock }))).toBe(42);
  });

  it('createTask() from a host callback runs the task', async () => {
    const main = coroutine(function* main() {
      const done = new Future<string>();
      const child = coroutine(function* child() {
        yield* sleep(0);
        done.setResult('child ran');
      });
      setTimeout(() => createTask(child()), 10);
      return yield* done;
    });
    expect(await within(run(main(), { clock }))).toBe('child ran');
  });

  it('a promise reaction → callSoon() runs the callback (runUntilComplete)', async () => {
    const loop = new EventLoop({ clock });
    try {
      const main = coroutine(function* main() {
        const fut = loop.createFuture<string>();
        void Promise.resolve().then(() => {
          setTimeout(() => loop.callSoon(() => fut.setResult('called')), 5);
        });
        return yield* fut;
      });
      expect(await within(loop.runUntilComplete(main()))).toBe('called');
    } finally {
      loop.close();
    }
  });

  it('runForever: callSoon(stop) from setTimeout ends the run', async () => {
    const loop = new EventLoop({ clock });
    try {
      const log: string[] = [];
      setTimeout(() => {
        loop.callSoon(() => log.push('cb'));
        loop.callSoon(() => loop.stop());
      }, 10);
      await within(loop.runForever());
      expect(log).toEqual(['cb']);
    } finally {
      loop.close();
    }
  });

  it('callLater() from a host callback is armed even while the loop waits on the host', async () => {
    const loop = new EventLoop({ clock });
    try {
      const main = coroutine(function* main() {
        const fut = loop.createFuture<string>();
        setTimeout(() => loop.callLater(0.01, () => fut.setResult('timer')), 5);
        return yield* fut;
      });
      expect(await within(loop.runUntilComplete(main()))).toBe('timer');
    } finally {
      loop.close();
    }
  });
});

describe('wake-ups with timers pending', () => {
  it('real clock: a host callback wakes a loop sleeping until a far timer', async () => {
    const main = coroutine(function* main() {
      const ev = new Event();
      setTimeout(() => ev.set(), 10);
      const t0 = performance.now();
      yield* waitFor(ev.wait(), 5);
      return performance.now() - t0;
    });
    // Without the wake-up the loop sleeps until the 5 s timeout.
    expect(await within(run(main()), 4000)).toBeLessThan(1000);
  });

  it('virtual clock: the woken callback runs before the clock jumps to the next timer', async () => {
    const main = coroutine(function* main() {
      const loop = getRunningLoop();
      const ev = new Event();
      // Host work in flight: the clock does not jump while it is pending.
      const slow = createTask(fromPromise(new Promise((r) => setTimeout(r, 300))));
      setTimeout(() => ev.set(), 10);
      const t0 = performance.now();
      yield* waitFor(ev.wait(), 10);
      const elapsed = performance.now() - t0;
      const virtualNow = loop.time();
      yield* slow;
      return { elapsed, virtualNow };
    });
    const { elapsed, virtualNow } = await within(run(main(), { clock: 'virtual' }));
    // Woken by the host callback at ~10 ms, not by the host promise at 300 ms; the clock never moved.
    expect(elapsed).toBeLessThan(250);
    expect(virtualNow).toBe(0);
  });
});

describe('debug mode at the host boundary', () => {
  it('host callbacks may schedule on the running loop: not flagged, and the loop wakes', async () => {
    const main = coroutine(function* main() {
      const loop = getRunningLoop();
      const fut = loop.createFuture<string>();
      setTimeout(() => {
        loop.callSoon(() => {});
        loop.callLater(0.001, () => fut.setResult('ok'));
      }, 5);
      return yield* fut;
    });
    expect(await within(run(main(), { debug: true }))).toBe('ok');
  });

  it("a running loop used from another loop's callbacks is still flagged", async () => {
    const other = new EventLoop({ debug: true });
    const otherDone = other.createFuture();
    const running = other.runUntilComplete(otherDone);
    try {
      const main = coroutine(function* main() {
        yield* sleep(0);
        const calls = [() => other.callSoon(() => {}), () => other.callLater(1, () => {})];
        return calls.map((call) => {
          try {
            call();
            return 'ok';
          } catch (e) {
            return `${(e as Error).name}: ${(e as Error).message}`;
          }
        });
      });
      const msg =
        'RuntimeError: Non-thread-safe operation invoked on an event loop other than the current one';
      expect(await within(run(main()))).toEqual([msg, msg]);
      expect(RuntimeError).toBeDefined();
    } finally {
      other.callSoonThreadsafe(() => otherDone.setResult(null));
      await running;
      other.close();
    }
  });
});

describe('the host timer while host work keeps waking the loop', () => {
  // A counting host around the default one: how many host timers the loop arms.
  function countingHost(): { host: Host; armed: () => number } {
    let n = 0;
    return {
      host: {
        ...defaultHost,
        timer(cb, ms) {
          n++;
          return defaultHost.timer(cb, ms);
        },
      },
      armed: () => n,
    };
  }

  it('is kept, not cleared and re-armed, on every wake-up (a sleeping task and 200 host events)', async () => {
    const { host, armed } = countingHost();
    const loop = new EventLoop({ host });
    const main = coroutine(function* main() {
      const sleeper = createTask(sleep(0.5, 'slept'));
      const ev = new Event();
      let n = 0;
      const tick = (): void => {
        if (++n === 200) ev.set();
        else setImmediate(() => loop.callSoon(tick));
      };
      setImmediate(() => loop.callSoon(tick));
      yield* ev.wait();
      return [n, yield* sleeper];
    });
    const t0 = performance.now();
    expect(await within(loop.runUntilComplete(main()))).toEqual([200, 'slept']);
    const elapsed = performance.now() - t0;
    loop.close();
    expect(elapsed).toBeGreaterThanOrEqual(499);
    // One timer for the sleep (plus a few when a pass ends just before the deadline), not one per event.
    expect(armed()).toBeLessThan(10);
  });

  it('is re-armed for an earlier deadline that comes while it waits for a later one', async () => {
    const { host } = countingHost();
    const loop = new EventLoop({ host });
    const order: string[] = [];
    const main = coroutine(function* main() {
      const late = createTask(sleep(5, 'late'));
      yield* sleep(0);
      // The host timer now waits 5 s; a host event brings a 50 ms sleep.
      const early = new Future<string>({ loop });
      setTimeout(() => {
        loop.callSoon(() => {
          createTask(
            coroutine(function* () {
              yield* sleep(0.05);
              order.push('early');
              early.setResult('early');
            })(),
          );
        });
      }, 10);
      const t0 = performance.now();
      yield* early;
      order.push(`after ${Math.round(performance.now() - t0) < 1000}`);
      late.cancel();
    });
    await within(loop.runUntilComplete(main()), 3000);
    loop.close();
    expect(order).toEqual(['early', 'after true']);
  });
});
