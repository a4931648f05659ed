/**
 * A seeded random generator of scenarios, biased toward where asyncio implementations go wrong:
 * cancellation racing completion (equal deadlines), cancellation inside `finally`, nested TaskGroups and
 * timeouts, tasks cancelled while they wait for a lock, an event, a queue or a barrier, and several children
 * failing in the same iteration. The same seed always gives the same scenario.
 */
import type {
  CatchType,
  Handler,
  Item,
  RaiseType,
  Resource,
  ResourceKind,
  ReturnWhen,
  Scenario,
  Stmt,
  Value,
} from './scenario.js';

/** mulberry32: a small, fast, well-mixed 32-bit PRNG. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Features = Record<string, boolean>;

/**
 * The share of scenarios whose loop uses asyncio.eager_task_factory: every task then takes its first
 * step inside create_task, which reorders nearly everything after it.
 */
const EAGER_FACTORY_RATE = 0.25;

/** The share of scenarios whose loop runs in debug mode (slower on both sides). */
const DEBUG_RATE = 0.1;

/** The share of scenarios whose main runs in phases that each catch Exception (see phases()). */
const MAIN_PHASES_RATE = 0.5;

/** Durations: multiples of 0.5, small, with 0 and 1 frequent so that deadlines collide. */
const DURATIONS = [0, 0, 0.5, 1, 1, 1, 1.5, 2, 3];
const RAISES: RaiseType[] = ['ValueError', 'ValueError', 'RuntimeError', 'TypeError'];
const CATCHES: CatchType[] = [
  'CancelledError',
  'CancelledError',
  'ValueError',
  'Exception',
  'TimeoutError',
  'ExceptionGroup',
  'BaseException',
  'RuntimeError',
];

/** except* refuses ExceptionGroup (TypeError). */
const STAR_CATCHES: CatchType[] = CATCHES.filter((c) => c !== 'ExceptionGroup');

const KIND_PREFIX: Record<ResourceKind, string> = {
  Lock: 'lock',
  Event: 'ev',
  Condition: 'cond',
  Semaphore: 'sem',
  BoundedSemaphore: 'bsem',
  Barrier: 'bar',
  Queue: 'q',
  LifoQueue: 'lq',
  PriorityQueue: 'pq',
  Future: 'fut',
};

interface Scope {
  actor: string;
  /**
   * The number of the task this body runs in (main: 0; an inline coroutine counts as its creator's). A
   * body awaits only tasks with a higher number, so waits never form a cycle (a cycle of waits makes
   * cancel() recurse forever, in CPython as in tsyncio).
   */
  owner: number;
  /** Tasks spawned earlier on this path of this body: they surely exist (safe as gather/wait items). */
  visible: string[];
  groups: string[];
  timeouts: string[];
  /** Condition variables whose lock this block holds (`with cond:`). */
  holding: string[];
  depth: number;
}

class Generator_ {
  private readonly r: () => number;
  private n = { t: 0, c: 0, g: 0, k: 0, log: 0, v: 0, h: 0 };
  /** Every task name so far, in order of appearance (targets for cancel/status). */
  private tasks: string[] = [];
  /** Every timeout id so far. */
  private timeoutIds: string[] = [];
  private resources: Record<string, Resource> = {};
  private vars: string[] = [];
  private budget: number;

  constructor(
    seed: number,
    private readonly feats: Features,
  ) {
    this.r = rng(seed);
    this.budget = 12 + this.int(40);
    this.eagerFactory = !!feats.eagerFactory && this.chance(EAGER_FACTORY_RATE);
    this.debug = !!feats.debug && this.chance(DEBUG_RATE);
  }

  /** This scenario's loop has the eager task factory (Scenario.taskFactory). */
  private readonly eagerFactory: boolean;
  /** This scenario's loop runs in debug mode (Scenario.debug). */
  private readonly debug: boolean;

