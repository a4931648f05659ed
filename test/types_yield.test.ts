/**
 * Typed yields (issue 14): a coroutine body may only yield what tsyncio's awaitables yield for it, so a
 * `yield` where `yield*` was meant is a compile error; inference through `yield*` stays exact.
 *
 * `npm run typecheck` compiles this file: the `expectTypeOf(…).toEqualTypeOf<…>()` lines are exact type
 * equalities and every `@ts-expect-error` must meet an error (an unused one is itself an error). Where
 * tsc reports a contextually typed body's bad yield: on the generator function (the argument), because
 * its inferred type is what fails to match; in a body annotated `CoroutineGenerator<T>`, on the `yield`.
 * The same fixture is compiled by the oldest supported and the newest TypeScript in
 * test/typescript_versions.test.ts. The runtime part runs the correct programs.
 */

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type AsyncGeneratorType,
  type Awaitable,
  anext,
  asyncFor,
  asyncGenerator,
  asyncWith,
  type Coroutine,
  type CoroutineGenerator,
  coroutine,
  createTask,
  type Emit,
  type Future,
  fromPromise,
  gather,
  getRunningLoop,
  type Instruction,
  Lock,
  Queue,
  runVirtual,
  runVirtualSync,
  shield,
  sleep,
  type Task,
  TaskGroup,
  type Timeout,
  timeout,
  toThread,
  type WorkerFunction,
  waitFor,
} from 'tsyncio';
import { createSubprocessExec, type ExtraInfo, PIPE, type StreamWriter } from 'tsyncio/node';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { formatException } from '../src/base_events.js';

const square = coroutine(function* square(n: number) {
  return n * n;
});
const greet = coroutine(function* greet(name: string) {
  yield* sleep(0);
  return `hi ${name}`;
});

/** An unannotated helper generator: its type is inferred, and `yield*` of it is exact. */
function* twice(n: number) {
  const a = yield* square(n);
  yield* sleep(0);
  return [a, a] as const;
}

/** The annotation users write for helpers (what `Generator<unknown, T>` was before). */
function* annotated(): CoroutineGenerator<string> {
  return yield* greet('annotated');
}

const ticker = asyncGenerator(function* ticker(emit: Emit<number>, n: number) {
  for (let i = 0; i < n; i++) {
    yield* sleep(0.01);
    yield* emit(i);
  }
});

const correct = coroutine(function* correct() {
  const pair = yield* gather(square(2), greet('bob'));
  expectTypeOf(pair).toEqualTypeOf<[number, string]>();
  const withErrors = yield* gather(square(2), greet('x'), { returnExceptions: true });
  expectTypeOf(withErrors).toEqualTypeOf<[number | Error, string | Error]>();
  const task = createTask(greet('ann'));
  expectTypeOf(task).toEqualTypeOf<Task<string>>();
  expectTypeOf(yield* task).toEqualTypeOf<string>();
  expectTypeOf(yield* waitFor(square(3), 1)).toEqualTypeOf<number>();
  expectTypeOf(yield* shield(greet('s'))).toEqualTypeOf<string>();
  expectTypeOf(yield* sleep(0.01, 'r' as const)).toEqualTypeOf<'r'>();
  expectTypeOf(yield* sleep(0)).toEqualTypeOf<void>();
  expectTypeOf(yield* fromPromise(Promise.resolve(7))).toEqualTypeOf<number>();
  const fut: Future<Date> = getRunningLoop().createFuture<Date>();
  fut.setResult(new Date(0));
  expectTypeOf(yield* fut).toEqualTypeOf<Date>();

  const q = new Queue<number>();
  yield* q.put(5);
  expectTypeOf(yield* q.get()).toEqualTypeOf<number>();

  const lock = new Lock();
  const locked = yield* asyncWith(lock, function* () {
    yield* sleep(0);
    return 'locked' as const;
  });
  expectTypeOf(locked).toEqualTypeOf<'locked'>();
  const grouped = yield* asyncWith(new TaskGroup(), function* (tg) {
    expectTypeOf(tg).toEqualTypeOf<TaskGroup>();
    const t = tg.createTask(square(4));
    yield* sleep(0);
    return t;
  });
  // TaskGroup.aexit may suppress (its own CancelledError), so the result may be undefined, as in Python.
  expectTypeOf(grouped).toEqualTypeOf<Task<number> | undefined>();
  const timed = yield* asyncWith(timeout(1), function* (cm) {
    expectTypeOf(cm).toEqualTypeOf<Timeout>();
    return yield* square(5);
  });
  expectTypeOf(timed).toEqualTypeOf<number>();

  const seen: number[] = [];
  const broke = yield* asyncFor(ticker(3), function* (i) {
    expectTypeOf(i).toEqualTypeOf<number>();
    seen.push(i);
    yield* sleep(0);
  });
  // A body that returns nothing: R is void (a `return x` in the body would break the loop with x).
  expectTypeOf(broke).toEqualTypeOf<void | undefined>();
  const gen = ticker(2);
  expectTypeOf(gen).toEqualTypeOf<AsyncGeneratorType<number, undefined>>();
  expectTypeOf(yield* anext(gen)).toEqualTypeOf<number>();
  expectTypeOf(yield* anext(gen, 'done' as const)).toEqualTypeOf<number | 'done'>();

  expectTypeOf(yield* twice(3)).toEqualTypeOf<readonly [number, number]>();
  expectTypeOf(yield* annotated()).toEqualTypeOf<string>();
  const aw: Awaitable<number> = square(6);
  expectTypeOf(yield* aw).toEqualTypeOf<number>();
  return [pair, withErrors, locked, timed, seen, yield* grouped!] as const;
});

