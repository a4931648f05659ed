// Waiting for several things at once, after the asyncio docs ("Coroutines and Tasks" → Waiting
// Primitives, Shielding From Cancellation). Prints what the same program prints under CPython 3.14.
// The virtual clock makes the sleeps instant and the printed times exact.
import {
  asCompleted,
  asyncFor,
  CancelledError,
  coroutine,
  createTask,
  FIRST_COMPLETED,
  getRunningLoop,
  run,
  shield,
  sleep,
  wait,
} from 'tsyncio';

const now = () => getRunningLoop().time().toFixed(1);

const fetch = coroutine(function* fetch(name: string, delay: number) {
  yield* sleep(delay);
  return `${name} after ${delay}s`;
});

const main = coroutine(function* main() {
  // wait(): return as soon as one task is done; nothing is cancelled.
  const slow = createTask(fetch('slow', 2), { name: 'slow' });
  const fast = createTask(fetch('fast', 1), { name: 'fast' });
  let [done, pending] = yield* wait([slow, fast], { returnWhen: FIRST_COMPLETED });
  const results = [...done].map((t) => t.result());
  const names = [...pending].map((t) => t.getName());
  console.log(`first: ${results}, pending: ${names} at ${now()}`);
  [done, pending] = yield* wait(pending, { timeout: 0.5 });
  console.log(`after a 0.5s timeout: ${done.size} done, ${pending.size} pending at ${now()}`);
  yield* slow;

  // asCompleted(): the results, earliest first.
  for (const nextResult of asCompleted([fetch('c', 3), fetch('a', 1), fetch('b', 2)])) {
    console.log(yield* nextResult, 'at', now());
  }

  // asyncFor over asCompleted(): the very tasks passed in.
  const ipv4 = createTask(fetch('ipv4', 2));
  const ipv6 = createTask(fetch('ipv6', 1));
  yield* asyncFor(asCompleted([ipv4, ipv6]), function* (earliest) {
    console.log(earliest === ipv6 ? 'IPv6' : 'IPv4', 'connected:', yield* earliest);
  });

  // shield(): cancelling the waiter leaves the shielded task running.
  const work = createTask(fetch('shielded work', 2));
  const waitForWork = coroutine(function* waitForWork() {
    return yield* shield(work);
  });
  const waiter = createTask(waitForWork());
  yield* sleep(1);
  waiter.cancel();
  try {
    yield* waiter;
  } catch (e) {
    if (!(e instanceof CancelledError)) throw e;
    console.log('waiter cancelled at', now(), '- work still running:', work.done() ? 'no' : 'yes');
  }
  console.log(yield* work, 'at', now());
});

await run(main(), { clock: 'virtual' });
