/**
 * Bad input gets a clear error at the call (issue 13 §4): one row per case — the call, the error CPython
 * 3.14 raises for its Python equivalent (type and message; where CPython fails only incidentally, deep
 * inside, a TypeError naming the argument), and when it is raised. After every row nothing may be left
 * behind: no task created by the failed call, and a later run() works.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  type Awaitable,
  allTasks,
  asCompleted,
  asyncWith,
  Context,
  ContextVar,
  copyContext,
  coroutine,
  createTask,
  currentTask,
  DeadlockError,
  dumpAwaitedBy,
  EventLoop,
  ExceptionGroup,
  ensureFuture,
  Future,
  gather,
  getRunningLoop,
  PriorityQueue,
  Runner,
  RuntimeError,
  run,
  runSync,
  setEventLoop,
  sleep,
  startTracing,
  stopTracing,
  Task,
  TaskGroup,
  TimeoutError,
  timeout,
  timeoutAt,
  ValueError,
  wait,
  waitFor,
} from 'tsyncio';
import { afterEach, describe, expect, it } from 'vitest';

type ErrorClass = abstract new (...args: any[]) => Error;

interface Row {
  /** The call, as a user writes it. */
  call: string;
  /**
   * 'call': raised by the call itself inside a running task; 'await': raised when the result is
   * awaited (as CPython raises it inside the coroutine); 'outside': raised by the call, no loop running.
   */
  when: 'call' | 'await' | 'outside';
  run: (loop: EventLoop) => unknown;
  error: ErrorClass;
  message: string | RegExp;
  /** The `hint` property the error carries for a JavaScript slip (beside Python's message). */
  hint?: RegExp;
}

const c = coroutine(function* c() {
  return 1;
});

