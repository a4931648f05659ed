import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    execArgv: ['--expose-gc'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
  resolve: {
    alias: { tsyncio: new URL('./src/index.ts', import.meta.url).pathname },
  },
});
