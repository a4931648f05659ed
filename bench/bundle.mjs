/**
 * Bundle size of tsyncio in a browser (issue 18): what a program pays in bytes for the library.
 *
 * Two programs are bundled with esbuild exactly as a browser app would be (ESM, platform=browser, minified,
 * tree-shaken from the portable entry src/index.ts) and gzipped at level 9:
 * - `minimal`: coroutine, run, sleep, createTask, gather — the smallest useful asyncio program;
 * - `full`: `export * from 'tsyncio'` — the whole portable API.
 * When the `effection` package is installed, its whole API is measured the same way for comparison.
 * Sizes are deterministic (no timing), so they are measured in every run, quick or full.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const here = path.dirname(fileURLToPath(import.meta.url));
const entry = path.resolve(here, '..', 'src', 'index.ts');
/** The portable entry, as a module specifier for programs given to bundleProgram. */
export const ENTRY = entry;

export const BUNDLE_TARGETS = { minimal: 8 * 1024, full: 25 * 1024 };

/**
 * Effection's whole API as issue 18 quotes it (min+gzip), shown beside tsyncio's figures only when the
 * `effection` package cannot be loaded (it is a pinned devDependency, so `npm ci` installs it and every
 * run measures it the same way as tsyncio).
 */
export const EFFECTION_REFERENCE = { version: '4', gzip: Math.round(6.7 * 1024) };

const PROGRAMS = {
  minimal: `import { coroutine, run, sleep, createTask, gather } from ${JSON.stringify(entry)};
const child = coroutine(function* child(n) { yield* sleep(0.01); return n; });
const main = coroutine(function* main() { const t = createTask(child(1)); return yield* gather(t, child(2)); });
run(main()).then((r) => console.log(r));
`,
  full: `export * from ${JSON.stringify(entry)};\n`,
};

async function bundle(esbuild, dir, name, source, nodePaths = []) {
  const { code, modules } = await bundleCode(esbuild, dir, name, source, nodePaths);
  return { minified: code.length, gzip: gzipSync(code, { level: 9 }).length, modules };
}

async function bundleCode(esbuild, dir, name, source, nodePaths = []) {
  const file = path.join(dir, `${name}.mjs`);
  writeFileSync(file, source);
  const out = await esbuild.build({
    entryPoints: [file],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    metafile: true,
    logLevel: 'silent',
    nodePaths,
    // Effection's main() reaches Node's modules through a dynamic import that browsers never take.
    external: nodePaths.length > 0 ? ['node:*'] : [],
  });
  const code = out.outputFiles[0].contents;
  const inputs = Object.values(out.metafile.outputs)[0].inputs;
  const modules = Object.entries(inputs)
    .map(([p, v]) => [path.relative(path.resolve(here, '..'), p), v.bytesInOutput])
    .filter(([, b]) => b > 0)
    .sort((a, b) => b[1] - a[1]);
  return { code, modules };
}

/** The program `source` (ESM importing from `ENTRY`) bundled as above: `{ code, modules }` (code as text). */
export async function bundleProgram(source) {
  const esbuild = await import('esbuild');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tsyncio-bundle-'));
  try {
    const { code, modules } = await bundleCode(esbuild, dir, 'program', source);
    return { code: new TextDecoder().decode(code), modules };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `{ minimal, full, effection? }`, each `{ minified, gzip, modules }` in bytes. */
export async function measureBundles() {
  const esbuild = await import('esbuild');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tsyncio-bundle-'));
  try {
    const result = {};
    for (const [name, src] of Object.entries(PROGRAMS)) result[name] = await bundle(esbuild, dir, name, src);
    let effection = null;
    // Its package.json is not in its "exports": find the package directory on the resolution paths.
    const require = createRequire(import.meta.url);
    for (const dirOnPath of require.resolve.paths('effection') ?? []) {
      const file = path.join(dirOnPath, 'effection', 'package.json');
      if (existsSync(file)) {
        effection = { version: JSON.parse(readFileSync(file, 'utf8')).version, nodePaths: [dirOnPath] };
        break;
      }
    }
    if (effection !== null) {
      const r = await bundle(esbuild, dir, 'effection', `export * from 'effection';\n`, effection.nodePaths);
      result.effection = { ...r, version: effection.version };
    }
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const r = await measureBundles();
  for (const [name, v] of Object.entries(r)) {
    console.log(`${name.padEnd(10)} minified ${v.minified} B, gzip ${v.gzip} B`);
    if (process.argv.includes('--modules'))
      for (const [m, b] of v.modules) console.log(`  ${String(b).padStart(7)} ${m}`);
  }
}
