/**
 * The typed-yield fixtures (test/types_yield.test.ts, test/fixtures/typed_methods.ts) compile, with every
 * `@ts-expect-error` meeting its error, under the oldest TypeScript tsyncio supports (5.6: src/ uses
 * `NoInfer` (5.4) and the three-parameter `Iterable` (5.6); the fixtures compile src/ too) and the newest
 * (7, the native compiler).
 * `npm run typecheck` covers the repository's own TypeScript (5.9). Each compiler is a private workspace
 * under test/typescript-versions/, so `npm ci` installs it without touching the root `tsc`.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const dir = fileURLToPath(new URL('./typescript-versions/', import.meta.url));

async function tsc(which: 'oldest' | 'newest', ...args: string[]) {
  const bin = join(dir, which, 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    const r = await run(process.execPath, [bin, ...args], { cwd: dir, timeout: 150_000 });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: err.code ?? -1, out: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}

// A worktree whose node_modules is linked from elsewhere lacks the nested compilers until `npm install`
// runs in it; CI (a fresh `npm ci`) always has them, so there the test never skips.
const installed = ['oldest', 'newest'].every((w) => existsSync(join(dir, w, 'node_modules', 'typescript')));

describe('TypeScript versions', () => {
  it.skipIf(!installed && !process.env.CI)(
    'the oldest (5.6) and the newest (7) compile the typed-yield fixtures cleanly',
    async () => {
      const [oldV, newV, oldest, newest] = await Promise.all([
        tsc('oldest', '-v'),
        tsc('newest', '-v'),
        tsc('oldest', '-p', 'tsconfig.json', '--noEmit'),
        tsc('newest', '-p', 'tsconfig.json', '--noEmit'),
      ]);
      expect(oldV.out).toMatch(/^Version 5\.6\./);
      expect(newV.out).toMatch(/^Version 7\./);
      expect(oldest.out).toBe('');
      expect(oldest.code).toBe(0);
      expect(newest.out).toBe('');
      expect(newest.code).toBe(0);
    },
    160_000,
  );
});
