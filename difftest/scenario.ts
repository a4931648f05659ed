/**
 * The scenario language of the differential tests: a small concurrent program, as JSON, that both
 * interpreters run — python.ts emits it as real Python for CPython 3.14's asyncio, tsyncio.ts walks it on
 * tsyncio — and that both describe with the same trace.
 *
 * A scenario is `main` (the body of the main task) plus the resources it shares (locks, queues, context
 * variables…). A body is a list of statements; tasks are spawned with their body inline, so every body has
 * one author, called its *actor*, and every trace event says which actor did what:
 *
 *   [virtual time, actor, what, value]
 *
 * `what` is a fixed string built from the statement (`await t2`, `L1.acquire`, `caught`, `sleep 1`); `value`
 * is the outcome: a value (`None`, `3`, `'x'`, `[1, None]`, `True`) or an exception (`!ValueError('boom')`,
 * `!ExceptionGroup('unhandled errors in a TaskGroup', [!ValueError('a'), !ValueError('b')])`). After the run
 * comes the run's own outcome and the final state of every spawned task (time null). Times are multiples of
 * 0.5 so that both sides compute them exactly.
 */

/** A value a scenario can return or send: ints, strings and None only (both sides format them alike). */
export type Value = number | string | null;

/** Exceptions a scenario raises itself. */
export type RaiseType = 'ValueError' | 'RuntimeError' | 'TypeError';

/** Exceptions a handler can name (Python's `except A, B as e`). */
export type CatchType =
  | RaiseType
  | 'CancelledError'
  | 'TimeoutError'
  | 'ExceptionGroup'
  | 'InvalidStateError'
  | 'QueueShutDown'
  | 'QueueEmpty'
  | 'QueueFull'
  | 'BrokenBarrierError'
  | 'Exception'
  | 'BaseException';

/** Something to await concurrently: a task spawned earlier (by name) or an inline coroutine. */
export type Item = { task: string } | { actor: string; body: Stmt[] };

export type ResourceKind =
  | 'Lock'
  | 'Event'
  | 'Condition'
  | 'Semaphore'
  | 'BoundedSemaphore'
  | 'Barrier'
  | 'Queue'
  | 'LifoQueue'
  | 'PriorityQueue'
  | 'Future';

export interface Resource {
  kind: ResourceKind;
  /** Semaphore value, Barrier parties, Queue maxsize. */
  arg?: number;
}

export interface Handler {
  types: CatchType[];
  body: Stmt[];
  /** End the handler with a bare `raise`. */
  reraise?: boolean;
}

/** Which loop-facing methods of each resource the language knows, and whether they are awaited. */
export const RESOURCE_METHODS: Record<ResourceKind, Record<string, 'await' | 'sync'>> = {
  Lock: { acquire: 'await', release: 'sync', locked: 'sync' },
  Event: { wait: 'await', set: 'sync', clear: 'sync', is_set: 'sync' },
  Condition: {
    acquire: 'await',
    release: 'sync',
    locked: 'sync',
    wait: 'await',
    notify: 'sync',
    notify_all: 'sync',
  },
  Semaphore: { acquire: 'await', release: 'sync', locked: 'sync' },
  BoundedSemaphore: { acquire: 'await', release: 'sync', locked: 'sync' },
  Barrier: { wait: 'await', abort: 'await', reset: 'await', n_waiting: 'sync', broken: 'sync' },
  Queue: {
    put: 'await',
    get: 'await',
    put_nowait: 'sync',
    get_nowait: 'sync',
    task_done: 'sync',
    join: 'await',
    shutdown: 'sync',
    qsize: 'sync',
    empty: 'sync',
    full: 'sync',
  },
  LifoQueue: {},
  PriorityQueue: {},
  /** A bare Future; `await` is `await R[res]` itself; set_exception's one argument is a ValueError's message. */
  Future: {
    await: 'await',
    set_result: 'sync',
    set_exception: 'sync',
    cancel: 'sync',
    done: 'sync',
    cancelled: 'sync',
    result: 'sync',
    exception: 'sync',
  },
};
RESOURCE_METHODS.LifoQueue = RESOURCE_METHODS.Queue;
RESOURCE_METHODS.PriorityQueue = RESOURCE_METHODS.Queue;

