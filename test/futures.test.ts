/** Future behaviour ported from CPython's test_futures.py; messages are CPython 3.14's (C Future). */

import {
  CancelledError,
  ContextVar,
  copyContext,
  coroutine,
  createTask,
  EventLoop,
  Future,
  getRunningLoop,
  Handle,
  InvalidStateError,
  isFuture,
  RuntimeError,
  run,
  StopIteration,
  sleep,
} from 'tsyncio';
import { describe, expect, it } from 'vitest';
import { collectGarbage, withLoop } from './helpers.js';

describe('Future', () => {
  it('result() and exception() of a pending future raise InvalidStateError', () => {
    const loop = new EventLoop();
    const f = new Future({ loop });
    expect(() => f.result()).toThrow(new InvalidStateError('Result is not set.'));
    expect(() => f.exception()).toThrow(new InvalidStateError('Exception is not set.'));
    expect(f.done()).toBe(false);
    expect(String(f)).toBe('<Future pending>');
    loop.close();
  });

  it('setResult twice raises InvalidStateError; result is kept', () => {
    const loop = new EventLoop();
    const f = loop.createFuture<number>();
    f.setResult(1);
    expect(() => f.setResult(2)).toThrow(new InvalidStateError('invalid state'));
    expect(() => f.setException(new Error())).toThrow(new InvalidStateError('invalid state'));
    expect(f.result()).toBe(1);
    expect(f.exception()).toBeUndefined();
    expect(String(f)).toBe('<Future finished result=1>');
    loop.close();
  });

  it('test_cancel: result()/exception() of a cancelled future raise CancelledError with the message', () => {
    const loop = new EventLoop();
    const f = loop.createFuture();
    expect(f.cancel('why')).toBe(true);
    expect(f.cancelled()).toBe(true);
    expect(f.done()).toBe(true);
    expect(f.cancel()).toBe(false);
    expect(() => f.result()).toThrow(CancelledError);
    expect(() => f.exception()).toThrow(new CancelledError('why'));
    expect(() => f.setResult(1)).toThrow(InvalidStateError);
    expect(String(f)).toBe('<Future cancelled>');
    loop.close();
  });

  it('test_exception_class: an Error class is instantiated; StopIteration becomes RuntimeError', () => {
    const loop = new EventLoop();
    const f = loop.createFuture();
    f.setException(RuntimeError);
    expect(f.exception()).toBeInstanceOf(RuntimeError);
    const g = loop.createFuture();
    const stop = new StopIteration(1);
    g.setException(stop);
    const exc = g.exception() as Error;
    expect(exc).toBeInstanceOf(RuntimeError);
    expect(exc.message).toBe(
      'StopIteration interacts badly with generators and cannot be raised into a Future',
    );
    expect(exc.cause).toBe(stop);
    loop.close();
  });

  it('test_callbacks_invoked_on_set_result: callbacks are scheduled with callSoon, in order, never synchronously', async () => {
    const order = await withLoop(async (loop) => {
      const order: unknown[] = [];
      const main = coroutine(function* main() {
        const f = loop.createFuture();
        f.addDoneCallback(() => order.push(1));
        f.addDoneCallback(() => order.push(2));
        loop.callSoon(() => order.push('soon-before'));
        f.setResult(undefined);
        order.push('sync');
        loop.callSoon(() => order.push('soon-after'));
        yield* sleep(0);
      });
      await loop.runUntilComplete(main());
      return order;
    });
    expect(order).toEqual(['sync', 'soon-before', 1, 2, 'soon-after']);
  });

  it('addDoneCallback on a done future schedules the callback; removeDoneCallback counts removals', async () => {
    await withLoop(async (loop) => {
      const f = loop.createFuture<number>();
      const calls: unknown[] = [];
      const cb = (fut: Future<number>) => calls.push(['cb', fut.result()]);
      const other = () => calls.push('other');
      f.addDoneCallback(cb);
      f.addDoneCallback(other);
      f.addDoneCallback(cb);
      expect(f.removeDoneCallback(cb)).toBe(2);
      expect(f.removeDoneCallback(cb)).toBe(0);
      f.setResult(3);
      f.addDoneCallback(cb);
      expect(calls).toEqual([]);
      await loop.runUntilComplete(sleep(0));
      expect(calls).toEqual(['other', ['cb', 3]]);
      expect(() => f.addDoneCallback(42 as any)).toThrow(TypeError);
    });
  });

  it('Futures are PromiseLike; the native promise exists only once then() is called', async () => {
    const loop = new EventLoop();
    const f = loop.createFuture<number>();
    expect(f._promise).toBeUndefined();
    f.setException(new Error('nobody awaits me natively'));
    // No unhandled rejection can happen: no promise exists.
    expect(f._promise).toBeUndefined();
    await expect(f).rejects.toThrow('nobody awaits me natively');
    const g = loop.createFuture<string>();
    g.setResult('ok');
    expect(await g).toBe('ok');
    loop.close();
  });

  it('await task works from ordinary async code while run() drives the loop', async () => {
    const seen: number[] = [];
    const main = coroutine(function* main() {
      const loop = getRunningLoop();
      const f = loop.createFuture<number>();
      void (async () => {
        seen.push(await f);
      })();
      loop.callLater(0.01, () => f.setResult(7));
      yield* sleep(0.05);
    });
    await run(main());
    expect(seen).toEqual([7]);
  });

  it('isFuture', () => {
    const loop = new EventLoop();
    expect(isFuture(loop.createFuture())).toBe(true);
    expect(isFuture(Promise.resolve())).toBe(false);
    expect(isFuture({})).toBe(false);
    loop.close();
  });

  it('Future() without a loop outside any loop raises RuntimeError', () => {
    expect(() => new Future()).toThrow(RuntimeError);
  });
});

