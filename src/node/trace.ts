/**
 * Node side of trace export: run(main(), { trace: 'trace.json' }) writes the file when the loop closes.
 * Synchronous on purpose: loop.close() is synchronous and the process may exit right after it.
 */
import { writeFileSync } from 'node:fs';
import { _traceHooks } from '../trace.js';

_traceHooks.writeFile = (path, text) => {
  writeFileSync(path, text);
};
