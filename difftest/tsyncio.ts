/**
 * The tsyncio side: a direct interpreter of scenarios on tsyncio's virtual clock. Each statement does what
 * python.ts's translation of it does, in the same order, and records the same trace events — so every
 * difference in the traces is a difference between tsyncio and CPython's asyncio. Every scenario runs
 * twice, under runSync() and under run() (runTsyncioAsync: the async driver, with a host turn every 16
 * loop passes), and both traces must equal CPython's. `except*` has no JavaScript counterpart: the
 * interpreter implements it (exceptStar) on tsyncio's ExceptionGroup.split().
 *
 * Features that are not on this branch yet (TaskGroup, timeouts, locks…) are looked up by name at run time:
 * `features()` tells the generator which ones it may use.
 */
import { defaultHost, type Host } from '../src/host.js';
import * as tsyncio from '../src/index.js';
import {
  ContextVar,
  coroutine,
  createTask,
  currentTask,
  EventLoop,
  ExceptionGroup,
  gather,
  getRunningLoop,
  type Instruction,
  isBaseExceptionOnly,
  run,
  runSync,
  sleep,
  Task,
} from '../src/index.js';
import {
  bodies,
  type CatchType,
  type Handler,
  type Item,
  RESOURCE_METHODS,
  RESOURCE_PROPERTIES,
  type Scenario,
  type Stmt,
  type TraceEvent,
  type Value,
  validate,
  WATCHDOG_TIMES,
} from './scenario.js';

const api = tsyncio as unknown as Record<string, any>;

/** Which optional parts of the language this tsyncio has. */
export function features(): Record<string, boolean> {
  const has = (...names: string[]): boolean => names.every((n) => api[n] !== undefined);
  return {
    taskGroup: has('TaskGroup', 'asyncWith'),
    timeout: has('timeout', 'asyncWith'),
    waitFor: has('waitFor'),
    shield: has('shield'),
    wait: has('wait'),
    asCompleted: has('asCompleted'),
    eager: true,
    eagerFactory: has('eagerTaskFactory'),
    debug: true,
    callbacks: true,
    allTasks: has('allTasks'),
    asyncRun: true,
    timeoutAt: has('timeoutAt', 'asyncWith'),
    conditionWaitFor:
      has('Condition', 'asyncWith') && typeof api.Condition?.prototype?.waitFor === 'function',
    exceptStar: true, // the interpreter's own: ExceptionGroup.split() does the matching
    Lock: has('Lock', 'asyncWith'),
    Event: has('Event'),
    Condition: has('Condition', 'asyncWith'),
    Semaphore: has('Semaphore', 'BoundedSemaphore', 'asyncWith'),
    Barrier: has('Barrier', 'BrokenBarrierError'),
    Queue: has('Queue', 'LifoQueue', 'PriorityQueue', 'QueueShutDown', 'QueueEmpty', 'QueueFull'),
    Future: has('Future'),
  };
}

// -- formatting (the same text as python.ts's fmt/exc/status) ------------------------------------

export function fmt(v: unknown): string {
  if (v === undefined || v === null) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return `'${v}'`;
  if (v instanceof Error) return exc(v);
  if (v instanceof Task) return `Task(${v.getName()})`;
  if (Array.isArray(v)) return `[${v.map(fmt).join(', ')}]`;
  if (v instanceof Set) return `{${[...v].map(fmt).sort().join(', ')}}`;
  return `?${(v as object)?.constructor?.name ?? typeof v}`;
}

export function exc(e: unknown): string {
  if (e instanceof ExceptionGroup) {
    return `!${e.name}('${e.rawMessage}', [${e.exceptions.map(exc).join(', ')}])`;
  }
  if (e instanceof Error) return `!${e.name}('${e.message}')`;
  return `!?${String(e)}`;
}

function status(t: Task<unknown>): string {
  if (!t.done()) return 'pending';
  if (t.cancelled()) return 'cancelled';
  const e = t.exception();
  return e !== undefined ? exc(e) : `result ${fmt(t.result())}`;
}

/**
 * Python's class choice for a group: a BaseExceptionGroup (not an Exception) when a member is not an
 * Exception. tsyncio has one ExceptionGroup class; groups that hold a CancelledError are built by the
 * interpreter's except* (a handler cancelled while it sleeps), and `except Exception` must not catch them.
 */
