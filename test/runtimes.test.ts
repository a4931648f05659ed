/**
 * The portable core runs unchanged in other runtimes: a program using it (test/runtimes/portable_program.ts)
 * is bundled with esbuild for the browser (platform 'browser': a `node:` import would fail the bundle) and
 * run in headless Chromium, Deno and Bun; each must print exactly what Node prints.
 *
 * Chromium comes from Debian's `chromium` package (.ci/run installs it); Deno and Bun from their npm
 * packages. Outside CI a missing Chromium skips the browser case with a message; in CI (CI=1) it fails.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const here = fileURLToPath(new URL('.', import.meta.url));
const require = createRequire(import.meta.url);
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const EXPECTED = ['gather [4,9]', 'cancelled true stop', 'queue 0,1,2', 'timeout true', 'time true', 'DONE'];

let dir: string;
let bundle: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tsyncio-rt-'));
  const entry = join(dir, 'entry.ts');
  writeFileSync(
    entry,
    `import { main } from ${JSON.stringify(join(here, 'runtimes', 'portable_program.ts'))};
main((line) => console.log(line)).catch((e) => console.log('FAILED ' + (e && e.stack || e)));
`,
  );
  bundle = join(dir, 'bundle.mjs');
  await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    outfile: bundle,
    logLevel: 'error',
  });
}, 60_000);

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function lines(out: string): string[] {
  return out.trim().split('\n');
}

describe('the portable core in other runtimes', () => {
  it('Node (the reference run of the same bundle)', () => {
    expect(lines(execFileSync(process.execPath, [bundle], { encoding: 'utf8', timeout: 30_000 }))).toEqual(
      EXPECTED,
    );
  });

  it('Deno', () => {
    const deno = join(require.resolve('deno/package.json'), '..', 'bin.cjs');
    const out = execFileSync(process.execPath, [deno, 'run', '--quiet', '--no-config', bundle], {
      encoding: 'utf8',
      timeout: 60_000,
      env: { ...process.env, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' },
    });
    expect(lines(out)).toEqual(EXPECTED);
  }, 90_000);

  it('Bun', () => {
    // The platform package holds the real binary; bun/bin/bun.exe is a copy made by bun's postinstall.
    let bun: string;
    try {
      bun = require.resolve(`@oven/bun-${process.platform}-${process.arch}/bin/bun`);
    } catch {
      bun = require.resolve('bun/bin/bun.exe');
    }
    const out = execFileSync(bun, [bundle], { encoding: 'utf8', timeout: 60_000 });
    expect(lines(out)).toEqual(EXPECTED);
  }, 90_000);

  const haveChromium = existsSync(CHROMIUM);
  if (!haveChromium && !process.env.CI) {
    it.skip(`headless Chromium (not installed at ${CHROMIUM}: apt-get install chromium)`, () => {});
  } else {
    it('headless Chromium', async () => {
      const { chromium } = await import('playwright-core');
      const browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-quic',
          '--no-first-run',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
        ],
      });
      try {
        const page = await browser.newPage();
        const printed: string[] = [];
        const done = new Promise<void>((resolve) => {
          page.on('console', (msg) => {
            printed.push(msg.text());
            if (msg.text() === 'DONE' || msg.text().startsWith('FAILED')) resolve();
          });
        });
        page.on('pageerror', (e) => printed.push(`FAILED ${e.message}`));
        await page.setContent('<!doctype html><title>tsyncio</title>');
        const { readFileSync } = await import('node:fs');
        await page.addScriptTag({ content: readFileSync(bundle, 'utf8'), type: 'module' });
        await Promise.race([done, new Promise((r) => setTimeout(r, 20_000))]);
        expect(printed).toEqual(EXPECTED);
      } finally {
        await browser.close();
      }
    }, 60_000);
  }
});
