// Queues and semaphores, after the asyncio docs ("Queues" → Examples), with fixed timings instead of
// random ones. The virtual clock makes the waits instant and the printed times exact; CPython 3.14 prints
// the same lines for the same program.
import {
  asyncWith,
  coroutine,
  createTask,
  gather,
  getRunningLoop,
  Queue,
  QueueShutDown,
  run,
  Semaphore,
  sleep,
} from 'tsyncio';

const worker = coroutine(function* worker(name: string, queue: Queue<number>) {
  for (;;) {
    // Get a "work item" out of the queue.
    const sleepFor = yield* queue.get();
    // Sleep for the "sleepFor" seconds.
    yield* sleep(sleepFor);
    // Notify the queue that the "work item" has been processed.
    queue.taskDone();
    console.log(`${name} has slept for ${sleepFor.toFixed(2)} seconds`);
  }
});

const limited = coroutine(function* limited(sem: Semaphore, name: string, log: string[]) {
  yield* asyncWith(sem, function* () {
    log.push(`${name} in`);
    yield* sleep(1);
    log.push(`${name} out`);
  });
});

const main = coroutine(function* main() {
  const loop = getRunningLoop();
  // Create a queue that we will use to store our "workload".
  const queue = new Queue<number>();
  // Generate deterministic "timings" and put them into the queue.
  let totalSleepTime = 0;
  for (let i = 0; i < 9; i++) {
    const sleepFor = 0.05 + ((i * 37) % 10) / 10;
    totalSleepTime += sleepFor;
    queue.putNowait(sleepFor);
  }
  // Create three worker tasks to process the queue concurrently.
  const tasks = [0, 1, 2].map((i) => createTask(worker(`worker-${i}`, queue)));
  // Wait until the queue is fully processed.
  const startedAt = loop.time();
  yield* queue.join();
  const totalSleptFor = loop.time() - startedAt;
  // Cancel our worker tasks and wait until they are cancelled.
  for (const task of tasks) task.cancel();
  yield* gather(...tasks, { returnExceptions: true });
  console.log('====');
  console.log(`3 workers slept in parallel for ${totalSleptFor.toFixed(2)} seconds`);
  console.log(`total expected sleep time: ${totalSleepTime.toFixed(2)} seconds`);

  // At most two at a time.
  const sem = new Semaphore(2);
  const log: string[] = [];
  yield* gather(...[0, 1, 2, 3].map((i) => limited(sem, `job-${i}`, log)));
  console.log(log.join(', '), `at ${loop.time().toFixed(1)}`);

  // Shutting a queue down: getters drain what is left, then get QueueShutDown.
  const q = new Queue<string>(2);
  const producer = coroutine(function* producer() {
    for (const word of ['alpha', 'beta', 'gamma']) yield* q.put(word);
    q.shutdown();
  });
  const p = createTask(producer());
  try {
    for (;;) console.log('got', yield* q.get());
  } catch (e) {
    if (!(e instanceof QueueShutDown)) throw e;
    console.log('the queue is shut down');
  }
  yield* p;
});

await run(main(), { clock: 'virtual' });
