/**
 * The CPython side: scenarios become real Python programs that run under CPython 3.14's asyncio inside
 * Pyodide (the `pyodide` devDependency; it loads its standard library from node_modules, no network).
 *
 * The loop is a plain `BaseEventLoop` with two changes, both needed for exact comparisons:
 *   - its selector's `select(timeout)` advances a virtual clock by `timeout` (nothing can happen in
 *     between: there is no I/O), and raises DiffHung when nothing at all is scheduled;
 *   - its timer handles order equal deadlines by scheduling order. CPython's heap leaves that order
 *     unspecified; tsyncio promises it (docs/PYTHON_DIFFERENCES.md, "Equal timer deadlines"), and scenarios
 *     hit equal deadlines on purpose.
 * Pyodide is loaded once per process; a batch of scenarios runs in one call.
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import {
  bodies,
  type Handler,
  type Item,
  RESOURCE_METHODS,
  RESOURCE_PROPERTIES,
  type Scenario,
  type Stmt,
  type TraceEvent,
  validate,
  WATCHDOG_TIMES,
} from './scenario.js';

const PRELUDE = String.raw`
import asyncio, contextvars, heapq, json, logging, sys
from asyncio import base_events, events

logging.getLogger('asyncio').disabled = True   # "exception was never retrieved" & co. are not compared

class DiffHung(Exception):
    pass

# The running scenario's trace, and its length when the loop first found nothing scheduled: what the
# runner's clean-up runs after that is cut (tsyncio reports the deadlock and cancels differently).
_TRACE = [None]
_HUNG_AT = [None]

class _VirtualSelector:
    def __init__(self, loop):
        self._loop = loop
    def select(self, timeout):
        if timeout is None:
            if _HUNG_AT[0] is None and _TRACE[0] is not None:
                _HUNG_AT[0] = len(_TRACE[0])
            raise DiffHung('nothing is scheduled')
        if timeout > 0:
            self._loop._vnow += timeout
        return []
    def close(self):
        pass

class _FifoTimerHandle(events.TimerHandle):
    __slots__ = ('_seq',)
    def __lt__(self, other):
        if self._when == other._when:
            return self._seq < other._seq
        return self._when < other._when
    def __le__(self, other):
        return self == other or self < other
    def __gt__(self, other):
        return other < self
    def __ge__(self, other):
        return self == other or other < self

class DiffLoop(base_events.BaseEventLoop):
    def __init__(self):
        super().__init__()
        self._vnow = 0.0
        self._seq = 0
        self._selector = _VirtualSelector(self)
    def time(self):
        return self._vnow
    def _process_events(self, event_list):
        pass
    def _write_to_self(self):
        pass
    def call_at(self, when, callback, *args, context=None):
        if when is None:
            raise TypeError("when cannot be None")
        self._check_closed()
        timer = _FifoTimerHandle(when, callback, args, self, context)
        self._seq += 1
        timer._seq = self._seq
        heapq.heappush(self._scheduled, timer)
        timer._scheduled = True
        return timer
    def create_task(self, coro, **kwargs):
        seq = next(_task_counter)   # before an eager task's first step, which may create tasks itself
        task = super().create_task(coro, **kwargs)
        _task_order[task] = seq
        return task

# asyncio.run() cancels the tasks left at shutdown in the order of all_tasks(), a set: address order in
# CPython, unspecified. tsyncio cancels them in creation order; give CPython that order too
# (docs/PYTHON_DIFFERENCES.md, "Shutdown order").
import itertools, weakref
_task_counter = itertools.count()
_task_order = weakref.WeakKeyDictionary()
_all_tasks = asyncio.tasks.all_tasks
def _ordered_all_tasks(loop=None):
    return sorted(_all_tasks(loop), key=lambda t: _task_order.get(t, -1))
asyncio.runners.tasks.all_tasks = _ordered_all_tasks

# as_completed() keeps its awaitables in a set: it starts coroutines, and hands out futures that are
# already done, in set (address) order. tsyncio uses the order given; give CPython that order too
# (docs/PYTHON_DIFFERENCES.md, "asCompleted order"). The rest of _AsCompletedIterator is CPython's.
class _OrderedSet(dict):
    def add(self, key):
        self[key] = None
    def remove(self, key):
        del self[key]
    def discard(self, key):
        self.pop(key, None)

def _as_completed_init(self, aws, timeout):
    self._done = asyncio.queues.Queue()
    self._timeout_handle = None
    loop = events.get_event_loop()
    todo = _OrderedSet.fromkeys(asyncio.ensure_future(aw, loop=loop) for aw in dict.fromkeys(aws))
    for f in todo:
        f.add_done_callback(self._handle_completion)
    if todo and timeout is not None:
        self._timeout_handle = loop.call_later(timeout, self._handle_timeout)
    self._todo = todo
    self._todo_left = len(todo)
asyncio.tasks._AsCompletedIterator.__init__ = _as_completed_init

# TaskGroup keeps its tasks in a set too: when it aborts, it cancels them in set (address) order. tsyncio
# cancels them in the order they were created; so does CPython here (docs/PYTHON_DIFFERENCES.md).
_taskgroup_init = asyncio.TaskGroup.__init__
def _ordered_taskgroup_init(self):
    _taskgroup_init(self)
    self._tasks = _OrderedSet()
asyncio.TaskGroup.__init__ = _ordered_taskgroup_init

events._set_running_loop(None)   # Pyodide's own browser-style loop must not count as running

def fmt(v):
    if v is None:
        return 'None'
    if v is True:
        return 'True'
    if v is False:
        return 'False'
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):   # loop times (multiples of 0.5): written as JavaScript writes numbers
        return str(int(v)) if v.is_integer() else repr(v)
    if isinstance(v, str):
        return "'" + v + "'"
    if isinstance(v, BaseException):
        return exc(v)
    if isinstance(v, asyncio.Task):
        return 'Task(' + v.get_name() + ')'
    if isinstance(v, (list, tuple)):
        return '[' + ', '.join(fmt(x) for x in v) + ']'
    if isinstance(v, (set, frozenset)):
        return '{' + ', '.join(sorted(fmt(x) for x in v)) + '}'
    return '?' + type(v).__name__

def exc(e):
    name = type(e).__name__
    if isinstance(e, BaseExceptionGroup):
        return '!' + name + "('" + e.message + "', [" + ', '.join(exc(x) for x in e.exceptions) + '])'
    return '!' + name + "('" + str(e) + "')"

def status(t):
    if not t.done():
        return 'pending'
    if t.cancelled():
        return 'cancelled'
    e = t.exception()
    return exc(e) if e is not None else 'result ' + fmt(t.result())

def _pred(rec, N, A, k, raise_at):
    rec(A, 'pred', fmt(N[0]))
    if N[0] == raise_at:
        raise ValueError('pred')
    return N[0] if N[0] >= k else 0

def _cb(rec, T, V, hid, task, var):
    if task is not None:
        rec(hid, 'cancel ' + task, fmt(T[task].cancel()) if task in T else 'missing')
    elif var is not None:
        rec(hid, 'get ' + var, fmt(V[var].get()))
    else:
        rec(hid, 'called')

def _pending_names():
    names = [t.get_name() for t in asyncio.all_tasks()]
    return '[' + ', '.join(sorted(n if n[:1] == 't' and n[1:].isdigit() else '*' for n in names)) + ']'

def _item(T, name):
    if name not in T:
        raise LookupError('no task ' + name)
    return T[name]

def _watchdog_main(rec, task):
    rec('-', 'watchdog', fmt(task.cancel('watchdog')))

def _watchdog_all(rec, tasks):
    rec('-', 'watchdog', '[' + ', '.join(fmt(t.cancel('watchdog')) for t in list(tasks.values())) + ']')

def _loop_factory(eager, debug):
    def factory():
        loop = DiffLoop()
        if eager:
            loop.set_task_factory(asyncio.eager_task_factory)
        if debug:
            loop.set_debug(True)
        return loop
    return factory

def _run_scenario(src):
    trace = []
    _TRACE[0] = trace
    _HUNG_AT[0] = None
    def rec(actor, what, value=''):
        trace.append([asyncio.get_running_loop().time(), actor, what, value])
    g = {'__name__': 'scenario', 'asyncio': asyncio, 'contextvars': contextvars, 'rec': rec, 'fmt': fmt, '_pred': _pred, '_cb': _cb, '_pending_names': _pending_names,
         'exc': exc, 'status': status, '_item': _item, '_watchdog_main': _watchdog_main, '_watchdog_all': _watchdog_all}
    exec(src, g)
    try:
        r = asyncio.run(g['main'](), loop_factory=_loop_factory(g.get('EAGER_FACTORY'), g.get('DEBUG')))
        trace.append([None, 'run', 'result', fmt(r)])
    except BaseException as e:
        if _HUNG_AT[0] is not None:
            del trace[_HUNG_AT[0]:]
        trace.append([None, 'run', 'raised', exc(e)])
    _TRACE[0] = None
    if _HUNG_AT[0] is None:   # after a hang, final states are the clean-up's (see tsyncio.ts finish())
        for name, t in g['T'].items():
            trace.append([None, name, 'final', status(t)])
    g.clear()
    return trace

def _run_batch(sources_json):
    return json.dumps([_run_scenario(s) for s in json.loads(sources_json)])
`;

// ---------------------------------------------------------------------------------------------
// Emitting Python

const PY_EXC: Record<string, string> = {
  CancelledError: 'asyncio.CancelledError',
  InvalidStateError: 'asyncio.InvalidStateError',
  QueueShutDown: 'asyncio.QueueShutDown',
  QueueEmpty: 'asyncio.QueueEmpty',
  QueueFull: 'asyncio.QueueFull',
  BrokenBarrierError: 'asyncio.BrokenBarrierError',
};

function lit(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'number') return String(v);
  return `'${String(v)}'`;
}

function item(it: Item): string {
  return 'task' in it ? `_item(T, '${it.task}')` : `body_${it.actor}()`;
}

function items(its: Item[]): string {
  return its.map(item).join(', ');
}

/** `_r = <expr>` with the outcome (value or exception) recorded under `what`; exceptions propagate. */
function outcome(out: string[], ind: string, what: string, expr: string): void {
  out.push(
    `${ind}try:`,
    `${ind}    _r = ${expr}`,
    `${ind}except BaseException as _e:`,
    `${ind}    rec(A, '${what}', exc(_e))`,
    `${ind}    raise`,
    `${ind}rec(A, '${what}', fmt(_r))`,
  );
}

