// The module examples/subprocess_and_threads.ts runs on a worker thread: plain JavaScript, exported names.
export function fib(n) {
  return n < 2 ? n : fib(n - 1) + fib(n - 2);
}
