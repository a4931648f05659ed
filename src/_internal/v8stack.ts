/**
 * Reading V8 stack text as frames, for the call graph and Task reprs.
 *
 * JavaScript cannot walk a *suspended* generator's frames (Python's `cr_await` / `cr_frame`), but while a
 * coroutine chain is suspending, every generator of the chain is on the JS stack, linked by native `yield*`
 * delegation. V8 prints a generator frame as `at worker (file:12:5)` followed by a synthetic
 * `at worker.next (<anonymous>)` line (the resumption); that pair is how a coroutine frame is told apart
 * from an ordinary function frame.
 */

export interface StackFrame {
  /** Function name as V8 prints it ('<module>' for top-level code). */
  name: string;
  /** File path (file: URLs are turned into paths), or null when V8 gives none. */
  filename: string | null;
  lineno: number | null;
  colno: number | null;
  /** A generator (coroutine) frame, resumed through `.next`/`.throw`/`.return`. */
  isCoroutine: boolean;
}

const FRAME = /^\s*at (?:(.*?) \()?(.*?):(\d+):(\d+)\)?$/;
const RESUME = /^\s*at (?:.*\.)?(next|throw|return) \(<anonymous>\)$/;

function toPath(file: string): string {
  if (file.startsWith('file://')) {
    try {
      return decodeURIComponent(new URL(file).pathname);
    } catch {
      return file;
    }
  }
  return file;
}

/** Parse a V8 stack (the text of `err.stack`) into frames, innermost first. */
export function parseV8Stack(stack: string): StackFrame[] {
  const lines = stack.split('\n');
  const frames: StackFrame[] = [];
  for (const line of lines) {
    if (RESUME.test(line)) {
      const prev = frames[frames.length - 1];
      if (prev !== undefined) prev.isCoroutine = true;
      continue;
    }
    const m = FRAME.exec(line);
    if (m === null) continue;
    const [, fn, file, lineNo, colNo] = m;
    let name = fn ?? '<module>';
    // V8 prefixes "async " for async functions and "new " for constructors; keep the bare name.
    name = name.replace(/^(async|new) /, '');
    frames.push({
      name,
      filename: toPath(file!),
      lineno: Number(lineNo),
      colno: Number(colNo),
      isCoroutine: false,
    });
  }
  return frames;
}

/**
 * The coroutine frames of a stack captured while a task was suspending (innermost first): skip the
 * non-generator frames on top (Future.next and the like), then take generator frames until the first
 * ordinary frame below them (the Task's step, which drives the outermost coroutine). A stack captured by a
 * hand-written awaitable body (`body`, see suspendOn in futures.ts) starts at that body's `next()`: its
 * frame stands for the body's coroutine frame, named as the body.
 */
export function suspendedCoroutineFrames(raw: { stack?: string; body?: string } | undefined): StackFrame[] {
  const stack = raw?.stack;
  if (stack === undefined) return [];
  const frames = parseV8Stack(stack);
  const out: StackFrame[] = [];
  let i = 0;
  const body = raw!.body;
  if (body !== undefined && frames.length > 0) {
    out.push({ ...frames[0]!, name: body, isCoroutine: true });
    i = 1;
  }
  while (i < frames.length && !frames[i]!.isCoroutine) i++;
  while (i < frames.length && frames[i]!.isCoroutine) out.push(frames[i++]!);
  return out;
}

/**
 * The frames of a stack captured in the running task (innermost first), from the top down to the outermost
 * coroutine frame: like CPython's walk, which stops at the coroutine frame whose caller is not a coroutine.
 */
export function liveTaskFrames(stack: string, skip: number): StackFrame[] {
  const frames = parseV8Stack(stack).slice(skip);
  const out: StackFrame[] = [];
  for (let i = 0; i < frames.length; i++) {
    const f = frames[i]!;
    out.push(f);
    if (f.isCoroutine && (i + 1 >= frames.length || !frames[i + 1]!.isCoroutine)) break;
  }
  return out;
}
