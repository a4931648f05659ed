// The seed tutorial, program 2: calling a coroutine function runs nothing. The coroutine object is
// printed, and since it is never awaited, a RuntimeWarning is reported when the process exits.
import { coroutine } from 'tsyncio';

const square = coroutine(function* square(n: number) {
  return n * n;
});

console.log(square(10));
