/**
 * The published package works in a fresh project: `npm pack`, install the tarball into a temporary
 * project, then import it from plain JavaScript and type-check a TypeScript user of it.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
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
  it('has no runtime dependencies and ships only dist/, bin/, the docs, README and package.json', () => {
    const pkg = JSON.parse(
      execFileSync('tar', ['-xOzf', join(dir, tarball), 'package/package.json'], { encoding: 'utf8' }),
    );
    expect(pkg.dependencies ?? {}).toEqual({});
    const files = execFileSync('tar', ['-tzf', join(dir, tarball)], { encoding: 'utf8' })
      .trim()
      .split('\n');
    expect(
      files.filter(
        (f) =>
          !/^package\/(dist\/|bin\/|docs\/[^/]+\.(md|png|svg)$|README\.md$|package\.json$|LICENSE$|CHANGELOG\.md$)/.test(
            f,
          ),
      ),
    ).toEqual([]);
    expect(files).toContain('package/dist/index.js');
    expect(files).toContain('package/dist/index.d.ts');
  });

  it('every relative link of the shipped Markdown files points at a shipped file', () => {
    // npm shows the README, and users follow its links inside node_modules/tsyncio: docs/ must be there.
    const files = new Set(
      execFileSync('tar', ['-tzf', join(dir, tarball)], { encoding: 'utf8' })
        .trim()
        .split('\n'),
    );
    const markdown = [...files].filter((f) => f.endsWith('.md'));
    expect(markdown).toEqual(expect.arrayContaining(['package/README.md', 'package/docs/PORTING.md']));
    const broken: string[] = [];
    let links = 0;
    for (const md of markdown) {
      const text = execFileSync('tar', ['-xOzf', join(dir, tarball), md], { encoding: 'utf8' });
      for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1]!.split('#')[0]!;
        if (target === '' || /^[a-z]+:/.test(target)) continue; // an anchor or an absolute URL
        links++;
        const resolved = posix.normalize(posix.join(posix.dirname(md), target));
        if (!files.has(resolved)) broken.push(`${md} -> ${m[1]}`);
      }
    }
    expect(broken).toEqual([]);
    expect(links).toBeGreaterThanOrEqual(6);
  });

  it('source maps embed the TypeScript sources (stack traces and debuggers show real code)', () => {
    const map = JSON.parse(
      readFileSync(join(dir, 'node_modules', 'tsyncio', 'dist', 'runners.js.map'), 'utf8'),
    ) as { sources: string[]; sourcesContent?: string[] };
    expect(map.sources).toEqual(['../src/runners.ts']);
    expect(map.sourcesContent?.[0]).toBe(readFileSync(join(root, 'src', 'runners.ts'), 'utf8'));
    // src/ is not shipped: without sourcesContent a debugger would show nothing.
    expect(existsSync(join(dir, 'node_modules', 'tsyncio', 'src'))).toBe(false);
    // Node maps an uncaught error thrown inside tsyncio to its TypeScript line and prints that line.
    writeFileSync(join(dir, 'throws.mjs'), `import { run } from 'tsyncio';\nrun(42);\n`);
    const r = spawnSync(process.execPath, ['--enable-source-maps', 'throws.mjs'], {
      cwd: dir,
      encoding: 'utf8',
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/src\/runners\.ts:\d+/);
    // (The error is made in tasks.ts, shared with ensureFuture: Node prints that TypeScript line.)
    expect(r.stderr).toContain("new TypeError('An asyncio.Future, a coroutine or an awaitable is required')");
  });

  it('a worker function in a .ts file, without a TypeScript loader, fails saying what to do', () => {
    // Plain node: nothing can load TypeScript in the worker (under tsx it would load: test/node/executor.test.ts).
    writeFileSync(join(dir, 'work.ts'), 'export function double(n: number): number {\n  return n * 2;\n}\n');
    writeFileSync(
      join(dir, 'ts_worker.mjs'),
      `import { coroutine, run, toThread, workerFunction } from 'tsyncio';
const double = workerFunction(new URL('./work.ts', import.meta.url), 'double');
const main = coroutine(function* main() { return yield* toThread(double, 21); });
try { await run(main()); } catch (e) { console.log(e.name, e.code, e.message); }
`,
    );
    const out = execFileSync(process.execPath, ['ts_worker.mjs'], { cwd: dir, encoding: 'utf8' });
    expect(out).toMatch(
      /^TypeError ERR_UNKNOWN_FILE_EXTENSION Unknown file extension "\.ts" for .*work\.ts: the worker thread cannot load TypeScript\./,
    );
    expect(out).toContain('compile the module of double() to JavaScript, or run the program with tsx');
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

  it('eslint-plugin-tsyncio, packed, reports the mistakes in a fresh project; tsc rejects them too', () => {
    // The plugin's tarball, and eslint / typescript-eslint / typescript at the versions this repository
    // has installed (so npm finds them in its cache: no network when it already has them).
    const pluginDir = join(root, 'packages', 'eslint-plugin-tsyncio');
    const pluginTgz = execFileSync(npm, ['pack', '--silent', '--pack-destination', dir], {
      cwd: pluginDir,
      encoding: 'utf8',
    }).trim();
    const version = (name: string) =>
      JSON.parse(readFileSync(join(root, 'node_modules', name, 'package.json'), 'utf8')).version as string;
    execFileSync(
      npm,
      [
        'install',
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        '--silent',
        `./${pluginTgz}`,
        `eslint@${version('eslint')}`,
        `typescript-eslint@${version('typescript-eslint')}`,
        `typescript@${version('typescript')}`,
      ],
      { cwd: dir, stdio: 'pipe', timeout: 90_000 },
    );
    const proj = join(dir, 'lintproj');
    mkdirSync(proj, { recursive: true });
    writeFileSync(
      join(proj, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          typeRoots: [join(root, 'node_modules', '@types')],
          types: ['node'],
        },
        include: ['*.ts'],
      }),
    );
    writeFileSync(join(proj, 'package.json'), JSON.stringify({ type: 'module' }));
    // The flat config of the plugin's README.
    writeFileSync(
      join(proj, 'eslint.config.js'),
      `import tseslint from 'typescript-eslint';
import tsyncio from 'eslint-plugin-tsyncio';

export default [
  {
    files: ['**/*.ts'],
    languageOptions: { parser: tseslint.parser, parserOptions: { projectService: true } },
  },
  tsyncio.configs.recommended,
];
`,
    );
    writeFileSync(
      join(proj, 'mistakes.ts'),
      `import { coroutine, run } from 'tsyncio';
