/**
 * A ring-buffer FIFO queue: Queue's items (queues.ts) and the executor's jobs [HOT: pingpong]. (The loop's
 * ready queue is _internal/ready.ts, a ring of (callback, argument, context) triples.)
 *
 * push/shift are O(1) amortised and allocate only when the buffer doubles; slots are cleared on shift so
 * finished handles can be collected. Capacity is a power of two so wrap-around is a mask.
 */
export class Deque<T> {
  private buf: (T | undefined)[];
  private head = 0;
  private tail = 0;
  private mask: number;

  constructor(capacity = 16) {
    let cap = 16;
    while (cap < capacity) cap *= 2;
    this.buf = new Array(cap);
    this.mask = cap - 1;
  }

  get length(): number {
    return (this.tail - this.head) & this.mask;
  }

  push(item: T): void {
    this.buf[this.tail] = item;
    this.tail = (this.tail + 1) & this.mask;
    if (this.tail === this.head) this.grow();
  }

  shift(): T | undefined {
    if (this.head === this.tail) return undefined;
    const item = this.buf[this.head];
    this.buf[this.head] = undefined;
    this.head = (this.head + 1) & this.mask;
    return item;
  }

  peek(): T | undefined {
    return this.head === this.tail ? undefined : this.buf[this.head];
  }

  /** Remove the first occurrence of item (O(n); used off the hot path, e.g. by queue waiters). */
  remove(item: T): boolean {
    const n = this.length;
    for (let i = 0; i < n; i++) {
      const idx = (this.head + i) & this.mask;
      if (this.buf[idx] === item) {
        for (let j = i; j < n - 1; j++) {
          this.buf[(this.head + j) & this.mask] = this.buf[(this.head + j + 1) & this.mask];
        }
        this.tail = (this.tail - 1) & this.mask;
        this.buf[this.tail] = undefined;
        return true;
      }
    }
    return false;
  }

  clear(): void {
    this.buf.fill(undefined);
    this.head = this.tail = 0;
  }

  *[Symbol.iterator](): Generator<T> {
    const n = this.length;
    for (let i = 0; i < n; i++) yield this.buf[(this.head + i) & this.mask] as T;
  }

  private grow(): void {
    // Called when full (tail caught up with head): unroll into a buffer twice the size.
    const old = this.buf;
    const cap = old.length;
    const next = new Array<T | undefined>(cap * 2);
    for (let i = 0; i < cap; i++) next[i] = old[(this.head + i) & this.mask];
    this.buf = next;
    this.head = 0;
    this.tail = cap;
    this.mask = cap * 2 - 1;
  }
}
