/**
 * Trace export: what ran when, as Chrome trace-event JSON (open it in Perfetto or chrome://tracing).
 *
 *   - one track (tid) per task, named after the task (`thread_name` metadata); track 0 is the loop itself
 *     (plain callbacks and timers);
 *   - a complete event ('X') for each task step and for each plain callback, with its real duration;
 *   - instant events ('i') when a task is created, asked to cancel, and done;
 *   - flow events ('s' → 'f') for who woke whom: the step or callback that scheduled a task's next step
 *     (created it, completed the future it waited on, or a timer that fired).
 *
 * The loop calls the tracer through `loop._tracer`, which is null when tracing is off: the hot paths pay
 * one field test (they already had it), nothing else. Portable: no `node:` imports; `run(main(), { trace:
 * 'trace.json' })` writes the file through the Node entry.
 */
import { type EventLoop, installInstrumentedPass } from './base_events.js';
import { Coroutine } from './coroutines.js';
import type { Handle } from './events.js';
import { _getRunningLoop, checkLoopArg, getRunningLoop } from './events.js';
import { RuntimeError } from './exceptions.js';
import { callbackName, className, repr } from './format_helpers.js';
import type { Future } from './futures.js';
import type { TraceRecorder } from './runners.js';
import { handleTask, Task } from './tasks.js';

/** One event of the Trace Event Format (the fields tsyncio writes). */
export interface TraceEvent {
  name: string;
  cat?: string;
  /** Phase: X complete, i instant, s/f flow start/end, M metadata. */
  ph: 'X' | 'i' | 's' | 'f' | 'M';
  /** Microseconds. */
  ts: number;
  dur?: number;
  pid: number;
  tid: number;
  /** Instant scope ('t': thread). */
  s?: 't';
  /** Flow id. */
  id?: number;
  /** Flow end binds to the enclosing slice. */
  bp?: 'e';
  args?: Record<string, unknown>;
}

/** The JSON object a trace file holds. */
export interface ChromeTrace {
  traceEvents: TraceEvent[];
  displayTimeUnit: 'ms';
  otherData: Record<string, unknown>;
}

export interface TracingOptions {
  /**
   * 'host' (default): timestamps from the host's monotonic clock. 'loop': from `loop.time()` — for a
   * virtual-clock loop this is the simulated timeline (durations stay real).
   */
  timebase?: 'host' | 'loop';
  /** Stop recording after this many events (default 1,000,000); the trace says how many were dropped. */
  maxEvents?: number;
  /** Called with the trace when the loop is closed while tracing (run({ trace }) writes the file here). */
  onClose?: (trace: ChromeTrace) => void;
}

const PID = 1;

/** Microseconds to the nanosecond: enough for ordering, short in the file. */
function round(us: number): number {
  return Math.round(us * 1000) / 1000;
}
const LOOP_TID = 0;

function coroName(task: Task<any>): string {
  const coro = task._coro;
  return coro instanceof Coroutine ? coro.qualname : 'generator';
}

function callbackLabel(handle: Handle): string {
  const cb = handle._callback;
  if (cb === null) return '<cancelled>';
  return callbackName(cb);
}

/**
 * What the loop tells an installed instrument (Trio's instruments), at each point of a task's and a
 * handle's life. `loop._tracer` holds at most one; the loop and Task call every method while it is set.
 */
export interface Instrument {
  taskCreated(task: Task<any>): void;
  taskCancelRequested(task: Task<any>, msg: unknown): void;
  taskStepStart(task: Task<any>): void;
  taskStepEnd(task: Task<any>): void;
  /** The task now waits for `fut`. */
  taskWaits(task: Task<any>, fut: Future<any>): void;
  taskDone(task: Task<any>): void;
  beforeHandle(handle: Handle): void;
  afterHandle(handle: Handle): void;
  loopClosed(): void;
}

/** Records one loop's activity; installed as `loop._tracer`. */
export class Tracer implements Instrument {
  readonly loop: EventLoop;
  readonly events: TraceEvent[] = [];
  dropped = 0;
  private readonly options: TracingOptions;
  private readonly t0: number;
  private readonly tids = new WeakMap<Task<any>, number>();
  private nextTid = 1;
  private nextFlow = 1;
  // Per-task state is weak: a long trace must not keep finished tasks alive.
  // The handle being run and where the ready queue ended when it started (to find what it scheduled).
  private handle: Handle | null = null;
  private readyMark = 0;
  private handleStart = 0;
  private stepRan: Task<any> | null = null;
  private readonly stepStarts = new WeakMap<Task<any>, number>();
  private readonly steps = new WeakMap<Task<any>, number>();
  private readonly lastStep = new WeakMap<Task<any>, TraceEvent>();
  // Handles scheduled by a traced step or callback: the flow id to close when the handle runs.
  private readonly pendingFlows = new WeakMap<Handle, number>();
  private stopped = false;

