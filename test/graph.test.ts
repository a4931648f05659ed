import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  asyncWith,
  captureCallGraph,
  coroutine,
  createTask,
  EventLoop,
  FrameCallGraphEntry,
  type Future,
  FutureCallGraph,
  formatCallGraph,
  gather,
  getRunningLoop,
  printCallGraph,
  RuntimeError,
  run,
  shield,
  sleep,
  type Task,
  TaskGroup,
  trackAwaitStacks,
} from 'tsyncio';
import { afterEach, describe, expect, it } from 'vitest';

const THIS_FILE = fileURLToPath(import.meta.url);
const SOURCE = readFileSync(THIS_FILE, 'utf8').split('\n');
function lineOf(marker: string): number {
  const i = SOURCE.findIndex((l) => l.includes(marker) && !l.includes('lineOf('));
  if (i < 0) throw new Error(`marker ${marker} not found`);
  return i + 1;
}

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
