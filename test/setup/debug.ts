/**
 * Vitest setup (vitest.config.ts `setupFiles`): the tests import `tsyncio` as the portable entry
 * (src/index.ts), but a Node program's `tsyncio` is the Node entry, which imports `tsyncio/debug`
 * (debug mode, deadlock call graphs, the trace option's function form). Install it here so every test sees
 * what a Node user sees; test/bench.test.ts bundles programs with and without it to test the portable
 * behaviour in fresh processes.
 */
import '../../src/debug.js';