  // -- randomness helpers
  private int(n: number): number {
    return Math.floor(this.r() * n);
  }
  private chance(p: number): boolean {
    return this.r() < p;
  }
  private pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  private weighted<T>(choices: [number, T][]): T {
    const total = choices.reduce((s, [w]) => s + w, 0);
    let x = this.r() * total;
    for (const [w, v] of choices) {
      x -= w;
      if (x < 0) return v;
    }
    return choices[choices.length - 1]![1];
  }
  private dur(): number {
    return this.pick(DURATIONS);
  }
  private newTask(): string {
    const t = `t${++this.n.t}`;
    this.tasks.push(t);
    return t;
  }
  private log(): Stmt {
    return { op: 'log', what: `m${++this.n.log}` };
  }
  private value(): Value {
    return this.weighted<Value>([
      [3, this.int(10)],
      [1, `v${this.int(10)}`],
      [1, null],
    ]);
  }
  private resource(kinds: ResourceKind[]): string | undefined {
    const avail = kinds.filter(
      (k) => this.feats[k === 'BoundedSemaphore' ? 'Semaphore' : k.replace(/^(Lifo|Priority)/, '')],
    );
    if (avail.length === 0) return undefined;
    const existing = Object.entries(this.resources).filter(([, r]) => avail.includes(r.kind));
    if (existing.length > 0 && this.chance(0.8)) return this.pick(existing)[0];
    const kind = this.pick(avail);
    const name = `${KIND_PREFIX[kind]}${Object.keys(this.resources).length + 1}`;
    const res: Resource = { kind };
    if (kind === 'Semaphore' || kind === 'BoundedSemaphore') res.arg = 1 + this.int(2);
    if (kind === 'Barrier') res.arg = 2 + this.int(2);
    if (kind === 'Queue' || kind === 'LifoQueue' || kind === 'PriorityQueue') res.arg = this.int(3);
    this.resources[name] = res;
    return name;
  }

  scenario(): Scenario {
    let main = this.block(
      { actor: 'main', owner: 0, visible: [], groups: [], timeouts: [], holding: [], depth: 0 },
      3 + this.int(6),
    );
    if (main.length >= 2 && this.chance(MAIN_PHASES_RATE)) main = this.phases(main);
    const sc: Scenario = this.eagerFactory ? { taskFactory: 'eager', main } : { main };
    if (this.debug) sc.debug = true;
    if (Object.keys(this.resources).length > 0) sc.resources = this.resources;
    if (this.vars.length > 0) sc.vars = this.vars;
    return sc;
  }

  /**
   * Main's statements in phases of 1–3, each in `try: … except Exception`: an error (an awaited task's,
   * a TaskGroup's) then ends its phase instead of the whole scenario, and later phases still run.
   */
  private phases(main: Stmt[]): Stmt[] {
    const out: Stmt[] = [];
    // Catching CancelledError too: awaiting a cancelled task (or the watchdog) does not end main either.
    const types: CatchType[] = this.chance(0.5) ? ['Exception'] : ['Exception', 'CancelledError'];
    for (let i = 0; i < main.length; ) {
      const n = 1 + this.int(3);
      out.push({
        op: 'try',
        body: main.slice(i, i + n),
        handlers: [{ types: [...types], body: [] }],
      });
      i += n;
    }
    return out;
  }

  private block(scope: Scope, n: number): Stmt[] {
    const out: Stmt[] = [];
    const sc: Scope = { ...scope, visible: [...scope.visible] };
    for (let i = 0; i < n && this.budget > 0; i++) {
      this.budget--;
      out.push(...this.stmt(sc));
    }
    if (this.chance(0.08)) out.push({ op: 'raise', exc: this.pick(RAISES), msg: `e${this.int(100)}` });
    else if (scope.actor !== 'main' && scope.depth === 0 && this.chance(0.3))
      out.push({ op: 'return', value: this.value() });
    return out;
  }

  /** A child body: a task or an inline coroutine. */
  private body(actor: string, parent: Scope, n: number): Stmt[] {
    const owner = actor.startsWith('t') ? Number(actor.slice(1)) : parent.owner;
    return this.block(
      { actor, owner, visible: [], groups: parent.groups, timeouts: [], holding: [], depth: 0 },
      n,
    );
  }

