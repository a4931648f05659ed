/**
 * Runs the `ts` code blocks of a Markdown document as tests (README.md, docs/PORTING.md): each block is
 * written to its own module (with `tsyncio` resolved to this repository's source) and run as a separate
 * process, like a user would run it. tsx only strips types, so the blocks are also type-checked, together,
 * under tsconfig.json's strict compilerOptions: a TypeScript user pasting one into a strict project must
 * get no error.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';

export const root = fileURLToPath(new URL('..', import.meta.url));
const tsx = join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs');
// On Node the package root resolves to the Node entry (see package.json "exports").
const entry = join(root, 'src', 'node', 'index.ts');

/** The `ts` blocks of the Markdown file at `path` (relative to the repository root). */
export function codeBlocks(path: string): string[] {
  const text = readFileSync(join(root, path), 'utf8');
  return [...text.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

/**
 * Diagnostics of the blocks, type-checked as one program (fast: src/ is checked only as far as the
 * blocks use it; `npm run typecheck` checks src/ itself), each as "block N, line L: message".
 */
export function typeErrors(codes: string[], dir: string): string[] {
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

/**
 * The tests of a document: its blocks type-check together, and each runs as pasted, with exit status 0,
 * nothing on stderr and, for blocks matching a pattern of `expected`, stdout matching its regex.
 */
export function describeDocBlocks(
  path: string,
  expected: [RegExp, RegExp][],
  options: { minBlocks: number },
): { blocks: string[]; dir: () => string } {
  const blocks = codeBlocks(path);
  const dir = mkdtempSync(join(tmpdir(), 'tsyncio-docblocks-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  describe(`${path} code blocks type-check`, () => {
    it('every block compiles under the repository strict compilerOptions', () => {
      expect(typeErrors(blocks, dir)).toEqual([]);
    }, 60_000);
  });

  describe(`${path} code blocks run as pasted`, () => {
    it(`${path} has code blocks`, () => {
      expect(blocks.length).toBeGreaterThanOrEqual(options.minBlocks);
    });
    it('every expected output belongs to a block', () => {
      for (const [pattern] of expected)
        expect(
          blocks.some((code) => pattern.test(code)),
          String(pattern),
        ).toBe(true);
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
        const expectation = expected.find(([pattern]) => pattern.test(code));
        if (expectation) expect(r.stdout).toMatch(expectation[1]);
      }, 90_000);
    });
  });
  return { blocks, dir: () => dir };
}
