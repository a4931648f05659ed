/**
 * Every `ts` code block of README.md runs as pasted: each is written to its own module (with `tsyncio`
 * resolved to this repository's source) and run as a separate process, like a user would run it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsx = join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs');
// On Node the package root resolves to the Node entry (see package.json "exports").
const entry = join(root, 'src', 'node', 'index.ts');
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
const dir = mkdtempSync(join(tmpdir(), 'tsyncio-readme-'));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

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
  [/new Queue<number>\(2\)/, /^\[ 0, 2, 4 \] \[ 1, 3 \]\n$/],
  [/startServer\(handle/, /^echo: hello\n\n$/],
  [/abortable\(/, /^42 true\n$/],
  [/runVirtual\(retry\(\)\)/, /^\[ 0, 1, 3, 7 \]\n$/],
];

describe('README code blocks run as pasted', () => {
  it('the README has code blocks', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(8);
  });

  blocks.forEach((code, i) => {
    const title =
      code.split('\n').find((l) => l.startsWith('const ') || l.startsWith('await ')) ?? `block ${i}`;
    it(`block ${i + 1}: ${title.slice(0, 60)}`, () => {
      const file = join(dir, `block${i}.mts`);
      writeFileSync(file, code.replace(/from 'tsyncio(\/node)?'/g, `from ${JSON.stringify(entry)}`));
      const r = spawnSync(process.execPath, [tsx, file], { encoding: 'utf8', timeout: 60_000 });
      expect(r.status, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      const expectation = EXPECTED.find(([pattern]) => pattern.test(code));
      if (expectation) expect(r.stdout).toMatch(expectation[1]);
    }, 90_000);
  });
});
