import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
    // Futures, Tasks and coroutines compare by identity in toEqual & co. (see the file for why).
    setupFiles: ['./test/setup/equality.ts', './test/setup/debug.ts'],
    pool: 'forks',
    execArgv: ['--expose-gc'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
  resolve: {
    alias: [
      { find: /^tsyncio\/node$/, replacement: new URL('./src/node/index.ts', import.meta.url).pathname },
      { find: /^tsyncio\/debug$/, replacement: new URL('./src/debug.ts', import.meta.url).pathname },
      { find: /^tsyncio$/, replacement: new URL('./src/index.ts', import.meta.url).pathname },
    ],
  },
});
