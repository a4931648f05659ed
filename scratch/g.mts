import { coroutine, run, sleep, createTask, gather, allTasks, formatCallGraph, printCallGraph } from '../src/index.ts';
const leaf = coroutine(function* leaf(n: number) {
  yield* sleep(n);
});
const middle = coroutine(function* middle() {
  return yield* gather(leaf(1), leaf(2), leaf(3));
});
const main = coroutine(function* main() {
  const t = createTask(middle(), { name: 'middle' });
  yield* sleep(0.5);
  for (const task of [...allTasks()].sort((a, b) => a.getName() < b.getName() ? -1 : 1)) {
    if (task.getName() === 'Task-3') console.log(formatCallGraph(task));
  }
  console.log('--- current');
  printCallGraph();
  console.log('--- limit 1');
  console.log(formatCallGraph(t, { limit: 1 }));
  console.log(String(t));
  yield* t;
});
const outer = coroutine(function* outer() { yield* main(); });
await run(outer(), { clock: 'virtual', debug: process.env.D === '1' });
