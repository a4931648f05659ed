/** docs/ARCHITECTURE.md stays true to the code: its module map (§11) names every source file. */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DOC = readFileSync(join(ROOT, 'docs', 'ARCHITECTURE.md'), 'utf8');

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(path));
    else if (entry.name.endsWith('.ts')) out.push(relative(ROOT, path).split('\\').join('/'));
  }
  return out.sort();
}

/** The `src/….ts` paths the module map's table names (in code spans). */
function moduleMap(): string[] {
  const start = DOC.indexOf('## 11. Module map');
  expect(start, 'ARCHITECTURE.md has a "## 11. Module map" section').toBeGreaterThan(0);
  const next = DOC.indexOf('\n## ', start + 1);
  const section = DOC.slice(start, next === -1 ? undefined : next);
  return [...section.matchAll(/`(src\/[^`]+\.ts)`/g)].map((m) => m[1]!);
}

describe('docs/ARCHITECTURE.md', () => {
  it('the module map names every file under src/ (add a row when you add a module)', () => {
    const named = new Set(moduleMap());
    expect(sourceFiles(join(ROOT, 'src')).filter((f) => !named.has(f))).toEqual([]);
  });

  it('the module map names no file that does not exist (remove the row when you remove a module)', () => {
    expect(moduleMap().filter((f) => !existsSync(join(ROOT, f)))).toEqual([]);
  });

  it('every src/ path the document mentions anywhere exists', () => {
    const mentioned = [...DOC.matchAll(/`(src\/[\w/]+\.ts)`/g)].map((m) => m[1]!);
    expect(mentioned.filter((f) => !existsSync(join(ROOT, f)))).toEqual([]);
  });
});