  private spawn(scope: Scope, body?: Stmt[], group?: string): Stmt {
    const task = this.newTask();
    const b = body ?? this.body(task, scope, 1 + this.int(4));
    const s: Stmt = { op: 'spawn', task, body: b };
    if (group !== undefined) s.group = group;
    // eager_start=True, or (mostly under the eager task factory, which it overrides) eager_start=False.
    if (this.chance(this.eagerFactory ? 0.2 : 0.1)) s.eager = this.chance(this.eagerFactory ? 0.3 : 0.8);
    scope.visible.push(task);
    return s;
  }

  private coroItem(scope: Scope, n = 1 + this.int(3)): Item {
    const actor = `c${++this.n.c}`;
    return { actor, body: this.body(actor, scope, n) };
  }

  private item(scope: Scope): Item {
    if (scope.visible.length > 0 && this.chance(0.5)) return { task: this.pick(scope.visible) };
    return this.coroItem(scope);
  }

  /** Handlers; for `except*` (star) without ExceptionGroup, which except* refuses. */
  private handlers(star = false): Handler[] {
    const hs: Handler[] = [];
    const k = this.weighted([
      [1, 0],
      [6, 1],
      [2, 2],
    ]);
    for (let i = 0; i < k; i++) {
      const catches = star ? STAR_CATCHES : CATCHES;
      const types = [this.pick(catches)];
      if (this.chance(0.2)) types.push(this.pick(catches));
      const body: Stmt[] = [];
      if (this.chance(0.3)) body.push({ op: 'sleep', d: this.dur() });
      if (types.includes('CancelledError') && this.chance(0.3)) body.push({ op: 'uncancel' });
      if (this.chance(0.2)) body.push({ op: 'raise', exc: this.pick(RAISES), msg: `h${this.int(100)}` });
      hs.push({ types, body, reraise: this.chance(0.35) });
    }
    return hs;
  }

  private stmt(scope: Scope): Stmt[] {
    const f = this.feats;
    const deep = scope.depth >= 3;
    const kinds: [number, () => Stmt[]][] = [
      [5, () => [{ op: 'sleep', d: this.dur() }]],
      [1, () => [this.log()]],
      [deep ? 0.5 : 3, () => [this.spawn(scope)]],
      [2, () => this.awaitSome(scope)],
      [2.5, () => [this.cancelSome()]],
      [0.5, () => (this.tasks.length ? [{ op: 'status', task: this.pick(this.tasks) }] : [])],
      [0.5, () => [{ op: this.chance(0.5) ? 'uncancel' : 'cancelling' }]],
      [deep ? 0.5 : 2.5, () => [this.tryStmt(scope)]],
      [deep ? 0.3 : 1.5, () => [this.gatherStmt(scope)]],
      [deep ? 0 : 2, () => this.raceTemplate(scope)],
      [deep ? 0 : 1.5, () => this.finallyTemplate(scope)],
      [0.6, () => this.ctxStmt()],
    ];
    if (f.taskGroup) {
      kinds.push([deep ? 0.2 : 2.5, () => [this.taskGroup(scope)]]);
      if (scope.groups.length > 0) {
        kinds.push([1, () => [this.spawn(scope, undefined, this.pick(scope.groups))]]);
      }
    }
    if (f.timeout) {
      kinds.push([deep ? 0.2 : 2, () => [this.timeoutStmt(scope)]]);
      if (this.timeoutIds.length > 0 && f.timeoutAt) {
        // Any timeout so far, often one that has exited (RuntimeError) or belongs to another task.
        kinds.push([
          1,
          () => [
            this.chance(0.5)
              ? { op: 'reschedule', id: this.pick(this.timeoutIds), d: this.chance(0.2) ? null : this.dur() }
              : {
                  op: 'timeoutInfo',
                  id: this.pick(this.timeoutIds),
                  what: this.chance(0.5) ? 'when' : 'expired',
                },
          ],
        ]);
      }
      if (scope.timeouts.length > 0) {
        kinds.push([
          0.7,
          () => [
            { op: 'reschedule', id: this.pick(scope.timeouts), d: this.chance(0.2) ? null : this.dur() },
          ],
        ]);
      }
    }
    if (f.waitFor)
      kinds.push([
        1,
        () => [{ op: 'waitFor', item: this.item(scope), d: this.chance(0.1) ? null : this.dur() }],
      ]);
    if (f.shield) kinds.push([1, () => [{ op: 'shield', item: this.item(scope) }]]);
    if (f.wait && scope.visible.length > 0) kinds.push([1, () => [this.waitStmt(scope)]]);
    if (f.asCompleted) kinds.push([0.7, () => [this.asCompletedStmt(scope)]]);
    if (f.Lock || f.Semaphore) kinds.push([2, () => this.lockStmt(scope)]);
    if (f.Event) kinds.push([1.5, () => this.eventStmt()]);
    if (f.Condition) kinds.push([1.2, () => this.condStmt(scope)]);
    if (f.Queue) kinds.push([2, () => this.queueStmt()]);
    if (f.Queue) kinds.push([deep ? 0 : 0.8, () => this.producerConsumer(scope)]);
    if (f.Future) kinds.push([1.2, () => this.futureStmt(scope)]);
    if (f.allTasks) kinds.push([0.6, () => [{ op: 'allTasks' }]]);
    if (f.callbacks) {
      kinds.push([1.2, () => this.callback()]);
      if (this.n.h > 0) kinds.push([0.4, () => [{ op: 'cancelHandle', id: `h${1 + this.int(this.n.h)}` }]]);
    }
    if (f.Barrier) kinds.push([1, () => this.barrierStmt()]);
    return this.weighted(kinds)();
  }