function isBaseOnly(e: unknown): boolean {
  if (e instanceof ExceptionGroup) return e.exceptions.some(isBaseOnly);
  return isBaseExceptionOnly(e);
}

/** Every leaf (non-group exception) of a group. */
function leaves(e: unknown, into: Set<unknown>): Set<unknown> {
  if (e instanceof ExceptionGroup) for (const x of e.exceptions) leaves(x, into);
  else into.add(e);
  return into;
}

function matches(types: CatchType[], e: unknown): boolean {
  return types.some((t) => {
    if (t === 'BaseException') return true;
    if (t === 'Exception') return !isBaseOnly(e);
    if (t === 'ExceptionGroup') return e instanceof ExceptionGroup && !isBaseOnly(e); // not a BaseExceptionGroup
    const cls = api[t] ?? (globalThis as any)[t]; // TypeError is JavaScript's own
    if (typeof cls !== 'function') throw new Error(`difftest: tsyncio has no ${t}`);
    return e instanceof cls;
  });
}

function camel(name: string): string {
  return name.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
}

// -- the interpreter -----------------------------------------------------------------------------

/** A `return` travelling out of nested blocks (Python's return inside try / async with). */
type Flow = { value: Value } | undefined;
type Gen<T> = Generator<Instruction, T, unknown>;

class Interpreter {
  readonly trace: TraceEvent[] = [];
  readonly T = new Map<string, Task<unknown>>();
  readonly G = new Map<string, any>();
  readonly C = new Map<string, any>();
  readonly R = new Map<string, any>();
  readonly V = new Map<string, ContextVar<Value>>();
  /** Handles of `callback` statements. */
  readonly H = new Map<string, tsyncio.Handle>();
  /** The counter of `bump` / `condWaitFor`. */
  N = 0;
  private readonly byActor = new Map<string, Stmt[]>();

  constructor(readonly sc: Scenario) {
    for (const b of bodies(sc)) this.byActor.set(b.actor, b.body);
    for (const v of sc.vars ?? []) this.V.set(v, new ContextVar<Value>(v, { default: null }));
  }

  rec(actor: string, what: string, value = ''): void {
    this.trace.push([getRunningLoop().time(), actor, what, value]);
  }

  /** The coroutine object for an actor's body (Python's `body_<actor>()`). */
  coro(actor: string): tsyncio.Coroutine<Value> {
    const body = this.byActor.get(actor)!;
    const self = this;
    return coroutine(function* body_() {
      const f = yield* self.block(actor, body);
      return f === undefined ? null : f.value;
    })();
  }

  main(): tsyncio.Coroutine<Value> {
    const self = this;
    return coroutine(function* main() {
      const loop = getRunningLoop();
      loop.callAt(WATCHDOG_TIMES[0], () => {
        self.rec('-', 'watchdog', fmt(mainTask.cancel('watchdog')));
      });
      loop.callAt(WATCHDOG_TIMES[1], () => {
        self.rec(
          '-',
          'watchdog',
          `[${[...self.T.values()].map((t) => fmt(t.cancel('watchdog'))).join(', ')}]`,
        );
      });
      const mainTask = currentTask()!;
      for (const [name, r] of Object.entries(self.sc.resources ?? {})) {
        const cls = api[r.kind];
        self.R.set(name, r.arg === undefined ? new cls() : new cls(r.arg));
      }
      const f = yield* self.block('main', self.sc.main);
      return f === undefined ? null : f.value;
    })();
  }

  item(it: Item): any {
    if ('task' in it) {
      const t = this.T.get(it.task);
      if (t === undefined) throw new tsyncio.LookupError(`no task ${it.task}`);
      return t;
    }
    return this.coro(it.actor);
  }

  *outcome(actor: string, what: string, fn: () => Gen<unknown>): Gen<unknown> {
    let r: unknown;
    try {
      r = yield* fn();
    } catch (e) {
      this.rec(actor, what, exc(e));
      throw e;
    }
    this.rec(actor, what, fmt(r));
    return r;
  }

  *block(actor: string, stmts: Stmt[]): Gen<Flow> {
    for (const s of stmts) {
      const f = yield* this.stmt(actor, s);
      if (f !== undefined) return f;
    }
    return undefined;
  }

