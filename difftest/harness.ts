/**
 * Running scenarios on both sides, comparing, and shrinking a mismatch to a minimal scenario.
 */
import { firstDifference, sideBySide } from './compare.js';
import { runPython, toPython } from './python.js';
import { childBlocks, type Scenario, type Stmt, size, type TraceEvent } from './scenario.js';
import { type Driver, runTsyncio, runTsyncioAsync } from './tsyncio.js';

export interface Outcome {
  scenario: Scenario;
  python: TraceEvent[];
  /** tsyncio's trace under `driver`: the first driver that differs from CPython (runSync when none does). */
  tsyncio: TraceEvent[];
  driver: Driver;
  /** First differing event, or -1. */
  diff: number;
  /** CPython itself crashed (Pyodide's stack): nothing to compare. */
  skipped: boolean;
}

/** The harness itself broke (or tsyncio threw out of the runner in a way no trace can hold). */
function crashTrace(e: unknown): TraceEvent[] {
  return [[null, 'harness', 'crashed', String((e as Error)?.stack ?? e)]];
}

/**
 * Run a batch on CPython (one Pyodide call for the whole batch) and on tsyncio under both drivers,
 * runSync() and run(); each tsyncio trace must equal CPython's.
 */
export async function check(scenarios: Scenario[]): Promise<Outcome[]> {
  const py = await runPython(scenarios);
  const out: Outcome[] = [];
  for (let i = 0; i < scenarios.length; i++) {
    const scenario = scenarios[i]!;
    const python = py[i]!;
    const skipped = python[0]?.[1] === 'python' && python[0]?.[2] === 'crashed';
    let ts: TraceEvent[];
    try {
      ts = runTsyncio(scenario);
    } catch (e) {
      ts = crashTrace(e);
    }
    let diff = skipped ? -1 : firstDifference(python, ts);
    let driver: Driver = 'runSync';
    if (diff < 0 && !skipped) {
      let tsAsync: TraceEvent[];
      try {
        tsAsync = await runTsyncioAsync(scenario);
      } catch (e) {
        tsAsync = crashTrace(e);
      }
      const d = firstDifference(python, tsAsync);
      if (d >= 0) {
        diff = d;
        ts = tsAsync;
        driver = 'run';
      }
    }
    out.push({ scenario, python, tsyncio: ts, driver, diff, skipped });
  }
  return out;
}

// -- shrinking ------------------------------------------------------------------------------------

const clone = <T>(x: T): T => structuredClone(x);

/** Every scenario one simplification away from `sc`, smallest changes last. */
export function candidates(sc: Scenario): Scenario[] {
  const out: Scenario[] = [];
  // Visit every statement list in the scenario; `at` rebuilds the scenario with that list replaced.
  const visit = (stmts: Stmt[], at: (replacement: Stmt[]) => Scenario): void => {
    for (let i = 0; i < stmts.length; i++) {
      const s = stmts[i]!;
      const replace = (...r: Stmt[]): Scenario => at([...stmts.slice(0, i), ...r, ...stmts.slice(i + 1)]);
      // Delete it.
      out.push(replace());
      // Unwrap compound statements.
      if (s.op === 'try' || s.op === 'taskGroup' || s.op === 'timeout' || s.op === 'with') {
        out.push(replace(...clone(s.body)));
      }
      if (s.op === 'try') {
        for (let h = 0; h < s.handlers.length; h++) {
          const t = clone(s);
          t.handlers.splice(h, 1);
          out.push(replace(t));
          if (s.handlers[h]!.reraise) {
            const u = clone(s);
            u.handlers[h]!.reraise = false;
            out.push(replace(u));
          }
          if (s.handlers[h]!.types.length > 1) {
            const u = clone(s);
            u.handlers[h]!.types = [s.handlers[h]!.types[0]!];
            out.push(replace(u));
          }
        }
        if (s.finally) {
          const t = clone(s);
          delete t.finally;
          out.push(replace(t));
        }
        if (s.star) {
          const t = clone(s);
          delete t.star;
          out.push(replace(t));
        }
      }
      if (s.op === 'sleep' && s.d > 0) {
        out.push(replace({ op: 'sleep', d: 0 }));
        if (s.d > 1) out.push(replace({ op: 'sleep', d: 1 }));
      }
      if ((s.op === 'gather' || s.op === 'asCompleted') && s.items.length > 1) {
        for (let k = 0; k < s.items.length; k++) {
          const t = clone(s);
          t.items.splice(k, 1);
          out.push(replace(t));
        }
      }
      if (s.op === 'spawn' && s.eager !== undefined) {
        const t = clone(s);
        delete t.eager;
        out.push(replace(t));
      }
      if (s.op === 'cancel' && s.msg !== undefined) {
        const t = clone(s);
        delete t.msg;
        out.push(replace(t));
      }
      // Recurse into nested lists.
      const blocks = childBlocks(s);
      blocks.forEach((b, bi) => {
        visit(b, (r) => {
          const t = clone(s);
          const tb = childBlocks(t)[bi]!;
          tb.splice(0, tb.length, ...r);
          return replace(t);
        });
      });
    }
  };
  visit(sc.main, (r) => ({ ...clone(sc), main: r }));
  if (sc.taskFactory !== undefined) {
    const t = clone(sc);
    delete t.taskFactory;
    out.push(t);
  }
  if (sc.debug) {
    const t = clone(sc);
    delete t.debug;
    out.push(t);
  }
  return out.map(prune);
}

/** Drop resources and variables nothing uses any more. */
function prune(sc: Scenario): Scenario {
  const text = JSON.stringify(sc.main);
  const out: Scenario = { ...sc };
  if (sc.resources) {
    const used = Object.entries(sc.resources).filter(([n]) => text.includes(`"res":"${n}"`));
    if (used.length > 0) out.resources = Object.fromEntries(used);
    else delete out.resources;
  }
  if (sc.vars) {
    const used = sc.vars.filter((v) => text.includes(`"var":"${v}"`));
    if (used.length > 0) out.vars = used;
    else delete out.vars;
  }
  return out;
}

/**
 * Greedy shrinking: take the first one-step simplification that still mismatches, until none does.
 * Candidates of one round run as a single Pyodide batch.
 */
export async function shrink(failing: Outcome, log: (s: string) => void = () => {}): Promise<Outcome> {
  const crashed = (o: Outcome): boolean => o.tsyncio.some((e) => e[1] === 'harness');
  const kind = crashed(failing);
  // Keep the kind of failure: a crash stays a crash, and a run()-only difference stays one.
  let best = failing;
  for (let round = 0; round < 200; round++) {
    const cands = candidates(best.scenario);
    let found: Outcome | undefined;
    for (let i = 0; i < cands.length && found === undefined; i += 64) {
      const results = await check(cands.slice(i, i + 64));
      found = results.find((r) => r.diff >= 0 && crashed(r) === kind && r.driver === failing.driver);
    }
    if (found === undefined) break;
    best = found;
    log(`  shrunk to ${size(best.scenario.main)} statements`);
  }
  return best;
}

/** The human-readable report of a mismatch. */
export function report(o: Outcome, label: string): string {
  return [
    `MISMATCH ${label} (tsyncio under ${o.driver}(); first difference at event ${o.diff})`,
    sideBySide(o.python, o.tsyncio),
    '',
    'scenario:',
    JSON.stringify(o.scenario),
    '',
    'as Python:',
    toPython(o.scenario),
  ].join('\n');
}