  private awaitSome(scope: Scope): Stmt[] {
    // Own tasks mostly (a tree cannot deadlock); sometimes any later task, racing with its other awaiters.
    const later = this.tasks.filter((t) => Number(t.slice(1)) > scope.owner);
    const pool = scope.visible.length > 0 && this.chance(0.8) ? scope.visible : later;
    if (pool.length === 0) return [{ op: 'sleep', d: this.dur() }];
    return [{ op: 'await', task: this.pick(pool) }];
  }

  private cancelSome(): Stmt {
    if (this.tasks.length === 0) return { op: 'sleep', d: 0 };
    const s: Stmt = { op: 'cancel', task: this.pick(this.tasks) };
    if (this.chance(0.5)) s.msg = `x${this.int(10)}`;
    return s;
  }

  private tryStmt(scope: Scope): Stmt {
    const inner = { ...scope, depth: scope.depth + 1 };
    const star = !!this.feats.exceptStar && this.chance(0.2);
    const s: Stmt = { op: 'try', body: this.block(inner, 1 + this.int(3)), handlers: this.handlers(star) };
    if (star) s.star = true;
    if (s.handlers.length === 0 || this.chance(0.4)) {
      s.finally = [this.log()];
      if (this.chance(0.6)) s.finally.push({ op: 'sleep', d: this.dur() });
    }
    return s;
  }

  private gatherStmt(scope: Scope): Stmt {
    const items: Item[] = [];
    const n = 1 + this.int(3);
    for (let i = 0; i < n; i++) items.push(this.item(scope));
    return { op: 'gather', items, returnExceptions: this.chance(0.4) };
  }

  /** Cancellation racing completion: a task finishes at d while another cancels it at d. */
  private raceTemplate(scope: Scope): Stmt[] {
    const d = this.pick([0, 0.5, 1, 1]);
    const victimBody: Stmt[] = [{ op: 'sleep', d }];
    if (this.chance(0.5)) victimBody.push({ op: 'sleep', d: 0 });
    victimBody.push({ op: 'return', value: this.value() });
    const victim = this.spawn(scope, victimBody) as Extract<Stmt, { op: 'spawn' }>;
    const cancel: Stmt = { op: 'cancel', task: victim.task, msg: `r${this.int(10)}` };
    const out: Stmt[] = [victim];
    if (this.chance(0.5)) {
      out.push(this.spawn(scope, [{ op: 'sleep', d }, cancel, this.log()]));
    } else {
      out.push({ op: 'sleep', d }, cancel);
    }
    out.push({
      op: 'try',
      body: [{ op: 'await', task: victim.task }],
      handlers: [{ types: ['CancelledError'], body: [] }],
    });
    return out;
  }

