/**
 * Queue, LifoQueue, PriorityQueue — ported from CPython's Lib/test/test_asyncio/test_queues.py (test names
 * kept), plus Python's ordering of priority items, async iteration and loop binding. Orderings and messages
 * are CPython 3.14's (checked against CPython 3.14).
 */
import {
  asyncFor,
  asyncWith,
  CancelledError,
  coroutine,
  createTask,
  Event,
  type Future,
  fromPromise,
  gather,
  getRunningLoop,
  LifoQueue,
  type Ordered,
  PriorityQueue,
  Queue,
  QueueEmpty,
  QueueFull,
  QueueShutDown,
  RuntimeError,
  StopAsyncIteration,
  StopIteration,
  sleep,
  type Task,
  TaskGroup,
  TimeoutError,
  ValueError,
  waitFor,
} from 'tsyncio';
import { describe, expect, it } from 'vitest';
import { arun, raises } from './helpers.js';

describe('Queue basics', () => {
  it('test_repr / test_str: getters, putters and items', () =>
    arun(function* () {
      let q = new Queue<number>();
      expect(String(q)).toMatch(/^<Queue at 0x[0-9a-f]+ maxsize=0>$/);
      // getters
      const getter = yield* asyncWith(new TaskGroup(), function* (tg) {
        // Start a task that waits to get, and let it start waiting.
        const t = tg.createTask(q.get());
        yield* sleep(0);
        expect(String(q)).toContain('_getters[1]');
        q.putNowait(0); // resume the q.get coroutine
        return t;
      });
      expect(yield* getter!).toBe(0);
      // putters
      q = new Queue(1);
      const putter = yield* asyncWith(new TaskGroup(), function* (tg) {
        q.putNowait(1);
        // Start a task that waits to put, and let it start waiting.
        const t = tg.createTask(q.put(2));
        yield* sleep(0);
        expect(String(q)).toContain('_putters[1]');
        q.getNowait(); // resume the q.put coroutine
        return t;
      });
      expect(putter!.done()).toBe(true);

      q = new Queue();
      q.putNowait(1);
      expect(String(q)).toContain('_queue=[1]');
      expect(String(q)).toMatch(/^<Queue at 0x[0-9a-f]+ maxsize=0 _queue=\[1\] tasks=1>$/);
    }));

  it('test_empty', () =>
    arun(function* () {
      const q = new Queue<number>();
      expect(q.empty()).toBe(true);
      yield* q.put(1);
      expect(q.empty()).toBe(false);
      expect(yield* q.get()).toBe(1);
      expect(q.empty()).toBe(true);
    }));

  it('test_full', () =>
    arun(function* () {
      expect(new Queue().full()).toBe(false);
      const q = new Queue(1);
      yield* q.put(1);
      expect(q.full()).toBe(true);
    }));

  it('test_order', () =>
    arun(function* () {
      const q = new Queue<number>();
      for (const i of [1, 3, 2]) yield* q.put(i);
      const items = [yield* q.get(), yield* q.get(), yield* q.get()];
      expect(items).toEqual([1, 3, 2]);
    }));

  it('test_maxsize: put() blocks while the queue is full', () =>
    arun(function* () {
      const q = new Queue<number>(2);
      expect(q.maxsize).toBe(2);
      const haveBeenPut: number[] = [];
      const putter = coroutine(function* putter() {
        for (let i = 0; i < 3; i++) {
          yield* q.put(i);
          haveBeenPut.push(i);
        }
        return true;
      });
      const t = createTask(putter());
      for (let i = 0; i < 2; i++) yield* sleep(0);
      // The putter is blocked after putting two items.
      expect(haveBeenPut).toEqual([0, 1]);
      expect(yield* q.get()).toBe(0);
      // Let the putter resume and put the last item.
      yield* sleep(0);
      expect(haveBeenPut).toEqual([0, 1, 2]);
      expect(yield* q.get()).toBe(1);
      expect(yield* q.get()).toBe(2);
      expect(t.done()).toBe(true);
      expect(t.result()).toBe(true);
    }));

  it('rejects a maxsize that is not a number', () => {
    expect(() => new Queue('3' as unknown as number)).toThrow(
      new TypeError("maxsize must be a number, not 'str'"),
    );
  });
});

