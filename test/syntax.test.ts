import {
  type Awaitable,
  aclosing,
  aiter,
  anext,
  asyncFor,
  asyncGenerator,
  asyncWith,
  coroutine,
  createTask,
  type Emit,
  GeneratorExit,
  getRunningLoop,
  type Instruction,
  run,
  StopAsyncIteration,
  sleep,
} from 'tsyncio';
import { describe, expect, it } from 'vitest';
import { contextOf, runWith } from './structured_helpers.js';

/** A context manager that logs what happens to it; `suppress` is what aexit returns. */
function recorder(log: string[], suppress = false) {
  return {
    *aenter() {
      log.push('aenter');
      yield* sleep(0.1);
      return 'value';
    },
    *aexit(error: unknown) {
      yield* sleep(0.1);
      log.push(`aexit(${error === undefined ? 'none' : (error as Error).message})`);
      return suppress;
    },
  };
}

describe('asyncWith (async with)', () => {
  it('enters, runs the body with the aenter value, exits with no error, returns the body value', async () => {
    const log: string[] = [];
    const r = await runWith(
      coroutine(function* main() {
        const v = yield* asyncWith(recorder(log), function* (value) {
          log.push(`body(${value})`);
          yield* sleep(1);
          return 42;
        });
        log.push(`t=${getRunningLoop().time().toFixed(1)}`);
        return v;
      })(),
    );
    expect(r).toBe(42);
    expect(log).toEqual(['aenter', 'body(value)', 'aexit(none)', 't=1.2']);
  });

  it('passes the body error to aexit and re-raises it when aexit returns a falsy value', async () => {
    const log: string[] = [];
    const boom = new Error('boom');
    const main = coroutine(function* main() {
      yield* asyncWith(recorder(log), function* () {
        throw boom;
      });
    });
    await expect(runWith(main())).rejects.toBe(boom);
    expect(log).toEqual(['aenter', 'aexit(boom)']);
  });

  it('a truthy aexit result suppresses the error and asyncWith returns undefined', async () => {
    const log: string[] = [];
    const r = await runWith(
      coroutine(function* main() {
        return yield* asyncWith(recorder(log, true), function* () {
          yield* sleep(0);
          throw new Error('swallowed');
        });
      })(),
    );
    expect(r).toBeUndefined();
    expect(log).toEqual(['aenter', 'aexit(swallowed)']);
  });

  it('does not call aexit when aenter fails', async () => {
    const log: string[] = [];
    const cm = {
      *aenter(): Generator<Instruction, void> {
        throw new Error('enter failed');
      },
      *aexit() {
        log.push('aexit');
        return false;
      },
    };
    const main = coroutine(function* main() {
      yield* asyncWith(cm, function* () {
        log.push('body');
      });
    });
    await expect(runWith(main())).rejects.toThrow('enter failed');
    expect(log).toEqual([]);
  });

  it('an error raised by aexit while handling the body error gets it as context', async () => {
    const bodyError = new Error('body');
    const exitError = new Error('exit');
    const cm = {
      *aenter() {
        return 1;
      },
      *aexit(): Generator<Instruction, boolean> {
        throw exitError;
      },
    };
    const main = coroutine(function* main() {
      yield* asyncWith(cm, function* () {
        throw bodyError;
      });
    });
    await expect(runWith(main())).rejects.toBe(exitError);
    expect(contextOf(exitError)).toBe(bodyError);
  });

  it('raises TypeError naming the missing method, as Python does', () => {
    class A {}
    class B {
      *aenter() {
        return 1;
      }
    }
    class C {
      *aexit() {
        return false;
      }
    }
    const body = function* () {};
    expect(() => asyncWith(new A() as any, body)).toThrow(
      new TypeError(
        "'A' object does not support the asynchronous context manager protocol (missed aexit method)",
      ),
    );
    expect(() => asyncWith(new B() as any, body)).toThrow(
      new TypeError(
        "'B' object does not support the asynchronous context manager protocol (missed aexit method)",
      ),
    );
    expect(() => asyncWith(new C() as any, body)).toThrow(
      new TypeError(
        "'C' object does not support the asynchronous context manager protocol (missed aenter method)",
      ),
    );
    expect(() => asyncWith(5 as any, body)).toThrow(
      "'int' object does not support the asynchronous context manager protocol (missed aexit method)",
    );
    expect(() => asyncWith(null as any, body)).toThrow(TypeError);
    // One type-name helper everywhere: Python's names, as `new Condition(5)` and the queues say.
    expect(() => asyncWith(null as any, body)).toThrow(
      "'NoneType' object does not support the asynchronous context manager protocol (missed aexit method)",
    );
    expect(() => asyncWith({} as any, body)).toThrow("'dict' object does not support");
  });

  it('raises TypeError when aenter returns something that cannot be awaited', async () => {
    const cm = { aenter: () => 5 as any, aexit: () => [] as any };
    const main = coroutine(function* main() {
      yield* asyncWith(cm, function* () {});
    });
    await expect(runWith(main())).rejects.toThrow(
      new TypeError("'async with' received an object from aenter() that is not awaitable: int"),
    );
  });

  it('hands a cancellation of the body to aexit as CancelledError', async () => {
    const log: string[] = [];
    const main = coroutine(function* main() {
      const t = createTask(
        asyncWith(recorder(log), function* () {
          yield* sleep(10);
        }),
      );
      yield* sleep(1);
      t.cancel('stop');
      try {
        yield* t;
      } catch (e) {
        log.push(`${(e as Error).name}: ${(e as Error).message}`);
      }
      return t.cancelled();
    });
    expect(await runWith(main())).toBe(true);
    expect(log).toEqual(['aenter', 'aexit(stop)', 'CancelledError: stop']);
  });
});

