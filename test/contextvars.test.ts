/**
 * Context variables: CPython's Lib/test/test_context.py (ContextTest — the parts that are not about the
 * HAMT or Python's calling conventions) and the context tests of test_asyncio/test_tasks.py
 * (test_context_1 … _6). Messages and orderings checked against CPython 3.14.
 */
import {
  Context,
  ContextVar,
  copyContext,
  coroutine,
  createTask,
  currentTask,
  eagerTaskFactory,
  gather,
  getRunningLoop,
  KeyError,
  LookupError,
  RuntimeError,
  run,
  runSync,
  sleep,
  Token,
  ValueError,
} from 'tsyncio';
import { describe, expect, it } from 'vitest';
import { thrown, withLoop } from './helpers.js';

const VAR_REPR = /^<ContextVar name='c' at 0x[0-9a-f]+>$/;

describe('ContextVar, Token, Context (test_context.py)', () => {
  it('a ContextVar needs a str name, which is read-only (test_context_var_new_1)', () => {
    const e = thrown(() => new ContextVar(1 as any));
    expect(e).toBeInstanceOf(TypeError);
    expect(e.message).toBe('context variable name must be a str');
    const c = new ContextVar('aaa');
    expect(c.name).toBe('aaa');
    expect(() => {
      (c as any).name = 'bbb';
    }).toThrow(TypeError);
    expect(c.name).toBe('aaa');
  });

  it('reprs show the name, the default and the used state (test_context_var_repr_1)', () =>
    new Context().run(() => {
      expect(String(new ContextVar('c'))).toMatch(VAR_REPR);
      expect(String(new ContextVar('d', { default: 123 }))).toMatch(
        /^<ContextVar name='d' default=123 at 0x[0-9a-f]+>$/,
      );
      // A default that contains the variable does not recurse forever.
      const lst: unknown[] = [];
      const c = new ContextVar('a', { default: lst });
      lst.push(c);
      expect(String(c)).toContain('...');
      const t = c.set([]);
      expect(String(t)).toContain(String(c));
      expect(String(t)).not.toContain(' used ');
      c.reset(t);
      expect(String(t)).toMatch(/^<Token used var=<ContextVar name='a' .* at 0x[0-9a-f]+>$/);
    }));

  it('Context lookups need a ContextVar key (test_context_typerrors_1)', () => {
    const ctx = new Context();
    for (const f of [() => ctx.getItem(1 as any), () => ctx.has(1 as any), () => ctx.get(1 as any)]) {
      const e = thrown(f);
      expect(e).toBeInstanceOf(TypeError);
      expect(e.message).toBe('a ContextVar key was expected, got 1');
    }
  });

  it('copyContext() returns a Context (test_context_get_context_1)', () => {
    expect(copyContext()).toBeInstanceOf(Context);
  });

  it('run() passes arguments and the return value; errors propagate (test_context_run_2, _3)', () => {
    const ctx = new Context();
    expect(ctx.run((a: number, b: string) => [a, b], 1, 'x')).toEqual([1, 'x']);
    expect(() =>
      ctx.run(() => {
        throw new ValueError('boom');
      }),
    ).toThrow(ValueError);
  });

  it('run() isolates: sets land in the run context, nested runs see their own (test_context_run_4)', () =>
    new Context().run(() => {
      const ctx1 = new Context();
      const ctx2 = new Context();
      const v = new ContextVar<string>('var');
      const returned = ctx1.run(() => {
        expect(v.get(undefined)).toBeUndefined();
        v.set('spam');
        ctx2.run(() => expect(v.get(undefined)).toBeUndefined());
        expect(v.get(undefined)).toBe('spam');
        const cur = copyContext();
        expect(cur.size).toBe(1);
        expect(cur.getItem(v)).toBe('spam');
        return cur;
      });
      expect(returned.getItem(v)).toBe('spam');
      expect(returned.has(v)).toBe(true);
      expect(ctx1.getItem(v)).toBe('spam');
      expect(v.get(undefined)).toBeUndefined();
    }));

  it('a set before an error stays in the run context only (test_context_run_5)', () => {
    const ctx = new Context();
    const v = new ContextVar<string>('var');
    expect(() =>
      ctx.run(() => {
        v.set('spam');
        throw new RangeError('x');
      }),
    ).toThrow(RangeError);
    expect(v.get(undefined)).toBeUndefined();
    expect(ctx.get(v)).toBe('spam');
  });

  it('the default applies until set; ctx.get sees the set (test_context_run_6)', () => {
    const ctx = new Context();
    const c = new ContextVar('a', { default: 0 });
    ctx.run(() => {
      expect(c.get()).toBe(0);
      expect(ctx.get(c)).toBeUndefined();
      c.set(42);
      expect(c.get()).toBe(42);
      expect(ctx.get(c)).toBe(42);
    });
  });

  it('run() refuses to re-enter a running context (test_context_run_7)', () => {
    const ctx = new Context();
    let err: any;
    ctx.run(() => {
      err = thrown(() => ctx.run(() => 1));
    });
    expect(err).toBeInstanceOf(RuntimeError);
    expect(err.message).toMatch(/^cannot enter context: <Context object at 0x[0-9a-f]+> is already entered$/);
    // The failed attempt left the context usable.
    expect(ctx.run(() => 2)).toBe(2);
  });

  it('get/set/reset and Token errors with Python messages (test_context_getset_1)', () =>
    new Context().run(() => {
      const c = new ContextVar<number | string>('c');
      let e = thrown(() => c.get());
      expect(e).toBeInstanceOf(LookupError);
      expect(e.message).toMatch(VAR_REPR);
      expect(c.get(undefined)).toBeUndefined();

      const t0 = c.set(42);
      expect(c.get()).toBe(42);
      expect(t0.oldValue).toBe(Token.MISSING);
      expect(t0.var).toBe(c);

      const t = c.set('spam');
      expect(t.oldValue).toBe(42);
      c.reset(t);
      expect(c.get()).toBe(42);

      c.set('spam2');
      e = thrown(() => c.reset(t));
      expect(e).toBeInstanceOf(RuntimeError);
      expect(e.message).toMatch(
        /^<Token used var=<ContextVar name='c' at 0x[0-9a-f]+> at 0x[0-9a-f]+> has already been used once$/,
      );
      expect(c.get()).toBe('spam2');

      const ctx1 = copyContext();
      expect(ctx1.has(c)).toBe(true);
      c.reset(t0);
      expect(() => c.reset(t0)).toThrow(RuntimeError);
      expect(c.get(undefined)).toBeUndefined();

      // The copy taken before keeps its value.
      expect(ctx1.getItem(c)).toBe('spam2');
      expect(ctx1.get(c, 'aa')).toBe('spam2');
      expect(ctx1.size).toBe(1);
      expect(ctx1.items()).toEqual([[c, 'spam2']]);
      expect(ctx1.values()).toEqual(['spam2']);
      expect(ctx1.keys()).toEqual([c]);
      expect([...ctx1]).toEqual([c]);

      const ctx2 = copyContext();
      expect(ctx2.has(c)).toBe(false);
      e = thrown(() => ctx2.getItem(c));
      expect(e).toBeInstanceOf(KeyError);
      expect(ctx2.get(c, 'aa')).toBe('aa');
      expect(ctx2.size).toBe(0);
    }));

  it('reset refuses a token of another variable, a non-token, another context (test_context_getset_2, _4)', () => {
    const v1 = new ContextVar<number>('v1');
    const v2 = new ContextVar<number>('v2');
    new Context().run(() => {
      const t1 = v1.set(42);
      let e = thrown(() => v2.reset(t1));
      expect(e).toBeInstanceOf(ValueError);
      expect(e.message).toMatch(/ was created by a different ContextVar$/);
      e = thrown(() => v1.reset(1 as any));
      expect(e).toBeInstanceOf(TypeError);
      expect(e.message).toBe('expected an instance of Token, got 1');
    });
    const c = new ContextVar('c', { default: 42 });
    const ctx = new Context();
    const tok = ctx.run(() => c.set(1));
    const e = thrown(() => c.reset(tok));
    expect(e).toBeInstanceOf(ValueError);
    expect(e.message).toMatch(
      /^<Token var=<ContextVar name='c' default=42 at 0x[0-9a-f]+> at 0x[0-9a-f]+> was created in a different Context$/,
    );
  });

  it('a set inside run shows in the context, a reset removes it (test_context_getset_3)', () => {
    const c = new ContextVar('c', { default: 42 });
    const ctx = new Context();
    ctx.run(() => {
      expect(c.get()).toBe(42);
      expect(() => ctx.getItem(c)).toThrow(KeyError);
      expect(ctx.get(c)).toBeUndefined();
      expect(ctx.get(c, 'spam')).toBe('spam');
      expect(ctx.keys()).toEqual([]);
      const t = c.set(1);
      expect(ctx.keys()).toEqual([c]);
      expect(ctx.getItem(c)).toBe(1);
      c.reset(t);
      expect(ctx.keys()).toEqual([]);
    });
  });

  it('values are shared, not copied; the binding is per context (test_context_getset_5)', () =>
    new Context().run(() => {
      const c = new ContextVar<number[]>('c', { default: [] });
      c.set([]);
      copyContext().run(() => {
        c.set([]);
        c.get().push(42);
        expect(c.get()).toEqual([42]);
      });
      expect(c.get()).toEqual([]);
    }));

  it('copy() is a snapshot: later sets on either side are independent (test_context_copy_1)', () => {
    const ctx1 = new Context();
    const c = new ContextVar('c', { default: 42 });
    ctx1.run(() => {
      c.set(10);
      const ctx2 = ctx1.copy();
      expect(ctx2.getItem(c)).toBe(10);
      c.set(20);
      expect(ctx1.getItem(c)).toBe(20);
      expect(ctx2.getItem(c)).toBe(10);
      ctx2.run(() => {
        expect(c.get()).toBe(10);
        c.set(30);
        expect(c.get()).toBe(30);
      });
      expect(ctx1.getItem(c)).toBe(20);
      expect(ctx2.getItem(c)).toBe(30);
    });
  });

  it('a Token resets on dispose (Python 3.14: `with var.set(x):`)', () =>
    new Context().run(() => {
      const d = new ContextVar('d', { default: 123 });
      const tk = d.set(7);
      expect(d.get()).toBe(7);
      tk[Symbol.dispose]();
      expect(d.get()).toBe(123);
    }));
});