describe('Queue.get', () => {
  it('test_blocking_get', () =>
    arun(function* () {
      const q = new Queue<number>();
      q.putNowait(1);
      expect(yield* q.get()).toBe(1);
    }));

  it('test_get_with_putters: get() wakes a waiting putter', () =>
    arun(function* () {
      const q = new Queue<number>(1);
      yield* q.put(1);
      const putter = createTask(q.put(2));
      yield* sleep(0);
      const waiter = q._putters.first()!;
      expect(yield* q.get()).toBe(1);
      expect(waiter.done()).toBe(true);
      expect(waiter.result()).toBeUndefined();
      yield* putter;
      expect(q.getNowait()).toBe(2);
    }));

  it('test_blocking_get_wait', () =>
    arun(function* () {
      const loop = getRunningLoop();
      const q = new Queue<number>();
      const started = new Event();
      let finished = false;
      const queueGet = coroutine(function* queueGet() {
        started.set();
        const res = yield* q.get();
        finished = true;
        return res;
      });
      const task = createTask(queueGet());
      yield* started.wait();
      expect(finished).toBe(false);
      loop.callLater(0.01, () => q.putNowait(1));
      const res = yield* task;
      expect(finished).toBe(true);
      expect(res).toBe(1);
      expect(loop.time()).toBe(0.01);
    }));

  it('test_nonblocking_get / test_nonblocking_get_exception', () => {
    const q = new Queue<number>();
    q.putNowait(1);
    expect(q.getNowait()).toBe(1);
    expect(() => q.getNowait()).toThrow(QueueEmpty);
    try {
      q.getNowait();
    } catch (e) {
      expect(String(e)).toBe('QueueEmpty');
    }
  });

  it('test_get_cancelled_race: a cancelled getter does not swallow an item', () =>
    arun(function* () {
      const q = new Queue<string>();
      const t1 = createTask(q.get());
      const t2 = createTask(q.get());
      yield* sleep(0);
      t1.cancel();
      yield* sleep(0);
      expect(t1.done()).toBe(true);
      yield* q.put('a');
      yield* sleep(0);
      expect(yield* t2).toBe('a');
    }));

  it('test_get_with_waiting_putters', () =>
    arun(function* () {
      const q = new Queue<string>(1);
      createTask(q.put('a'));
      createTask(q.put('b'));
      expect(yield* q.get()).toBe('a');
      expect(yield* q.get()).toBe('b');
    }));

  it('test_why_are_getters_waiting', () =>
    arun(function* () {
      const consumer = coroutine(function* consumer(queue: Queue<number>, n: number) {
        for (let i = 0; i < n; i++) yield* queue.get();
      });
      const producer = coroutine(function* producer(queue: Queue<number>, n: number) {
        for (let i = 0; i < n; i++) yield* queue.put(i);
      });
      const q = new Queue<number>(1);
      yield* asyncWith(new TaskGroup(), function* (tg) {
        tg.createTask(producer(q, 5));
        tg.createTask(consumer(q, 5));
      });
      expect(q.qsize()).toBe(0);
    }));

  it('test_cancelled_getters_not_being_held_in_self_getters', () =>
    arun(function* () {
      const queue = new Queue(5);
      yield* raises(TimeoutError, waitFor(queue.get(), 0.1));
      expect(getRunningLoop().time()).toBe(0.1);
      expect(queue._getters.length).toBe(0);
    }));

  it('test_get_cancel_drop_one_pending_reader: an item is not dropped by a woken, cancelled reader', () =>
    arun(function* () {
      const q = new Queue<number>();
      let reader = createTask(q.get());
      yield* sleep(0);
      q.putNowait(1);
      q.putNowait(2);
      reader.cancel();
      try {
        yield* reader;
      } catch (e) {
        if (!(e instanceof CancelledError)) throw e;
        reader = createTask(q.get()); // try again
        yield* reader;
      }
      // 2 would mean that 1 got dropped.
      expect(reader.result()).toBe(1);
    }));

  it('test_get_cancel_drop_many_pending_readers', () =>
    arun(function* () {
      const q = new Queue<number>();
      let reader2!: Task<number>;
      let reader3!: Task<number>;
      yield* asyncWith(new TaskGroup(), function* (tg) {
        const reader1 = tg.createTask(q.get());
        reader2 = tg.createTask(q.get());
        reader3 = tg.createTask(q.get());
        yield* sleep(0);
        q.putNowait(1);
        q.putNowait(2);
        reader1.cancel();
        yield* raises(CancelledError, reader1);
        yield* reader3;
      });
      // It is undefined in which order concurrent readers receive results.
      expect(new Set([reader2.result(), reader3.result()])).toEqual(new Set([1, 2]));
    }));
});

