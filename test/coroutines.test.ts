import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  Coroutine,
  coroutine,
  createTask,
  gather,
  isCoroutine,
  isCoroutineFunction,
  RuntimeError,
  run,
  StopIteration,
  sleep,
  ValueError,
} from 'tsyncio';
import { afterEach, describe, expect, it } from 'vitest';
import { setNeverAwaitedSink, sweepNursery } from '../src/coroutines.js';
import { collectGarbage } from './helpers.js';

const square = coroutine(function* square(n: number) {
  return n * n;
});

describe('coroutine objects', () => {
  it('calling a coroutine function runs nothing and returns a lazy Coroutine', () => {
    let ran = false;
    const f = coroutine(function* f() {
      ran = true;
      return 1;
    });
    const c = f();
    expect(c).toBeInstanceOf(Coroutine);
    expect(ran).toBe(false);
    expect(c.state).toBe('created');
    c.close();
  });

  it('repr is <coroutine object NAME at 0x…> with a stable unique id', () => {
    const a = square(1);
    const b = square(2);
    expect(String(a)).toMatch(/^<coroutine object square at 0x[0-9a-f]+>$/);
    expect(String(a)).toBe(String(a));
    expect(String(a)).not.toBe(String(b));
    const inspect = (a as any)[Symbol.for('nodejs.util.inspect.custom')]();
    expect(inspect).toBe(String(a));
    expect(a.name).toBe('square');
    expect(a.qualname).toBe('square');
    a.close();
    b.close();
  });

  it('send/throw follow Python: yielded values, StopIteration carrying the return value', () => {
    // @ts-expect-error yields plain values, on purpose: send()/throw() hand them out
    const g = coroutine(function* g() {
      const a = yield 'first';
      try {
        yield `got ${String(a)}`;
      } catch (e) {
        return `caught ${(e as Error).message}`;
      }
      return 'end';
    });
    const c = g();
    expect(() => c.send(1)).toThrow(new TypeError("can't send non-None value to a just-started coroutine"));
    expect(c.send()).toBe('first');
    expect(c.state).toBe('suspended');
    expect(c.send(5)).toBe('got 5');
    let stop: unknown;
    try {
      c.throw(new Error('boom'));
    } catch (e) {
      stop = e;
    }
    expect(stop).toBeInstanceOf(StopIteration);
    expect((stop as StopIteration).value).toBe('caught boom');
    expect(c.state).toBe('closed');
    expect(() => c.send()).toThrow(new RuntimeError('cannot reuse already awaited coroutine'));
  });

  it('state is running while the coroutine executes', () => {
    let self: Coroutine<unknown> | undefined;
    const seen: string[] = [];
    // @ts-expect-error a bare yield, on purpose (driven by send())
    const f = coroutine(function* f() {
      seen.push(self!.state);
      yield;
    });
    self = f();
    seen.push(self.state);
    self.send();
    seen.push(self.state);
    self.close();
    seen.push(self.state);
    expect(seen).toEqual(['created', 'running', 'suspended', 'closed']);
  });

  it('close() runs finally blocks; a coroutine that yields in finally ignored GeneratorExit', () => {
    const log: string[] = [];
    // @ts-expect-error yields plain values, on purpose (driven by send())
    const f = coroutine(function* f() {
      try {
        yield 1;
      } finally {
        log.push('finally');
      }
    });
    const c = f();
    c.send();
    c.close();
    expect(log).toEqual(['finally']);
    // @ts-expect-error yields plain values, on purpose (driven by send())
    const stubborn = coroutine(function* stubborn() {
      try {
        yield 1;
      } finally {
        yield 2;
      }
    })();
    stubborn.send();
    expect(() => stubborn.close()).toThrow(new RuntimeError('coroutine ignored GeneratorExit'));
  });

  it('yield* awaits and is typed; awaiting twice raises RuntimeError', async () => {
    const main = coroutine(function* main() {
      const c = square(10);
      const x: number = yield* c;
      let err: unknown;
      try {
        yield* c;
      } catch (e) {
        err = e;
      }
      return [x, err] as const;
    });
    const [x, err] = await run(main());
    expect(x).toBe(100);
    expect(err).toBeInstanceOf(RuntimeError);
    expect((err as Error).message).toBe('cannot reuse already awaited coroutine');
  });

  it('awaiting a coroutine that another task is awaiting raises RuntimeError', async () => {
    const main = coroutine(function* main() {
      const inner = sleep(0.01, 'x');
      const other = coroutine(function* other() {
        return yield* inner;
      });
      const t = createTask(other());
      yield* sleep(0);
      try {
        yield* inner;
      } catch (e) {
        return [(e as Error).message, yield* t];
      }
      return ['no error'];
    });
    expect(await run(main(), { clock: 'virtual' })).toEqual(['cannot reuse already awaited coroutine', 'x']);
  });

  it('plain generator objects are accepted where coroutines are', async () => {
    function* plain() {
      yield* sleep(0);
      return 7;
    }
    expect(isCoroutine(plain())).toBe(true);
    expect(await run(plain())).toBe(7);
  });

  it('isCoroutine / isCoroutineFunction', () => {
    const c = square(2);
    expect(isCoroutine(c)).toBe(true);
    expect(isCoroutine(Promise.resolve())).toBe(false);
    expect(isCoroutine(null)).toBe(false);
    expect(isCoroutineFunction(square)).toBe(true);
    expect(isCoroutineFunction(function* g() {})).toBe(true);
    expect(isCoroutineFunction(() => 1)).toBe(false);
    expect(isCoroutineFunction(async () => 1)).toBe(false);
    c.close();
  });

  it('objects implementing the coroutine protocol (send, throw, close, an await iterator) are coroutines, as collections.abc.Coroutine', async () => {
    // CPython's C() with send/throw/close/__await__: one bare yield, then StopIteration(42).
    class Proto {
      n = 0;
      closed = false;
      send(_v: unknown): unknown {
        this.n += 1;
        if (this.n === 1) return undefined;
        throw new StopIteration(42);
      }
      throw(e: unknown): never {
        throw e;
      }
      close(): void {
        this.closed = true;
      }
      *[Symbol.iterator](): Generator<never, number> {
        return 42;
      }
    }
    expect(isCoroutine(new Proto())).toBe(true);
    expect(isCoroutine({ send() {}, throw() {}, close() {} })).toBe(false); // no await iterator
    const proto = new Proto();
    const main = coroutine(function* main() {
      const t = createTask(proto as never);
      const result = yield* t;
      return [result, t.getCoro()];
    });
    expect(await run(main())).toEqual([42, proto]);
    expect(proto.n).toBe(2);
  });

  it("send()/throw() on a running coroutine raise tsyncio's ValueError('coroutine already executing')", () => {
    let self: Coroutine<unknown> | null = null;
    const errors: unknown[] = [];
    const reentrant = coroutine(function* reentrant() {
      for (const poke of [() => self!.send(undefined), () => self!.throw(new Error('x'))]) {
        try {
          poke();
        } catch (e) {
          errors.push(e);
        }
      }
    });
    self = reentrant();
    expect(() => self!.send(undefined)).toThrow(StopIteration);
    expect(errors).toHaveLength(2);
    for (const e of errors) {
      expect(e).toBeInstanceOf(ValueError);
      expect((e as Error).message).toBe('coroutine already executing');
    }
  });

  it('coroutine() rejects functions that are not generator functions', () => {
    expect(() => coroutine((() => 1) as any)).toThrow(TypeError);
  });

  it('coroutine methods: this is passed through a coroutine-valued field', async () => {
    class Counter {
      n = 1;
      add = coroutine(function* add(this: Counter, k: number) {
        yield* sleep(0);
        this.n += k;
        return this.n;
      });
    }
    const c = new Counter();
    const main = coroutine(function* main() {
      return yield* c.add(2);
    });
    expect(await run(main())).toBe(3);
  });

  it(
    '@coroutineMethod makes a generator method a coroutine method named Class.method',
    () => {
      // The decorator syntax is compiled by tsc/tsx/esbuild; the test runner's transformer lacks TC39
      // decorators, so run a program that uses the syntax as a user would.
      const program = `
      import { coroutineMethod, run, sleep, Coroutine } from ${JSON.stringify(new URL('../src/index.ts', import.meta.url).href)};
      class Counter {
        n = 1;
        @coroutineMethod
        *double(): Generator<Instruction, number, unknown> { yield* sleep(0); this.n *= 2; return this.n; }
      }
      const c = new Counter();
      const d = c.double() as unknown as Coroutine<number>;
      console.log(d instanceof Coroutine, d.qualname, d.name);
      console.log(await run(d), await run(c.double()));
    `;
      const r = runProgram(program);
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('true Counter.double double\n2 4\n');
    },
    SPAWN_TEST_TIMEOUT,
  );
});