describe('cancellation is thrown, never return()ed', () => {
  it('a finally that awaits runs to completion across several levels of yield* when cancelled', async () => {
    const log: string[] = [];
    const loop = () => getRunningLoop().time();
    const level3 = coroutine(function* level3() {
      try {
        yield* sleep(100);
      } finally {
        log.push(`level3 finally start t=${loop()}`);
        yield* sleep(1);
        log.push(`level3 finally end t=${loop()}`);
      }
    });
    const level2 = coroutine(function* level2() {
      try {
        yield* level3();
        log.push('level2 after level3 (must not run)');
      } finally {
        yield* sleep(2);
        log.push(`level2 finally end t=${loop()}`);
      }
    });
    const level1 = coroutine(function* level1() {
      try {
        yield* asyncWith(
          {
            *aenter() {
              return 0;
            },
            *aexit() {
              yield* sleep(0.5);
              log.push(`aexit t=${loop()}`);
              return false;
            },
          },
          function* () {
            yield* level2();
            log.push('level1 after level2 (must not run)');
          },
        );
      } finally {
        yield* sleep(0.25);
        log.push(`level1 finally end t=${loop()}`);
      }
    });
    const main = coroutine(function* main() {
      const t = createTask(level1());
      yield* sleep(10);
      t.cancel();
      try {
        yield* t;
      } catch (e) {
        log.push(`main caught ${(e as Error).name}`);
      }
      return [t.cancelled(), loop()];
    });
    expect(await runWith(main())).toEqual([true, 13.75]);
    expect(log).toEqual([
      'level3 finally start t=10',
      'level3 finally end t=11',
      'level2 finally end t=13',
      'aexit t=13.5',
      'level1 finally end t=13.75',
      'main caught CancelledError',
    ]);
  });
});

/** A hand-written async iterator over `items`, one loop iteration per item. */
class Countdown {
  constructor(private n: number) {}
  aiter() {
    return this;
  }
  *anext() {
    yield* sleep(1);
    if (this.n === 0) throw new StopAsyncIteration();
    return this.n--;
  }
}

describe('asyncFor, aiter and anext (async for)', () => {
  it('iterates until anext raises StopAsyncIteration', async () => {
    const seen: [number, number][] = [];
    await runWith(
      coroutine(function* main() {
        const r = yield* asyncFor(new Countdown(3), function* (n) {
          seen.push([n, getRunningLoop().time()]);
        });
        expect(r).toBeUndefined();
      })(),
    );
    expect(seen).toEqual([
      [3, 1],
      [2, 2],
      [1, 3],
    ]);
  });

  it('stops when the body returns a value, and returns it (break / return)', async () => {
    const seen: number[] = [];
    const r = await runWith(
      coroutine(function* main() {
        return yield* asyncFor(new Countdown(5), function* (n) {
          seen.push(n);
          if (n === 3) return `found ${n}`;
        });
      })(),
    );
    expect(r).toBe('found 3');
    expect(seen).toEqual([5, 4, 3]);
  });

  it('raises TypeError for objects without the protocol, as Python does', async () => {
    class A {}
    class D {
      aiter() {
        return this;
      }
    }
    expect(() => asyncFor(new A() as any, function* () {})).toThrow(
      new TypeError("'async for' requires an object with aiter method, got A"),
    );
    expect(() => asyncFor(5 as any, function* () {})).toThrow(
      new TypeError("'async for' requires an object with aiter method, got int"),
    );
    const main = coroutine(function* main() {
      yield* asyncFor(new D() as any, function* () {});
    });
    await expect(runWith(main())).rejects.toThrow(
      new TypeError("'async for' received an object from aiter that does not implement anext: D"),
    );
    expect(() => aiter(new A() as any)).toThrow(new TypeError("'A' object is not an async iterable"));
    expect(() => anext(new A() as any)).toThrow(new TypeError("'A' object is not an async iterator"));
  });

  it('anext(it, default) gives the default at the end instead of raising', async () => {
    const r = await runWith(
      coroutine(function* main() {
        const it = aiter(new Countdown(1));
        const a = yield* anext(it);
        const b = yield* anext(it, 'done');
        let c: unknown;
        try {
          yield* anext(it);
        } catch (e) {
          c = e;
        }
        return [a, b, c instanceof StopAsyncIteration];
      })(),
    );
    expect(r).toEqual([1, 'done', true]);
  });
});