describe('Queue.put', () => {
  it('test_blocking_put: an unbounded queue never blocks', () =>
    arun(function* () {
      const q = new Queue<number>();
      yield* q.put(1);
      expect(yield* q.get()).toBe(1);
    }));

  it('test_blocking_put_wait', () =>
    arun(function* () {
      const q = new Queue<number>(1);
      const started = new Event();
      let finished = false;
      const queuePut = coroutine(function* queuePut() {
        started.set();
        yield* q.put(1);
        yield* q.put(2);
        finished = true;
      });
      const loop = getRunningLoop();
      loop.callLater(0.01, () => q.getNowait());
      const task = createTask(queuePut());
      yield* started.wait();
      expect(finished).toBe(false);
      yield* task;
      expect(finished).toBe(true);
      expect(loop.time()).toBe(0.01);
    }));

  it('test_nonblocking_put / test_nonblocking_put_exception', () => {
    const q = new Queue<number>(1);
    q.putNowait(1);
    expect(() => q.putNowait(2)).toThrow(QueueFull);
    expect(q.getNowait()).toBe(1);
  });

  it('test_put_cancel_drop', () =>
    arun(function* () {
      const q = new Queue<number>(1);
      q.putNowait(1);
      // Putting a second item has to block (qsize=1).
      let writer = createTask(q.put(2));
      yield* sleep(0);
      expect(q.getNowait()).toBe(1);
      writer.cancel();
      try {
        yield* writer;
      } catch (e) {
        if (!(e instanceof CancelledError)) throw e;
        writer = createTask(q.put(2)); // try again
        yield* writer;
      }
      expect(q.getNowait()).toBe(2);
      expect(q.qsize()).toBe(0);
    }));

  it('test_float_maxsize: maxsize 1.3 is full at 2', () =>
    arun(function* () {
      let q = new Queue<number>(1.3);
      q.putNowait(1);
      q.putNowait(2);
      expect(q.full()).toBe(true);
      expect(() => q.putNowait(3)).toThrow(QueueFull);
      q = new Queue<number>(1.3);
      yield* q.put(1);
      yield* q.put(2);
      expect(q.full()).toBe(true);
    }));

  it('test_put_cancelled', () =>
    arun(function* () {
      const q = new Queue<number>();
      const queuePut = coroutine(function* queuePut() {
        yield* q.put(1);
        return true;
      });
      const t = createTask(queuePut());
      expect(yield* q.get()).toBe(1);
      expect(t.done()).toBe(true);
      expect(t.result()).toBe(true);
    }));

  it('test_put_cancelled_race: a cancelled putter does not take a slot', () =>
    arun(function* () {
      const q = new Queue<string>(1);
      const putA = createTask(q.put('a'));
      const putB = createTask(q.put('b'));
      const putC = createTask(q.put('X'));
      yield* sleep(0);
      expect(putA.done()).toBe(true);
      expect(putB.done()).toBe(false);
      putC.cancel();
      yield* sleep(0);
      expect(putC.done()).toBe(true);
      expect(q.getNowait()).toBe('a');
      yield* sleep(0);
      expect(q.getNowait()).toBe('b');
      yield* putB;
    }));

  it('a putter woken by getNowait() and then cancelled passes the free slot on', () =>
    arun(function* () {
      const q = new Queue<string>(1);
      q.putNowait('x');
      const p1 = createTask(q.put('p1'));
      const p2 = createTask(q.put('p2'));
      yield* sleep(0);
      expect(q._putters.length).toBe(2);
      expect(q.getNowait()).toBe('x'); // wakes p1
      p1.cancel(); // before p1 runs: its slot must go to p2
      yield* raises(CancelledError, p1);
      yield* p2;
      expect(q.getNowait()).toBe('p2');
      expect(q._putters.length).toBe(0);
    }));

  it('test_put_with_waiting_getters', () =>
    arun(function* () {
      const q = new Queue<string>();
      const t = createTask(q.get());
      yield* sleep(0);
      yield* q.put('a');
      expect(yield* t).toBe('a');
    }));

  it('test_why_are_putters_waiting', () =>
    arun(function* () {
      const queue = new Queue<number>(2);
      const putter = coroutine(function* putter(item: number) {
        yield* queue.put(item);
      });
      const getter = coroutine(function* getter() {
        yield* sleep(0);
        const num = queue.qsize();
        for (let i = 0; i < num; i++) queue.getNowait();
      });
      yield* asyncWith(new TaskGroup(), function* (tg) {
        tg.createTask(getter());
        tg.createTask(putter(0));
        tg.createTask(putter(1));
        tg.createTask(putter(2));
        tg.createTask(putter(3));
      });
      expect(queue.qsize()).toBe(2);
    }));

  it('test_cancelled_puts_not_being_held_in_self_putters', () =>
    arun(function* () {
      const queue = new Queue<number>(1);
      queue.putNowait(1);
      const putTask = createTask(queue.put(1));
      yield* sleep(0);
      expect(queue._putters.length).toBe(1);
      putTask.cancel();
      yield* raises(CancelledError, putTask);
      expect(queue._putters.length).toBe(0);
    }));

  it('test_cancelled_put_silence_value_error_exception', () =>
    arun(function* () {
      const queue = new Queue<number>(1);
      queue.putNowait(1);
      const putTask = createTask(queue.put(1));
      yield* sleep(0);
      // getNowait() removes put_task's future from _putters; the cancelled put() must cope.
      queue.getNowait();
      putTask.cancel();
      yield* raises(CancelledError, putTask);
    }));
});