describe('never-awaited warnings', () => {
  afterEach(() => setNeverAwaitedSink(undefined));

  it('a coroutine that is never started is reported when collected', async () => {
    const warnings: string[] = [];
    setNeverAwaitedSink((message) => warnings.push(message));
    const lonely = coroutine(function* lonely() {
      return 1;
    });
    (() => {
      lonely();
    })();
    sweepNursery();
    await collectGarbage();
    expect(warnings).toContain("coroutine 'lonely' was never awaited");
  });

  it('started, awaited or closed coroutines are not reported', async () => {
    const warnings: string[] = [];
    setNeverAwaitedSink((message) => warnings.push(message));
    const quiet = coroutine(function* quiet() {
      return 1;
    });
    (() => {
      quiet().close();
      expect(() => quiet().send()).toThrow(StopIteration);
    })();
    await run(quiet());
    sweepNursery();
    await collectGarbage();
    expect(warnings.filter((w) => w.includes("'quiet'"))).toEqual([]);
  });

  it('coroutines registered by a nursery sweep are reported once, and not once awaited', async () => {
    // gather(...items.map(work)): more coroutines are created than the nursery holds before any is awaited,
    // so the sweep registers the early ones; awaiting them later must unregister them.
    const warnings: string[] = [];
    setNeverAwaitedSink((message) => warnings.push(message));
    const many = coroutine(function* many(i: number) {
      return i;
    });
    await run(
      coroutine(function* main() {
        const coros = Array.from({ length: 3000 }, (_, i) => many(i));
        const results = yield* gather(...coros.slice(0, 2000));
        expect(results).toHaveLength(2000);
        coros.length = 0;
      })(),
    );
    sweepNursery();
    await collectGarbage();
    expect(warnings.filter((w) => w === "coroutine 'many' was never awaited")).toHaveLength(1000);
  });

  it(
    'at exit each unstarted coroutine is reported once, an awaited one never',
    () => {
      const program = `
      import { coroutine, gather, run } from ${JSON.stringify(new URL('../src/index.ts', import.meta.url).href)};
      const many = coroutine(function* many(i: number) { return i; });
      const coros = Array.from({ length: 3000 }, (_, i) => many(i));
      const main = coroutine(function* main() { return yield* gather(...coros.slice(1000)); });
      console.log((await run(main())).length);
      (globalThis as any).keep = coros;
    `;
      const r = runProgram(program);
      expect(r.stdout).toBe('2000\n');
      expect(r.stderr.match(/RuntimeWarning: coroutine 'many' was never awaited/g)).toHaveLength(1000);
    },
    SPAWN_TEST_TIMEOUT,
  );

  it(
    'coroutines still alive at exit are reported in Node warning format, synchronously',
    () => {
      const program = `
      import { coroutine } from ${JSON.stringify(new URL('../src/index.ts', import.meta.url).href)};
      const square = coroutine(function* square(n: number) { return n * n; });
      (globalThis as any).keep = square(10);
      console.log('done');
    `;
      const r = runProgram(program);
      expect(r.stdout).toBe('done\n');
      expect(r.stderr).toMatch(/^\(node:\d+\) RuntimeWarning: coroutine 'square' was never awaited\n/);
    },
    SPAWN_TEST_TIMEOUT,
  );

  it(
    'in debug mode the warning says where the coroutine was created',
    () => {
      const program = `
      import { coroutine } from ${JSON.stringify(new URL('../src/index.ts', import.meta.url).href)};
      import ${JSON.stringify(new URL('../src/debug.ts', import.meta.url).href)};
      import { coroutineDebug } from ${JSON.stringify(new URL('../src/coroutines.ts', import.meta.url).href)};
      coroutineDebug.originTrackingDepth = 5;
      const square = coroutine(function* square(n: number) { return n * n; });
      function makeOne() { return square(10); }
      (globalThis as any).keep = makeOne();
    `;
      const r = runProgram(program);
      expect(r.stderr).toContain("RuntimeWarning: coroutine 'square' was never awaited");
      expect(r.stderr).toContain('Coroutine created at (most recent call last)');
      expect(r.stderr).toMatch(/in makeOne/);
    },
    SPAWN_TEST_TIMEOUT,
  );
});

/** Tests that start a tsx process: its startup takes seconds on a loaded 2-core CI machine. */
const SPAWN_TEST_TIMEOUT = 60_000;

/** Run a TypeScript program as its own process (written to a temp file, as a user would run it). */
function runProgram(source: string): { stdout: string; stderr: string; status: number | null } {
  const dir = mkdtempSync(join(tmpdir(), 'tsyncio-'));
  const file = join(dir, 'program.mts');
  writeFileSync(file, source);
  try {
    const tsx = fileURLToPath(new URL('../node_modules/tsx/dist/cli.mjs', import.meta.url));
    const r = spawnSync(process.execPath, [tsx, file], { encoding: 'utf8', timeout: 30_000 });
    return { stdout: r.stdout, stderr: r.stderr, status: r.status };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