function block(out: string[], ind: string, stmts: Stmt[], sc: Scenario): void {
  if (stmts.length === 0) {
    out.push(`${ind}pass`);
    return;
  }
  for (const s of stmts) stmt(out, ind, s, sc);
}

function handler(out: string[], ind: string, h: Handler, sc: Scenario, star: boolean): void {
  const types = h.types.map((t) => PY_EXC[t] ?? t);
  out.push(`${ind}except${star ? '*' : ''} (${types.join(', ')},) as _e:`);
  out.push(`${ind}    rec(A, 'caught', exc(_e))`);
  block(out, `${ind}    `, h.body, sc);
  if (h.reraise) out.push(`${ind}    raise`);
}

function stmt(out: string[], ind: string, s: Stmt, sc: Scenario): void {
  switch (s.op) {
    case 'log':
      out.push(`${ind}rec(A, 'log', '${s.what}')`);
      return;
    case 'sleep':
      out.push(`${ind}await asyncio.sleep(${s.d})`, `${ind}rec(A, 'sleep ${s.d}')`);
      return;
    case 'spawn': {
      const eager = s.eager === undefined ? '' : `, eager_start=${lit(s.eager)}`;
      if (s.group !== undefined) {
        out.push(`${ind}if '${s.group}' not in G:`, `${ind}    rec(A, 'spawn ${s.task}', 'missing')`);
        out.push(`${ind}else:`);
        outcome(
          out,
          `${ind}    `,
          `spawn ${s.task}`,
          `G['${s.group}'].create_task(body_${s.task}(), name='${s.task}'${eager})`,
        );
        out.push(`${ind}    T['${s.task}'] = _r`);
      } else {
        outcome(
          out,
          ind,
          `spawn ${s.task}`,
          `asyncio.create_task(body_${s.task}(), name='${s.task}'${eager})`,
        );
        out.push(`${ind}T['${s.task}'] = _r`);
      }
      return;
    }
    case 'await':
      out.push(`${ind}if '${s.task}' not in T:`, `${ind}    rec(A, 'await ${s.task}', 'missing')`);
      out.push(`${ind}else:`);
      outcome(out, `${ind}    `, `await ${s.task}`, `await T['${s.task}']`);
      return;
    case 'cancel': {
      const msg = s.msg === undefined ? '' : lit(s.msg);
      out.push(`${ind}if '${s.task}' not in T:`, `${ind}    rec(A, 'cancel ${s.task}', 'missing')`);
      out.push(`${ind}else:`, `${ind}    rec(A, 'cancel ${s.task}', fmt(T['${s.task}'].cancel(${msg})))`);
      return;
    }
    case 'status':
      out.push(`${ind}if '${s.task}' not in T:`, `${ind}    rec(A, 'status ${s.task}', 'missing')`);
      out.push(`${ind}else:`, `${ind}    rec(A, 'status ${s.task}', status(T['${s.task}']))`);
      return;
    case 'uncancel':
    case 'cancelling':
      out.push(`${ind}rec(A, '${s.op}', fmt(asyncio.current_task().${s.op}()))`);
      return;
    case 'return':
      out.push(`${ind}return ${lit(s.value)}`);
      return;
    case 'raise':
      out.push(`${ind}raise ${s.exc}('${s.msg}')`);
      return;
    case 'try':
      out.push(`${ind}try:`);
      block(out, `${ind}    `, s.body, sc);
      for (const h of s.handlers) handler(out, ind, h, sc, !!s.star);
      if (s.finally) {
        out.push(`${ind}finally:`);
        block(out, `${ind}    `, s.finally, sc);
      }
      if (s.handlers.length === 0 && !s.finally) out.push(`${ind}finally:`, `${ind}    pass`);
      return;
    case 'gather': {
      const kw = s.returnExceptions ? ', return_exceptions=True' : '';
      outcome(out, ind, 'gather', `await asyncio.gather(${items(s.items)}${kw})`);
      return;
    }
    case 'taskGroup':
      out.push(`${ind}async with asyncio.TaskGroup() as _tg:`);
      out.push(`${ind}    G['${s.group}'] = _tg`);
      block(out, `${ind}    `, s.body, sc);
      out.push(`${ind}rec(A, 'exited ${s.group}')`);
      return;
    case 'timeout':
      out.push(
        s.at
          ? `${ind}async with asyncio.timeout_at(${s.d === null ? 'None' : `asyncio.get_running_loop().time() + ${s.d}`}) as _cm:`
          : `${ind}async with asyncio.timeout(${lit(s.d)}) as _cm:`,
      );
      out.push(`${ind}    C['${s.id}'] = _cm`);
      block(out, `${ind}    `, s.body, sc);
      out.push(`${ind}rec(A, 'exited ${s.id}')`);
      return;
    case 'reschedule': {
      const when = s.d === null ? 'None' : `asyncio.get_running_loop().time() + ${s.d}`;
      out.push(`${ind}if '${s.id}' not in C:`, `${ind}    rec(A, 'reschedule ${s.id}', 'missing')`);
      out.push(`${ind}else:`);
      outcome(out, `${ind}    `, `reschedule ${s.id}`, `C['${s.id}'].reschedule(${when})`);
      return;
    }
    case 'timeoutInfo':
      out.push(`${ind}if '${s.id}' not in C:`, `${ind}    rec(A, '${s.what} ${s.id}', 'missing')`);
      out.push(`${ind}else:`, `${ind}    rec(A, '${s.what} ${s.id}', fmt(C['${s.id}'].${s.what}()))`);
      return;
    case 'condWaitFor':
      outcome(
        out,
        ind,
        `${s.res}.wait_for ${s.atLeast}`,
        `await R['${s.res}'].wait_for(lambda: _pred(rec, N, A, ${s.atLeast}, ${lit(s.raiseAt)}))`,
      );
      return;
    case 'callback': {
      const args = `_cb, rec, T, V, '${s.id}', ${lit(s.task)}, ${lit(s.var)}`;
      const call =
        s.how === 'later'
          ? `call_later(${s.d}, ${args})`
          : s.how === 'threadsafe'
            ? `call_soon_threadsafe(${args})`
            : `call_soon(${args})`;
      out.push(`${ind}H['${s.id}'] = asyncio.get_running_loop().${call}`);
      return;
    }
    case 'allTasks':
      out.push(`${ind}rec(A, 'all_tasks', _pending_names())`);
      return;
    case 'cancelHandle':
      out.push(`${ind}if '${s.id}' not in H:`, `${ind}    rec(A, 'cancel ${s.id}', 'missing')`);
      out.push(
        `${ind}else:`,
        `${ind}    H['${s.id}'].cancel()`,
        `${ind}    rec(A, 'cancel ${s.id}', fmt(H['${s.id}'].cancelled()))`,
      );
      return;
    case 'bump':
      out.push(`${ind}N[0] += 1`, `${ind}rec(A, 'bump', fmt(N[0]))`);
      return;
    case 'waitFor':
      outcome(out, ind, 'wait_for', `await asyncio.wait_for(${item(s.item)}, ${lit(s.d)})`);
      return;
    case 'shield':
      outcome(out, ind, 'shield', `await asyncio.shield(${item(s.item)})`);
      return;
    case 'wait': {
      const args = [`[${s.tasks.map((t) => `_item(T, '${t}')`).join(', ')}]`];
      if (s.timeout !== undefined) args.push(`timeout=${lit(s.timeout)}`);
      if (s.returnWhen !== undefined) args.push(`return_when=asyncio.${s.returnWhen}`);
      outcome(out, ind, 'wait', `await asyncio.wait(${args.join(', ')})`);
      return;
    }
    case 'asCompleted': {
      const timeout = s.timeout !== undefined ? `, timeout=${lit(s.timeout)}` : '';
      out.push(`${ind}for _aw in asyncio.as_completed([${items(s.items)}]${timeout}):`);
      outcome(out, `${ind}    `, 'as_completed', 'await _aw');
      return;
    }
    case 'with':
      out.push(`${ind}async with R['${s.res}']:`);
      out.push(`${ind}    rec(A, 'entered ${s.res}')`);
      block(out, `${ind}    `, s.body, sc);
      out.push(`${ind}rec(A, 'exited ${s.res}')`);
      return;
    case 'call': {
      const kind = sc.resources![s.res]!.kind;
      const mode = RESOURCE_METHODS[kind][s.method];
      const args = (s.args ?? []).map(lit).join(', ');
      const access = RESOURCE_PROPERTIES.has(s.method)
        ? `R['${s.res}'].${s.method}`
        : s.method === 'await'
          ? `R['${s.res}']`
          : s.method === 'set_exception'
            ? `R['${s.res}'].set_exception(ValueError(${args}))`
            : `R['${s.res}'].${s.method}(${args})`;
      outcome(out, ind, `${s.res}.${s.method}`, mode === 'await' ? `await ${access}` : access);
      return;
    }
    case 'ctxSet':
      out.push(`${ind}V['${s.var}'].set(${lit(s.value)})`);
      return;
    case 'ctxGet':
      out.push(`${ind}rec(A, 'get ${s.var}', fmt(V['${s.var}'].get()))`);
      return;
  }
}