  /** Cancellation inside `finally` (and a second cancel while cleaning up). */
  private finallyTemplate(scope: Scope): Stmt[] {
    const t = this.newTask();
    const body: Stmt[] = [
      {
        op: 'try',
        body: [{ op: 'sleep', d: this.pick([1, 2]) }],
        handlers: this.chance(0.3)
          ? [{ types: ['CancelledError'], body: [this.log()], reraise: this.chance(0.7) }]
          : [],
        finally: [this.log(), { op: 'sleep', d: this.pick([0, 0.5, 1]) }, this.log()],
      },
    ];
    if (this.chance(0.3)) body.push({ op: 'return', value: this.value() });
    const out: Stmt[] = [{ op: 'spawn', task: t, body }];
    scope.visible.push(t);
    out.push({ op: 'sleep', d: this.pick([0, 0.5, 1]) }, { op: 'cancel', task: t, msg: 'f1' });
    if (this.chance(0.5))
      out.push({ op: 'sleep', d: this.pick([0, 0.5]) }, { op: 'cancel', task: t, msg: 'f2' });
    out.push({
      op: 'try',
      body: [{ op: 'await', task: t }],
      handlers: [{ types: ['CancelledError'], body: [] }],
    });
    return out;
  }

  private ctxStmt(): Stmt[] {
    if (this.vars.length === 0 || (this.vars.length < 2 && this.chance(0.2)))
      this.vars.push(`var${++this.n.v}`);
    const v = this.pick(this.vars);
    return this.chance(0.5) ? [{ op: 'ctxSet', var: v, value: this.value() }] : [{ op: 'ctxGet', var: v }];
  }

  private taskGroup(scope: Scope): Stmt {
    const group = `g${++this.n.g}`;
    const inner: Scope = { ...scope, groups: [...scope.groups, group], depth: scope.depth + 1 };
    const body: Stmt[] = [];
    const children = 1 + this.int(3);
    const together = this.chance(0.4); // several children failing in the same iteration
    const d = this.pick([0, 0.5, 1]);
    for (let i = 0; i < children; i++) {
      if (together) {
        const t = this.newTask();
        body.push({
          op: 'spawn',
          task: t,
          group,
          body: [
            { op: 'sleep', d },
            { op: 'raise', exc: this.pick(RAISES), msg: `${t}` },
          ],
        });
      } else {
        body.push(this.spawn(inner, undefined, group));
      }
    }
    body.push(...this.block(inner, this.int(3)));
    const tg: Stmt = { op: 'taskGroup', group, body };
    if (this.feats.exceptStar && this.chance(0.35)) {
      // except* around the group: its ExceptionGroup split between handlers (some re-raising).
      const handlers: Handler[] = [];
      const types = [...new Set([this.pick(RAISES), this.pick(RAISES), this.pick(STAR_CATCHES)])];
      for (const t of types.slice(0, 1 + this.int(types.length))) {
        const hb: Stmt[] = [];
        if (this.chance(0.3)) hb.push({ op: 'sleep', d: this.dur() });
        if (this.chance(0.25)) hb.push({ op: 'raise', exc: this.pick(RAISES), msg: `s${this.int(100)}` });
        handlers.push({ types: [t], body: hb, reraise: this.chance(0.3) });
      }
      return { op: 'try', star: true, body: [tg], handlers };
    }
    return tg;
  }