// toThread needs a worker function; typed only (no thread is started here).
declare const fib: WorkerFunction<[n: number], bigint>;
const threaded = coroutine(function* threaded() {
  const r = yield* toThread(fib, 30);
  expectTypeOf(r).toEqualTypeOf<bigint>();
  // @ts-expect-error the worker takes a number
  yield* toThread(fib, 'thirty');
  return r;
});

// ------------------------------------------------------------------------------------------------
// Every mistake is a compile error. The error's text ends in
//   Type 'Coroutine<number>' is not assignable to type '"tsyncio: use yield*, not yield"'.

const bodies = {
  // @ts-expect-error yield of a coroutine (yield* meant)
  yieldCoroutine: coroutine(function* f() {
    const n = yield square(5);
    return n;
  }),
  // @ts-expect-error yield of a Future
  yieldFuture: coroutine(function* f(fut: Future<number>) {
    yield fut;
  }),
  // @ts-expect-error yield of a Task
  yieldTask: coroutine(function* f(t: Task<number>) {
    yield t;
  }),
  // @ts-expect-error yield of a promise (fromPromise() meant)
  yieldPromise: coroutine(function* f() {
    yield Promise.resolve(1);
  }),
  // @ts-expect-error yield of a plain value
  yieldNumber: coroutine(function* f() {
    yield 42;
  }),
  // @ts-expect-error a bare yield (sleep(0) meant)
  bareYield: coroutine(function* f() {
    yield;
  }),
  // @ts-expect-error even after a correct yield*
  mixed: coroutine(function* f() {
    yield* sleep(0);
    yield square(1);
  }),
};

const inOtherBodies = coroutine(function* inOtherBodies() {
  // @ts-expect-error a yield in an asyncWith body
  yield* asyncWith(new Lock(), function* () {
    yield square(1);
  });
  // @ts-expect-error a yield in an asyncFor body
  yield* asyncFor(ticker(1), function* () {
    yield;
  });
  yield* sleep(0);
});

// @ts-expect-error a yield in an asyncGenerator body
const badGen = asyncGenerator(function* badGen(emit: Emit<number>) {
  yield emit(1);
});

/** Annotated bodies report at the yield itself. */
function* annotatedBad(): CoroutineGenerator<number> {
  // @ts-expect-error yield of a coroutine in an annotated helper: reported here
  yield square(1);
  // @ts-expect-error bare yield in an annotated helper
  yield;
  return 1;
}

const notAwaitables = coroutine(function* notAwaitables() {
  // @ts-expect-error a number is not awaitable
  yield* 5;
  // @ts-expect-error a Promise is not awaitable with yield*: use fromPromise()
  yield* Promise.resolve(1);
});
// @ts-expect-error an iterable of plain values is not awaitable (reported on the body: it yields numbers)
const yieldStarArray = coroutine(function* f() {
  yield* [1, 2];
});
function* oldStyle(): Generator<unknown, number> {
  return 1;
}
// @ts-expect-error a helper annotated the old way (Generator<unknown, T>) yields unknown: annotate it
// CoroutineGenerator<T>
const awaitsOldStyle = coroutine(function* f() {
  return yield* oldStyle();
});

// The instruction type itself: a string-literal marker, not a unique symbol, so two installed copies of
// tsyncio (each with its own declaration) accept each other's awaitables.
type OtherCopysInstruction = 'tsyncio: use yield*, not yield';
expectTypeOf<Instruction>().toEqualTypeOf<OtherCopysInstruction>();
const fromOtherCopy = {
  *[Symbol.iterator](): Generator<OtherCopysInstruction, number, unknown> {
    yield* sleep(0);
    return 3;
  },
};

// ------------------------------------------------------------------------------------------------
// The papercuts (issue 14, item 4)

// A default-valued parameter takes its type from the contextual signature, which is `unknown` while
// tsyncio infers the parameters from the function itself: TypeScript cannot type it from the default.
// The fix is an annotation (documented in the README).
const defaultUnannotated = coroutine(function* f(size = 5) {
  // @ts-expect-error 'size' is of type 'unknown' (TS18046)
  return size + 1;
});
const defaultAnnotated = coroutine(function* f(size: number = 5) {
  return size + 1;
});
expectTypeOf(defaultAnnotated).toEqualTypeOf<
  ((size?: number) => Coroutine<number>) & ((this: unknown, size?: number) => Coroutine<number>)
>();