  *handle(actor: string, h: Handler, e: unknown): Gen<Flow> {
    this.rec(actor, 'caught', exc(e));
    const f = yield* this.block(actor, h.body);
    if (f !== undefined) return f;
    if (h.reraise) throw e;
    return undefined;
  }

  /**
   * Python's `except*` (PEP 654), as CPython runs it: each handler in turn takes the part of the
   * still-unhandled group that matches (a bare exception is wrapped in `ExceptionGroup('', [e])` when a
   * handler matches it) and runs once with it. Afterwards, the exceptions the handlers raised — new ones
   * first, in handler order — are raised together with what was re-raised or left unhandled, the latter
   * as one group with the original's nesting (CPython's `_PyExc_PrepReraiseStar`).
   */
  *exceptStar(actor: string, s: Extract<Stmt, { op: 'try' }>, orig: unknown): Gen<Flow> {
    let rest: unknown = orig;
    const parts = new Set<unknown>(); // the split-off parts of orig: raising one of them re-raises it
    const outcomes: unknown[] = [];
    for (const h of s.handlers) {
      if (rest === undefined) break;
      let match: unknown;
      if (rest instanceof ExceptionGroup) {
        const [m, r] = rest.split((e) => matches(h.types, e));
        match = m;
        rest = r;
      } else if (matches(h.types, rest)) {
        match = new ExceptionGroup('', [rest]);
        rest = undefined;
      }
      if (match === undefined) continue;
      parts.add(match);
      try {
        yield* this.handle(actor, h, match);
      } catch (e) {
        outcomes.push(e);
      }
    }
    if (rest !== undefined) {
      parts.add(rest);
      outcomes.push(rest);
    }
    if (outcomes.length === 0) return undefined;
    // A bare exception: only one handler can have run, so there is one exception to raise.
    if (!(orig instanceof ExceptionGroup)) throw outcomes[0];
    const raised = outcomes.filter((e) => !parts.has(e));
    const kept = new Set<unknown>();
    for (const e of outcomes) if (parts.has(e)) leaves(e, kept);
    const reraised = kept.size > 0 ? orig.split((e) => kept.has(e))[0] : undefined;
    if (raised.length === 0) throw reraised;
    if (reraised !== undefined) raised.push(reraised);
    throw raised.length === 1 ? raised[0] : new ExceptionGroup('', raised);
  }