  private timeoutStmt(scope: Scope): Stmt {
    const id = `k${++this.n.k}`;
    const inner: Scope = { ...scope, timeouts: [...scope.timeouts, id], depth: scope.depth + 1 };
    const at = !!this.feats.timeoutAt && this.chance(0.3);
    const body = this.block(inner, 1 + this.int(3));
    if (this.feats.timeoutAt && this.chance(0.25)) {
      body.push({ op: 'timeoutInfo', id, what: this.chance(0.5) ? 'when' : 'expired' });
    }
    const s: Stmt = { op: 'timeout', id, d: this.chance(0.1) ? null : this.dur(), body };
    if (at) s.at = true;
    this.timeoutIds.push(id);
    const out: Stmt = this.chance(0.5)
      ? { op: 'try', body: [s], handlers: [{ types: ['TimeoutError'], body: [] }] }
      : s;
    // After the block: expired() says whether it fired, when() keeps the last deadline.
    if (this.feats.timeoutAt && this.chance(0.4)) {
      const info: Stmt = { op: 'timeoutInfo', id, what: this.chance(0.6) ? 'expired' : 'when' };
      return { op: 'try', body: [out], handlers: [], finally: [info] };
    }
    return out;
  }

  private waitStmt(scope: Scope): Stmt {
    const tasks = [...new Set([this.pick(scope.visible), this.pick(scope.visible)])];
    const s: Stmt = { op: 'wait', tasks };
    if (this.chance(0.5)) s.timeout = this.chance(0.1) ? null : this.dur();
    if (this.chance(0.7))
      s.returnWhen = this.pick<ReturnWhen>(['FIRST_COMPLETED', 'FIRST_EXCEPTION', 'ALL_COMPLETED']);
    return s;
  }

  private asCompletedStmt(scope: Scope): Stmt {
    const items: Item[] = [];
    const n = 1 + this.int(3);
    for (let i = 0; i < n; i++) items.push(this.item(scope));
    const s: Stmt = { op: 'asCompleted', items };
    if (this.chance(0.4)) s.timeout = this.dur();
    return s;
  }

  // -- synchronization primitives: mostly "wait, and get cancelled while waiting"

  private lockStmt(scope: Scope): Stmt[] {
    const res = this.resource(['Lock', 'Semaphore', 'BoundedSemaphore']);
    if (res === undefined) return [];
    const inner = { ...scope, depth: scope.depth + 1 };
    return this.weighted<() => Stmt[]>([
      [
        4,
        () => [
          { op: 'with', res, body: [{ op: 'sleep', d: this.dur() }, ...this.block(inner, this.int(2))] },
        ],
      ],
      [1, () => [{ op: 'call', res, method: 'acquire' }]],
      [1, () => [{ op: 'call', res, method: 'release' }]],
      [0.5, () => [{ op: 'call', res, method: 'locked' }]],
      // Contention: a holder and a waiter that gets cancelled while it waits.
      [
        2,
        () => {
          const holder = this.spawn(scope, [
            { op: 'with', res, body: [{ op: 'sleep', d: this.pick([1, 2]) }] },
          ]);
          const waiter = this.spawn(scope, [{ op: 'with', res, body: [this.log()] }]);
          const w = (waiter as { task: string }).task;
          return [holder, waiter, { op: 'sleep', d: this.pick([0, 0.5, 1]) }, { op: 'cancel', task: w }];
        },
      ],
    ])();
  }

  private eventStmt(): Stmt[] {
    const res = this.resource(['Event']);
    if (res === undefined) return [];
    return [
      this.weighted<Stmt>([
        [3, { op: 'call', res, method: 'wait' }],
        [2, { op: 'call', res, method: 'set' }],
        [1, { op: 'call', res, method: 'clear' }],
        [0.5, { op: 'call', res, method: 'is_set' }],
      ]),
    ];
  }

