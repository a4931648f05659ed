// Subprocesses as in the asyncio docs ("Subprocesses": run shell commands and collect their output),
// plus CPU-bound work on a worker thread with toThread.
// Run: npx tsx examples/subprocess_and_threads.ts
import { coroutine, createSubprocessShell, gather, PIPE, run, toThread, workerFunction } from 'tsyncio/node';

// JS functions cannot cross threads: name a function exported by a module instead.
const fib = workerFunction<(n: number) => number>(new URL('./fib_worker.mjs', import.meta.url), 'fib');

const runCommand = coroutine(function* runCommand(cmd: string) {
  const proc = yield* createSubprocessShell(cmd, { stdout: PIPE, stderr: PIPE });
  const [stdout, stderr] = yield* proc.communicate();
  const lines = [`[${JSON.stringify(cmd)} exited with ${proc.returncode}]`];
  if (stdout?.length) lines.push(`[stdout]\n${stdout.toString()}`);
  if (stderr?.length) lines.push(`[stderr]\n${stderr.toString()}`);
  return lines.join('\n');
});

const main = coroutine(function* main() {
  // Both commands and the computation run at the same time; the results are printed in order.
  const [a, b, f] = yield* gather(
    runCommand('echo hello'),
    runCommand('echo oops >&2; exit 3'),
    toThread(fib, 25),
  );
  console.log(a);
  console.log(b);
  console.log(`fib(25) = ${f}, computed on a worker thread`);
});

await run(main());
