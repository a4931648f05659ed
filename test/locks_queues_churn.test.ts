/**
 * Churn: a million queue hand-offs and a hundred thousand lock acquisitions, with cancellations mixed in.
 * No waiter may be lost (every task finishes, every item is accounted for exactly once, the waiter lists
 * end empty) and memory must not grow with the number of operations (heapUsed after a full GC, measured
 * early and at the end).
 */
import {
  CancelledError,
  coroutine,
  createTask,
  gather,
  Lock,
  Queue,
  run,
  Semaphore,
  sleep,
  type Task,
} from 'tsyncio';
import { expect, it } from 'vitest';

const gc = (globalThis as { gc?: () => void }).gc;

function heapAfterGc(): number {
  if (!gc) throw new Error('run with --expose-gc');
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** A deterministic pseudo-random sequence (an LCG), so failures reproduce. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

it('1,000,000 put/get pairs with cancelled getters and putters: nothing lost, no memory growth', async () => {
  const ITEMS = 1_000_000;
  const CONSUMERS = 4;
  const random = lcg(42);
  const main = coroutine(function* main() {
    const q = new Queue<number>(4);
    let received = 0;
    let receivedSum = 0;
    let put = 0;
    let putSum = 0;
    let cancelledGets = 0;
    let cancelledPuts = 0;
    const heap: number[] = [];
    // Now and then a phase of slow producers (getters wait on an empty queue) or slow consumers (putters
    // wait on a full one), so that both kinds of waiter get cancelled.
    const phase = () => Math.floor(put / 1000) % 25;
    const slowConsumers = () => phase() === 1;
    const slowProducers = () => phase() === 0;

    const consumer = coroutine(function* consumer() {
      for (;;) {
        const item = yield* q.get();
        if (item < 0) {
          q.taskDone();
          return; // stop marker
        }
        received += 1;
        receivedSum += item;
        q.taskDone();
        if (slowConsumers()) for (let k = 0; k < 3; k++) yield* sleep(0);
      }
    });
    // Two producers (even and odd items) keep the small queue full, so puts wait too.
    const producer = coroutine(function* producer(first: number) {
      let next = first;
      while (next < ITEMS) {
        if (random() < (slowConsumers() ? 0.3 : 0.01)) {
          // A put cancelled after one loop iteration: its item either went in or did not.
          const item = next;
          const t = createTask(q.put(item));
          yield* sleep(0);
          t.cancel();
          try {
            yield* t;
          } catch (e) {
            if (!(e instanceof CancelledError)) throw e;
            cancelledPuts += 1;
            continue; // not put: try the same item again
          }
        } else {
          yield* q.put(next);
        }
        put += 1;
        putSum += next;
        next += 2;
        if (put === ITEMS / 5) heap.push(heapAfterGc());
        if (slowProducers()) for (let k = 0; k < 3; k++) yield* sleep(0);
      }
    });
    // Short-lived getters that are cancelled while waiting, or just after being woken: an item they were
    // woken for must go to another getter, and an item they did take must be counted.
    const snatcher = coroutine(function* snatcher() {
      while (put < ITEMS) {
        const t: Task<number> = createTask(q.get());
        yield* sleep(0);
        if (random() < 0.5) yield* sleep(0);
        t.cancel();
        try {
          const item = yield* t;
          received += 1;
          receivedSum += item;
          q.taskDone();
        } catch (e) {
          if (!(e instanceof CancelledError)) throw e;
          cancelledGets += 1;
        }
      }
    });

    const consumers = Array.from({ length: CONSUMERS }, () => createTask(consumer()));
    yield* gather(createTask(producer(0)), createTask(producer(1)), createTask(snatcher()));
    yield* q.join(); // every item put has been received
    for (let i = 0; i < CONSUMERS; i++) yield* q.put(-1);
    yield* gather(...consumers);
    heap.push(heapAfterGc());

    expect(put).toBe(ITEMS);
    expect(received).toBe(ITEMS);
    expect(receivedSum).toBe(putSum);
    expect(receivedSum).toBe((ITEMS * (ITEMS - 1)) / 2);
    expect(cancelledGets).toBeGreaterThan(1000);
    expect(cancelledPuts).toBeGreaterThan(1000);
    expect(q.qsize()).toBe(0);
    expect(q._getters.length).toBe(0);
    expect(q._putters.length).toBe(0);
    expect(q._unfinishedTasks).toBe(0);
    return heap;
  });
  const [early, end] = await run(main());
  // 800,000 operations between the two measurements: a leak of even 4 bytes per operation would show.
  expect(end! - early!).toBeLessThan(3_000_000);
}, 60_000);

it('100,000 lock and semaphore acquisitions with cancelled waiters: mutual exclusion, nothing lost', async () => {
  const ACQUISITIONS = 100_000;
  const WORKERS = 8;
  const random = lcg(7);
  const main = coroutine(function* main() {
    const lock = new Lock();
    const sem = new Semaphore(2);
    let inside = 0;
    let semInside = 0;
    let acquired = 0;
    let cancelled = 0;
    const heap: number[] = [];

    // Each worker holds one of two semaphore permits around the lock, so both have waiters.
    const worker = coroutine(function* worker() {
      while (acquired < ACQUISITIONS) {
        yield* sem.aenter();
        try {
          semInside += 1;
          try {
            if (semInside > 2) throw new Error(`${semInside} tasks hold a 2-permit semaphore`);
            yield* lock.aenter();
            try {
              if (inside !== 0) throw new Error('two tasks hold the lock');
              inside += 1;
              try {
                acquired += 1;
                if (acquired === ACQUISITIONS / 5) heap.push(heapAfterGc());
                if (random() < 0.5) yield* sleep(0);
              } finally {
                inside -= 1;
              }
            } finally {
              yield* lock.aexit();
            }
            if (random() < 0.5) yield* sleep(0);
          } finally {
            semInside -= 1;
          }
        } finally {
          yield* sem.aexit();
        }
      }
    });
    // Cancel workers at random moments (waiting for the lock, just woken, or inside) and replace them.
    let workers = Array.from({ length: WORKERS }, () => createTask(worker()));
    while (acquired < ACQUISITIONS) {
      yield* sleep(0);
      if (random() < 0.2) {
        const i = Math.floor(random() * WORKERS);
        const victim = workers[i]!;
        victim.cancel();
        try {
          yield* victim;
        } catch (e) {
          if (!(e instanceof CancelledError)) throw e;
          cancelled += 1;
        }
        workers = workers.slice();
        workers[i] = createTask(worker());
      }
    }
    yield* gather(...workers);
    heap.push(heapAfterGc());

    expect(acquired).toBeGreaterThanOrEqual(ACQUISITIONS);
    expect(cancelled).toBeGreaterThan(1000);
    expect(lock.locked()).toBe(false);
    expect(lock._waiters!.length).toBe(0);
    expect(lock._waiters!.cancelled).toBe(0);
    expect(sem._value).toBe(2);
    expect(sem._waiters!.length).toBe(0);
    return heap;
  });
  const [early, end] = await run(main());
  expect(end! - early!).toBeLessThan(2_000_000);
}, 60_000);
