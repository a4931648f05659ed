import { coroutine, run, sleep, createTask, gather } from '../src/node/index.ts';
const leaf = coroutine(function* leaf(n: number) { yield* sleep(n / 100); return n; });
const main = coroutine(function* main() {
  const t = createTask(leaf(5), { name: 'cancelme' });
  const r = yield* gather(leaf(1), leaf(2), leaf(3));
  t.cancel('bye');
  yield* sleep(0);
  return r;
});
console.log(await run(main(), { trace: '/tmp/trace.json' }));
