// Overhead of the debugging hooks when they are off: a sleep(0) switch loop and a timer-wakeup loop,
// run against two builds of tsyncio (dist directories given on the command line), interleaved.
//   node bench/overhead_debug.mjs /path/to/before-dist /path/to/after-dist
import { pathToFileURL } from 'node:url';

const dists = process.argv.slice(2);
if (dists.length === 0) {
  console.error('usage: node bench/overhead_debug.mjs DIST [DIST...]');
  process.exit(2);
}
const libs = await Promise.all(dists.map((d) => import(pathToFileURL(`${d}/index.js`).href)));

function switchLoop(t, tasks, n) {
  const { coroutine, gather, sleep } = t;
  const worker = coroutine(function* worker() {
    for (let i = 0; i < n; i++) yield* sleep(0);
  });
  return coroutine(function* main() {
    const ws = [];
    for (let i = 0; i < tasks; i++) ws.push(worker());
    yield* gather(...ws);
  })();
}

function futureLoop(t, n) {
  const { coroutine, getRunningLoop } = t;
  return coroutine(function* main() {
    const loop = getRunningLoop();
    for (let i = 0; i < n; i++) {
      const f = loop.createFuture();
      loop.callSoon(() => f.setResult(i));
      yield* f;
    }
  })();
}

// CPU time of this process, not wall time: on a loaded machine the wall clock mostly measures waiting.
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const ROUNDS = 9;
const results = dists.map(() => ({ sw: [], fut: [] }));
for (let r = 0; r < ROUNDS; r++) {
  for (let k = 0; k < libs.length; k++) {
    const t = libs[k];
    let t0 = cpuMs();
    await t.run(switchLoop(t, 100, 2000));
    results[k].sw.push((100 * 2000) / ((cpuMs() - t0) / 1000));
    t0 = cpuMs();
    await t.run(futureLoop(t, 100000));
    results[k].fut.push(100000 / ((cpuMs() - t0) / 1000));
  }
}
const median = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
for (let k = 0; k < libs.length; k++) {
  console.log(
    `${dists[k]}: sleep(0) switches ${(median(results[k].sw) / 1e6).toFixed(2)} M/s, ` +
      `future awaits ${(median(results[k].fut) / 1e6).toFixed(2)} M/s (median of ${ROUNDS}, per CPU second)`,
  );
}
