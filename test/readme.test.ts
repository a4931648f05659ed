/**
 * Every `ts` code block of README.md runs as pasted: each is written to its own module (with `tsyncio`
 * resolved to this repository's source) and run as a separate process, like a user would run it.
 * tsx only strips types, so the blocks are also type-checked, together, under tsconfig.json's strict
 * compilerOptions: a TypeScript user pasting one into a strict project must get no error.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
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
  [/client\.sendto\('ping'\)/, /^ping\n$/],
  [/new Queue<number>\(2\)/, /^\[ 0, 2, 4 \] \[ 1, 3 \]\n$/],
  [/startServer\(handle/, /^echo: hello\n\n$/],
  [/abortable\(/, /^42 true\n$/],
  [/runVirtual\(retry\(\)\)/, /^\[ 0, 1, 3, 7 \]\n$/],
];

/**
 * Diagnostics of the blocks, type-checked as one program (fast: src/ is checked only as far as the
 * blocks use it; `npm run typecheck` checks src/ itself), each as "block N, line L: message".
 */
function typeErrors(codes: string[]): string[] {
  const parsed = ts.getParsedCommandLineOfConfigFile(
    join(root, 'tsconfig.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    },
  );
  if (!parsed) throw new Error('tsconfig.json could not be read');
  const checkDir = mkdtempSync(join(dir, 'types-'));
  const files = codes.map((code, i) => {
    // Imports stay as written ('tsyncio', 'tsyncio/node'): `paths` maps them to the Node entry.
    const file = join(checkDir, `block${i + 1}.mts`);
    writeFileSync(file, code);
    return file;
  });
  const options: ts.CompilerOptions = {
    ...parsed.options,
    noEmit: true,
    rootDir: undefined,
    paths: { tsyncio: [entry], 'tsyncio/node': [entry] },
  };
  const program = ts.createProgram(files, options);
  const diagnostics = [
    ...program.getOptionsDiagnostics(),
    ...program.getGlobalDiagnostics(),
    ...files.flatMap((file) => {
      const source = program.getSourceFile(file)!;
      return [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)];
    }),
  ];
  return diagnostics.map((d) => {
    const message = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    if (!d.file || d.start === undefined) return message;
    const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
    const where = d.file.fileName.match(/block(\d+)\.mts$/);
    const name = where ? `block ${where[1]}` : d.file.fileName;
    return `${name}, line ${line + 1}:${character + 1}: ${message}`;
  });
}

describe('README code blocks type-check', () => {
  it('every block compiles under the repository strict compilerOptions', () => {
    expect(typeErrors(blocks)).toEqual([]);
  }, 60_000);

  it('a type error in a block is reported with its block and line', () => {
    // A misspelt option, which tsx alone would run without complaint.
    const n = blocks.findIndex((code) => code.includes("run(main(), { clock: 'virtual' })"));
    expect(n).toBeGreaterThanOrEqual(0);
    const broken = blocks.map((code, i) => (i === n ? code.replace('{ clock:', '{ clok:') : code));
    const line = broken[n]!.split('\n').findIndex((l) => l.includes('clok')) + 1;
    const errors = typeErrors(broken);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(
      new RegExp(
        `^block ${n + 1}, line ${line}:\\d+: Object literal may only specify known properties, .*'clok'`,
      ),
    );
  }, 60_000);
});

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