  constructor(loop: EventLoop, options?: TracingOptions) {
    this.loop = loop;
    this.options = { ...options };
    this.t0 = this.clock();
    this.meta(LOOP_TID, 'thread_name', { name: 'event loop' });
    this.meta(LOOP_TID, 'thread_sort_index', { sort_index: -1 });
    this.events.push({ name: 'process_name', ph: 'M', ts: 0, pid: PID, tid: 0, args: { name: 'tsyncio' } });
    // Started from inside a task (the usual case): that task gets the first track.
    if (loop._currentTask !== null) this.tid(loop._currentTask);
  }

  private clock(): number {
    return this.options.timebase === 'loop' ? this.loop.time() * 1e6 : this.loop._host.now() * 1e3;
  }

  private now(): number {
    return round(this.clock() - this.t0);
  }

  private push(e: TraceEvent): void {
    if (this.events.length >= (this.options.maxEvents ?? 1_000_000)) {
      this.dropped++;
      return;
    }
    this.events.push(e);
  }

  private meta(tid: number, name: string, args: Record<string, unknown>): void {
    this.events.push({ name, ph: 'M', ts: 0, pid: PID, tid, args });
  }

  /** The task's track, created (and named) on first sight. */
  tid(task: Task<any>): number {
    let tid = this.tids.get(task);
    if (tid === undefined) {
      tid = this.nextTid++;
      this.tids.set(task, tid);
      this.meta(tid, 'thread_name', { name: task.getName() });
      this.meta(tid, 'thread_sort_index', { sort_index: tid });
    }
    return tid;
  }

  private instant(task: Task<any>, name: string, args?: Record<string, unknown>): void {
    const e: TraceEvent = {
      name,
      cat: 'task',
      ph: 'i',
      s: 't',
      ts: this.now(),
      pid: PID,
      tid: this.tid(task),
    };
    if (args !== undefined) e.args = args;
    this.push(e);
  }

  // -- hooks the loop and Task call ------------------------------------------------------------------

  taskCreated(task: Task<any>): void {
    const parent = this.loop._currentTask;
    this.instant(task, 'create', parent !== null ? { parent: parent.getName() } : undefined);
  }

  taskCancelRequested(task: Task<any>, msg: unknown): void {
    this.instant(task, 'cancel', msg !== undefined ? { msg: repr(msg) } : undefined);
  }

  taskDone(task: Task<any>): void {
    let state: string;
    if (task.cancelled()) state = 'cancelled';
    else if (task._exception !== undefined) state = `exception: ${repr(task._exception)}`;
    else state = 'finished';
    this.instant(task, 'done', { state });
  }

  taskStepStart(task: Task<any>): void {
    const ts = this.now();
    this.stepStarts.set(task, ts);
    if (this.handle !== null) {
      const flow = this.pendingFlows.get(this.handle);
      if (flow !== undefined) {
        this.pendingFlows.delete(this.handle);
        this.push({
          name: 'wakeup',
          cat: 'flow',
          ph: 'f',
          bp: 'e',
          id: flow,
          ts,
          pid: PID,
          tid: this.tid(task),
        });
      }
      // The first step inside a handle is the handle's own task (an eager task may step inside it).
      if (this.stepRan === null) this.stepRan = task;
    }
  }

  taskStepEnd(task: Task<any>): void {
    const end = this.now();
    const start = this.stepStarts.get(task) ?? end;
    this.stepStarts.delete(task);
    const n = (this.steps.get(task) ?? 0) + 1;
    this.steps.set(task, n);
    const e: TraceEvent = {
      name: coroName(task),
      cat: 'step',
      ph: 'X',
      ts: start,
      dur: round(Math.max(end - start, 0)),
      pid: PID,
      tid: this.tid(task),
      args: { task: task.getName(), step: n },
    };
    this.push(e);
    this.lastStep.set(task, e);
    // An eager task steps outside any handle: whatever it scheduled is found by the enclosing handle.
  }

