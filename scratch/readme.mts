import { coroutine, now, runVirtual, sleep } from '../src/index.ts';

const attempts: number[] = [];
const flaky = coroutine(function* flaky() {
  attempts.push(now());
  if (attempts.length < 4) throw new Error('try again');
  return 'ok';
});
const retry = coroutine(function* retry() {
  for (let i = 0; ; i++) {
    try {
      return yield* flaky();
    } catch {
      yield* sleep(2 ** i); // 1 s, 2 s, 4 s of backoff
    }
  }
});
const t = performance.now();
console.log(await runVirtual(retry()), performance.now() - t); // 'ok', in well under a millisecond
console.log(attempts); // [0, 1, 3, 7]
