import { PassThrough, Writable } from 'node:stream';
import {
  asyncWith,
  Barrier,
  Condition,
  captureCallGraph,
  coroutine,
  createSubprocessExec,
  createTask,
  Event,
  EventLoop,
  FrameCallGraphEntry,
  type Future,
  FutureCallGraph,
  formatCallGraph,
  gather,
  getRunningLoop,
  type Instruction,
  Lock,
  printCallGraph,
  Queue,
  RuntimeError,
  readerFromReadable,
  run,
  Semaphore,
  shield,
  sleep,
  type Task,
  TaskGroup,
  trackAwaitStacks,
  writerFromWritable,
} from 'tsyncio/node';
import { afterEach, describe, expect, it } from 'vitest';
import { sourceOf } from './helpers.js';

const { file: THIS_FILE, lineOf } = sourceOf(import.meta.url);

/** Ids are address-like and change from run to run; tsyncio's own sleep() line moves with edits. */
function normalize(text: string): string {
  return text
    .replace(/id=0x[0-9a-f]+/g, 'id=ID')
    .replace(/File '[^']*[\\/]src[\\/]tasks\.ts', line \d+/g, "File '<tsyncio>/tasks.ts', line N");
}

// The known program: main awaits a task that awaits a gather of three tasks.
const leaf = coroutine(function* leaf(n: number) {
  yield* sleep(n); // @leaf
});
const middle = coroutine(function* middle(leaves: Task<void>[]) {
  return yield* gather(...leaves); // @middle
});

function program(inspect: (leaves: Task<void>[], mid: Task<unknown>) => void) {
  return coroutine(function* main() {
    const leaves = [1, 2, 3].map((n) => createTask(leaf(n), { name: `leaf-${n}` }));
    const mid = createTask(middle(leaves), { name: 'middle' });
    createTask(
      coroutine(function* inspector() {
        yield* sleep(0.5);
        inspect(leaves, mid);
      })(),
      { name: 'inspector' },
    );
    yield* mid; // @main
  })();
}

afterEach(() => trackAwaitStacks(false));