describe('LifoQueue and PriorityQueue', () => {
  it('LifoQueue test_order', () =>
    arun(function* () {
      const q = new LifoQueue<number>();
      for (const i of [1, 3, 2]) yield* q.put(i);
      expect([yield* q.get(), yield* q.get(), yield* q.get()]).toEqual([2, 3, 1]);
    }));

  it('PriorityQueue test_order', () =>
    arun(function* () {
      const q = new PriorityQueue<number>();
      for (const i of [1, 3, 2]) yield* q.put(i);
      expect([yield* q.get(), yield* q.get(), yield* q.get()]).toEqual([1, 2, 3]);
    }));

  it('arrays compare like tuples: element-wise, then by length', () => {
    const q = new PriorityQueue<unknown[]>();
    for (const x of [[2, 'b'], [1, 'z'], [1, 'a'], [2], [1, 'a', 0], [0.5, 'q']]) q.putNowait(x);
    const out = [];
    while (!q.empty()) out.push(q.getNowait());
    expect(out).toEqual([[0.5, 'q'], [1, 'a'], [1, 'a', 0], [1, 'z'], [2], [2, 'b']]);
  });

  it('numbers and bigints compare exactly; strings by code point', () => {
    const q = new PriorityQueue<number | bigint>();
    for (const x of [3, 1.5, 2n ** 70n, -1, 2n]) q.putNowait(x);
    expect([q.getNowait(), q.getNowait(), q.getNowait(), q.getNowait(), q.getNowait()]).toEqual([
      -1,
      1.5,
      2n,
      3,
      2n ** 70n,
    ]);
    const s = new PriorityQueue<string>();
    for (const x of ['\uffff', '\u{10000}', 'a', '']) s.putNowait(x);
    // UTF-16 order would put U+10000 (a surrogate pair) before U+FFFF; Python orders by code point.
    expect([s.getNowait(), s.getNowait(), s.getNowait(), s.getNowait()]).toEqual([
      '',
      'a',
      '\uffff',
      '\u{10000}',
    ]);
  });

  it('equal priorities come out in the order CPython heapq gives them', () => {
    // A comparator that only looks at the priority leaves ties to the heap algorithm itself.
    const q = new PriorityQueue<{ p: number; name: string }>(0, { comparator: (a, b) => a.p - b.p });
    const out: string[] = [];
    for (let i = 0; i < 30; i++) {
      q.putNowait({ p: (i * 7) % 5, name: `n${i}` });
      if (i % 4 === 3) out.push(q.getNowait().name);
    }
    while (!q.empty()) out.push(q.getNowait().name);
    // CPython 3.14 with @dataclass(order=True) items whose name has compare=False:
    expect(out).toEqual(
      'n0 n5 n10 n15 n8 n20 n25 n18 n13 n28 n3 n23 n6 n16 n11 n26 n1 n21 n19 n14 n29 n4 n24 n9 n7 n2 n17 n22 n27 n12'.split(
        ' ',
      ),
    );
  });

  it("values that cannot be ordered raise Python's TypeError (the item stays, as with heapq)", () => {
    const q = new PriorityQueue<unknown>();
    q.putNowait(1);
    expect(() => q.putNowait('a')).toThrow(
      new TypeError("'<' not supported between instances of 'str' and 'int'"),
    );
    expect(q.qsize()).toBe(2);
    expect(q._unfinishedTasks).toBe(1);

    const r = new PriorityQueue<unknown>();
    r.putNowait([1, null]);
    expect(() => r.putNowait([1, 2])).toThrow(
      new TypeError("'<' not supported between instances of 'int' and 'NoneType'"),
    );
    const o = new PriorityQueue<unknown>();
    o.putNowait({});
    expect(() => o.putNowait({})).toThrow(
      new TypeError("'<' not supported between instances of 'dict' and 'dict'"),
    );
    const d = new PriorityQueue<unknown>();
    d.putNowait(new Date(0));
    expect(() => d.putNowait(new Date(1))).toThrow(
      new TypeError("'<' not supported between instances of 'Date' and 'Date'"),
    );
    const b = new PriorityQueue<unknown>();
    b.putNowait(true);
    expect(() => b.putNowait(false)).toThrow(
      new TypeError("'<' not supported between instances of 'bool' and 'bool'"),
    );
  });

  it('only the first unequal pair of elements is compared', () => {
    const q = new PriorityQueue<[number, object]>();
    const a = {};
    q.putNowait([2, a]);
    q.putNowait([1, {}]);
    q.putNowait([3, a]);
    expect(q.getNowait()[0]).toBe(1);
    // Identical objects are equal, so the next elements decide.
    const r = new PriorityQueue<[number, object, number]>();
    r.putNowait([1, a, 2]);
    r.putNowait([1, a, 1]);
    expect(r.getNowait()[2]).toBe(1);
  });

  it('a comparator orders anything; a bad one is a TypeError', () => {
    const q = new PriorityQueue<{ due: Date }>(0, {
      comparator: (x, y) => x.due.getTime() - y.due.getTime(),
    });
    q.putNowait({ due: new Date(5) });
    q.putNowait({ due: new Date(1) });
    q.putNowait({ due: new Date(3) });
    expect([q.getNowait(), q.getNowait(), q.getNowait()].map((x) => x.due.getTime())).toEqual([1, 3, 5]);
    expect(() => new PriorityQueue(0, { comparator: 3 as never })).toThrow(
      new TypeError("comparator must be a function, not 'int'"),
    );
  });

  it('options may come without the size: new PriorityQueue({ comparator }) and { maxsize }', () => {
    const q = new PriorityQueue<{ due: number }>({ comparator: (x, y) => x.due - y.due });
    expect(q.maxsize).toBe(0);
    for (const due of [5, 1, 3]) q.putNowait({ due });
    expect([q.getNowait(), q.getNowait(), q.getNowait()].map((x) => x.due)).toEqual([1, 3, 5]);
    const bounded = new PriorityQueue<number>({ maxsize: 1 });
    bounded.putNowait(2);
    expect(bounded.full()).toBe(true);
    expect(new PriorityQueue<number>(4).maxsize).toBe(4);
    expect(() => new PriorityQueue({ maxsize: 1 }, {})).toThrow(TypeError);
  });

  it("items with an lt() method order themselves (Python's __lt__), also inside tuple-like arrays", () => {
    class Job implements Ordered<Job> {
      constructor(
        readonly p: number,
        readonly name: string,
      ) {}
      lt(other: Job): boolean {
        return this.p < other.p;
      }
    }
    const q = new PriorityQueue<Job>();
    for (const j of [new Job(3, 'c'), new Job(1, 'a'), new Job(2, 'b'), new Job(1, 'a2')]) q.putNowait(j);
    // CPython 3.14, the same class with __lt__: ['a', 'a2', 'b', 'c']
    expect([0, 1, 2, 3].map(() => q.getNowait().name)).toEqual(['a', 'a2', 'b', 'c']);
    const t = new PriorityQueue<[number, Job]>();
    t.putNowait([1, new Job(2, 'x')]);
    t.putNowait([1, new Job(1, 'y')]);
    t.putNowait([0, new Job(9, 'z')]);
    // (1, Job(2)) vs (1, Job(1)): the priorities tie, Job.__lt__ decides: ['z', 'y', 'x']
    expect([0, 1, 2].map(() => t.getNowait()[1].name)).toEqual(['z', 'y', 'x']);
    // Only the left operand's lt is asked: 5 < Job is Python's TypeError (int has no __lt__ for Job).
    const m = new PriorityQueue<unknown>();
    m.putNowait(new Job(1, 'a'));
    expect(() => m.putNowait(5)).toThrow(
      new TypeError("'<' not supported between instances of 'int' and 'Job'"),
    );
  });

  it('repr shows the heap', () => {
    const q = new PriorityQueue<number>();
    for (const x of [3, 1, 2]) q.putNowait(x);
    expect(String(q)).toMatch(/^<PriorityQueue at 0x[0-9a-f]+ maxsize=0 _queue=\[1, 3, 2\] tasks=3>$/);
    const l = new LifoQueue<number>();
    l.putNowait(1);
    expect(l._format()).toBe('maxsize=0 _queue=[1] tasks=1');
  });
});

