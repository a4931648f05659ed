// @ts-check
/**
 * eslint-plugin-tsyncio: lint rules for tsyncio (Python's asyncio for TypeScript).
 *
 * ```js
 * // eslint.config.js
 * import tseslint from 'typescript-eslint';
 * import tsyncio from 'eslint-plugin-tsyncio';
 * export default [
 *   { files: ['**\/*.ts'], languageOptions: { parser: tseslint.parser, parserOptions: { projectService: true } } },
 *   tsyncio.configs.recommended,
 * ];
 * ```
 */
import { readFileSync } from 'node:fs';
import noFloatingCoroutine from './rules/no-floating-coroutine.js';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

const plugin = {
  meta: { name: pkg.name, version: pkg.version },
  rules: { 'no-floating-coroutine': noFloatingCoroutine },
  configs: {},
};

/** Flat config: the plugin and its rules at their recommended levels (the rules need type information). */
const recommended = {
  name: 'tsyncio/recommended',
  plugins: { tsyncio: plugin },
  rules: { 'tsyncio/no-floating-coroutine': 'error' },
};
Object.assign(plugin.configs, { recommended });

export default plugin;
export { noFloatingCoroutine, recommended };
