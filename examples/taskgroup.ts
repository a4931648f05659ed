// Task groups, after the asyncio docs ("Coroutines and Tasks" → Task Groups).
// `async with asyncio.TaskGroup() as tg:` becomes `yield* asyncWith(new TaskGroup(), function* (tg) { … })`.
// The virtual clock makes the waits instant and the printed times exact.
import {
  asyncWith,
  CancelledError,
  coroutine,
  ExceptionGroup,
  getRunningLoop,
  run,
  sleep,
  type Task,
  TaskGroup,
} from 'tsyncio';

const now = () => getRunningLoop().time().toFixed(1);

const sayAfter = coroutine(function* sayAfter(delay: number, what: string) {
  yield* sleep(delay);
  console.log(what);
  return what.length;
});

const fail = coroutine(function* fail(delay: number, message: string) {
  yield* sleep(delay);
  throw new Error(message);
});

const forever = coroutine(function* forever(name: string) {
  try {
    yield* sleep(3600);
  } catch (e) {
    if (e instanceof CancelledError) console.log(`${name} was cancelled`);
    throw e;
  }
});

const main = coroutine(function* main() {
  // All tasks are awaited when the block exits.
  let task1!: Task<number>;
  let task2!: Task<number>;
  yield* asyncWith(new TaskGroup(), function* (tg) {
    task1 = tg.createTask(sayAfter(1, 'hello'));
    task2 = tg.createTask(sayAfter(2, 'world'));
    console.log(`started at ${now()}`);
  });
  // The await is implicit when the context manager exits.
  console.log(`finished at ${now()}: ${task1.result()} + ${task2.result()} characters`);

  // The first failure cancels the other tasks and the body; every error comes out in an ExceptionGroup.
  try {
    yield* asyncWith(new TaskGroup(), function* (tg) {
      tg.createTask(fail(1, 'first failure'));
      tg.createTask(fail(1, 'second failure'));
      tg.createTask(forever('the sibling'));
      yield* forever('the body');
    });
  } catch (eg) {
    if (!(eg instanceof ExceptionGroup)) throw eg;
    console.log(`${eg.message} at ${now()}`);
    for (const e of eg.exceptions) console.log(`  ${e}`);
  }

  // Terminating a task group early, without an error: tg.cancel() (Python 3.15).
  yield* asyncWith(new TaskGroup(), function* (tg) {
    tg.createTask(forever('the server'));
    yield* sleep(5);
    tg.cancel();
  });
  console.log(`cancelled the group at ${now()}`);
});

await run(main(), { clock: 'virtual' });
