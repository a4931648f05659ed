// The seed tutorial, program 1: a coroutine function, run to completion by run().
import { coroutine, run } from 'tsyncio';

const square = coroutine(function* square(n: number) {
  return n * n;
});

const result = await run(square(10));
console.log(result);