// createSubprocessExec(...program, options): Python's *program idiom (TS2556 before).
const spawnIt = coroutine(function* spawnIt(program: string[]) {
  const p = yield* createSubprocessExec(...program, { stdout: PIPE });
  const q = yield* createSubprocessExec(...program);
  const r = yield* createSubprocessExec('ls', ...program, { stdout: PIPE });
  return [p, q, r];
});

// writer.getExtraInfo(key): typed for the known keys.
function extra(writer: StreamWriter) {
  expectTypeOf(writer.getExtraInfo('peername')).toEqualTypeOf<ExtraInfo['peername'] | undefined>();
  expectTypeOf(writer.getExtraInfo('peername', null)).toEqualTypeOf<ExtraInfo['peername']>();
  expectTypeOf(writer.getExtraInfo('cipher')).toEqualTypeOf<ExtraInfo['cipher'] | undefined>();
  expectTypeOf(writer.getExtraInfo('custom-key')).toEqualTypeOf<unknown>();
}

// tsyncio's async generator class is AsyncGeneratorType: the global AsyncGenerator stays usable.
async function* jsGen(): AsyncGenerator<number> {
  yield 1;
}
expectTypeOf(jsGen()).toEqualTypeOf<AsyncGenerator<number>>();

describe('typed yields', () => {
  it('the correct program runs, with the results its types say', async () => {
    const [pair, withErrors, locked, timed, seen, grouped] = await runVirtual(correct());
    expect(pair).toEqual([4, 'hi bob']);
    expect(withErrors).toEqual([4, 'hi x']);
    expect(locked).toBe('locked');
    expect(timed).toBe(25);
    expect(seen).toEqual([0, 1, 2]);
    expect(grouped).toBe(16);
  });

  it("an awaitable typed by another copy's declarations is awaited", () => {
    const main = coroutine(function* main() {
      return yield* fromOtherCopy;
    });
    expect(runVirtualSync(main())).toBe(3);
  });

  it('a default-valued parameter, annotated, works', () => {
    expect(runVirtualSync(defaultAnnotated())).toBe(6);
    expect(runVirtualSync(defaultUnannotated(1))).toBe(2);
  });

  it("each mistake above, run anyway, fails with Python's message and the hint to use yield*", () => {
    const outcome = (body: () => Coroutine<unknown>) =>
      coroutine(function* outcome() {
        try {
          yield* createTask(body());
          return ['no error'];
        } catch (e) {
          return [(e as Error).message, (e as { hint?: string }).hint];
        }
      })();
    const main = coroutine(function* main() {
      const fut = getRunningLoop().createFuture<number>();
      getRunningLoop().callLater(0.1, () => fut.setResult(1));
      return [
        yield* outcome(() => bodies.yieldCoroutine()),
        yield* outcome(() => bodies.yieldFuture(fut)),
        yield* outcome(() => bodies.yieldPromise()),
        yield* outcome(() => bodies.yieldNumber()),
      ];
    });
    const [coro, future, promise, number] = runVirtualSync(main()) as [string, string][];
    const HINT = 'use `yield*`, not `yield`';
    expect(coro![0]).toMatch(
      /^yield was used instead of yield from for generator in task <Task .*> with <coroutine object square at /,
    );
    expect(coro![1]).toBe(HINT);
    expect(future![0]).toMatch(/^yield was used instead of yield from in task <Task .*> with <Future /);
    expect(future![1]).toBe(HINT);
    expect(promise![0]).toMatch(/^Task got bad yield: /);
    expect(promise![1]).toBe(`${HINT}; a Promise is awaited with \`yield* fromPromise(promise)\``);
    expect(number).toEqual(['Task got bad yield: 42', HINT]);
  });

  it("the hint is shown where the error is printed: the loop's logs and an uncaught error", () => {
    const e = Object.assign(new Error('Task got bad yield: 42'), { hint: 'use `yield*`, not `yield`' });
    expect(formatException(e)).toContain('\n  hint: use `yield*`, not `yield`');
    const dir = mkdtempSync(join(tmpdir(), 'tsyncio-hint-'));
    try {
      const file = join(dir, 'main.mts');
      writeFileSync(
        file,
        `import { coroutine, run } from ${JSON.stringify(new URL('../src/index.ts', import.meta.url).href)};
const square = coroutine(function* square(n: number) { return n * n; });
const main = coroutine(function* main() { yield square(2) as never; });
await run(main());
`,
      );
      const tsx = fileURLToPath(new URL('../node_modules/tsx/dist/cli.mjs', import.meta.url));
      const r = spawnSync(process.execPath, [tsx, file], { encoding: 'utf8', timeout: 30_000 });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain('RuntimeError: yield was used instead of yield from for generator in task');
      expect(r.stderr).toContain("hint: 'use `yield*`, not `yield`'");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 40_000);

  it('only type-checks the rest', () => {
    // Referenced so that noUnusedLocals is satisfied; these are compile-time checks.
    expect([
      threaded,
      inOtherBodies,
      badGen,

      annotatedBad,
      notAwaitables,
      spawnIt,
      extra,
    ]).toHaveLength(7);
    expect([yieldStarArray, awaitsOldStyle]).toHaveLength(2);
  });
});
