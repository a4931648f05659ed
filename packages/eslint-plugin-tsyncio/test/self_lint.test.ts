/**
 * The rule over this repository's own code: src/, examples/ and every `ts` block of README.md lint with
 * zero reports (typed linting against the root tsconfig.json). A report here is either a real floating
 * coroutine in tsyncio or a false positive of the rule: both must be fixed, not silenced.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint, type Linter } from 'eslint';
import tseslint from 'typescript-eslint';
import { afterAll, describe, expect, it } from 'vitest';
import plugin from '../src/index.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
// README blocks become files of a throwaway project beside the repository's tsconfig (so `tsyncio`
// resolves to src/ through its paths); removed afterwards.
const blockDir = join(root, 'packages', 'eslint-plugin-tsyncio', 'test', '.readme-blocks');

afterAll(() => rmSync(blockDir, { recursive: true, force: true }));

function eslintFor(project: string): ESLint {
  return new ESLint({
    cwd: root,
    overrideConfigFile: true,
    overrideConfig: [
      {
        files: ['**/*.ts'],
        languageOptions: {
          parser: tseslint.parser,
          parserOptions: { project, tsconfigRootDir: root },
        },
      },
      plugin.configs.recommended as Linter.Config,
    ],
  });
}

function reports(results: ESLint.LintResult[]): string[] {
  return results.flatMap((r) =>
    r.messages.map((m) => `${r.filePath.slice(root.length)}:${m.line}: ${m.ruleId}: ${m.message}`),
  );
}

describe('eslint-plugin-tsyncio over this repository', () => {
  it('src/ and examples/ have no floating coroutines', async () => {
    const results = await eslintFor('./tsconfig.json').lintFiles(['src/**/*.ts', 'examples/**/*.ts']);
    expect(results.length).toBeGreaterThan(40);
    expect(reports(results)).toEqual([]);
  }, 240_000);

  it("README.md's blocks have no floating coroutines", async () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
    expect(blocks.length).toBeGreaterThan(5);
    mkdirSync(blockDir, { recursive: true });
    const files = blocks.map((code, i) => {
      const file = join(blockDir, `block${i + 1}.ts`);
      writeFileSync(file, code);
      return file;
    });
    writeFileSync(
      join(blockDir, 'tsconfig.json'),
      JSON.stringify({ extends: '../../../../tsconfig.json', include: ['*.ts'] }),
    );
    // The same setup does see a mistake (so zero reports above means something).
    const control = join(blockDir, 'control.ts');
    writeFileSync(
      control,
      "import { coroutine, sleep } from 'tsyncio';\nconst f = coroutine(function* f() { yield* sleep(0); });\nf();\n",
    );
    const results = await eslintFor(join(blockDir, 'tsconfig.json')).lintFiles([...files, control]);
    expect(results).toHaveLength(blocks.length + 1);
    expect(reports(results)).toEqual([
      `${control.slice(root.length)}:3: tsyncio/no-floating-coroutine: ${
        plugin.rules['no-floating-coroutine'].meta.messages.floating
      }`,
    ]);
  }, 240_000);
});
