// Timeouts, after the asyncio docs ("Coroutines and Tasks" → Timeouts).
// `async with asyncio.timeout(10):` becomes `yield* asyncWith(timeout(10), function* () { … })`.
// The virtual clock makes the hour-long sleeps instant and the printed times exact.
import {
  asyncWith,
  coroutine,
  getRunningLoop,
  run,
  sleep,
  TimeoutError,
  timeout,
  timeoutAt,
  waitFor,
} from 'tsyncio';

const now = () => getRunningLoop().time().toFixed(1);

const longRunningTask = coroutine(function* longRunningTask() {
  yield* sleep(3600);
});

const eternity = coroutine(function* eternity() {
  // Sleep for one hour
  yield* sleep(3600);
  console.log('yay!');
});

const main = coroutine(function* main() {
  try {
    yield* asyncWith(timeout(10), function* () {
      yield* longRunningTask();
    });
  } catch (e) {
    if (!(e instanceof TimeoutError)) throw e;
    console.log(`The long operation timed out at ${now()}, but we've handled it.`);
  }
  console.log('This statement will run regardless.');

  // We do not know the timeout when starting, so we pass null, then reschedule.
  const cm = timeout(null);
  try {
    yield* asyncWith(cm, function* () {
      const newDeadline = getRunningLoop().time() + 10;
      cm.reschedule(newDeadline);
      yield* longRunningTask();
    });
  } catch (e) {
    if (!(e instanceof TimeoutError)) throw e;
  }
  if (cm.expired()) console.log(`Looks like we haven't finished on time (${cm}).`);

  // timeoutAt takes a deadline on the loop's clock.
  const deadline = getRunningLoop().time() + 5;
  const r = yield* asyncWith(timeoutAt(deadline), function* () {
    yield* sleep(1);
    return 'done in time';
  });
  console.log(`${r} at ${now()}`);

  // Wait for at most 1 second
  try {
    yield* waitFor(eternity(), 1.0);
  } catch (e) {
    if (!(e instanceof TimeoutError)) throw e;
    console.log(`timeout! at ${now()}`);
  }
});

await run(main(), { clock: 'virtual' });
