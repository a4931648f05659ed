/**
 * The CancelledErrors the loop makes itself (a cancelled task's wakeup, gather's results): fresh per
 * child as CPython's, and outside debug mode a cheap stand-in that looks like `new CancelledError(msg)` to
 * every common check. Expected values come from CPython 3.14.
 */
import { inspect, types } from 'node:util';
import { CancelledError, coroutine, createTask, gather, run, sleep } from 'tsyncio';
import { describe, expect, it } from 'vitest';

describe('CancelledError made by the loop', () => {
  it('gather(returnExceptions) lists a fresh CancelledError per cancelled child, as CPython', async () => {
    const res = await run(
      coroutine(function* main() {
        const a = createTask(sleep(10));
        const b = createTask(sleep(10));
        yield* sleep(0);
        a.cancel('stop');
        b.cancel();
        return yield* gather(a, b, { returnExceptions: true });
      })(),
      { clock: 'virtual' },
    );
    // CPython: ["CancelledError('')", "CancelledError('')"] — the message went to the sleep's future.
    expect(res[0]).toBeInstanceOf(CancelledError);
    expect(res[1]).toBeInstanceOf(CancelledError);
    expect((res[0] as CancelledError).message).toBe('');
    expect((res[0] as CancelledError).stack?.startsWith('CancelledError')).toBe(true);
    expect(res[0]).not.toBe(res[1]);
  });
});

describe('CancelledError made by the loop: a cheap stand-in outside debug mode', () => {
  const scenario = coroutine(function* scenario() {
    const t = createTask(
      coroutine(function* sleeper() {
        try {
          yield* sleep(10);
        } catch (e) {
          return e;
        }
      })(),
    );
    yield* sleep(0);
    t.cancel('why'); // goes to the sleep's future: the task's wakeup makes the error it sees
    const caught = yield* t;
    const u = createTask(sleep(10));
    yield* sleep(0);
    u.cancel('bye');
    const [listed] = yield* gather(u, { returnExceptions: true });
    return [caught, listed] as [CancelledError, CancelledError];
  });

  it('looks like new CancelledError(msg) to every common check', async () => {
    const [caught, listed] = await run(scenario(), { clock: 'virtual' });
    const E = Error as { stackTraceLimit?: number };
    const limit = E.stackTraceLimit;
    E.stackTraceLimit = 0;
    const real = new CancelledError('why');
    E.stackTraceLimit = limit;
    expect(caught).toBeInstanceOf(CancelledError);
    expect(caught).toBeInstanceOf(Error);
    expect(caught.constructor).toBe(CancelledError);
    expect(caught.name).toBe('CancelledError');
    expect(caught.message).toBe('why');
    expect(caught.args).toEqual(['why']);
    expect(caught.stack).toBe('CancelledError: why');
    expect(String(caught)).toBe(String(real));
    expect(inspect(caught)).toBe(inspect(real));
    expect(Object.keys(caught)).toEqual(Object.keys(real));
    expect(JSON.stringify(caught)).toBe(JSON.stringify(real));
    expect(listed).toBeInstanceOf(CancelledError);
    expect([listed.message, listed.stack, listed.args]).toEqual(['', 'CancelledError', ['']]);
    // Writable like an Error's own properties.
    caught.message = 'changed';
    caught.stack = 'custom';
    (caught as { context?: unknown }).context = listed;
    expect([caught.message, caught.stack, (caught as { context?: unknown }).context]).toEqual([
      'changed',
      'custom',
      listed,
    ]);
    // The one visible difference (docs/PYTHON_DIFFERENCES.md).
    expect(types.isNativeError(caught)).toBe(false);
  });

  it('debug mode makes real errors', async () => {
    const [caught, listed] = await run(scenario(), { clock: 'virtual', debug: true });
    expect(types.isNativeError(caught)).toBe(true);
    expect(types.isNativeError(listed)).toBe(true);
    expect(caught.message).toBe('why');
  });
});
