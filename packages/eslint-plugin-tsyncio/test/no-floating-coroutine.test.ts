/**
 * no-floating-coroutine with typescript-eslint's RuleTester: typed linting of snippets that import
 * tsyncio from this repository's src/ (the declaring package is recognised by its package.json name).
 */
import { RuleTester } from '@typescript-eslint/rule-tester';
import { afterAll, describe, it } from 'vitest';
import { noFloatingCoroutine } from '../src/index.js';

RuleTester.afterAll = afterAll;
RuleTester.describe = describe;
RuleTester.it = it;
RuleTester.itOnly = it.only;

const ruleTester = new RuleTester({
  languageOptions: {
    parserOptions: {
      project: './tsconfig.json',
      tsconfigRootDir: new URL('./fixture/', import.meta.url).pathname,
    },
  },
});

const PRELUDE = `import { coroutine, coroutineMethod, createTask, fromPromise, type Future, getRunningLoop, gather, run, sleep, type Task, TaskGroup, asyncWith } from 'tsyncio';
const work = coroutine(function* work(n: number) { yield* sleep(0); return n; });
function* helper() { yield* sleep(0); return 1; }
`;
const code = (body: string) => `${PRELUDE}${body}\n`;
/** Line of the first line of `body` (after the prelude). */
const L = PRELUDE.split('\n').length;