describe('exception was never retrieved', () => {
  it('test_tb_logger_exception_unretrieved: reported when the loop closes (the future still alive)', () => {
    const loop = new EventLoop();
    const reports: any[] = [];
    loop.setExceptionHandler((_l, ctx) => reports.push(ctx));
    const f = loop.createFuture();
    const err = new Error('lost');
    f.setException(err);
    loop.close();
    expect(reports).toHaveLength(1);
    expect(reports[0].message).toBe('Future exception was never retrieved');
    expect(reports[0].exception).toBe(err);
    expect(reports[0].future).toBe(f);
  });

  it('reported when the failed future is garbage-collected', async () => {
    const loop = new EventLoop();
    const reports: any[] = [];
    loop.setExceptionHandler((_l, ctx) => reports.push(ctx));
    (() => {
      loop.createFuture().setException(new Error('collected'));
    })();
    await collectGarbage();
    expect(reports.map((r) => [r.message, r.exception?.message, 'future' in r])).toEqual([
      ['Future exception was never retrieved', 'collected', false],
    ]);
    loop.close();
    expect(reports).toHaveLength(1);
  });

  it('not reported for retrieved exceptions, unretrieved results or cancelled futures', () => {
    const loop = new EventLoop();
    const reports: any[] = [];
    loop.setExceptionHandler((_l, ctx) => reports.push(ctx));
    const a = loop.createFuture();
    a.setException(new Error('a'));
    a.exception();
    const b = loop.createFuture();
    b.setException(new Error('b'));
    expect(() => b.result()).toThrow('b');
    loop.createFuture().setResult(1);
    loop.createFuture().cancel();
    loop.close();
    expect(reports).toEqual([]);
  });

  it('cancel() on a failed future or task silences the report, also when it is collected later', async () => {
    const loop = new EventLoop();
    const reports: any[] = [];
    loop.setExceptionHandler((_l, ctx) => reports.push(ctx));
    const boom = coroutine(function* boom() {
      throw new Error('task failed');
    });
    await (() => {
      const f = loop.createFuture();
      f.setException(new Error('future failed'));
      expect(f.cancel()).toBe(false);
      const t = loop.createTask(boom());
      return loop.runUntilComplete(sleep(0)).then(() => {
        expect(t.done()).toBe(true);
        expect(t.cancel()).toBe(false);
      });
    })();
    await collectGarbage();
    loop.close();
    expect(reports).toEqual([]);
  });

  it('a custom exception handler runs in the Context of the task, future or handle reported (gh-96704)', async () => {
    const v = new ContextVar('v', { default: 'outer' });
    const seen: [string, unknown][] = [];
    const loop = new EventLoop();
    loop.setExceptionHandler((_l, ctx) => {
      seen.push([ctx.message, v.get()]);
    });
    const boom = coroutine(function* boom() {
      v.set('in-task');
      throw new Error('x');
    });
    const cb = () => {
      v.set('in-callback');
      throw new Error('y');
    };
    await (async () => {
      loop.createTask(boom());
      loop.callSoon(cb);
      await loop.runUntilComplete(sleep(0));
    })();
    await collectGarbage(); // the task's report ("never retrieved") comes from the collector
    const other = copyContext();
    other.run(() => v.set('handle-ctx'));
    const handle = new Handle(() => {}, null, loop, other);
    loop.callExceptionHandler({ message: 'manual', handle });
    const fut = loop.createFuture(); // a plain Future has no context: the current one
    loop.callExceptionHandler({ message: 'plain future', future: fut, handle });
    loop.close();
    expect(seen).toEqual([
      ['Exception in callback cb()', 'in-callback'],
      ['Task exception was never retrieved', 'in-task'],
      ['manual', 'handle-ctx'],
      ['plain future', 'outer'],
    ]);
  });

  it('Task exception was never retrieved', async () => {
    const reports: any[] = [];
    const boom = coroutine(function* boom() {
      throw new Error('boom');
    });
    const main = coroutine(function* main() {
      getRunningLoop().setExceptionHandler((_l, ctx) => reports.push(ctx));
      (globalThis as any).keepTask = createTask(boom());
      yield* sleep(0);
    });
    await run(main());
    delete (globalThis as any).keepTask;
    expect(reports.map((r) => r.message)).toEqual(['Task exception was never retrieved']);
  });
});

describe('the class name in reprs', () => {
  it("a subclass shows its own name, not the base class's (as CPython's self.__class__.__name__)", () =>
    withLoop(async (loop) => {
      class MyFuture<T> extends Future<T> {}
      expect(String(new MyFuture({ loop }))).toBe('<MyFuture pending>');
      expect(String(new Future({ loop }))).toBe('<Future pending>');
    }));
});