// biome-ignore format: one row per line reads as a table
const rows: Row[] = [
  // -- arrays and strings are not awaitables ---------------------------------------------------------
  { call: 'gather([a, b])', when: 'call', run: (loop) => gather([loop.createFuture(), loop.createFuture()] as any), error: TypeError, message: 'An asyncio.Future, a coroutine or an awaitable is required', hint: /gather\(\.\.\.array\)/ },
  { call: 'gather(c(), [t])', when: 'call', run: (loop) => gather(c(), [loop.createFuture()] as any), error: TypeError, message: 'An asyncio.Future, a coroutine or an awaitable is required' },
  { call: "gather('ab')", when: 'call', run: () => gather('ab' as any), error: TypeError, message: 'An asyncio.Future, a coroutine or an awaitable is required' },
  { call: 'gather({ a: 1 })', when: 'call', run: () => gather({ a: 1 } as any), error: TypeError, message: "gather() got an unexpected keyword argument 'a'" },
  { call: 'gather(t, { returnException: true })', when: 'call', run: (loop) => gather(loop.createFuture(), { returnException: true } as any), error: TypeError, message: "gather() got an unexpected keyword argument 'returnException'. Did you mean 'returnExceptions'?" },
  { call: 'gather(new Map())', when: 'call', run: () => gather(new Map() as any), error: TypeError, message: 'An asyncio.Future, a coroutine or an awaitable is required' },
  { call: 'ensureFuture([t])', when: 'call', run: (loop) => ensureFuture([loop.createFuture()] as any), error: TypeError, message: 'An asyncio.Future, a coroutine or an awaitable is required' },
  { call: "ensureFuture('x')", when: 'call', run: () => ensureFuture('x' as any), error: TypeError, message: 'An asyncio.Future, a coroutine or an awaitable is required' },
  { call: 'ensureFuture(new Set([t]))', when: 'call', run: (loop) => ensureFuture(new Set([loop.createFuture()]) as any), error: TypeError, message: 'An asyncio.Future, a coroutine or an awaitable is required' },
  { call: 'waitFor([t], 1)', when: 'call', run: (loop) => waitFor([loop.createFuture()] as any, 1), error: TypeError, message: "'list' object can't be awaited" },
  { call: "waitFor('x', 1)", when: 'call', run: () => waitFor('x' as any, 1), error: TypeError, message: "'str' object can't be awaited" },
  { call: 'waitFor(42, 1)', when: 'call', run: () => waitFor(42 as any, 1), error: TypeError, message: "'int' object can't be awaited" },
  { call: "yield* 'x'", when: 'await', run: () => coroutine(function* () { return yield* ('x' as any); })(), error: TypeError, message: "'str' object can't be awaited" },
  { call: "yield* 'abc'", when: 'await', run: () => coroutine(function* () { return yield* ('abc' as any); })(), error: TypeError, message: "'str' object can't be awaited" },
  { call: 'yield* [t1, t2]', when: 'await', run: (loop) => coroutine(function* () { return yield* ([loop.createFuture()] as any); })(), error: RuntimeError, message: /^yield was used instead of yield from in task/ },
  { call: 'run(main) (the function, not main())', when: 'outside', run: () => run(c as any), error: TypeError, message: 'An asyncio.Future, a coroutine or an awaitable is required', hint: /call it/ },
  { call: 'createTask(main)', when: 'call', run: () => createTask(c as any), error: TypeError, message: /^a coroutine was expected, got <function c at 0x[0-9a-f]+>$/, hint: /call it/ },
  { call: 'createTask(promise)', when: 'call', run: () => createTask(Promise.resolve(1) as any), error: TypeError, message: /^a coroutine was expected, got <Promise object at 0x[0-9a-f]+>$/, hint: /fromPromise/ },
  { call: 'waitFor(promise, 1)', when: 'call', run: () => waitFor(Promise.resolve(1) as any, 1), error: TypeError, message: "'Promise' object can't be awaited", hint: /fromPromise/ },
  { call: 'sleep(1n)', when: 'await', run: () => sleep(1n as any), error: TypeError, message: 'delay must be a number, not a bigint (1n)' },
  { call: 'run([t])', when: 'outside', run: (loop) => run([loop.createFuture()] as any), error: TypeError, message: 'An asyncio.Future, a coroutine or an awaitable is required' },
  { call: "runSync('x')", when: 'outside', run: () => runSync('x' as any), error: TypeError, message: 'An asyncio.Future, a coroutine or an awaitable is required' },

  // -- loops, contexts, factories, executors -------------------------------------------------------
  { call: "createTask(c(), { context: 'x' })", when: 'call', run: () => createTask(c(), { context: 'x' as any }), error: TypeError, message: "context must be an instance of Context or None, not 'str'" },
  { call: 'createTask(c(), { context: {} })', when: 'call', run: () => createTask(c(), { context: {} as any }), error: TypeError, message: "context must be an instance of Context or None, not 'dict'" },
  { call: "createTask(c(), 'x')", when: 'call', run: () => createTask(c(), 'x' as any), error: TypeError, message: "createTask() options must be an object, not 'str'" },
  { call: 'setEventLoop(42)', when: 'outside', run: () => setEventLoop(42 as any), error: TypeError, message: "loop must be an instance of EventLoop or None, not 'int'" },
  { call: 'setEventLoop({})', when: 'outside', run: () => setEventLoop({} as any), error: TypeError, message: "loop must be an instance of EventLoop or None, not 'dict'" },
  { call: "ensureFuture(c(), { loop: 'x' })", when: 'call', run: () => ensureFuture(c(), { loop: 'x' as any }), error: TypeError, message: "loop must be an instance of EventLoop or None, not 'str'" },
  { call: 'ensureFuture(c(), 5)', when: 'call', run: () => ensureFuture(c(), 5 as any), error: TypeError, message: "ensureFuture() options must be an object, not 'int'" },
  { call: 'new Task(c(), { loop: {} })', when: 'call', run: () => new Task(c(), { loop: {} as any }), error: TypeError, message: "loop must be an instance of EventLoop or None, not 'dict'" },
  { call: "new Future({ loop: 'x' })", when: 'outside', run: () => new Future({ loop: 'x' as any }), error: TypeError, message: "loop must be an instance of EventLoop or None, not 'str'" },
  { call: 'fut.addDoneCallback(f, { context: 42 })', when: 'call', run: (loop) => loop.createFuture().addDoneCallback(() => {}, { context: 42 as any }), error: TypeError, message: "context must be an instance of Context or None, not 'int'" },
  { call: 'fut.addDoneCallback(f, 42)', when: 'call', run: (loop) => loop.createFuture().addDoneCallback(() => {}, 42 as any), error: TypeError, message: "addDoneCallback() options must be an object, not 'int'" },
  { call: 'currentTask(42)', when: 'call', run: () => currentTask(42 as any), error: TypeError, message: "loop must be an instance of EventLoop or None, not 'int'" },
  { call: "allTasks('x')", when: 'call', run: () => allTasks('x' as any), error: TypeError, message: "loop must be an instance of EventLoop or None, not 'str'" },
  { call: 'dumpAwaitedBy({})', when: 'call', run: () => dumpAwaitedBy({} as any), error: TypeError, message: "loop must be an instance of EventLoop or None, not 'dict'" },
  { call: 'startTracing(42)', when: 'call', run: () => startTracing(42 as any), error: TypeError, message: "loop must be an instance of EventLoop or None, not 'int'" },
  { call: 'stopTracing(42)', when: 'outside', run: () => stopTracing(42 as any), error: TypeError, message: "loop must be an instance of EventLoop or None, not 'int'" },
  { call: 'copyContext().run(42)', when: 'outside', run: () => copyContext().run(42 as any), error: TypeError, message: "'int' object is not callable" },
  { call: "new ContextVar('v', 42)", when: 'outside', run: () => new ContextVar('v', 42 as any), error: TypeError, message: "ContextVar() options must be an object, not 'int'" },
  { call: "new PriorityQueue(0, 'x')", when: 'outside', run: () => new PriorityQueue(0, 'x' as any), error: TypeError, message: "PriorityQueue() options must be an object, not 'str'" },
  { call: 'new EventLoop({ host: 42 })', when: 'outside', run: () => new EventLoop({ host: 42 as any }), error: TypeError, message: 'host must be a Host (an object with now, immediate, timer and block), got 42' },
  { call: "loop.shutdownDefaultExecutor('x')", when: 'call', run: (loop) => loop.shutdownDefaultExecutor('x' as any), error: TypeError, message: "timeout must be a number or None, got 'x'" },
  { call: "tg.createTask(c(), { context: 'x' })", when: 'await', run: () => coroutine(function* () { let err: unknown; yield* asyncWith(new TaskGroup(), function* (tg) { try { tg.createTask(c(), { context: 'x' as any }); } catch (e) { err = e; } }); throw err; })(), error: TypeError, message: "context must be an instance of Context or None, not 'str'" },
  { call: 'loop.setTaskFactory(() => 42); createTask(c())', when: 'call', run: (loop) => { loop.setTaskFactory((() => 42) as any); return createTask(c()); }, error: TypeError, message: 'the task factory must return a Task, got 42' },
  { call: 'loop.runInExecutor({ submit: () => 42 }, f)', when: 'call', run: (loop) => loop.runInExecutor({ submit: () => 42, shutdown() {} } as any, () => 1), error: TypeError, message: 'executor.submit() must return a Promise (a thenable), got 42' },
  { call: 'loop.runInExecutor(42, f)', when: 'call', run: (loop) => loop.runInExecutor(42 as any, () => 1), error: TypeError, message: 'executor must be an executor (an object with submit and shutdown), got 42' },

  // -- exceptions ----------------------------------------------------------------------------------
  { call: "fut.setException('str')", when: 'call', run: (loop) => loop.createFuture().setException('str'), error: TypeError, message: 'invalid exception object' },
  { call: 'fut.setException(42)', when: 'call', run: (loop) => loop.createFuture().setException(42), error: TypeError, message: 'invalid exception object' },
  { call: "new ExceptionGroup('m', [42])", when: 'outside', run: () => new ExceptionGroup('m', [42]), error: ValueError, message: 'Item 0 of second argument (exceptions) is not an exception' },
  { call: "new ExceptionGroup('m', [new Error(), 'x'])", when: 'outside', run: () => new ExceptionGroup('m', [new Error(), 'x']), error: ValueError, message: 'Item 1 of second argument (exceptions) is not an exception' },

  // -- options that were silently ignored ----------------------------------------------------------
  { call: "run(c(), { clock: 'bogus' })", when: 'outside', run: () => run(c(), { clock: 'bogus' as any }), error: ValueError, message: "clock must be 'monotonic' or 'virtual', not 'bogus'" },
  { call: 'run(c(), { clock: 1 })', when: 'outside', run: () => run(c(), { clock: 1 as any }), error: TypeError, message: "clock must be 'monotonic' or 'virtual', not 'int'" },
  { call: "new EventLoop({ clock: 'bogus' })", when: 'outside', run: () => new EventLoop({ clock: 'bogus' as any }), error: ValueError, message: "clock must be 'monotonic' or 'virtual', not 'bogus'" },
  { call: "new EventLoop('virtual')", when: 'outside', run: () => new EventLoop('virtual' as any), error: TypeError, message: "EventLoop() options must be an object, not 'str'" },
  { call: "run(c(), 'x')", when: 'outside', run: () => run(c(), 'x' as any), error: TypeError, message: "run() options must be an object, not 'str'" },
  { call: "runSync(c(), 'x')", when: 'outside', run: () => runSync(c(), 'x' as any), error: TypeError, message: "runSync() options must be an object, not 'str'" },
  { call: "new Runner({ loopFactory: 'x' })", when: 'outside', run: () => new Runner({ loopFactory: 'x' as any }), error: TypeError, message: "loopFactory must be a callable or None, not 'str'" },
  { call: "asCompleted(aws, 'x')", when: 'call', run: () => asCompleted([c()], 'x' as any), error: TypeError, message: "asCompleted() options must be an object, not 'str'" },
  { call: "asCompleted(aws, { timeout: '1' })", when: 'call', run: () => asCompleted([c()], { timeout: '1' as any }), error: TypeError, message: "timeout must be a number or None, got '1'" },
  { call: 'wait(fs, 5)', when: 'call', run: (loop) => wait([loop.createFuture()], 5 as any), error: TypeError, message: "wait() options must be an object, not 'int'" },
  { call: "wait(fs, { timeout: '1' })", when: 'await', run: (loop) => wait([loop.createFuture()], { timeout: '1' as any }), error: TypeError, message: "timeout must be a number or None, got '1'" },

  // -- NaN, CPython's rules (a NaN deadline is due at once; sleep refuses NaN) ------------------------
  { call: 'sleep(NaN)', when: 'await', run: () => sleep(Number.NaN), error: ValueError, message: 'Invalid delay: NaN (not a number)' },
  { call: 'waitFor(sleep(1), NaN)', when: 'await', run: () => waitFor(sleep(1), Number.NaN), error: TimeoutError, message: '' },
  { call: 'asCompleted([sleep(1)], { timeout: NaN })', when: 'await', run: () => asCompleted([sleep(1)], { timeout: Number.NaN }).next().value, error: TimeoutError, message: '' },
  { call: 'loop.callLater(NaN, f)', when: 'call', run: (loop) => loop.callLater(Number.NaN, () => {}), error: ValueError, message: 'Invalid time: NaN' },
];