const ticker = asyncGenerator(function* ticker(emit: Emit<number>, n: number) {
  for (let i = 0; i < n; i++) {
    yield* sleep(1);
    yield* emit(i);
  }
});

describe('asyncGenerator (async generators)', () => {
  it('awaits between items and is iterated by asyncFor', async () => {
    const seen: string[] = [];
    await runWith(
      coroutine(function* main() {
        const gen = ticker(3);
        expect(String(gen)).toMatch(/^<async_generator object ticker at 0x[0-9a-f]+>$/);
        expect(gen.state).toBe('created');
        yield* asyncFor(gen, function* (i) {
          seen.push(`${i}@${getRunningLoop().time()}`);
        });
        expect(gen.state).toBe('closed');
      })(),
    );
    expect(seen).toEqual(['0@1', '1@2', '2@3']);
  });

  it('emit() evaluates to what asend() sent; athrow() raises at the emit point', async () => {
    const echo = asyncGenerator(function* echo(emit: Emit<string, string>) {
      let received = yield* emit('ready');
      for (;;) {
        try {
          received = yield* emit(`got ${received}`);
        } catch (e) {
          received = yield* emit(`caught ${(e as Error).message}`);
        }
      }
    });
    const r = await runWith(
      coroutine(function* main() {
        const g = echo();
        let bad: unknown;
        try {
          yield* g.asend('x');
        } catch (e) {
          bad = e;
        }
        return [
          String(bad),
          yield* g.anext(),
          yield* g.asend('a'),
          yield* g.asend('b'),
          yield* g.athrow(new Error('oops')),
          yield* g.anext(),
        ];
      })(),
    );
    expect(r).toEqual([
      "TypeError: can't send non-None value to a just-started async generator",
      'ready',
      'got a',
      'got b',
      'caught oops',
      'got undefined',
    ]);
  });

  it('aclose() runs finally blocks that await, then the generator is exhausted', async () => {
    const log: string[] = [];
    const gen = asyncGenerator(function* gen(emit: Emit<number>) {
      try {
        yield* emit(1);
        yield* emit(2);
      } finally {
        log.push('finally start');
        yield* sleep(0.1);
        log.push('finally end');
      }
    });
    await runWith(
      coroutine(function* main() {
        const g = gen();
        log.push(`first ${yield* g.anext()}`);
        yield* g.aclose();
        log.push(`closed at ${getRunningLoop().time()}`);
        try {
          yield* g.anext();
        } catch (e) {
          log.push(`then ${(e as Error).name}`);
        }
        // athrow on a finished generator does nothing, like CPython 3.14
        log.push(`athrow ${yield* g.athrow(new Error('x'))}`);
        yield* g.aclose();
        // aclose on a generator that never started runs nothing
        yield* gen().aclose();
      })(),
    );
    expect(log).toEqual([
      'first 1',
      'finally start',
      'finally end',
      'closed at 0.1',
      'then StopAsyncIteration',
      'athrow undefined',
    ]);
  });

  it('reports misuse with CPython messages', async () => {
    const stubborn = asyncGenerator(function* stubborn(emit: Emit<number>) {
      try {
        yield* emit(1);
      } catch (e) {
        if (!(e instanceof GeneratorExit)) throw e;
        yield* emit(2);
      }
    });
    const slow = asyncGenerator(function* slow(emit: Emit<number>) {
      yield* sleep(1);
      yield* emit(1);
    });
    const stopper = asyncGenerator(function* stopper(emit: Emit<number>) {
      yield* emit(1);
      throw new StopAsyncIteration();
    });
    const r = await runWith(
      coroutine(function* main() {
        const out: string[] = [];
        const catching = function* (aw: Awaitable<unknown>) {
          try {
            yield* aw;
          } catch (e) {
            out.push(`${(e as Error).name}: ${(e as Error).message}`);
            return e;
          }
        };
        const b = stubborn();
        yield* b.anext();
        yield* catching(b.aclose());
        const s = slow();
        const t = createTask(s.anext());
        yield* sleep(0);
        expect(s.state).toBe('running');
        yield* catching(s.anext());
        yield* catching(s.aclose());
        out.push(`task got ${yield* t}`);
        const st = stopper();
        yield* st.anext();
        const e = yield* catching(st.anext());
        out.push(`cause ${((e as Error).cause as Error).name}`);
        return out;
      })(),
    );
    expect(r).toEqual([
      'RuntimeError: async generator ignored GeneratorExit',
      'RuntimeError: anext(): asynchronous generator is already running',
      'RuntimeError: aclose(): asynchronous generator is already running',
      'task got 1',
      'RuntimeError: async generator raised StopAsyncIteration',
      'cause StopAsyncIteration',
    ]);
  });

  it('registers with the loop on first iteration and unregisters when finished', async () => {
    await runWith(
      coroutine(function* main() {
        const loop = getRunningLoop();
        const g = ticker(2);
        expect(loop._asyncgens.has(g)).toBe(false);
        yield* g.anext();
        expect(loop._asyncgens.has(g)).toBe(true);
        yield* asyncFor(g, function* () {});
        expect(loop._asyncgens.has(g)).toBe(false);
      })(),
    );
  });

  it('unfinished generators are finalized at the end of run(), their awaiting finally included', async () => {
    const log: string[] = [];
    const gen = asyncGenerator(function* gen(emit: Emit<number>, name: string) {
      try {
        yield* emit(1);
        yield* emit(2);
      } finally {
        log.push(`${name} finally start`);
        yield* sleep(0.1);
        log.push(`${name} finally end`);
      }
    });
    const main = coroutine(function* main() {
      const a = gen('a');
      createTask(a.anext());
      const b = gen('b');
      log.push(`b gave ${yield* b.anext()}`);
      // Left early: Python's async for does not close the generator either.
      yield* asyncFor(gen('c'), function* () {
        return 'break';
      });
      log.push('main end');
    });
    await run(main(), { clock: 'virtual' });
    log.push('after run');
    // CPython 3.14 prints the same sequence for the equivalent program.
    expect(log).toEqual([
      'b gave 1',
      'main end',
      'a finally start',
      'b finally start',
      'c finally start',
      'a finally end',
      'b finally end',
      'c finally end',
      'after run',
    ]);
  });

  it('aclosing() closes a generator left early by asyncFor', async () => {
    const log: string[] = [];
    const gen = asyncGenerator(function* gen(emit: Emit<number>) {
      try {
        for (let i = 0; ; i++) yield* emit(i);
      } finally {
        yield* sleep(1);
        log.push('closed');
      }
    });
    await runWith(
      coroutine(function* main() {
        yield* asyncWith(aclosing(gen()), function* (g) {
          yield* asyncFor(g, function* (i) {
            if (i === 2) return true;
          });
        });
        log.push('after');
      })(),
    );
    expect(log).toEqual(['closed', 'after']);
  });

  it('a cancellation reaches the body at its await and ends the generator', async () => {
    const log: string[] = [];
    await runWith(
      coroutine(function* main() {
        const g = ticker(5);
        const t = createTask(
          asyncFor(g, function* (i) {
            log.push(`item ${i}`);
          }),
        );
        yield* sleep(2.5);
        t.cancel();
        try {
          yield* t;
        } catch (e) {
          log.push((e as Error).name);
        }
        log.push(g.state);
        try {
          yield* g.anext();
        } catch (e) {
          log.push((e as Error).name);
        }
      })(),
    );
    expect(log).toEqual(['item 0', 'item 1', 'CancelledError', 'closed', 'StopAsyncIteration']);
  });

  it('can be consumed with for await from ordinary async code while the loop runs', async () => {
    const seen: number[] = [];
    const main = coroutine(function* main() {
      const loop = getRunningLoop();
      const done = loop.createFuture<void>();
      const gen = ticker(3);
      (async () => {
        for await (const i of gen) {
          seen.push(i);
          if (i === 1) break;
        }
        loop.callSoonThreadsafe(() => done.setResult(undefined));
      })();
      yield* done;
      expect(gen.state).toBe('closed');
    });
    await run(main(), { clock: 'virtual' });
    expect(seen).toEqual([0, 1]);
  });

  it('rejects a function that is not a generator function', () => {
    expect(() => asyncGenerator((() => {}) as any)).toThrow(TypeError);
  });

  it('emit() outside an async generator body is a bad yield for the task', async () => {
    let stolen: Emit<number> | undefined;
    const thief = asyncGenerator(function* thief(emit: Emit<number>) {
      stolen = emit;
      yield* emit(0);
    });
    const r = await runWith(
      coroutine(function* main() {
        yield* thief().anext();
        try {
          yield* stolen!(1);
        } catch (e) {
          return `${(e as Error).name}: ${(e as Error).message}`;
        }
      })(),
    );
    expect(r).toBe(
      'RuntimeError: Task got bad yield: <emitted item (yield* emit(…) outside an asyncGenerator body)>',
    );
  });
});