describe('contexts of tasks and callbacks (test_tasks.py)', () => {
  it('a task runs in a copy of its creator context; its sets do not leak back (test_context_1)', () =>
    withLoop(async (loop) => {
      const cvar = new ContextVar('cvar', { default: 'nope' });
      const sub = coroutine(function* sub() {
        yield* sleep(0.01);
        expect(cvar.get()).toBe('nope');
        cvar.set('something else');
      });
      const main = coroutine(function* main() {
        expect(cvar.get()).toBe('nope');
        const subtask = createTask(sub());
        cvar.set('yes');
        expect(cvar.get()).toBe('yes');
        yield* subtask;
        expect(cvar.get()).toBe('yes');
        return 'done';
      });
      expect(await loop.runUntilComplete(main())).toBe('done');
    }));

  it('done callbacks run in the registering context; their sets do not pollute the task (test_context_2)', () =>
    withLoop(async (loop) => {
      const cvar = new ContextVar('cvar', { default: 'nope' });
      const main = coroutine(function* main() {
        const futOnDone = (): void => {
          cvar.set('something else');
        };
        expect(cvar.get()).toBe('nope');
        for (let j = 0; j < 2; j++) {
          const fut = loop.createFuture();
          fut.addDoneCallback(futOnDone);
          cvar.set(`yes${j}`);
          loop.callSoon(() => fut.setResult(undefined));
          yield* fut;
          expect(cvar.get()).toBe(`yes${j}`);
          for (let i = 0; i < 3; i++) {
            cvar.set(`yes${i}-${j}`);
            yield* sleep(0.001);
            expect(cvar.get()).toBe(`yes${i}-${j}`);
          }
        }
      });
      await loop.runUntilComplete(main());
      expect(cvar.get()).toBe('nope');
    }));

  it('100 concurrent tasks each keep their own value (test_context_3)', () =>
    withLoop(async (loop) => {
      const cvar = new ContextVar('cvar', { default: -1 });
      let seed = 12345;
      const random = (): number => {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        return seed / 2 ** 31;
      };
      const sub = coroutine(function* sub(num: number) {
        for (let i = 0; i < 10; i++) {
          cvar.set(num + i);
          yield* sleep(0.001 + random() * 0.049);
          expect(cvar.get()).toBe(num + i);
        }
      });
      const main = coroutine(function* main() {
        const tasks = [];
        for (let i = 0; i < 100; i++) tasks.push(loop.createTask(sub(Math.floor(random() * 11))));
        yield* gather(...tasks);
      });
      await loop.runUntilComplete(main());
      expect(cvar.get()).toBe(-1);
    }));

  for (const [name, make] of [
    ['test_context_4 (Task constructor)', 'ctor'],
    ['test_context_5 (createTask)', 'createTask'],
    ['test_context_6 (loop.createTask)', 'loop'],
  ] as const) {
    it(`an explicit context is shared, and the tasks' sets persist in it: ${name}`, () =>
      withLoop(async (loop) => {
        const cvar = new ContextVar<number>('cvar');
        const coro = coroutine(function* coro(val: number) {
          yield* sleep(0);
          cvar.set(val);
        });
        const main = coroutine(function* main() {
          const ret: (number | undefined)[] = [];
          const ctx = copyContext();
          ret.push(ctx.get(cvar));
          for (const val of [1, 2]) {
            const t =
              make === 'createTask'
                ? createTask(coro(val), { context: ctx })
                : make === 'loop'
                  ? getRunningLoop().createTask(coro(val), { context: ctx })
                  : new (loop.createTask(sleep(0)).constructor as any)(coro(val), { loop, context: ctx });
            yield* t;
            ret.push(ctx.get(cvar));
          }
          return ret;
        });
        expect(await loop.runUntilComplete(main())).toEqual([undefined, 1, 2]);
      }));
  }

  it('getContext() is the context given to the task (test_get_context)', () =>
    withLoop(async (loop) => {
      const context = copyContext();
      const task = loop.createTask(sleep(0), { context });
      await loop.runUntilComplete(task);
      expect(task.getContext()).toBe(context);
    }));

  it('callSoon, callLater and done callbacks see the context of their registration (checked against CPython 3.14)', () => {
    const v = new ContextVar('v', { default: 'none' });
    const seen: [string, string][] = [];
    const main = coroutine(function* main() {
      const loop = getRunningLoop();
      v.set('main');
      loop.callSoon(() => seen.push(['soon', v.get()]));
      const fut = loop.createFuture();
      fut.addDoneCallback(() => seen.push(['done', v.get()]));
      const ctx2 = copyContext();
      ctx2.run(() => v.set('ctx2'));
      fut.addDoneCallback(() => seen.push(['done ctx2', v.get()]), { context: ctx2 });
      ctx2.run(() => loop.callSoon(() => seen.push(['soon ctx2', v.get()])));
      loop.callLater(0.1, () => seen.push(['later', v.get()]));
      v.set('changed');
      fut.setResult(1);
      const child = coroutine(function* child() {
        seen.push(['child', v.get()]);
        v.set('child');
      });
      createTask(child());
      yield* sleep(0.2);
      seen.push(['main', v.get()]);
      loop.callSoon(() => {
        v.set('in-callback');
      });
      yield* sleep(0);
      seen.push(['main after cb', v.get()]);
    });
    runSync(main(), { clock: 'virtual' });
    // CPython 3.14 (call_soon(..., context=ctx2) for 'soon ctx2'):
    expect(seen).toEqual([
      ['soon', 'main'],
      ['soon ctx2', 'ctx2'],
      ['done', 'main'],
      ['done ctx2', 'ctx2'],
      ['child', 'changed'],
      ['later', 'main'],
      ['main', 'changed'],
      ['main after cb', 'changed'],
    ]);
    // Nothing leaked into the context of the code that called runSync.
    expect(v.get()).toBe('none');
  });

  it('two tasks may share a context as long as their steps do not overlap (CPython: s1 s1)', () => {
    const v = new ContextVar('v', { default: 'none' });
    const main = coroutine(function* main() {
      const shared = copyContext();
      const setter = coroutine(function* setter(val: string) {
        yield* sleep(0);
        v.set(val);
      });
      yield* createTask(setter('s1'), { context: shared });
      expect([shared.get(v), v.get()]).toEqual(['s1', 'none']);
      const sleeper = coroutine(function* sleeper() {
        yield* sleep(0.1);
        return v.get();
      });
      const t1 = createTask(sleeper(), { context: shared });
      const t2 = createTask(sleeper(), { context: shared });
      return [yield* t1, yield* t2];
    });
    expect(runSync(main(), { clock: 'virtual' })).toEqual(['s1', 's1']);
  });
});