  private condStmt(scope: Scope): Stmt[] {
    const res = this.resource(['Condition']);
    if (res === undefined) return [];
    const waitFor = !!this.feats.conditionWaitFor;
    if (scope.holding.includes(res)) {
      return [
        this.weighted<Stmt>([
          [3, { op: 'call', res, method: 'wait' }],
          [waitFor ? 2.5 : 0, this.condWaitFor(res)],
          [waitFor ? 1.5 : 0, { op: 'bump' }],
          [2, { op: 'call', res, method: 'notify', args: [1 + this.int(2)] }],
          [1, { op: 'call', res, method: 'notify_all' }],
        ]),
      ];
    }
    const inner: Scope = { ...scope, holding: [...scope.holding, res], depth: scope.depth + 1 };
    return this.weighted<() => Stmt[]>([
      [4, () => [{ op: 'with', res, body: this.block(inner, 1 + this.int(3)) }]],
      // A waiter for the counter, and a task that bumps it and notifies.
      [
        waitFor ? 2 : 0,
        () => {
          const waiter = this.spawn(scope, [{ op: 'with', res, body: [this.condWaitFor(res), this.log()] }]);
          const bumper = this.spawn(scope, [
            { op: 'sleep', d: this.pick([0, 0.5, 1]) },
            {
              op: 'with',
              res,
              body: [
                { op: 'bump' },
                ...(this.chance(0.3) ? [{ op: 'bump' } as Stmt] : []),
                this.chance(0.6)
                  ? { op: 'call', res, method: 'notify_all' }
                  : { op: 'call', res, method: 'notify', args: [1 + this.int(2)] },
              ],
            },
          ]);
          return [waiter, bumper];
        },
      ],
      [waitFor ? 0.5 : 0, () => [{ op: 'bump' }]],
      [waitFor ? 0.3 : 0, () => [this.condWaitFor(res)]], // RuntimeError: not acquired
      [0.5, () => [{ op: 'call', res, method: 'notify' }]], // RuntimeError: not acquired
      [0.5, () => [{ op: 'call', res, method: 'wait' }]],
    ])();
  }

  /** A plain callback on the loop: its ready-queue and timer order against task steps is compared. */
  private callback(): Stmt[] {
    const how = this.weighted<'soon' | 'later' | 'threadsafe'>([
      [4, 'soon'],
      [4.5, 'later'],
      [1.5, 'threadsafe'],
    ]);
    const s: Stmt = { op: 'callback', id: `h${++this.n.h}`, how };
    if (how === 'later') s.d = this.dur();
    const act = this.r();
    if (act < 0.35 && this.tasks.length > 0) s.task = this.pick(this.tasks);
    else if (act < 0.55) {
      if (this.vars.length === 0) this.vars.push(`var${++this.n.v}`);
      s.var = this.pick(this.vars);
      // Set right after scheduling: the callback must still see the value of its context copy.
      if (this.chance(0.5)) return [s, { op: 'ctxSet', var: s.var, value: this.value() }];
    }
    return [s];
  }

  private condWaitFor(res: string): Stmt {
    const s: Stmt = { op: 'condWaitFor', res, atLeast: 1 + this.int(3) };
    if (this.chance(0.1)) s.raiseAt = this.int(3);
    return s;
  }

  private queueStmt(): Stmt[] {
    const res = this.resource(['Queue', 'Queue', 'LifoQueue', 'PriorityQueue']);
    if (res === undefined) return [];
    const v = this.int(10);
    return [
      this.weighted<Stmt>([
        [3, { op: 'call', res, method: 'get' }],
        [3, { op: 'call', res, method: 'put', args: [v] }],
        [1, { op: 'call', res, method: 'put_nowait', args: [v] }],
        [1, { op: 'call', res, method: 'get_nowait' }],
        [1, { op: 'call', res, method: 'task_done' }],
        [1, { op: 'call', res, method: 'join' }],
        [1, { op: 'call', res, method: 'shutdown', args: [this.chance(0.5)] }],
        [0.5, { op: 'call', res, method: this.pick(['qsize', 'empty', 'full']) }],
      ]),
    ];
  }

