/**
 * Ordering values the way Python's `<` does, and the binary heap PriorityQueue keeps them in (CPython's
 * heapq, algorithm for algorithm).
 *
 * Ordering values (docs/PYTHON_DIFFERENCES.md, "PriorityQueue item order"): numbers, strings and bigints compare as in Python — numbers and bigints with
 * each other exactly, strings by code point (not by UTF-16 unit, which orders astral characters before
 * U+E000…U+FFFF); arrays compare element-wise like tuples (the first unequal pair decides, else the
 * shorter is smaller); an object with an `lt(other)` method (Python's `__lt__`) orders itself. Anything else
 * cannot be ordered without a comparator: TypeError with Python's
 * message, `'<' not supported between instances of 'dict' and 'dict'`. As in Python, only the pair
 * actually compared matters: `[1, {}] < [2, {}]` is fine, `[1, a] < [1, b]` with objects a, b is not.
 */

import { pyTypeName } from '../format_helpers.js';

function isNumeric(x: unknown): x is number | bigint {
  const t = typeof x;
  return t === 'number' || t === 'bigint';
}

/** Python's `x is y or x == y` for ordering values (what tuple comparison uses to skip equal elements). */
function equal(x: unknown, y: unknown): boolean {
  if (x === y) return true;
  // number vs bigint: loose equality is exact mathematical equality.
  // biome-ignore lint/suspicious/noDoubleEquals: deliberate, see above.
  if (isNumeric(x) && isNumeric(y)) return x == y;
  if (Array.isArray(x) && Array.isArray(y)) {
    if (x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!equal(x[i], y[i])) return false;
    return true;
  }
  return false;
}

/** Compare strings by code point, as Python does. */
function stringLess(a: string, b: string): boolean {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  if (i === n) return a.length < b.length;
  let x = a.charCodeAt(i);
  let y = b.charCodeAt(i);
  // UTF-16 puts surrogates (astral code points) below U+E000…U+FFFF; code points put them above.
  if (x >= 0xd800 && y >= 0xd800) {
    x = x < 0xe000 ? x + 0x2000 : x - 0x800;
    y = y < 0xe000 ? y + 0x2000 : y - 0x800;
  }
  return x < y;
}

/** Python's `x < y` for ordering values; TypeError for values that cannot be ordered. [HOT: PriorityQueue] */
export function pythonLess(x: unknown, y: unknown): boolean {
  const tx = typeof x;
  if (tx === 'number' && typeof y === 'number') return (x as number) < (y as number);
  if (tx === 'string' && typeof y === 'string') return x === y ? false : stringLess(x as string, y);
  if (Array.isArray(x) && Array.isArray(y)) {
    const n = Math.min(x.length, y.length);
    for (let i = 0; i < n; i++) {
      if (!equal(x[i], y[i])) return pythonLess(x[i], y[i]);
    }
    return x.length < y.length;
  }
  if (isNumeric(x) && isNumeric(y)) return x < y; // number vs bigint compares exactly in JS
  // Python's x.__lt__(y): an object that orders itself (only x's method is asked, as Python does when y
  // defines no reflected __gt__).
  if (typeof x === 'object' && x !== null && typeof (x as Ordered).lt === 'function') {
    return Boolean((x as Ordered).lt(y));
  }
  throw new TypeError(`'<' not supported between instances of '${pyTypeName(x)}' and '${pyTypeName(y)}'`);
}

/**
 * An item that orders itself, as a Python class with `__lt__` does: `a.lt(b)` is `a < b`. PriorityQueue
 * (and tuple-like arrays holding such items) use it when no comparator is given.
 *
 * ```ts
 * class Job implements Ordered<Job> {
 *   constructor(readonly priority: number, readonly name: string) {}
 *   lt(other: Job) { return this.priority < other.priority; }
 * }
 * ```
 */
export interface Ordered<T = unknown> {
  lt(other: T): boolean;
}

/** A comparator in the style of Array.prototype.sort: negative when a orders before b. */
export type Comparator<T> = (a: T, b: T) => number;

/**
 * A binary min-heap in an array, ordered by a `less` function: CPython's heapq (`heappush` = append +
 * `_siftdown`, `heappop` = move the last item to the root + `_siftup`, which walks down to a leaf and then
 * back up). Same algorithm, same comparisons, so items that compare equal come out in the order Python's
 * PriorityQueue gives them. Errors behave as in CPython's C heapq too: push appends before comparing, so
 * an item whose comparison throws stays in the heap; pop has already taken the top item off when a
 * comparison throws, and that item is lost.
 */
export class PyHeap<T> {
  readonly items: T[] = [];
  private readonly less: (a: T, b: T) => boolean;

  constructor(comparator?: Comparator<T> | null) {
    this.less = comparator ? (a, b) => comparator(a, b) < 0 : pythonLess;
  }

  get length(): number {
    return this.items.length;
  }

  push(item: T): void {
    const heap = this.items;
    heap.push(item);
    this.siftDown(0, heap.length - 1);
  }

  /** Remove and return the smallest item; the caller checks that the heap is not empty. */
  pop(): T {
    const heap = this.items;
    const last = heap.pop()!;
    if (heap.length === 0) return last;
    const top = heap[0]!;
    heap[0] = last;
    this.siftUp(0);
    return top;
  }

  // heapq._siftdown: move heap[pos] up towards startpos while it is smaller than its parent. Swaps, as the C
  // implementation does, so a comparison that throws leaves every item in the list.
  private siftDown(startpos: number, pos: number): void {
    const heap = this.items;
    const less = this.less;
    const newitem = heap[pos]!;
    while (pos > startpos) {
      const parentpos = (pos - 1) >> 1;
      const parent = heap[parentpos]!;
      if (!less(newitem, parent)) break;
      heap[parentpos] = newitem;
      heap[pos] = parent;
      pos = parentpos;
    }
  }

  // heapq._siftup: bubble the smaller child up until a leaf is reached, then place the item with _siftdown.
  private siftUp(pos: number): void {
    const heap = this.items;
    const less = this.less;
    const endpos = heap.length;
    const startpos = pos;
    const limit = endpos >> 1; // smallest position that has no child
    while (pos < limit) {
      let childpos = 2 * pos + 1;
      if (childpos + 1 < endpos && !less(heap[childpos]!, heap[childpos + 1]!)) childpos += 1;
      const child = heap[childpos]!;
      heap[childpos] = heap[pos]!;
      heap[pos] = child;
      pos = childpos;
    }
    this.siftDown(startpos, pos);
  }
}