describe('call graph (Python 3.14 graph.py)', () => {
  it('shows a task awaiting a gather awaiting three tasks, through task boundaries, with files and lines', async () => {
    let text = '';
    const main = program((leaves) => {
      text = formatCallGraph(leaves[1]);
    });
    await run(main, { clock: 'virtual', debug: true });
    const f = `'${THIS_FILE}'`;
    expect(normalize(text)).toBe(
      [
        "* Task(name='leaf-2', id=ID)",
        '  + Call stack:',
        "  |   File '<tsyncio>/tasks.ts', line N, in async sleep()",
        `  |   File ${f}, line ${lineOf('@leaf')}, in async leaf()`,
        '  + Awaited by:',
        "    * Task(name='middle', id=ID)",
        '      + Call stack:',
        `      |   File ${f}, line ${lineOf('@middle')}, in async middle()`,
        '      + Awaited by:',
        "        * Task(name='Task-ID', id=ID)".replace(
          "'Task-ID'",
          text.match(/name='(Task-\d+)'/)![0].slice(5),
        ),
        '          + Call stack:',
        `          |   File ${f}, line ${lineOf('@main')}, in async main()`,
      ].join('\n'),
    );
  });

  it('the current task has its live stack, the capturing function on top (depth), as CPython', async () => {
    let text = '';
    const lines: string[] = [];
    const inner = coroutine(function* inner() {
      yield* sleep(0);
      text = formatCallGraph(); // @live
      printCallGraph(undefined, { file: { write: (s: string) => lines.push(s) } }); // @print
    });
    const outer = coroutine(function* outer() {
      yield* inner(); // @outer
    });
    await run(outer());
    const f = `'${THIS_FILE}'`;
    expect(normalize(text).split('\n').slice(1)).toEqual([
      '  + Call stack:',
      `  |   File ${f}, line ${lineOf('@live')}, in async inner()`,
      `  |   File ${f}, line ${lineOf('@outer')}, in async outer()`,
    ]);
    const printed = lines.join('').split('\n');
    expect(printed[2]).toMatch(
      /^ {2}\| {3}File '.*[\\/]src[\\/]graph\.ts', line \d+, in printCallGraph\(\)$/,
    );
    expect(printed[3]).toBe(`  |   File ${f}, line ${lineOf('@print')}, in async inner()`);
  });

  it('without await-stack tracking, a suspended task shows its coroutine by name only; trackAwaitStacks() adds files', async () => {
    const texts: string[] = [];
    await run(
      program((leaves) => texts.push(formatCallGraph(leaves[0]))),
      { clock: 'virtual' },
    );
    expect(normalize(texts[0]!).split('\n').slice(0, 4)).toEqual([
      "* Task(name='leaf-1', id=ID)",
      '  + Call stack:',
      '  |   in async leaf()',
      '  + Awaited by:',
    ]);
    trackAwaitStacks(true);
    await run(
      program((leaves) => texts.push(formatCallGraph(leaves[0]))),
      { clock: 'virtual' },
    );
    expect(normalize(texts[1]!).split('\n')[3]).toBe(
      `  |   File '${THIS_FILE}', line ${lineOf('@leaf')}, in async leaf()`,
    );
  });

  it('captureCallGraph returns frozen FutureCallGraph / FrameCallGraphEntry values; limit trims stacks', async () => {
    let graph: FutureCallGraph | undefined;
    let limited: FutureCallGraph | undefined;
    let none: FutureCallGraph | undefined;
    let mid: Task<unknown> | undefined;
    await run(
      program((leaves, m) => {
        mid = m;
        graph = captureCallGraph(leaves[2]);
        limited = captureCallGraph(leaves[2], { limit: -1 });
        none = captureCallGraph(leaves[2], { limit: 0 });
      }),
      { clock: 'virtual', debug: true },
    );
    expect(graph).toBeInstanceOf(FutureCallGraph);
    expect(Object.isFrozen(graph)).toBe(true);
    expect(graph!.callStack.map((e) => e.frame.name)).toEqual(['sleep', 'leaf']);
    expect(graph!.callStack[1]).toBeInstanceOf(FrameCallGraphEntry);
    expect(graph!.callStack[1]!.frame).toMatchObject({ filename: THIS_FILE, lineno: lineOf('@leaf') });
    expect(graph!.awaitedBy).toHaveLength(1);
    expect(graph!.awaitedBy[0]!.future).toBe(mid);
    // A negative limit keeps the innermost frames; 0 keeps no stack but the awaited-by links.
    expect(limited!.callStack.map((e) => e.frame.name)).toEqual(['sleep']);
    expect(none!.callStack).toEqual([]);
    expect(none!.awaitedBy).toHaveLength(1);
  });

  it('TaskGroup children and shielded tasks are awaited by the task that owns them', async () => {
    let tgGraph: FutureCallGraph | undefined;
    let shieldGraph: FutureCallGraph | undefined;
    let mainTask: unknown;
    const main = coroutine(function* main() {
      mainTask = getRunningLoop()._currentTask;
      const inner = createTask(sleep(1), { name: 'shielded' });
      const watcher = createTask(
        coroutine(function* watcher() {
          yield* sleep(0.5);
          shieldGraph = captureCallGraph(inner);
        })(),
      );
      yield* asyncWith(new TaskGroup(), function* (tg) {
        const child = tg.createTask(sleep(0.1), { name: 'child' });
        yield* sleep(0);
        tgGraph = captureCallGraph(child);
      });
      yield* shield(inner);
      yield* watcher;
    });
    await run(main());
    expect(tgGraph!.awaitedBy.map((g) => g.future)).toHaveLength(1);
    expect(tgGraph!.awaitedBy[0]!.future).toBe(mainTask);
    expect(shieldGraph!.awaitedBy.map((g) => g.future)).toHaveLength(1);
    expect(shieldGraph!.awaitedBy[0]!.future).toBe(mainTask);
  });

  it('a plain Future awaited by a task is shown as Future(id=…) with its awaiter', async () => {
    let text = '';
    const waiter = coroutine(function* waiter(fut: unknown) {
      yield* fut as Future<unknown>;
    });
    const main = coroutine(function* main() {
      const fut = getRunningLoop().createFuture();
      createTask(waiter(fut), { name: 'waiter' });
      yield* sleep(0);
      text = formatCallGraph(fut);
      fut.setResult(1);
    });
    await run(main());
    expect(normalize(text).split('\n').slice(0, 3)).toEqual([
      '* Future(id=ID)',
      '  + Awaited by:',
      "    * Task(name='waiter', id=ID)",
    ]);
  });

  it('errors as CPython: TypeError for a non-future, RuntimeError outside a loop, undefined outside a task', async () => {
    expect(() => captureCallGraph(42 as never)).toThrow(
      new TypeError('42 object does not appear to be compatible with asyncio.Future'),
    );
    expect(() => captureCallGraph()).toThrow(RuntimeError);
    expect(() => captureCallGraph()).toThrow(
      'capture_call_graph() is called outside of a running event loop and no *future* to introspect was provided',
    );
    const loop = new EventLoop();
    let inCallback: unknown = 'unset';
    let formatted: unknown = 'unset';
    loop.callSoon(() => {
      inCallback = captureCallGraph();
      formatted = formatCallGraph();
      loop.stop();
    });
    await loop.runForever();
    loop.close();
    expect(inCallback).toBeUndefined();
    expect(formatted).toBe('');
  });
});

