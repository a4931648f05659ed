// The seed tutorial, program 3: coroutines awaiting coroutines with `yield*` (Python's `await`).
import { coroutine, run } from 'tsyncio';

const square = coroutine(function* square(n: number) {
  return n * n;
});

const main = coroutine(function* main() {
  const x = yield* square(10);
  console.log(`x=${x}`);
  const y = yield* square(5);
  console.log(`y=${y}`);
  console.log(`total=${x + y}`);
});

await run(main());
