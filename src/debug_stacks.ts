/**
 * Debug mode's stacks: where a coroutine, a Future, a Task or a Handle was created (formatted at once as
 * "most recent call last" lines), and reading a task's recorded await stack as frames for its repr.
 *
 * format_helpers.ts holds the two readers the core calls (`extractStack`, `awaitStackFrames`), which do
 * nothing until installStacks() puts these in: `tsyncio/debug` calls it (the Node entry imports that), and
 * so does trackAwaitStacks(). Debug mode refuses to start without it (EventLoop.setDebug), so a portable
 * program that never debugs carries none of this.
 */
import { suspendedCoroutineFrames } from './_internal/v8stack.js';
import { installStackReaders } from './format_helpers.js';

/** Install this module's stack readers (idempotent). */
export function installStacks(): void {
  installStackReaders(extractStack, suspendedCoroutineFrames);
}

/**
 * The current stack as "most recent call last" lines (File "x", line N, in f), dropping tsyncio's own
 * frames. Formatted at once, so the report never keeps objects alive (V8's unformatted stacks do).
 */
function extractStack(skip = 1, limit = 20): string[] {
  const holder: { stack?: string } = {};
  const prev = Error.stackTraceLimit;
  Error.stackTraceLimit = limit + skip + 10;
  Error.captureStackTrace?.(holder);
  Error.stackTraceLimit = prev;
  const lines = (holder.stack ?? '').split('\n').slice(1 + skip);
  const frames: string[] = [];
  for (const line of lines) {
    const m = /^\s*at (?:(.*?) \()?(.*?):(\d+):(\d+)\)?$/.exec(line);
    if (!m) continue;
    const [, fn, file, lineNo] = m;
    if (file === undefined || isInternalFile(file)) continue;
    frames.push(`  File "${file}", line ${lineNo}, in ${fn ?? '<module>'}`);
    if (frames.length >= limit) break;
  }
  return frames.reverse();
}

/** Is `file` one of tsyncio's own modules (or the host's / test runner's)? */
function isInternalFile(file: string): boolean {
  return (
    file.startsWith('node:') ||
    /[\\/]tsyncio[\\/](src|dist)[\\/]/.test(file) ||
    /[\\/]node_modules[\\/](vitest|@vitest|tinypool|tsx)[\\/]/.test(file) ||
    file.includes(TSYNCIO_DIR)
  );
}

// The directory of this module: frames inside tsyncio itself are not the user's creation site. Only while
// this module is its own file (src/debug_stacks.ts, dist/debug_stacks.js): bundled into an app's single file,
// its directory is the app's, and the check would drop every frame of the app; then only the frames the
// caller skips are tsyncio's.
const TSYNCIO_DIR = (() => {
  try {
    const url = new URL(import.meta.url);
    const file = url.protocol === 'file:' ? decodeURIComponent(url.pathname) : url.href;
    if (!/[\\/]debug_stacks\.[cm]?[jt]s$/.test(file)) return '\u0000';
    return file.replace(/[^\\/]*$/, '');
  } catch {
    return '\u0000';
  }
})();