describe.each([
  ['Queue', () => new Queue<number>()],
  ['LifoQueue', () => new LifoQueue<number>()],
  ['PriorityQueue', () => new PriorityQueue<number>()],
] as const)('%s join', (_name, make) => {
  it('test_task_done_underflow: ValueError', () => {
    expect(() => make().taskDone()).toThrow(new ValueError('task_done() called too many times'));
  });

  it('test_task_done: join() returns when every item is done', () =>
    arun(function* () {
      const q = make();
      for (let i = 0; i < 100; i++) q.putNowait(i);
      let accumulator = 0;
      let running = true;
      const worker = coroutine(function* worker() {
        while (running) {
          const item = yield* q.get();
          accumulator += item;
          q.taskDone();
        }
      });
      yield* asyncWith(new TaskGroup(), function* (tg) {
        const tasks = [tg.createTask(worker()), tg.createTask(worker())];
        yield* q.join();
        expect(accumulator).toBe(4950);
        // Stop the workers.
        running = false;
        for (let i = 0; i < tasks.length; i++) q.putNowait(0);
      });
    }));

  it('test_join_empty_queue: returns at once', () =>
    arun(function* () {
      const q = make();
      yield* q.join();
      yield* q.join();
    }));

  it('test_format', () => {
    const q = make();
    expect(q._format()).toBe('maxsize=0');
    q._unfinishedTasks = 2;
    expect(q._format()).toBe('maxsize=0 tasks=2');
  });
});

