/**
 * Async functions where callbacks go (issue 13 §3). An `async function` is JavaScript's coroutine
 * function: passing one where a callback goes is refused at the call with TypeError (CPython refuses
 * coroutine functions in call_soon); a plain function that returns a promise has that promise's rejection
 * reported to the exception handler instead of ending the process as an unhandled rejection. A server's
 * client_connected_cb that returns a promise is a coroutine handler.
 */
import {
  Condition,
  coroutine,
  createTask,
  EventLoop,
  type ExceptionContext,
  getRunningLoop,
  logger,
  run,
  sleep,
} from 'tsyncio';
import { openConnection, type Server, type StreamReader, type StreamWriter, startServer } from 'tsyncio/node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { thrown } from './helpers.js';

let unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason);
};
beforeEach(() => {
  unhandled = [];
  process.on('unhandledRejection', onUnhandled);
});
afterEach(() => {
  process.off('unhandledRejection', onUnhandled);
});

/** Let pending promise reactions and a host turn run. */
const hostTurn = (): Promise<void> => new Promise((r) => setTimeout(r, 5));

describe('async functions are refused where callbacks go', () => {
  const asyncFn = async (): Promise<void> => {
    throw new Error('boom');
  };

  it.each([
    ['callSoon', (l: EventLoop) => l.callSoon(asyncFn)],
    ['callSoonThreadsafe', (l: EventLoop) => l.callSoonThreadsafe(asyncFn)],
    ['callLater', (l: EventLoop) => l.callLater(1, asyncFn)],
    ['callAt', (l: EventLoop) => l.callAt(1, asyncFn)],
    ['addDoneCallback', (l: EventLoop) => l.createFuture().addDoneCallback(asyncFn)],
    ['setExceptionHandler', (l: EventLoop) => l.setExceptionHandler(asyncFn)],
    ['addSignalHandler', (l: EventLoop) => l.addSignalHandler('SIGUSR2', asyncFn)],
  ])('%s(async () => …) raises TypeError at the call', (method, call) => {
    const loop = new EventLoop();
    try {
      const e = thrown(() => call(loop));
      expect(e).toBeInstanceOf(TypeError);
      // callLater reports callAt, as CPython's call_later reports call_at.
      const named = method === 'callLater' ? 'callAt' : method;
      expect(e.message).toMatch(new RegExp(`^coroutines cannot be used with ${named}\\(\\)`));
    } finally {
      loop.close();
    }
  });
});

describe('plain functions returning a promise: the rejection is reported, never unhandled', () => {
  it('callSoon / callLater callbacks', async () => {
    const loop = new EventLoop({ clock: 'virtual' });
    const reports: ExceptionContext[] = [];
    loop.setExceptionHandler((_l, ctx) => {
      reports.push(ctx);
    });
    function later(): Promise<never> {
      return Promise.reject(new Error('later failed'));
    }
    function soon(): Promise<never> {
      return Promise.reject(new Error('soon failed'));
    }
    loop.callSoon(soon);
    loop.callLater(0.5, later);
    loop.callLater(1, () => loop.stop());
    await loop.runForever();
    await hostTurn();
    loop.close();
    expect(reports.map((r) => [r.message, (r.exception as Error).message])).toEqual([
      ['Exception in callback soon()', 'soon failed'],
      ['Exception in callback later()', 'later failed'],
    ]);
    expect(reports[1]!.handle).toBeDefined();
    expect(unhandled).toEqual([]);
  });

  it('addDoneCallback callbacks', async () => {
    const reports: ExceptionContext[] = [];
    const main = coroutine(function* main() {
      getRunningLoop().setExceptionHandler((_l, ctx) => {
        reports.push(ctx);
      });
      const fut = getRunningLoop().createFuture<number>();
      fut.addDoneCallback((f) => Promise.reject(new Error(`done ${f.result()}`)));
      fut.setResult(1);
      yield* sleep(0);
      yield* sleep(0.01);
    });
    await run(main());
    await hostTurn();
    expect(reports.map((r) => (r.exception as Error).message)).toEqual(['done 1']);
    expect(unhandled).toEqual([]);
  });

  it("an exception handler's rejected promise is logged as an error in the handler", async () => {
    const logged: string[] = [];
    const sink = logger.sink;
    logger.sink = (_level, message) => logged.push(message);
    try {
      const loop = new EventLoop();
      loop.setExceptionHandler(() => Promise.reject(new Error('handler failed')));
      loop.callSoon(() => {
        throw new Error('callback failed');
      });
      loop.callSoon(() => loop.stop());
      await loop.runForever();
      await hostTurn();
      loop.close();
    } finally {
      logger.sink = sink;
    }
    expect(logged.some((m) => m.startsWith('Unhandled error in exception handler'))).toBe(true);
    expect(logged.join('\n')).toContain('handler failed');
    expect(unhandled).toEqual([]);
  });

  it('a callback returning a Task is left alone (the Task reports its own error once)', async () => {
    const reports: ExceptionContext[] = [];
    const failing = coroutine(function* failing() {
      yield* sleep(0);
      throw new Error('task failed');
    });
    const main = coroutine(function* main() {
      const loop = getRunningLoop();
      loop.setExceptionHandler((_l, ctx) => {
        reports.push(ctx);
      });
      let task: unknown;
      loop.callSoon(() => {
        task = createTask(failing());
        return task;
      });
      yield* sleep(0.01);
      // In an array: run() resolving to the Task itself would adopt it (a Task is a thenable).
      return [task];
    });
    const [task] = (await run(main())) as [{ exception(): unknown }];
    expect((task.exception() as Error).message).toBe('task failed');
    expect(reports.filter((r) => r.message.startsWith('Exception in callback'))).toEqual([]);
  });
});