  taskWaits(task: Task<any>, fut: Future<any>): void {
    const e = this.lastStep.get(task);
    if (e?.args !== undefined) {
      const s = fut instanceof Task ? `Task ${fut.getName()}` : className(fut.constructor);
      e.args.awaits = s;
    }
  }

  beforeHandle(handle: Handle): void {
    this.handle = handle;
    this.stepRan = null;
    this.readyMark = this.loop._ready.length;
    this.handleStart = this.now();
  }

  afterHandle(handle: Handle): void {
    const end = this.now();
    const stepper = this.stepRan;
    this.handle = null;
    this.stepRan = null;
    const isTaskHandle = handleTask(handle) !== null;
    let srcTid = LOOP_TID;
    let srcTs = this.handleStart;
    if (stepper !== null) {
      srcTid = this.tid(stepper);
      srcTs = this.lastStep.get(stepper)?.ts ?? this.handleStart;
    } else if (!isTaskHandle) {
      this.push({
        name: callbackLabel(handle),
        cat: 'callback',
        ph: 'X',
        ts: this.handleStart,
        dur: round(Math.max(end - this.handleStart, 0)),
        pid: PID,
        tid: LOOP_TID,
      });
    } else {
      return;
    }
    // What this handle scheduled: the ready queue's tail since it started (nothing is taken off the
    // queue while a handle runs). A scheduled step or wakeup of a task is a "woke" flow.
    const ready = this.loop._ready;
    for (let i = this.readyMark; i < ready.length; i++) {
      const h = ready.at(i);
      if (h === undefined) continue;
      if (handleTask(h) === null) continue;
      const id = this.nextFlow++;
      this.pendingFlows.set(h, id);
      this.push({ name: 'wakeup', cat: 'flow', ph: 's', id, ts: srcTs, pid: PID, tid: srcTid });
    }
  }

  loopClosed(): void {
    const onClose = this.options.onClose;
    if (onClose === undefined) return;
    stopTracing(this.loop);
    onClose(this.toJSON());
  }

  /** The trace so far as the JSON object of a trace file. */
  toJSON(): ChromeTrace {
    const otherData: Record<string, unknown> = { tool: 'tsyncio', timebase: this.options.timebase ?? 'host' };
    if (this.dropped > 0) otherData.droppedEvents = this.dropped;
    return { traceEvents: [...this.events], displayTimeUnit: 'ms', otherData };
  }

  /** @internal */
  _detach(): void {
    this.stopped = true;
  }

  get active(): boolean {
    return !this.stopped;
  }
}

/**
 * Start recording `loop`'s tasks (default: the running loop) into a trace. RuntimeError if it is being
 * traced already. Returns the Tracer; stopTracing() ends it and returns the events.
 */
export function startTracing(loop?: EventLoop | null, options?: TracingOptions): Tracer {
  checkLoopArg(loop);
  const l = loop ?? getRunningLoop();
  if (l._tracer !== null) throw new RuntimeError(`${l} is already being traced`);
  l._checkClosed();
  const tracer = new Tracer(l, options);
  installInstrumentedPass();
  l._tracer = tracer;
  return tracer;
}

/**
 * Stop tracing `loop` (default: the running loop) and return the trace as Chrome trace-event JSON.
 * RuntimeError if the loop is not being traced.
 */
export function stopTracing(loop?: EventLoop | null): ChromeTrace {
  checkLoopArg(loop);
  const l = loop ?? _getRunningLoop();
  if (l === null) throw new RuntimeError('stopTracing() needs a loop: none is running');
  const tracer = l._tracer;
  if (!(tracer instanceof Tracer)) throw new RuntimeError(`${l} is not being traced`);
  l._tracer = null;
  tracer._detach();
  return tracer.toJSON();
}

/**
 * The `trace` option of run()/Runner that records the run and hands the trace to `onClose` when the loop
 * closes: `run(main(), { trace: traceTo((t) => upload(t)) })`. Works from every entry; the tracer comes
 * with this function, so a program that never traces does not carry it.
 */
export function traceTo(onClose: (trace: ChromeTrace) => void): TraceRecorder {
  if (typeof onClose !== 'function')
    throw new TypeError(`traceTo() needs a function, got ${String(onClose)}`);
  return { _startTrace: (loop) => void startTracing(loop, { onClose }) };
}