describe.each([
  ['Queue', (maxsize?: number) => new Queue<string>(maxsize)],
  ['LifoQueue', (maxsize?: number) => new LifoQueue<string>(maxsize)],
  ['PriorityQueue', (maxsize?: number) => new PriorityQueue<string>(maxsize)],
] as const)('%s shutdown', (_name, make) => {
  function* assertShutDownEverywhere(q: Queue<string>) {
    yield* raises(QueueShutDown, q.put('data'));
    expect(() => q.putNowait('data')).toThrow(QueueShutDown);
    yield* raises(QueueShutDown, q.get());
    expect(() => q.getNowait()).toThrow(QueueShutDown);
  }

  it('test_format', () => {
    const q = make();
    q.shutdown();
    expect(q._format()).toBe('maxsize=0 shutdown');
  });

  it('test_shutdown_empty: blocked gets raise QueueShutDown and join() returns', () =>
    arun(function* () {
      const q = make();
      const getTask = getRunningLoop().createTask(q.get());
      yield* sleep(0); // the get task is pending before the shutdown
      q.shutdown(false);
      expect(q.qsize()).toBe(0);
      yield* q.join();
      yield* sleep(0);
      expect(getTask.done()).toBe(true);
      yield* raises(QueueShutDown, getTask);
      yield* assertShutDownEverywhere(q);
    }));

  it('test_shutdown_nonempty: puts raise, remaining items can still be gotten', () =>
    arun(function* () {
      const q = make(1);
      const loop = getRunningLoop();
      q.putNowait('data');
      const joinTask = loop.createTask(q.join());
      const putTask = loop.createTask(q.put('data2'));
      yield* sleep(0);
      expect(putTask.done()).toBe(false);
      q.shutdown(false);
      expect(q.qsize()).toBe(1);
      yield* sleep(0);
      expect(putTask.done()).toBe(true);
      yield* raises(QueueShutDown, putTask);
      expect(yield* q.get()).toBe('data');
      yield* sleep(0);
      expect(joinTask.done()).toBe(false);
      yield* assertShutDownEverywhere(q);
      q.taskDone();
      yield* sleep(0);
      expect(joinTask.done()).toBe(true);
      yield* joinTask;
      expect(() => q.taskDone()).toThrow(ValueError);
    }));

  it('test_shutdown_immediate: the queue is drained and join() returns', () =>
    arun(function* () {
      const q = make();
      q.putNowait('data');
      const joinTask = getRunningLoop().createTask(q.join());
      q.shutdown(true);
      expect(q.qsize()).toBe(0);
      yield* sleep(0);
      expect(joinTask.done()).toBe(true);
      yield* joinTask;
      yield* assertShutDownEverywhere(q);
      expect(() => q.taskDone()).toThrow(ValueError);
    }));

  it('test_shutdown_immediate_with_unfinished: dropped items count as done', () =>
    arun(function* () {
      const q = make();
      q.putNowait('data');
      q.putNowait('data');
      const joinTask = getRunningLoop().createTask(q.join());
      expect(yield* q.get()).toBe('data');
      q.shutdown(true); // unfinished tasks: 2 -> 1
      expect(q.qsize()).toBe(0);
      yield* sleep(0);
      expect(joinTask.done()).toBe(false);
      yield* assertShutDownEverywhere(q);
      q.taskDone();
      expect(() => q.taskDone()).toThrow(ValueError);
      yield* sleep(0);
      expect(joinTask.done()).toBe(true);
      yield* joinTask;
    }));
});

describe('Queue async iteration', () => {
  it('asyncFor(queue, body) runs the body for each item until the queue is shut down and drained', () =>
    arun(function* () {
      const q = new Queue<string>(2);
      const seen: string[] = [];
      const producer = coroutine(function* producer() {
        for (const x of ['a', 'b', 'c', 'd']) yield* q.put(x);
        q.shutdown();
      });
      const t = createTask(producer());
      yield* asyncFor(q, function* (item) {
        seen.push(item);
        q.taskDone();
        yield* sleep(0.1);
      });
      expect(seen).toEqual(['a', 'b', 'c', 'd']);
      expect(getRunningLoop().time()).toBeCloseTo(0.4);
      yield* t;
      yield* q.join();
    }));
  it('anext() gets items until the queue is shut down and drained, then StopAsyncIteration', () =>
    arun(function* () {
      const q = new Queue<number>();
      const seen: number[] = [];
      const consumer = coroutine(function* consumer() {
        const it = q.aiter();
        expect(it.aiter()).toBe(it);
        for (;;) {
          let item: number;
          try {
            item = yield* it.anext();
          } catch (e) {
            if (e instanceof StopAsyncIteration) {
              expect(e.cause).toBeInstanceOf(QueueShutDown);
              return;
            }
            throw e;
          }
          seen.push(item);
          q.taskDone();
        }
      });
      const t = createTask(consumer());
      q.putNowait(1);
      q.putNowait(2);
      yield* sleep(0);
      q.putNowait(3);
      q.shutdown();
      yield* t;
      expect(seen).toEqual([1, 2, 3]);
      yield* q.join();
    }));

  it('shutdown(true) ends the iteration at once', () =>
    arun(function* () {
      const q = new Queue<number>();
      q.putNowait(1);
      q.shutdown(true);
      yield* raises(StopAsyncIteration, q.aiter().anext());
    }));
});