describe('every blocking primitive records its await stack (one await primitive, futures.ts suspendOn)', () => {
  // A task blocked in each primitive: its call graph shows the primitive's coroutine frame(s) innermost,
  // then the blocked coroutine at its line; its repr says where it is running. CPython shows the same
  // shape (`async Queue.get()`, `async Lock.acquire()`, … above the caller).
  const cases: { primitive: string; inner: RegExp; body: () => Generator<Instruction, unknown, unknown> }[] =
    [
      {
        primitive: 'Queue.get',
        inner: /^Queue\.get$/,
        *body() {
          yield* new Queue<number>().get(); // @blocked:Queue.get
        },
      },
      {
        primitive: 'Queue.put',
        inner: /^Queue\.put$/,
        *body() {
          const queue = new Queue<number>(1);
          queue.putNowait(1);
          yield* queue.put(2); // @blocked:Queue.put
        },
      },
      {
        primitive: 'Lock',
        inner: /^Lock\./,
        *body() {
          const lock = new Lock();
          yield* lock.acquire();
          yield* lock.acquire(); // @blocked:Lock
        },
      },
      {
        primitive: 'Condition',
        inner: /^Condition\./,
        *body() {
          const cond = new Condition();
          yield* cond.acquire();
          yield* cond.wait(); // @blocked:Condition
        },
      },
      {
        primitive: 'Semaphore',
        inner: /^Semaphore\./,
        *body() {
          yield* new Semaphore(0).acquire(); // @blocked:Semaphore
        },
      },
      {
        primitive: 'Barrier',
        inner: /^Barrier\./,
        *body() {
          yield* new Barrier(2).wait(); // @blocked:Barrier
        },
      },
      {
        primitive: 'Event',
        inner: /^Event\./,
        *body() {
          yield* new Event().wait(); // @blocked:Event
        },
      },
      {
        primitive: 'sleep',
        inner: /^sleep$/,
        *body() {
          yield* sleep(10); // @blocked:sleep
        },
      },
      {
        primitive: 'sleep(0)',
        inner: /^sleep$/,
        *body() {
          yield* sleep(0); // @blocked:sleep(0)
        },
      },
      {
        primitive: 'StreamReader.read',
        inner: /^StreamReader\./,
        *body() {
          yield* readerFromReadable(new PassThrough()).read(10); // @blocked:StreamReader.read
        },
      },
      {
        primitive: 'StreamWriter.drain',
        inner: /drain/i,
        *body() {
          // A peer that never takes the bytes: the write stays buffered over the high-water mark.
          const writer = writerFromWritable(new Writable({ highWaterMark: 1, write() {} }));
          writer.write('x'.repeat(100_000));
          yield* writer.drain(); // @blocked:StreamWriter.drain
        },
      },
      {
        primitive: 'Process.wait',
        inner: /^Process\.|wait/,
        *body() {
          const proc = yield* createSubprocessExec(process.execPath, '-e', 'setTimeout(() => {}, 20000)');
          try {
            yield* proc.wait(); // @blocked:Process.wait
          } finally {
            proc.kill();
            yield* shield(proc.wait());
          }
        },
      },
    ];

  for (const { primitive, inner, body } of cases) {
    it(`a task blocked in ${primitive}: its call graph and repr show where`, async () => {
      const line = lineOf(`@blocked:${primitive}`);
      const blockedIn = coroutine(function* blockedIn() {
        yield* body(); // @blockedIn
      });
      let graph: FutureCallGraph | undefined;
      let taskRepr = '';
      const main = coroutine(function* main() {
        const task = createTask(blockedIn(), { name: 'blocked' });
        // Real I/O (the subprocess) needs a moment to start; the others block at once.
        for (let i = 0; i < 500 && graph === undefined; i++) {
          yield* sleep(i === 0 ? 0 : 0.01);
          const g = captureCallGraph(task)!;
          if (g.callStack.some((e) => e.frame.lineno === line)) graph = g;
        }
        taskRepr = String(task);
        task.cancel();
        yield* gather(task, { returnExceptions: true });
      });
      trackAwaitStacks(true);
      await run(main());
      expect(graph, `no frame at the blocking line for ${primitive}`).toBeDefined();
      // Innermost first: the primitive's own coroutine frame(s), the body at its line, … blockedIn.
      const names = graph!.callStack.map((e) => e.frame.name);
      const at = graph!.callStack.findIndex((e) => e.frame.lineno === line);
      expect(graph!.callStack[at]!.frame).toMatchObject({ filename: THIS_FILE, isCoroutine: true });
      expect(
        names.slice(0, at).some((n) => inner.test(n)),
        names.join(' < '),
      ).toBe(true);
      expect(graph!.callStack[names.length - 1]!.frame).toMatchObject({
        name: 'blockedIn',
        lineno: lineOf('@blockedIn'),
      });
      expect(taskRepr).toContain(` running at ${THIS_FILE}:${lineOf('@blockedIn')}>`);
    });
  }
});
