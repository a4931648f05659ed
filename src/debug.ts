/**
 * `tsyncio/debug`: import it once (`import 'tsyncio/debug'`) to install the debugging aids that a portable
 * (browser) program does not carry unless it asks. The Node entry (`tsyncio`, `tsyncio/node`) imports it,
 * so on Node everything below is always there.
 *
 * - debug mode (`setDebug(true)`, `{ debug: true }`, TSYNCIO_DEBUG=1): its creation stacks
 *   (src/debug_stacks.ts) and slow-callback reports; without this import, switching debug mode on throws a
 *   RuntimeError saying so;
 * - detecting a run() that can never finish (Node's 'beforeExit'; browsers have no such event, so there a
 *   deadlocked run never settles either way) — runSync() detects its own deadlocks without this import;
 * - the deadlock report's call graphs: for each future no task would complete, who awaits it (graph.ts);
 *   without this import the report lists the pending tasks and what each waits for;
 * - run()'s `trace` option as a file path or a plain function (`traceTo(fn)` works without this import);
 * - the debugger's dump hook on `globalThis[Symbol.for('tsyncio.introspect')]` (tools.ts).
 *
 * This module has load-time effects only (package.json "sideEffects" lists it); it exports nothing.
 */
import { installHostExitWatch, installInstrumentedPass } from './base_events.js';
import { installDeadlockGraphs, watchHostExit } from './deadlock.js';
import { installStacks } from './debug_stacks.js';
import { formatFutureGraph } from './graph.js';
import { installTraceStarter } from './runners.js';
import { installIntrospectHook } from './tools.js';
import { startTracing } from './trace.js';

installStacks();
installInstrumentedPass();
installHostExitWatch(watchHostExit);
installDeadlockGraphs(formatFutureGraph);
installTraceStarter((loop, onClose) => void startTracing(loop, { onClose }));
installIntrospectHook();