describe('get() and put() as coroutine objects', () => {
  it('send() parks a waiter; close() cancels and removes it, as GeneratorExit does in CPython', () =>
    arun(function* () {
      const q = new Queue<number>();
      const coro = q.get();
      const fut = coro.send(undefined) as Future<unknown>;
      expect(String(fut)).toBe('<Future pending>');
      expect(q._getters.length).toBe(1);
      coro.close();
      expect(coro.state).toBe('closed');
      expect(fut.cancelled()).toBe(true);
      expect(q._getters.length).toBe(0);

      const q2 = new Queue<number>(1);
      q2.putNowait(0);
      const put = q2.put(1);
      const pf = put.send(undefined) as Future<unknown>;
      expect(q2._putters.length).toBe(1);
      put.close();
      expect(pf.cancelled()).toBe(true);
      expect(q2._putters.length).toBe(0);
      expect(q2.qsize()).toBe(1);
    }));

  it('throw() at the await cancels the waiter and re-raises', () =>
    arun(function* () {
      const q = new Queue<number>();
      const coro = q.get();
      const fut = coro.send(undefined) as Future<unknown>;
      expect(() => coro.throw(new ValueError('x'))).toThrow(new ValueError('x'));
      expect(fut.cancelled()).toBe(true);
      expect(q._getters.length).toBe(0);
    }));

  it('send() again while the waiter is pending: RuntimeError "await wasn\'t used with future", waiter cancelled', () =>
    arun(function* () {
      // CPython 3.14: <Future pending> 1 / RuntimeError await wasn't used with future /
      // True 0 <Future cancelled> / RuntimeError cannot reuse already awaited coroutine; put() alike.
      const q = new Queue<number>();
      const coro = q.get();
      const fut = coro.send(undefined) as Future<unknown>;
      expect(String(fut)).toBe('<Future pending>');
      expect(q._getters.length).toBe(1);
      expect(() => coro.send(undefined)).toThrow(new RuntimeError("await wasn't used with future"));
      expect(fut.cancelled()).toBe(true);
      expect(q._getters.length).toBe(0);
      expect(String(fut)).toBe('<Future cancelled>');
      expect(() => coro.send(undefined)).toThrow(new RuntimeError('cannot reuse already awaited coroutine'));

      const q2 = new Queue<number>(1);
      q2.putNowait(0);
      const put = q2.put(1);
      const pf = put.send(undefined) as Future<unknown>;
      expect(() => put.send(undefined)).toThrow(new RuntimeError("await wasn't used with future"));
      expect(pf.cancelled()).toBe(true);
      expect(q2._putters.length).toBe(0);
      expect(q2.qsize()).toBe(1);
    }));

  it('a get() that needs no wait finishes on the first send with StopIteration(item)', () =>
    arun(function* () {
      const q = new Queue<number>();
      q.putNowait(5);
      const coro = q.get();
      expect(coro.name).toBe('get');
      expect(coro.qualname).toBe('Queue.get');
      try {
        coro.send(undefined);
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(StopIteration);
        expect((e as StopIteration).value).toBe(5);
      }
      expect(coro.state).toBe('closed');
      const put = q.put(1);
      expect(String(put)).toMatch(/^<coroutine object Queue\.put at 0x[0-9a-f]+>$/);
      put.close();
    }));
});

describe('Queue loop binding', () => {
  it('a queue bound to one loop raises RuntimeError on another', async () => {
    const q = new Queue<number>();
    await arun(function* () {
      const t = createTask(q.get());
      yield* sleep(0);
      q.putNowait(1);
      yield* t;
    });
    await arun(function* () {
      // Non-blocking operations never touch the loop.
      q.putNowait(2);
      expect(yield* q.get()).toBe(2);
      const err = yield* raises(RuntimeError, q.get());
      expect(err.message).toMatch(
        /^<Queue at 0x[0-9a-f]+ maxsize=0 tasks=2> is bound to a different event loop$/,
      );
    });
  });

  it('get() outside a running loop waits for nothing it cannot have', () => {
    const q = new Queue<number>();
    const coro = q.get();
    expect(() => coro.send(undefined)).toThrow(new RuntimeError('no running event loop'));
  });

  it('get() is lazy: calling it takes nothing until it is awaited', () =>
    arun(function* () {
      const q = new Queue<number>();
      q.putNowait(1);
      const pending = q.get();
      expect(q.qsize()).toBe(1);
      expect(yield* pending).toBe(1);
      expect(q.qsize()).toBe(0);
      const tasks: Task<number>[] = [createTask(q.get()), createTask(q.get())];
      q.putNowait(2);
      q.putNowait(3);
      expect(yield* gather(...tasks)).toEqual([2, 3]);
    }));
});

