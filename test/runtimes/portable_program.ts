/**
 * A program that uses only the portable core; test/runtimes.test.ts bundles it for a browser (headless
 * Chromium), Deno and Bun, runs it there, and compares what it prints with what Node prints.
 */
import {
  asyncWith,
  CancelledError,
  coroutine,
  createTask,
  gather,
  getRunningLoop,
  Queue,
  run,
  sleep,
  TaskGroup,
  TimeoutError,
  timeout,
} from '../../src/index.js';

export const program = coroutine(function* program(print: (line: string) => void) {
  const square = coroutine(function* square(n: number) {
    yield* sleep(0.001);
    return n * n;
  });
  print(`gather ${JSON.stringify(yield* gather(square(2), square(3)))}`);
  const t = createTask(sleep(10));
  yield* sleep(0);
  t.cancel('stop');
  try {
    yield* t;
  } catch (e) {
    print(`cancelled ${e instanceof CancelledError} ${(e as Error).message}`);
  }
  const q = new Queue<number>();
  yield* asyncWith(new TaskGroup(), function* (tg) {
    tg.createTask(
      coroutine(function* producer() {
        for (let i = 0; i < 3; i++) yield* q.put(i);
      })(),
    );
    const got: number[] = [];
    for (let i = 0; i < 3; i++) got.push(yield* q.get());
    print(`queue ${got.join(',')}`);
  });
  try {
    yield* asyncWith(timeout(0.01), function* () {
      yield* sleep(10);
    });
  } catch (e) {
    print(`timeout ${e instanceof TimeoutError}`);
  }
  print(`time ${getRunningLoop().time() >= 0.01}`);
});

export function main(print: (line: string) => void): Promise<void> {
  return run(program(print)).then(() => print('DONE'));
}