describe('Condition.waitFor with an async predicate', () => {
  it('raises TypeError at the call for an async function', () => {
    const cond = new Condition();
    const e = thrown(() => cond.waitFor(async () => true));
    expect(e).toBeInstanceOf(TypeError);
    expect(e.message).toBe('Condition.waitFor() predicate must be a plain function, not an async function');
  });

  it('raises TypeError in the coroutine for a predicate that returns a promise (rejection handled)', async () => {
    const main = coroutine(function* main() {
      const cond = new Condition();
      yield* cond.acquire();
      try {
        yield* cond.waitFor(() => Promise.reject(new Error('async predicate failed')));
        return 'returned';
      } catch (e) {
        return `${(e as Error).name}: ${(e as Error).message}`;
      } finally {
        cond.release();
      }
    });
    expect(await run(main())).toBe(
      'TypeError: Condition.waitFor() predicate returned a thenable: it must return its answer synchronously',
    );
    await hostTurn();
    expect(unhandled).toEqual([]);
  });
});

describe('startServer(async (reader, writer) => …)', () => {
  it('a throwing async handler is reported, its connection closed, and the server keeps serving', async () => {
    const reports: ExceptionContext[] = [];
    let calls = 0;
    const handler = async (_reader: StreamReader, writer: StreamWriter): Promise<void> => {
      calls++;
      await new Promise((r) => setTimeout(r, 1));
      if (calls === 1) throw new Error('handler failed');
      writer.write('served\n');
      writer.close();
    };
    const main = coroutine(function* main() {
      getRunningLoop().setExceptionHandler((_l, ctx) => {
        reports.push(ctx);
      });
      const server: Server = yield* startServer(handler, '127.0.0.1', 0);
      const port = (server.sockets[0]!.getsockname() as [string, number])[1];
      // First connection: the handler throws; the server closes the connection (EOF for the client).
      const [r1, w1] = yield* openConnection('127.0.0.1', port);
      const first = yield* r1.read();
      w1.close();
      yield* w1.waitClosed();
      // Second connection: served normally.
      const [r2, w2] = yield* openConnection('127.0.0.1', port);
      const second = new TextDecoder().decode(yield* r2.readline());
      w2.close();
      yield* w2.waitClosed();
      server.close();
      yield* server.waitClosed();
      return { first: first.length, second };
    });
    const result = await run(main());
    await hostTurn();
    expect(result).toEqual({ first: 0, second: 'served\n' });
    expect(reports.map((r) => [r.message, (r.exception as Error).message])).toEqual([
      ['Unhandled exception in client_connected_cb', 'handler failed'],
    ]);
    expect(unhandled).toEqual([]);
  });
});