describe('waiter reuse (a woken getter/putter Future serves the next wait)', () => {
  const taskFut = (t: Task<unknown>): Future<unknown> => t._futWaiter!;

  it('a task blocking on get() again waits on a pending future, the same one each time', () =>
    arun(function* () {
      const q = new Queue<number>();
      const consumer = createTask(
        coroutine(function* consumer() {
          const out: number[] = [];
          for (let i = 0; i < 3; i++) out.push(yield* q.get());
          return out;
        })(),
      );
      const seen: Future<unknown>[] = [];
      for (let i = 0; i < 3; i++) {
        yield* sleep(0);
        const fut = taskFut(consumer);
        expect(String(fut)).toBe('<Future pending cb=[Task.task_wakeup()]>');
        expect(q._getters.length).toBe(1);
        seen.push(fut);
        q.putNowait(i);
        expect(String(fut)).toBe('<Future finished result=None>');
      }
      expect(yield* consumer).toEqual([0, 1, 2]);
      expect(seen[1] === seen[0]).toBe(true);
      expect(seen[2] === seen[0]).toBe(true);
    }));

  it('a cancelled getter is never reused: it stays cancelled, and the next get() parks a new future', () =>
    arun(function* () {
      const q = new Queue<number>();
      const t1 = createTask(q.get());
      yield* sleep(0);
      const w1 = taskFut(t1);
      q.putNowait(1);
      expect(yield* t1).toBe(1);
      const t2 = createTask(q.get());
      yield* sleep(0);
      const w2 = taskFut(t2);
      expect(w2 === w1).toBe(true); // woken normally and seen by no one else: reused
      t2.cancel();
      yield* raises(CancelledError, t2);
      expect(w2.cancelled()).toBe(true);
      expect(q._getters.length).toBe(0);
      const t3 = createTask(q.get());
      yield* sleep(0);
      const w3 = taskFut(t3);
      expect(w3 === w2).toBe(false);
      expect(w2.cancelled()).toBe(true);
      q.putNowait(2);
      expect(yield* t3).toBe(2);
    }));

  it('a getter woken and then cancelled before it ran passes the item on and is not reused', () =>
    arun(function* () {
      const q = new Queue<number>();
      const a = createTask(q.get());
      const b = createTask(q.get());
      yield* sleep(0);
      const wa = taskFut(a);
      const wb = taskFut(b);
      q.putNowait(1); // wakes a's getter
      a.cancel(); // too late for the getter: a raises CancelledError when it runs and wakes b
      yield* raises(CancelledError, a);
      expect(yield* b).toBe(1);
      expect(wa.done() && !wa.cancelled()).toBe(true);
      const c = createTask(q.get());
      yield* sleep(0);
      expect(taskFut(c) === wb).toBe(true); // b's getter was woken normally and is free again; a's is not
      expect(wa.done()).toBe(true);
      q.putNowait(2);
      expect(yield* c).toBe(2);
    }));

  it('a getter someone else can see is never reused (done-callback, promise, coroutine driven by hand)', () =>
    arun(function* () {
      const q = new Queue<number>();
      const log: string[] = [];
      // A done-callback added to the task's getter sees it still done when it runs after the task moved on.
      const t = createTask(
        coroutine(function* twice() {
          return [yield* q.get(), yield* q.get()];
        })(),
      );
      yield* sleep(0);
      const w = taskFut(t);
      w.addDoneCallback((f) => log.push(`cb: ${f}`));
      q.putNowait(1);
      yield* sleep(0);
      expect(taskFut(t) === w).toBe(false);
      q.putNowait(2);
      expect(yield* t).toEqual([1, 2]);
      expect(log).toEqual(['cb: <Future finished result=None>']);

      // A getter whose promise was asked for.
      const t2 = createTask(q.get());
      yield* sleep(0);
      const w2 = taskFut(t2);
      const p = w2.then(() => 'settled');
      q.putNowait(3);
      expect(yield* t2).toBe(3);
      const t3 = createTask(q.get());
      yield* sleep(0);
      expect(taskFut(t3) === w2).toBe(false);
      expect(w2.done()).toBe(true);
      q.putNowait(4);
      expect(yield* t3).toBe(4);
      expect(yield* fromPromise(p)).toBe('settled');

      // A getter handed out by send(): the caller holds it; it stays done.
      const coro = q.get();
      const fut = coro.send(undefined) as Future<unknown>;
      q.putNowait(5);
      expect(() => coro.send(undefined)).toThrow(StopIteration);
      const t4 = createTask(q.get());
      yield* sleep(0);
      expect(taskFut(t4) === fut).toBe(false);
      expect(String(fut)).toBe('<Future finished result=None>');
      q.putNowait(6);
      expect(yield* t4).toBe(6);
    }));

  it('putters are reused the same way on a full queue, and a cancelled put() is not', () =>
    arun(function* () {
      const q = new Queue<number>(1);
      q.putNowait(0);
      const producer = createTask(
        coroutine(function* producer() {
          for (let i = 1; i <= 3; i++) yield* q.put(i);
        })(),
      );
      const seen: Future<unknown>[] = [];
      const got: number[] = [];
      for (let i = 0; i < 3; i++) {
        yield* sleep(0);
        seen.push(taskFut(producer));
        expect(String(seen[i])).toBe('<Future pending cb=[Task.task_wakeup()]>');
        got.push(q.getNowait());
      }
      yield* producer;
      got.push(q.getNowait());
      expect(got).toEqual([0, 1, 2, 3]);
      expect(new Set(seen).size).toBe(1);
      q.putNowait(9);
      const blocked = createTask(q.put(10));
      yield* sleep(0);
      expect(taskFut(blocked) === seen[0]).toBe(true);
      blocked.cancel();
      yield* raises(CancelledError, blocked);
      expect(seen[0]!.cancelled()).toBe(true);
      expect(q._putters.length).toBe(0);
      const next = createTask(q.put(11));
      yield* sleep(0);
      expect(taskFut(next) === seen[0]).toBe(false);
      expect(q.getNowait()).toBe(9);
      yield* next;
      expect(q.getNowait()).toBe(11);
    }));

  it('debug mode never reuses a getter (each keeps its own creation traceback)', () =>
    arun(function* () {
      const loop = getRunningLoop();
      const q = new Queue<number>();
      // A spare getter kept before debug mode is switched on is not used in debug mode either.
      const first = createTask(q.get());
      yield* sleep(0);
      const w0 = taskFut(first);
      q.putNowait(0);
      expect(yield* first).toBe(0);
      loop.setDebug(true);
      try {
        const t = createTask(
          coroutine(function* twice() {
            return [yield* q.get(), yield* q.get()];
          })(),
        );
        yield* sleep(0);
        const w = taskFut(t);
        expect(w === w0).toBe(false);
        expect(String(w)).toMatch(/^<Future pending cb=\[Task\.task_wakeup\(\)\] created at .+>$/);
        q.putNowait(1);
        yield* sleep(0);
        expect(taskFut(t) === w).toBe(false);
        q.putNowait(2);
        expect(yield* t).toEqual([1, 2]);
      } finally {
        loop.setDebug(false);
      }
    }));
});