ruleTester.run('no-floating-coroutine', noFloatingCoroutine, {
  valid: [
    // awaited, scheduled, kept, discarded on purpose
    code(
      `const main = coroutine(function* main() { yield* work(1); const t = createTask(work(2)); yield* t; return yield* gather(work(3)); });`,
    ),
    code(`void work(1);`),
    code(`const c = work(1); void c;`),
    code(`createTask(work(1));`),
    code(
      `const main = coroutine(function* main() { yield* asyncWith(new TaskGroup(), function* (tg) { tg.createTask(work(1)); }); });`,
    ),
    code(`await run(work(1));`),
    code(`const f = getRunningLoop().createFuture<number>(); f;`),
    // a Task/Future dropped is fine unless the options ask
    code(`const t = createTask(work(1)); t;`),
    // a callback whose result is used (map) may return coroutines
    code(`const coros = [1, 2].map((i) => work(i));`),
    // yield* of everything; plain generators may yield promises
    code(
      `const main = coroutine(function* main() { yield* fromPromise(Promise.resolve(1)); yield* helper(); });`,
    ),
    code(`function* plain() { yield Promise.resolve(1); yield 2; }`),
    // a promise is awaited normally in async code
    code(`async function f() { await Promise.resolve(1); }`),
    {
      code: code(
        `const t = createTask(work(1)); const main = coroutine(function* main() { yield* asyncWith(new TaskGroup(), function* (tg) { tg.createTask(work(1)); }); });`,
      ),
      options: [{ checkTasks: true }],
    },
  ],
  invalid: [
    {
      code: code(`work(1);`),
      errors: [
        {
          messageId: 'floating',
          line: L,
          suggestions: [{ messageId: 'suggestVoid', output: code(`void work(1);`) }],
        },
      ],
    },
    {
      // inside a coroutine, and an awaitable helper generator called and dropped
      code: code(
        `const main = coroutine(function* main() {\n  work(1);\n  helper();\n  yield* sleep(0);\n});`,
      ),
      errors: [
        {
          messageId: 'floating',
          line: L + 1,
          suggestions: [
            {
              messageId: 'suggestVoid',
              output: code(
                `const main = coroutine(function* main() {\n  void work(1);\n  helper();\n  yield* sleep(0);\n});`,
              ),
            },
          ],
        },
        {
          messageId: 'floating',
          line: L + 2,
          suggestions: [
            {
              messageId: 'suggestVoid',
              output: code(
                `const main = coroutine(function* main() {\n  work(1);\n  void helper();\n  yield* sleep(0);\n});`,
              ),
            },
          ],
        },
      ],
    },
    {
      // a @coroutineMethod that awaits nothing is typed Generator<never, T>, but is a coroutine
      code: code(
        `class C {\n  @coroutineMethod\n  *m() { return 1; }\n  @coroutineMethod\n  *n() { yield* sleep(0); }\n}\nnew C().m();\nnew C().n();`,
      ),
      errors: [
        {
          messageId: 'floating',
          line: L + 6,
          suggestions: [
            {
              messageId: 'suggestVoid',
              output: code(
                `class C {\n  @coroutineMethod\n  *m() { return 1; }\n  @coroutineMethod\n  *n() { yield* sleep(0); }\n}\nvoid new C().m();\nnew C().n();`,
              ),
            },
          ],
        },
        {
          messageId: 'floating',
          line: L + 7,
          suggestions: [
            {
              messageId: 'suggestVoid',
              output: code(
                `class C {\n  @coroutineMethod\n  *m() { return 1; }\n  @coroutineMethod\n  *n() { yield* sleep(0); }\n}\nnew C().m();\nvoid new C().n();`,
              ),
            },
          ],
        },
      ],
    },
    {
      code: code(`async function f() {\n  const x = await work(1);\n  return x;\n}`),
      errors: [{ messageId: 'awaitCoroutine', line: L + 1 }],
    },
    {
      code: code(`[1, 2].forEach((i) => work(i));`),
      errors: [{ messageId: 'voidCallback', line: L }],
    },
    {
      code: code(`setTimeout(function () {\n  return work(1);\n}, 10);`),
      errors: [{ messageId: 'voidCallback', line: L + 1 }],
    },
    {
      code: code(`const main = coroutine(function* main() {\n  // @ts-expect-error\n  yield work(1);\n});`),
      errors: [
        {
          messageId: 'yieldAwaitable',
          data: { kind: 'coroutine' },
          line: L + 2,
          suggestions: [
            {
              messageId: 'suggestYieldStar',
              output: code(
                `const main = coroutine(function* main() {\n  // @ts-expect-error\n  yield* work(1);\n});`,
              ),
            },
          ],
        },
      ],
    },
    {
      code: code(
        `const main = coroutine(function* main(f: Future<number>, t: Task<number>) {\n  // @ts-expect-error\n  const a = yield f;\n  const b = yield t;\n  return [a, b];\n});`,
      ),
      errors: [
        {
          messageId: 'yieldAwaitable',
          data: { kind: 'Future' },
          line: L + 2,
          suggestions: [
            {
              messageId: 'suggestYieldStar',
              output: code(
                `const main = coroutine(function* main(f: Future<number>, t: Task<number>) {\n  // @ts-expect-error\n  const a = yield* f;\n  const b = yield t;\n  return [a, b];\n});`,
              ),
            },
          ],
        },
        {
          messageId: 'yieldAwaitable',
          data: { kind: 'Task' },
          line: L + 3,
          suggestions: [
            {
              messageId: 'suggestYieldStar',
              output: code(
                `const main = coroutine(function* main(f: Future<number>, t: Task<number>) {\n  // @ts-expect-error\n  const a = yield f;\n  const b = yield* t;\n  return [a, b];\n});`,
              ),
            },
          ],
        },
      ],
    },
    {
      code: code(
        `function* body(): Generator<import('tsyncio').Instruction, void> {\n  // @ts-expect-error\n  yield Promise.resolve(1);\n}`,
      ),
      errors: [
        {
          messageId: 'yieldPromise',
          line: L + 2,
          suggestions: [
            {
              messageId: 'suggestFromPromise',
              output: code(
                `function* body(): Generator<import('tsyncio').Instruction, void> {\n  // @ts-expect-error\n  yield* fromPromise(Promise.resolve(1));\n}`,
              ),
            },
          ],
        },
      ],
    },
    {
      // in a contextually typed coroutine body
      code: code(
        `// @ts-expect-error\nconst main = coroutine(function* main() {\n  yield Promise.resolve(1);\n});`,
      ),
      errors: [
        {
          messageId: 'yieldPromise',
          line: L + 2,
          suggestions: [
            {
              messageId: 'suggestFromPromise',
              output: code(
                `// @ts-expect-error\nconst main = coroutine(function* main() {\n  yield* fromPromise(Promise.resolve(1));\n});`,
              ),
            },
          ],
        },
      ],
    },
    {
      code: code(`createTask(work(1));\ngetRunningLoop().createFuture();`),
      options: [{ checkTasks: true, checkFutures: true }],
      errors: [
        { messageId: 'floatingTask', line: L },
        { messageId: 'floatingFuture', line: L + 1 },
      ],
    },
  ],
});