function check(e: unknown, row: Row): void {
  expect(e).toBeInstanceOf(row.error);
  const message = (e as Error).message;
  if (typeof row.message === 'string') expect(message).toBe(row.message);
  else expect(message).toMatch(row.message);
  if (row.hint !== undefined) expect((e as { hint?: string }).hint).toMatch(row.hint);
}

afterEach(() => setEventLoop(null));

describe('bad input is refused at the call with Python’s error', () => {
  it.each(rows)('$call', async (row) => {
    if (row.when === 'outside') {
      const loop = new EventLoop();
      let error: unknown;
      try {
        const r = row.run(loop);
        // (run() may report misuse as a rejected promise rather than a throw: both are at the call.)
        if (r instanceof Promise) await r.then(() => undefined);
      } catch (e) {
        error = e;
      }
      loop.close();
      check(error, row);
    } else {
      const main = coroutine(function* main() {
        const loop = getRunningLoop();
        const before = allTasks().size;
        let error: unknown;
        try {
          const r = row.run(loop);
          if (row.when === 'await') yield* createTask(r as any);
          else return `no error: ${String(r)}`;
        } catch (e) {
          error = e;
        }
        loop.setTaskFactory(null);
        // Nothing was started by a call that failed.
        if (row.when === 'call') expect(allTasks().size).toBe(before);
        return error;
      });
      check(await run(main(), { clock: 'virtual' }), row);
    }
    // Nothing is left stuck: the next run works.
    expect(await run(sleep(0.01, 'ok'), { clock: 'virtual' })).toBe('ok');
  });
});

