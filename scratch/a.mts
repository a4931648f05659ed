import { coroutine, run, sleep, createTask, getRunningLoop, logger, EventLoop } from '/work/wt/debug/src/index.ts';
const busy = (ms: number) => { const t = performance.now(); while (performance.now() - t < ms); };
const slow = coroutine(function* slow() { yield* sleep(0.01); busy(250); });
const square = coroutine(function* square(n: number) { return n * n; });
const main = coroutine(function* main() {
  const t = createTask(slow());
  yield* t;
  getRunningLoop().callSoon(() => busy(150));
  yield* sleep(0.01);
  square(3); // never awaited
  const f = getRunningLoop().createFuture();
  f.setException(new Error('boom'));
});
await run(main(), { debug: true });