/** Properties (not methods) among RESOURCE_METHODS: read without a call. */
export const RESOURCE_PROPERTIES = new Set(['n_waiting', 'broken']);

export type Stmt =
  /** A marker in the trace. */
  | { op: 'log'; what: string }
  /** `await asyncio.sleep(d)`; d = 0 yields once. */
  | { op: 'sleep'; d: number }
  /**
   * `T[task] = asyncio.create_task(body(), name=task)` — or `G[group].create_task(…)` for a TaskGroup;
   * `eager` passes `eager_start=True/False` (False matters under the scenario's eager task factory).
   */
  | { op: 'spawn'; task: string; body: Stmt[]; group?: string; eager?: boolean }
  /** `await T[task]`. */
  | { op: 'await'; task: string }
  /** `T[task].cancel(msg)`. */
  | { op: 'cancel'; task: string; msg?: string }
  /** `T[task]`'s state without waiting: pending / cancelled / result / exception. */
  | { op: 'status'; task: string }
  /** `asyncio.current_task().uncancel()` / `.cancelling()`. */
  | { op: 'uncancel' }
  | { op: 'cancelling' }
  | { op: 'return'; value: Value }
  | { op: 'raise'; exc: RaiseType; msg: string }
  /** `try: … except …: … finally: …`; `star`: every handler is `except*` (PEP 654). */
  | { op: 'try'; body: Stmt[]; handlers: Handler[]; finally?: Stmt[]; star?: boolean }
  /** `await asyncio.gather(*items, return_exceptions=…)`. */
  | { op: 'gather'; items: Item[]; returnExceptions?: boolean }
  /** `async with asyncio.TaskGroup() as G[group]: body`. */
  | { op: 'taskGroup'; group: string; body: Stmt[] }
  /**
   * `async with asyncio.timeout(d) as C[id]: body` (d null: no deadline); `at`: `asyncio.timeout_at(
   * loop.time() + d)` instead.
   */
  | { op: 'timeout'; id: string; d: number | null; body: Stmt[]; at?: boolean }
  /** `C[id].when()` / `C[id].expired()`, inside or after the block. */
  | { op: 'timeoutInfo'; id: string; what: 'when' | 'expired' }
  /** `C[id].reschedule(loop.time() + d)` (d null: no deadline). */
  | { op: 'reschedule'; id: string; d: number | null }
  /** `await asyncio.wait_for(item, d)`. */
  | { op: 'waitFor'; item: Item; d: number | null }
  /** `await asyncio.shield(item)`. */
  | { op: 'shield'; item: Item }
  /** `done, pending = await asyncio.wait(tasks, timeout=…, return_when=…)`. */
  | { op: 'wait'; tasks: string[]; timeout?: number | null; returnWhen?: ReturnWhen }
  /** `for aw in asyncio.as_completed(items, timeout=…): await aw` (each result recorded). */
  | { op: 'asCompleted'; items: Item[]; timeout?: number | null }
  /** `async with R[res]: body` (Lock, Condition, Semaphore). */
  | { op: 'with'; res: string; body: Stmt[] }
  /** `R[res].method(*args)`, awaited when the method is a coroutine method. */
  | { op: 'call'; res: string; method: string; args?: (Value | boolean)[] }
  /** `V[var].set(value)` / `V[var].get()`. */
  /**
   * `await R[res].wait_for(pred)` on a Condition: `pred` records the scenario's counter `N` (event `pred`)
   * and returns it once it reaches `atLeast` (else 0); it raises ValueError('pred') when N equals `raiseAt`.
   */
  | { op: 'condWaitFor'; res: string; atLeast: number; raiseAt?: number }
  /** `N += 1` (the counter condWaitFor's predicates read). */
  | { op: 'bump' }
  /**
   * `H[id] = loop.call_soon(cb)` / `call_later(d, cb)` / `call_soon_threadsafe(cb)`: a plain callback
   * (actor `id`) that records `called`, or cancels `task`, or reads context variable `var` (callbacks run
   * in a copy of the scheduling task's context).
   */
  | {
      op: 'callback';
      id: string;
      how: 'soon' | 'later' | 'threadsafe';
      d?: number;
      task?: string;
      var?: string;
    }
  /**
   * `asyncio.all_tasks()`: the sorted names of the pending tasks, spawned ones by name and every other
   * (main, gather's and shield's wrappers of inline coroutines) as `*`.
   */
  | { op: 'allTasks' }
  /** `H[id].cancel()`, recording `H[id].cancelled()`. */
  | { op: 'cancelHandle'; id: string }
  | { op: 'ctxSet'; var: string; value: Value }
  | { op: 'ctxGet'; var: string };