  *stmt(actor: string, s: Stmt): Gen<Flow> {
    const self = this;
    switch (s.op) {
      case 'log':
        this.rec(actor, 'log', s.what);
        return;
      case 'sleep':
        yield* sleep(s.d);
        this.rec(actor, `sleep ${s.d}`);
        return;
      case 'spawn': {
        const options = { name: s.task, ...(s.eager !== undefined ? { eagerStart: s.eager } : {}) };
        if (s.group !== undefined) {
          const tg = this.G.get(s.group);
          if (tg === undefined) {
            this.rec(actor, `spawn ${s.task}`, 'missing');
            return;
          }
          const t = yield* this.outcome(actor, `spawn ${s.task}`, function* () {
            return tg.createTask(self.coro(s.task), options);
          });
          this.T.set(s.task, t as Task<unknown>);
        } else {
          const t = yield* this.outcome(actor, `spawn ${s.task}`, function* () {
            return createTask(self.coro(s.task), options);
          });
          this.T.set(s.task, t as Task<unknown>);
        }
        return;
      }
      case 'await': {
        const t = this.T.get(s.task);
        if (t === undefined) this.rec(actor, `await ${s.task}`, 'missing');
        else yield* this.outcome(actor, `await ${s.task}`, () => t as unknown as Gen<unknown>);
        return;
      }
      case 'cancel': {
        const t = this.T.get(s.task);
        if (t === undefined) this.rec(actor, `cancel ${s.task}`, 'missing');
        else this.rec(actor, `cancel ${s.task}`, fmt(s.msg === undefined ? t.cancel() : t.cancel(s.msg)));
        return;
      }
      case 'status': {
        const t = this.T.get(s.task);
        this.rec(actor, `status ${s.task}`, t === undefined ? 'missing' : status(t));
        return;
      }
      case 'uncancel':
        this.rec(actor, 'uncancel', fmt(currentTask()!.uncancel()));
        return;
      case 'cancelling':
        this.rec(actor, 'cancelling', fmt(currentTask()!.cancelling()));
        return;
      case 'return':
        return { value: s.value };
      case 'raise':
        throw new (api[s.exc] ?? (globalThis as any)[s.exc])(s.msg);
      case 'try': {
        try {
          return yield* this.block(actor, s.body);
        } catch (e) {
          if (s.star) return yield* this.exceptStar(actor, s, e);
          const h = s.handlers.find((h) => matches(h.types, e));
          if (h === undefined) throw e;
          return yield* this.handle(actor, h, e);
        } finally {
          // validate() rejects `return` inside finally (Python 3.14 warns about it, PEP 765).
          if (s.finally) yield* this.block(actor, s.finally);
        }
      }
      case 'gather': {
        yield* this.outcome(actor, 'gather', () => {
          const its = s.items.map((it) => this.item(it));
          if (s.returnExceptions) its.push({ returnExceptions: true });
          return gather(...its) as unknown as Gen<unknown>;
        });
        return;
      }
      case 'taskGroup': {
        const f = yield* api.asyncWith(new api.TaskGroup(), function* (tg: unknown) {
          self.G.set(s.group, tg);
          return yield* self.block(actor, s.body);
        });
        if (f !== undefined) return f;
        this.rec(actor, `exited ${s.group}`);
        return;
      }
      case 'timeout': {
        const cm = s.at
          ? api.timeoutAt(s.d === null ? null : getRunningLoop().time() + s.d)
          : api.timeout(s.d);
        const f = yield* api.asyncWith(cm, function* (cm: unknown) {
          self.C.set(s.id, cm);
          return yield* self.block(actor, s.body);
        });
        if (f !== undefined) return f;
        this.rec(actor, `exited ${s.id}`);
        return;
      }
      case 'reschedule': {
        const cm = this.C.get(s.id);
        if (cm === undefined) {
          this.rec(actor, `reschedule ${s.id}`, 'missing');
          return;
        }
        const when = s.d === null ? null : getRunningLoop().time() + s.d;
        yield* this.outcome(actor, `reschedule ${s.id}`, function* () {
          return cm.reschedule(when);
        });
        return;
      }
      case 'timeoutInfo': {
        const cm = this.C.get(s.id);
        this.rec(actor, `${s.what} ${s.id}`, cm === undefined ? 'missing' : fmt(cm[s.what]()));
        return;
      }
      case 'condWaitFor': {
        const cond = this.R.get(s.res);
        yield* this.outcome(actor, `${s.res}.wait_for ${s.atLeast}`, () =>
          cond.waitFor(() => {
            this.rec(actor, 'pred', fmt(this.N));
            if (this.N === s.raiseAt) throw new tsyncio.ValueError('pred');
            return this.N >= s.atLeast ? this.N : 0;
          }),
        );
        return;
      }
      case 'callback': {
        const loop = getRunningLoop();
        const cb = (): void => {
          if (s.task !== undefined) {
            const t = this.T.get(s.task);
            this.rec(s.id, `cancel ${s.task}`, t === undefined ? 'missing' : fmt(t.cancel()));
          } else if (s.var !== undefined) {
            this.rec(s.id, `get ${s.var}`, fmt(this.V.get(s.var)!.get()));
          } else {
            this.rec(s.id, 'called');
          }
        };
        this.H.set(
          s.id,
          s.how === 'later'
            ? loop.callLater(s.d!, cb)
            : s.how === 'threadsafe'
              ? loop.callSoonThreadsafe(cb)
              : loop.callSoon(cb),
        );
        return;
      }
      case 'allTasks': {
        const names = [...tsyncio.allTasks()].map((t) => t.getName());
        // Sorted as Python sorts strings (by code point; the names are ASCII).
        const shown = names.map((n) => (/^t\d+$/.test(n) ? n : '*')).sort();
        this.rec(actor, 'all_tasks', `[${shown.join(', ')}]`);
        return;
      }
      case 'cancelHandle': {
        const h = this.H.get(s.id);
        if (h === undefined) {
          this.rec(actor, `cancel ${s.id}`, 'missing');
          return;
        }
        h.cancel();
        this.rec(actor, `cancel ${s.id}`, fmt(h.cancelled()));
        return;
      }
      case 'bump':
        this.N++;
        this.rec(actor, 'bump', fmt(this.N));
        return;
      case 'waitFor':
        yield* this.outcome(actor, 'wait_for', () => api.waitFor(this.item(s.item), s.d));
        return;
      case 'shield':
        yield* this.outcome(actor, 'shield', () => api.shield(this.item(s.item)));
        return;
      case 'wait': {
        const options: Record<string, unknown> = {};
        if (s.timeout !== undefined) options.timeout = s.timeout;
        if (s.returnWhen !== undefined) options.returnWhen = api[s.returnWhen];
        yield* this.outcome(actor, 'wait', () =>
          api.wait(
            s.tasks.map((t) => this.item({ task: t })),
            options,
          ),
        );
        return;
      }
      case 'asCompleted': {
        const options = s.timeout !== undefined ? { timeout: s.timeout } : undefined;
        for (const aw of api.asCompleted(
          s.items.map((it) => this.item(it)),
          options,
        )) {
          yield* this.outcome(actor, 'as_completed', () => aw);
        }
        return;
      }
      case 'with': {
        const f = yield* api.asyncWith(this.R.get(s.res), function* () {
          self.rec(actor, `entered ${s.res}`);
          return yield* self.block(actor, s.body);
        });
        if (f !== undefined) return f;
        this.rec(actor, `exited ${s.res}`);
        return;
      }
      case 'call': {
        const r = this.R.get(s.res);
        const mode = RESOURCE_METHODS[this.sc.resources![s.res]!.kind][s.method];
        const name = camel(s.method);
        const args = s.args ?? [];
        yield* this.outcome(actor, `${s.res}.${s.method}`, function* () {
          if (s.method === 'await') return yield* r;
          if (s.method === 'set_exception') return r.setException(new tsyncio.ValueError(String(args[0])));
          if (RESOURCE_PROPERTIES.has(s.method)) {
            return typeof r[name] === 'function' ? r[name]() : r[name];
          }
          const v = r[name](...args);
          return mode === 'await' ? yield* v : v;
        });
        return;
      }
      case 'ctxSet':
        this.V.get(s.var)!.set(s.value);
        return;
      case 'ctxGet':
        this.rec(actor, `get ${s.var}`, fmt(this.V.get(s.var)!.get()));
        return;
    }
  }
}