describe('what the checks must not refuse', () => {
  it('a coroutine that throws a string still fails its task with that string (TaskGroup too)', async () => {
    const boom = coroutine(function* boom() {
      yield* sleep(0);
      throw 'not an Error';
    });
    await expect(run(boom())).rejects.toBe('not an Error');
    const f = new Future({ loop: new EventLoop() });
    f.setException(new Error('fine'));
    expect(() => f.exception()).not.toThrow();
  });

  it('ensureFuture/gather still take plain generators and custom awaitables', async () => {
    const custom = {
      *[Symbol.iterator]() {
        yield* sleep(0);
        return 'custom';
      },
    };
    const main = coroutine(function* main() {
      const gen = (function* () {
        yield* sleep(0);
        return 'gen';
      })();
      return yield* gather(custom as any, gen as any, { returnExceptions: false });
    });
    expect(await run(main())).toEqual(['custom', 'gen']);
  });

  it('a Context and a null context are accepted', async () => {
    const main = coroutine(function* main() {
      const t1 = createTask(c(), { context: new Context() });
      const t2 = createTask(c(), { context: null });
      return yield* gather(t1, t2);
    });
    expect(await run(main())).toEqual([1, 1]);
  });
});

describe('the virtual clock never jumps to a deadline it cannot reach', () => {
  for (const delay of [Number.POSITIVE_INFINITY, 1e308, 2 ** 42]) {
    it(`sleep(${delay}) waits forever: the clock stays put, and later sleeps still take their time`, async () => {
      const main = coroutine(function* main() {
        const loop = getRunningLoop();
        const forever = createTask(sleep(delay));
        // Only the endless sleep is scheduled: the loop must wait (for the host), not jump to its deadline.
        const woken = loop.createFuture<number>();
        setTimeout(() => loop.callSoonThreadsafe(() => woken.setResult(loop.time())), 20);
        expect(yield* woken).toBe(0);
        expect(forever.done()).toBe(false);
        yield* sleep(1);
        const t1 = loop.time();
        yield* sleep(2);
        const t2 = loop.time();
        forever.cancel();
        return [t1, t2, forever.done()];
      });
      expect(await run(main(), { clock: 'virtual' })).toEqual([1, 3, false]);
    });
  }

  it('runSync: a lone sleep(Infinity) is a wait that can never end, reported at once', () => {
    expect(() => runSync(sleep(Number.POSITIVE_INFINITY), { clock: 'virtual' })).toThrow(DeadlockError);
    expect(runSync(sleep(5, 'later'), { clock: 'virtual' })).toBe('later');
  });

  it('run(): a lone sleep(1e308) is a deadlock, not a jump to its deadline (child process)', () => {
    // run()'s deadlock check needs the process to run out of work, which a vitest worker never does.
    const program = `
      import { run, sleep } from './src/node/index.ts';
      try {
        await run(sleep(1e308, 'woke'), { clock: 'virtual' }).then((r) => console.log(r));
      } catch (e) {
        console.log(e.name);
      }`;
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', program], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      env: { ...process.env, NODE_OPTIONS: '', TSYNCIO_DEBUG: '' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(r.stdout.trim()).toBe('DeadlockError');
  }, 40_000);

  it('a timeout far beyond the horizon never fires; the clock keeps counting', async () => {
    const main = coroutine(function* main() {
      const loop = getRunningLoop();
      const fut = loop.createFuture<string>();
      setTimeout(() => loop.callSoonThreadsafe(() => fut.setResult('done')), 20);
      const r = yield* waitFor(fut, 1e300);
      yield* sleep(3);
      return [r, loop.time()];
    });
    expect(await run(main(), { clock: 'virtual' })).toEqual(['done', 3]);
  });
});