export type ReturnWhen = 'FIRST_COMPLETED' | 'FIRST_EXCEPTION' | 'ALL_COMPLETED';

export interface Scenario {
  /** Free text: why this scenario exists (corpus entries say which bug it found). */
  note?: string;
  /**
   * 'eager': the loop's task factory is `asyncio.eager_task_factory` from its creation (so every
   * create_task, the main task's included, goes through it; tasks start eagerly when the loop is running).
   */
  taskFactory?: 'eager';
  /**
   * The loop runs in debug mode (`loop.set_debug(True)` from its creation): tsyncio then takes its slower
   * paths (Handles instead of plain ready-queue entries, real CancelledErrors, fresh queue waiters).
   */
  debug?: boolean;
  resources?: Record<string, Resource>;
  /** Context variables, all with default None. */
  vars?: string[];
  main: Stmt[];
}

/** One trace event: [virtual time (null after the run), actor, what, value]. */
export type TraceEvent = [number | null, string, string, string];

/** The time at which each side's watchdog cancels the main task, then every task (see the interpreters). */
export const WATCHDOG_TIMES = [1000, 2000] as const;

/** Every nested statement list of a statement (bodies, handler bodies, finally, inline items). */
export function childBlocks(s: Stmt): Stmt[][] {
  switch (s.op) {
    case 'spawn':
    case 'taskGroup':
    case 'timeout':
    case 'with':
      return [s.body];
    case 'try':
      return [s.body, ...s.handlers.map((h) => h.body), ...(s.finally ? [s.finally] : [])];
    case 'gather':
    case 'asCompleted':
      return s.items.flatMap((it) => ('body' in it ? [it.body] : []));
    case 'waitFor':
    case 'shield':
      return 'body' in s.item ? [s.item.body] : [];
    default:
      return [];
  }
}

/** Every body with its actor: main, spawned tasks and inline coroutines, in order of appearance. */
export function bodies(sc: Scenario): { actor: string; body: Stmt[]; kind: 'main' | 'task' | 'coro' }[] {
  const out: { actor: string; body: Stmt[]; kind: 'main' | 'task' | 'coro' }[] = [];
  const walk = (stmts: Stmt[]): void => {
    for (const s of stmts) {
      if (s.op === 'spawn') out.push({ actor: s.task, body: s.body, kind: 'task' });
      const items =
        s.op === 'gather' || s.op === 'asCompleted'
          ? s.items
          : s.op === 'waitFor' || s.op === 'shield'
            ? [s.item]
            : [];
      for (const it of items) if ('body' in it) out.push({ actor: it.actor, body: it.body, kind: 'coro' });
      for (const b of childBlocks(s)) walk(b);
    }
  };
  out.push({ actor: 'main', body: sc.main, kind: 'main' });
  walk(sc.main);
  return out;
}

/** Count statements (the shrinker's measure of size). */
export function size(stmts: Stmt[]): number {
  let n = 0;
  for (const s of stmts) {
    n += 1;
    for (const b of childBlocks(s)) n += size(b);
    if (s.op === 'try') n += s.handlers.length;
  }
  return n;
}

const IDENT = /^[A-Za-z][A-Za-z0-9_]*$/;

/**
 * Check a scenario before running it: names are identifiers, actors are unique, resources and methods
 * exist. Both interpreters trust what passes.
 */
