/**
 * The published package works in a fresh project: `npm pack`, install the tarball into a temporary
 * project, then import it from plain JavaScript and type-check a TypeScript user of it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
let dir: string;
let tarball: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'tsyncio-pack-'));
  // --pack-destination keeps the repository clean; prepack builds dist/.
  execFileSync(npm, ['pack', '--silent', '--pack-destination', dir], { cwd: root, stdio: 'pipe' });
  tarball = readdirSync(dir).find((f) => f.endsWith('.tgz'))!;
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
  );
  execFileSync(npm, ['install', '--offline', '--no-audit', '--no-fund', '--silent', `./${tarball}`], {
    cwd: dir,
    stdio: 'pipe',
  });
}, 120_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the packed package', () => {
  it('has no runtime dependencies and ships only dist/, README and package.json', () => {
    const pkg = JSON.parse(
      execFileSync('tar', ['-xOzf', join(dir, tarball), 'package/package.json'], { encoding: 'utf8' }),
    );
    expect(pkg.dependencies ?? {}).toEqual({});
    const files = execFileSync('tar', ['-tzf', join(dir, tarball)], { encoding: 'utf8' })
      .trim()
      .split('\n');
    expect(
      files.filter(
        (f) => !/^package\/(dist\/|bin\/|README\.md$|package\.json$|LICENSE$|CHANGELOG\.md$)/.test(f),
      ),
    ).toEqual([]);
    expect(files).toContain('package/dist/index.js');
    expect(files).toContain('package/dist/index.d.ts');
  });

  it('imports and runs from plain JavaScript (ESM)', () => {
    writeFileSync(
      join(dir, 'main.mjs'),
      `import { coroutine, run, sleep, gather } from 'tsyncio';
const square = coroutine(function* square(n) { yield* sleep(0.001); return n * n; });
const main = coroutine(function* main() { return yield* gather(square(2), square(3)); });
console.log(JSON.stringify(await run(main())));
`,
    );
    const out = execFileSync(process.execPath, ['main.mjs'], { cwd: dir, encoding: 'utf8' });
    expect(out).toBe('[4,9]\n');
  });

  it('type-checks a TypeScript user with tsc (types resolved through the exports map)', () => {
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          lib: ['ES2023', 'DOM'],
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          // On Node the root export resolves to the Node entry, whose streams use Buffer: Node users have
          // @types/node (taken from this repository, so the test needs no network).
          typeRoots: [join(root, 'node_modules', '@types')],
          types: ['node'],
        },
        files: ['user.ts'],
      }),
    );
    writeFileSync(
      join(dir, 'user.ts'),
      `import { coroutine, gather, run, sleep, type Task, createTask } from 'tsyncio';
const square = coroutine(function* square(n: number) { yield* sleep(0); return n * n; });
const main = coroutine(function* main() {
  const [a, b] = yield* gather(square(2), square(3));
  const t: Task<number> = createTask(square(4));
  const c: number = yield* t;
  return a + b + c;
});
const total: number = await run(main());
// @ts-expect-error the result is a number
const wrong: string = await run(main());
export { total, wrong };
`,
    );
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
    try {
      execFileSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: dir, encoding: 'utf8' });
    } catch (e) {
      throw new Error(`tsc failed:\n${(e as { stdout?: string }).stdout}`);
    }
  }, 120_000);
});