describe('NaN deadlines follow CPython: due at once (sleep alone refuses NaN)', () => {
  // CPython 3.14 (one program per line): every one of these takes no time at all.
  //   timeout(nan) / timeout_at(nan) / reschedule(nan) → TimeoutError; wait_for(sleep(1), nan) → TimeoutError;
  //   wait([t], timeout=nan) → (set(), {t}); as_completed([sleep(1)], timeout=nan) → TimeoutError.
  const cases: [string, () => Awaitable<unknown>][] = [
    ['timeout(NaN)', () => asyncWith(timeout(Number.NaN), () => sleep(1))],
    ['timeoutAt(NaN)', () => asyncWith(timeoutAt(Number.NaN), () => sleep(1))],
    [
      'Timeout.reschedule(NaN)',
      () =>
        asyncWith(timeout(null), function* (cm) {
          cm.reschedule(Number.NaN);
          yield* sleep(1);
        }),
    ],
    ['waitFor(sleep(1), NaN)', () => waitFor(sleep(1), Number.NaN)],
    [
      'asCompleted([sleep(1)], { timeout: NaN })',
      () => asCompleted([sleep(1)], { timeout: Number.NaN }).next().value!,
    ],
    [
      'wait([t], { timeout: NaN })',
      function* () {
        const t = createTask(sleep(1));
        const [done, pending] = yield* wait([t], { timeout: Number.NaN });
        t.cancel();
        return [done.size, pending.size];
      },
    ],
  ];
  it.each(cases)('%s', async (_name, body) => {
    const main = coroutine(function* main() {
      const loop = getRunningLoop();
      let outcome: unknown;
      try {
        outcome = yield* body();
      } catch (e) {
        outcome = e;
      }
      return [outcome, loop.time()];
    });
    const [outcome, time] = (await run(main(), { clock: 'virtual' })) as [unknown, number];
    expect(time).toBe(0);
    if (_name.startsWith('wait(')) expect(outcome).toEqual([0, 1]);
    else expect(outcome).toBeInstanceOf(TimeoutError);
  });
});
