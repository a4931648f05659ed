/**
 * Every `ts` code block of README.md runs as pasted and type-checks under strict settings (the mechanism
 * is test/doc_blocks.ts, shared with docs/PORTING.md's test).
 */
import { describe, expect, it } from 'vitest';
import { describeDocBlocks, typeErrors } from './doc_blocks.js';

/** What some blocks must print (matched against stdout); the others must just run cleanly. */
const EXPECTED: [RegExp, RegExp][] = [
  [
    /const main = coroutine\(function\* main\(\) \{\n {2}const x = yield\* square\(10\)/,
    /^x=100\ny=25\ntotal=125\n$/,
  ],
  [
    /const task = createTask\(worker\('w1'\)\)/,
    /^w1 cancelled: shutting down\nw1 cleaned up\ntask\.cancelled\(\) = true\n$/,
  ],
  [
    /fetchUser\(id: number\)/,
    /^\[ 'user1', 'user2' \]\n.*unhandled errors in a TaskGroup \(1 sub-exception\).*user 3 not found/s,
  ],
  [/timeout\(0\.05\)/, /^timed out\ntrue\n$/],
  [/client\.sendto\('ping'\)/, /^ping\n$/],
  [/new Queue<number>\(2\)/, /^\[ 0, 2, 4 \] \[ 1, 3 \]\n$/],
  [/startServer\(handle/, /^echo: hello\n\n$/],
  [/abortable\(/, /^42 true\n$/],
  [/runVirtual\(retry\(\)\)/, /^\[ 0, 1, 3, 7 \]\n$/],
];

const { blocks, dir } = describeDocBlocks('README.md', EXPECTED, { minBlocks: 8 });

describe('README type errors are reported', () => {
  it('a type error in a block is reported with its block and line', () => {
    // A misspelt option, which tsx alone would run without complaint.
    const n = blocks.findIndex((code) => code.includes("run(main(), { clock: 'virtual' })"));
    expect(n).toBeGreaterThanOrEqual(0);
    const broken = blocks.map((code, i) => (i === n ? code.replace('{ clock:', '{ clok:') : code));
    const line = broken[n]!.split('\n').findIndex((l) => l.includes('clok')) + 1;
    const errors = typeErrors(broken, dir());
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(
      new RegExp(
        `^block ${n + 1}, line ${line}:\\d+: Object literal may only specify known properties, .*'clok'`,
      ),
    );
  }, 60_000);
});
