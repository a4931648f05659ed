// Async generators, async for and async with (Python's `async def … yield`, `async for`, `aclose()`).
// The body receives `emit`: it awaits with `yield*` and produces items with `yield* emit(item)`.
import {
  aclosing,
  asyncFor,
  asyncGenerator,
  asyncWith,
  coroutine,
  type Emit,
  getRunningLoop,
  run,
  sleep,
} from 'tsyncio';

const now = () => getRunningLoop().time().toFixed(1);

const ticker = asyncGenerator(function* ticker(emit: Emit<number>, delay: number, to: number) {
  try {
    for (let i = 0; i < to; i++) {
      yield* emit(i);
      yield* sleep(delay);
    }
  } finally {
    // A finally block may await: it runs to completion when the generator is closed early.
    yield* sleep(0.5);
    console.log(`ticker closed at ${now()}`);
  }
});

const main = coroutine(function* main() {
  // async for i in ticker(1, 3): print(i)
  yield* asyncFor(ticker(1, 3), function* (i) {
    console.log(`tick ${i} at ${now()}`);
  });

  // Leaving early: aclosing() closes the generator (Python's contextlib.aclosing).
  const found = yield* asyncWith(aclosing(ticker(1, 100)), function* (gen) {
    return yield* asyncFor(gen, function* (i) {
      if (i === 2) return `found ${i}`; // a returned value ends the loop, like break
    });
  });
  console.log(`${found} at ${now()}`);
});

await run(main(), { clock: 'virtual' });