export function validate(sc: Scenario): void {
  const actors = new Set<string>();
  for (const { actor } of bodies(sc)) {
    if (!IDENT.test(actor)) throw new Error(`bad actor name ${JSON.stringify(actor)}`);
    if (actors.has(actor)) throw new Error(`actor ${actor} defined twice`);
    actors.add(actor);
  }
  const resources = sc.resources ?? {};
  for (const [name, r] of Object.entries(resources)) {
    if (!IDENT.test(name)) throw new Error(`bad resource name ${JSON.stringify(name)}`);
    if (!(r.kind in RESOURCE_METHODS)) throw new Error(`unknown resource kind ${r.kind}`);
  }
  const vars = new Set(sc.vars ?? []);
  for (const v of vars) if (!IDENT.test(v)) throw new Error(`bad var name ${JSON.stringify(v)}`);
  const check = (stmts: Stmt[]): void => {
    for (const s of stmts) {
      if ('what' in s && typeof s.what === 'string' && /['\\\n]/.test(s.what))
        throw new Error('bad log text');
      if ('msg' in s && typeof s.msg === 'string' && /['\\\n]/.test(s.msg)) throw new Error('bad message');
      for (const key of ['task', 'group', 'id'] as const) {
        const v = (s as Record<string, unknown>)[key];
        if (v !== undefined && (typeof v !== 'string' || !IDENT.test(v))) throw new Error(`bad ${key} name`);
      }
      if (s.op === 'condWaitFor' && resources[s.res]?.kind !== 'Condition') {
        throw new Error(`wait_for needs a Condition: ${s.res}`);
      }
      if (s.op === 'try' && s.star) {
        for (const h of s.handlers) {
          // Both are errors in Python: a SyntaxError and a TypeError at the except* clause.
          if (JSON.stringify(h.body).includes('"op":"return"')) throw new Error('return inside except*');
          if (h.types.includes('ExceptionGroup')) throw new Error('except* ExceptionGroup');
        }
      }
      if (s.op === 'call' || s.op === 'with') {
        const r = resources[s.res];
        if (!r) throw new Error(`unknown resource ${s.res}`);
        if (s.op === 'call' && !(s.method in RESOURCE_METHODS[r.kind])) {
          throw new Error(`${r.kind} has no method ${s.method}`);
        }
      }
      if (s.op === 'callback' && s.var !== undefined && !vars.has(s.var))
        throw new Error(`unknown var ${s.var}`);
      if (s.op === 'callback' && (s.how === 'later') !== (s.d !== undefined))
        throw new Error('bad callback delay');
      if ((s.op === 'ctxSet' || s.op === 'ctxGet') && !vars.has(s.var))
        throw new Error(`unknown var ${s.var}`);
      if (s.op === 'sleep' && !(s.d >= 0)) throw new Error('bad sleep');
      if (s.op === 'try' && s.finally && JSON.stringify(s.finally).includes('"op":"return"')) {
        throw new Error('return inside finally (PEP 765)');
      }
      for (const b of childBlocks(s)) check(b);
    }
  };
  check(sc.main);
}

/**
 * The language features a scenario uses, as tags (`taskFactory:eager`, `op:spawn`, `eager_start=False`…):
 * the random band in `npm test` checks that every feature comes up often enough to be tested.
 */
export function features(sc: Scenario): Set<string> {
  const out = new Set<string>();
  if (sc.taskFactory !== undefined) out.add(`taskFactory:${sc.taskFactory}`);
  if (sc.debug) out.add('debug');
  const walk = (stmts: Stmt[]): void => {
    for (const s of stmts) {
      out.add(`op:${s.op}`);
      if (s.op === 'spawn' && s.eager !== undefined) out.add(`eager_start=${s.eager ? 'True' : 'False'}`);
      if (s.op === 'call') out.add(`call:${s.method}`);
      if (s.op === 'try' && s.star) out.add('except*');
      if (s.op === 'timeout' && s.at) out.add('timeout_at');
      if (s.op === 'timeoutInfo') out.add(`timeout.${s.what}`);
      if (s.op === 'callback') out.add(`callback:${s.how}`);
      for (const b of childBlocks(s)) walk(b);
    }
  };
  walk(sc.main);
  return out;
}