describe('tasks created from the same context (they share one snapshot until one needs its own)', () => {
  // Checked against CPython 3.14 (py314): the printed values are CPython's.
  it('siblings, the parent and an outside run() each see their own values', async () => {
    const v = new ContextVar<string>('v', { default: 'd' });
    const out: string[] = [];
    const child = coroutine(function* child(name: string) {
      out.push(`${name} start ${v.get()}`);
      yield* sleep(0);
      out.push(`${name} after1 ${v.get()}`);
      if (name === 'a') {
        v.set('a-set');
        out.push(`${name} own ${currentTask()!.getContext().get(v)}`);
        const tok = v.set('a-2');
        v.reset(tok);
      }
      yield* sleep(0);
      out.push(`${name} after2 ${v.get()}`);
      return v.get();
    });
    const result = await run(
      coroutine(function* main() {
        v.set('parent');
        const a = createTask(child('a'));
        const b = createTask(child('b'));
        const c = createTask(child('c'));
        const d = createTask(child('d'));
        v.set('parent2');
        const first = a.getContext();
        out.push(`${first === b.getContext()} ${first === a.getContext()}`);
        yield* sleep(0);
        // Into b's and d's contexts from outside while they are suspended (d's was never asked for before).
        b.getContext().run(() => v.set('from-outside'));
        d.getContext().run(() => v.set('d-outside'));
        const results = yield* gather(a, b, c, d);
        out.push(
          [a, b, c, d].map((t) => t.getContext().get(v)).join(' ') + ` ${v.get()}`,
          `distinct ${new Set([a, b, c, d].map((t) => t.getContext())).size}`,
        );
        return results;
      })(),
    );
    expect(result).toEqual(['a-set', 'from-outside', 'parent', 'd-outside']);
    expect(out).toEqual([
      'false true',
      'a start parent',
      'b start parent',
      'c start parent',
      'd start parent',
      'a after1 parent',
      'a own a-set',
      'b after1 from-outside',
      'c after1 parent',
      'd after1 d-outside',
      'a after2 a-set',
      'b after2 from-outside',
      'c after2 parent',
      'd after2 d-outside',
      'a-set from-outside parent d-outside parent2',
      'distinct 4',
    ]);
  });

  it('a value set in a task that then fails or is cancelled stays in its context', async () => {
    const v = new ContextVar<string>('v', { default: 'd' });
    const failing = coroutine(function* failing() {
      yield* sleep(0);
      v.set('failed-with');
      throw new ValueError('boom');
    });
    const parked = coroutine(function* parked() {
      v.set('parked-with');
      yield* sleep(3600);
    });
    const got = await run(
      coroutine(function* main() {
        const f = createTask(failing());
        const p = createTask(parked());
        const g = createTask(parked());
        yield* sleep(0);
        yield* sleep(0);
        p.cancel();
        g.cancel();
        yield* gather(f, p, g, { returnExceptions: true });
        return [f.getContext().get(v), p.getContext().get(v), v.get()];
      })(),
    );
    expect(got).toEqual(['failed-with', 'parked-with', 'd']);
  });

  it('an eager task and the task that creates it do not share an entered context', async () => {
    const v = new ContextVar<string>('v', { default: 'd' });
    const got = await run(
      coroutine(function* main() {
        getRunningLoop().setTaskFactory(eagerTaskFactory);
        v.set('outer');
        const t = createTask(
          coroutine(function* inner() {
            v.set('inner');
            yield* sleep(0);
            return v.get();
          })(),
        );
        return [yield* t, v.get()];
      })(),
    );
    expect(got).toEqual(['inner', 'outer']);
  });
});
