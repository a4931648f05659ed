/**
 * `tsyncio/debug`: import it once (`import 'tsyncio/debug'`) to install the debugging aids that a portable
 * (browser) program does not carry unless it asks. The Node entry (`tsyncio`, `tsyncio/node`) imports it,
 * so on Node everything below is always there.
 *
 * - the deadlock report's call graphs: for each future no task would complete, who awaits it (graph.ts);
 *   without this import the report lists the pending tasks and what each waits for;
 * - run()'s `trace` option as a file path or a plain function (`traceTo(fn)` works without this import);
 * - the debugger's dump hook on `globalThis[Symbol.for('tsyncio.introspect')]` (tools.ts).
 *
 * This module has load-time effects only (package.json "sideEffects" lists it); it exports nothing.
 */
import { installDeadlockGraphs } from './deadlock.js';
import { formatFutureGraph } from './graph.js';
import { installTraceStarter } from './runners.js';
import { installIntrospectHook } from './tools.js';
import { startTracing } from './trace.js';

installDeadlockGraphs(formatFutureGraph);
installTraceStarter((loop, onClose) => void startTracing(loop, { onClose }));
installIntrospectHook();