/** The Python program for a scenario: defines `main()` and the dict `T` of spawned tasks. */
export function toPython(sc: Scenario): string {
  validate(sc);
  const out: string[] = ['T = {}', 'G = {}', 'C = {}', 'R = {}', 'V = {}', 'N = [0]', 'H = {}'];
  // The loop factory reads this: loop.set_task_factory(asyncio.eager_task_factory) on the new loop.
  if (sc.taskFactory === 'eager') out.push('EAGER_FACTORY = True');
  if (sc.debug) out.push('DEBUG = True'); // loop.set_debug(True) on the new loop
  for (const v of sc.vars ?? []) out.push(`V['${v}'] = contextvars.ContextVar('${v}', default=None)`);
  for (const { actor, body, kind } of bodies(sc)) {
    out.push('', `async def ${kind === 'main' ? 'main' : `body_${actor}`}():`, `    A = '${actor}'`);
    if (kind === 'main') {
      out.push(
        '    _loop = asyncio.get_running_loop()',
        `    _loop.call_at(${WATCHDOG_TIMES[0]}, _watchdog_main, rec, asyncio.current_task())`,
        `    _loop.call_at(${WATCHDOG_TIMES[1]}, _watchdog_all, rec, T)`,
      );
      for (const [name, r] of Object.entries(sc.resources ?? {})) {
        out.push(`    R['${name}'] = asyncio.${r.kind}(${r.arg === undefined ? '' : r.arg})`);
      }
    }
    block(out, '    ', body, sc);
  }
  return `${out.join('\n')}\n`;
}