/** The two ways to drive a scenario on tsyncio: runSync() and run() (the async driver). */
export type Driver = 'runSync' | 'run';

function loopFactory(sc: Scenario, host?: Host): () => EventLoop {
  return () => {
    const loop = new EventLoop({ clock: 'virtual', ...(host ? { host } : {}) });
    loop.setExceptionHandler(() => {}); // never-retrieved reports are not compared (GC timing)
    if (sc.taskFactory === 'eager') loop.setTaskFactory(api.eagerTaskFactory);
    if (sc.debug) {
      loop.setDebug(true);
      // Slow-callback warnings are not compared (and run()'s host clock makes every callback "slow").
      loop.slowCallbackDuration = Infinity;
    }
    return loop;
  };
}

function finish(
  it: Interpreter,
  outcome: { value: unknown } | { error: unknown },
  hung: boolean,
  seen?: DeadlockSeen,
): TraceEvent[] {
  if (seen?.deadlock) it.trace.length = seen.at;
  if (hung) it.trace.push([null, 'run', 'raised', "!DiffHung('nothing is scheduled')"]);
  else if ('value' in outcome) it.trace.push([null, 'run', 'result', fmt(outcome.value)]);
  else it.trace.push([null, 'run', 'raised', exc(outcome.error)]);
  // After a hang the tasks' final states are what each runner's clean-up made of them (tsyncio cancels
  // every pending task; CPython's cancels those all_tasks() still lists): not compared.
  if (!hung) for (const [name, t] of it.T) it.trace.push([null, name, 'final', status(t)]);
  return it.trace;
}