const square = coroutine(function* square(n: number) { return n * n; });
const main = coroutine(function* main() {
  square(10);
  const p = yield square(5);
  yield Promise.resolve(1);
  yield 42;
  return p;
});
export async function viaAwait() { return await square(2); }
[1, 2].forEach((i) => square(i));
await run(main());
`,
    );
    writeFileSync(
      join(proj, 'correct.ts'),
      `import { coroutine, createTask, fromPromise, run } from 'tsyncio';
const square = coroutine(function* square(n: number) { return n * n; });
const main = coroutine(function* main() {
  yield* square(10);
  const p = yield* square(5);
  yield* fromPromise(Promise.resolve(1));
  void square(1);
  for (const i of [1, 2]) yield* square(i);
  createTask(square(3));
  return p;
});
export async function viaRun() { return await run(square(2)); }
await run(main());
`,
    );
    const eslintBin = join(dir, 'node_modules', 'eslint', 'bin', 'eslint.js');
    const lint = spawnSync(process.execPath, [eslintBin, '--format', 'json', 'mistakes.ts', 'correct.ts'], {
      cwd: proj,
      encoding: 'utf8',
      timeout: 90_000,
    });
    expect(lint.stderr).toBe('');
    const results = JSON.parse(lint.stdout) as {
      filePath: string;
      messages: { ruleId: string | null; line: number; messageId?: string }[];
    }[];
    const found = results.flatMap((r) =>
      r.messages.map(
        (m) =>
          `${r.filePath.endsWith('correct.ts') ? 'correct' : 'mistakes'}:${m.line} ${m.ruleId} ${m.messageId}`,
      ),
    );
    expect(found).toEqual([
      'mistakes:4 tsyncio/no-floating-coroutine floating',
      'mistakes:5 tsyncio/no-floating-coroutine yieldAwaitable',
      'mistakes:6 tsyncio/no-floating-coroutine yieldPromise',
      'mistakes:10 tsyncio/no-floating-coroutine awaitCoroutine',
      'mistakes:11 tsyncio/no-floating-coroutine voidCallback',
    ]);
    // tsc: the yields are compile errors (on the body, whose type is what fails to match); the correct
    // program compiles.
    const tsc = join(dir, 'node_modules', 'typescript', 'bin', 'tsc');
    const compiled = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], {
      cwd: proj,
      encoding: 'utf8',
    });
    const errors = compiled.stdout.split('\n').filter((l) => /error TS/.test(l));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^mistakes\.ts\(3,\d+\): error TS2345/);
    expect(compiled.stdout).toContain(`is not assignable to type '"tsyncio: use yield*, not yield"'`);
  }, 180_000);
});