// ---------------------------------------------------------------------------------------------
// Running Python

interface PyodideLike {
  runPython(code: string): unknown;
  globals: { get(name: string): unknown };
  setStdout(o: { batched: (s: string) => void }): void;
  setStderr(o: { batched: (s: string) => void }): void;
}

let pyodide: Promise<PyodideLike> | null = null;

/** Load Pyodide (once per process) and the prelude. */
export function loadPython(): Promise<PyodideLike> {
  if (pyodide === null) {
    pyodide = (async () => {
      const require = createRequire(import.meta.url);
      const indexURL = `${dirname(require.resolve('pyodide/package.json'))}/`;
      const { loadPyodide } = (await import('pyodide')) as unknown as {
        loadPyodide(o: {
          indexURL: string;
          stdout?: (s: string) => void;
          stderr?: (s: string) => void;
        }): Promise<PyodideLike>;
      };
      const py = await loadPyodide({ indexURL, stdout: () => {}, stderr: () => {} });
      py.runPython(PRELUDE);
      const version = String(py.runPython('sys.version'));
      if (!version.startsWith('3.14')) throw new Error(`difftest needs CPython 3.14, Pyodide has ${version}`);
      return py;
    })();
  }
  return pyodide;
}

/**
 * Run scenarios under CPython 3.14; one trace per scenario. Should Pyodide itself die (a wasm stack
 * overflow is fatal to it), it is reloaded and the batch rerun one by one; the scenario that kills it gets
 * the trace `[[null, 'python', 'crashed', message]]`.
 */
export async function runPython(scenarios: Scenario[]): Promise<TraceEvent[][]> {
  try {
    return await runBatch(scenarios);
  } catch (e) {
    if (!(e as { pyodide_fatal_error?: boolean })?.pyodide_fatal_error && !(e instanceof RangeError)) throw e;
    pyodide = null;
    if (scenarios.length === 1) return [[[null, 'python', 'crashed', String(e)]]];
    const out: TraceEvent[][] = [];
    for (const sc of scenarios) out.push(...(await runPython([sc])));
    return out;
  }
}

async function runBatch(scenarios: Scenario[]): Promise<TraceEvent[][]> {
  const py = await loadPython();
  const runBatch = py.globals.get('_run_batch') as ((s: string) => string) & { destroy?: () => void };
  try {
    const json = runBatch(JSON.stringify(scenarios.map(toPython)));
    return JSON.parse(json) as TraceEvent[][];
  } finally {
    runBatch.destroy?.();
  }
}