/** Run one scenario on tsyncio (virtual clock, synchronously) and return its trace. */
export function runTsyncio(sc: Scenario): TraceEvent[] {
  validate(sc);
  const it = new Interpreter(sc);
  const factory = loopFactory(sc);
  const seen: DeadlockSeen = { deadlock: false, at: 0 };
  try {
    const value = runSync(it.main(), { loopFactory: () => watchDeadlock(factory(), seen, it) });
    return finish(it, { value }, seen.deadlock, seen);
  } catch (e) {
    return finish(it, { error: e }, seen.deadlock || isHung(e), seen);
  }
}

/**
 * Run one scenario on tsyncio under run(), the async driver. Its host hands the loop a fresh time budget
 * of only 16 passes (its clock advances a whole budget on each reading), so the loop gives the host a
 * turn every 16 passes and the scenario runs in many batches across host turns — which must not change
 * any ordering.
 *
 * A scenario that waits for something that can never happen leaves run() pending with nothing scheduled
 * (CPython's loop raises DiffHung there, runSync a RuntimeError): when a whole host turn passes with no
 * wake-up requested and run() still pending, the loop is stopped — as the other two do, which then go on
 * to the runner's shutdown — and the outcome is reported as DiffHung.
 */
export async function runTsyncioAsync(sc: Scenario): Promise<TraceEvent[]> {
  validate(sc);
  const it = new Interpreter(sc);
  let now = 0;
  let wakeups = 0;
  const host: Host = {
    now: () => (now += HOST_TURN_EVERY_READING),
    immediate(cb) {
      wakeups++;
      let pending = true;
      const cancel = defaultHost.immediate(() => {
        pending = false;
        wakeups--;
        cb();
      });
      return () => {
        if (pending) {
          pending = false;
          wakeups--;
          cancel();
        }
      };
    },
    timer() {
      throw new Error('difftest: a virtual-clock loop asked the host for a timer');
    },
    block: () => false,
  };
  let loop: EventLoop | undefined;
  const factory = loopFactory(sc, host);
  let settled = false;
  let hung = false;
  const seen: DeadlockSeen = { deadlock: false, at: 0 };
  const watch = (): void => {
    if (settled) return;
    if (wakeups === 0 && loop?.isRunning()) {
      hung = true;
      if (!seen.deadlock) {
        seen.deadlock = true;
        seen.at = it.trace.length;
      }
      loop.stop();
    }
    setImmediate(watch);
  };
  setImmediate(watch);
  try {
    const value = await run(it.main(), {
      loopFactory: () => {
        loop = watchDeadlock(factory(), seen, it);
        return loop;
      },
    });
    return finish(it, { value }, hung || seen.deadlock, seen);
  } catch (e) {
    return finish(it, { error: e }, hung || seen.deadlock || isHung(e), seen);
  } finally {
    settled = true;
  }
}

/** Host milliseconds per clock reading in runTsyncioAsync: one whole host budget. */
const HOST_TURN_EVERY_READING = 1000;

/**
 * The loop found that nothing could wake its tasks again (CPython's loop raises DiffHung there). tsyncio then
 * cancels the pending tasks and raises DeadlockError (also when the main task swallows that
 * cancellation): the scenario hung.
 */
interface DeadlockSeen {
  deadlock: boolean;
  /** the trace's length when the deadlock was found */
  at: number;
}

/**
 * Note when the loop finds the deadlock. What the deadlock's cancellation then runs (handlers, finally
 * blocks) has no counterpart on CPython's side, which stops at DiffHung: the trace is cut there (finish()).
 */
function watchDeadlock(loop: EventLoop, seen: DeadlockSeen, it: Interpreter): EventLoop {
  // The loop stores the DeadlockError it found in `_deadlock` (deadlock.ts's onDeadlock): that store is
  // the moment of detection.
  let found: EventLoop['_deadlock'] = loop._deadlock;
  Object.defineProperty(loop, '_deadlock', {
    configurable: true,
    get: () => found,
    set(v: EventLoop['_deadlock']) {
      if (v !== null && !seen.deadlock) {
        seen.at = it.trace.length;
        seen.deadlock = true;
      }
      found = v;
    },
  });
  return loop;
}

function isHung(e: unknown): boolean {
  // runSync() reports a program that can never finish as a DeadlockError (CPython's loop: DiffHung).
  return e instanceof tsyncio.DeadlockError;
}