  /**
   * Producers and consumers on one queue, unrolled (the language has no loops): each consumer blocks in
   * get() again and again (the queue's waiter futures are reused between blocking calls), a consumer may
   * be cancelled while it waits, and the queue may be joined or shut down at the end.
   */
  private producerConsumer(scope: Scope): Stmt[] {
    const res = this.resource(['Queue', 'LifoQueue', 'PriorityQueue']);
    if (res === undefined) return [];
    const out: Stmt[] = [];
    const consumers: string[] = [];
    const items = 2 + this.int(4);
    const nc = 1 + this.int(2);
    for (let c = 0; c < nc; c++) {
      const body: Stmt[] = [];
      for (let k = 0; k < items; k++) {
        body.push({ op: 'call', res, method: 'get' });
        if (this.chance(0.5)) body.push({ op: 'call', res, method: 'task_done' });
        if (this.chance(0.4)) body.push({ op: 'sleep', d: this.pick([0, 0, 0.5, 1]) });
      }
      const t = this.spawn(scope, body);
      consumers.push((t as { task: string }).task);
      out.push(t);
    }
    const np = 1 + this.int(2);
    const producers: string[] = [];
    for (let p = 0; p < np; p++) {
      const body: Stmt[] = [];
      for (let k = 0; k < items; k++) {
        body.push({
          op: 'call',
          res,
          method: this.chance(0.85) ? 'put' : 'put_nowait',
          args: [this.int(10)],
        });
        if (this.chance(0.6)) body.push({ op: 'sleep', d: this.pick([0, 0, 0.5, 1]) });
      }
      const t = this.spawn(scope, body);
      producers.push((t as { task: string }).task);
      out.push(t);
    }
    if (this.chance(0.4)) {
      out.push({ op: 'sleep', d: this.pick([0, 0.5, 1]) }, { op: 'cancel', task: this.pick(consumers) });
    }
    for (const p of producers) {
      out.push({
        op: 'try',
        body: [{ op: 'await', task: p }],
        handlers: [{ types: ['Exception'], body: [] }],
      });
    }
    out.push(
      this.weighted<Stmt>([
        [1, { op: 'call', res, method: 'join' }],
        [1, { op: 'call', res, method: 'shutdown', args: [this.chance(0.5)] }],
        [1, { op: 'sleep', d: 1 }],
      ]),
    );
    return out;
  }

  /** A bare Future: awaited by several tasks, resolved or cancelled by another, inspected. */
  private futureStmt(scope: Scope): Stmt[] {
    const res = this.resource(['Future']);
    if (res === undefined) return [];
    const cancel = (): Stmt =>
      this.chance(0.5)
        ? { op: 'call', res, method: 'cancel', args: [`fx${this.int(10)}`] }
        : { op: 'call', res, method: 'cancel' };
    return this.weighted<() => Stmt[]>([
      [3, () => [{ op: 'call', res, method: 'await' }]],
      [2, () => [{ op: 'call', res, method: 'set_result', args: [this.int(10)] }]],
      [0.7, () => [{ op: 'call', res, method: 'set_exception', args: [`fe${this.int(10)}`] }]],
      [1, () => [cancel()]],
      [1, () => [{ op: 'call', res, method: this.pick(['done', 'cancelled', 'result', 'exception']) }]],
      [
        2,
        () => {
          const waiters = [0, 1, 2]
            .slice(0, 1 + this.int(2))
            .map(() => this.spawn(scope, [{ op: 'call', res, method: 'await' }, this.log()]));
          const r = this.r();
          const settle: Stmt =
            r < 0.55
              ? { op: 'call', res, method: 'set_result', args: [this.int(10)] }
              : r < 0.75
                ? { op: 'call', res, method: 'set_exception', args: [`fe${this.int(10)}`] }
                : cancel();
          return [...waiters, { op: 'sleep', d: this.pick([0, 0.5, 1]) }, settle];
        },
      ],
    ])();
  }

  private barrierStmt(): Stmt[] {
    const res = this.resource(['Barrier']);
    if (res === undefined) return [];
    return [
      this.weighted<Stmt>([
        [4, { op: 'call', res, method: 'wait' }],
        [1, { op: 'call', res, method: 'abort' }],
        [1, { op: 'call', res, method: 'reset' }],
        [0.5, { op: 'call', res, method: this.pick(['n_waiting', 'broken']) }],
      ]),
    ];
  }
}

/** The scenario for `seed`, using only the features `feats` says tsyncio has. */
export function generate(seed: number, feats: Features): Scenario {
  return new Generator_(seed, feats).scenario();
}
