/**
 * A binary min-heap ordered by (when, seq) [HOT: the loop's timers].
 *
 * WHY (when, seq): equal deadlines must run in the order they were scheduled (tsyncio promises what
 * CPython's heapq does not), so every entry carries a monotonically increasing sequence number.
 * Cancelled entries are not removed here; the loop pops them lazily or rebuilds the heap past a threshold
 * (see constants.ts), which keeps mass cancellation O(n log n) instead of O(n²).
 */
export interface HeapEntry {
  _when: number;
  _seq: number;
}

function less(a: HeapEntry, b: HeapEntry): boolean {
  return a._when < b._when || (a._when === b._when && a._seq < b._seq);
}

export class TimerHeap<T extends HeapEntry> {
  items: T[] = [];

  get length(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  push(item: T): void {
    const a = this.items;
    let i = a.length;
    a.push(item);
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = a[p]!;
      if (!less(item, parent)) break;
      a[i] = parent;
      i = p;
    }
    a[i] = item;
  }

  pop(): T | undefined {
    const a = this.items;
    const n = a.length;
    if (n === 0) return undefined;
    const top = a[0]!;
    const last = a.pop()!;
    if (n > 1) this.siftDown(last, 0);
    return top;
  }

  /** Keep only entries for which keep() is true, then restore the heap property (O(n)). */
  filter(keep: (item: T) => boolean): void {
    this.items = this.items.filter(keep);
    const a = this.items;
    for (let i = (a.length >> 1) - 1; i >= 0; i--) this.siftDown(a[i]!, i);
  }

  private siftDown(item: T, i: number): void {
    const a = this.items;
    const n = a.length;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      const r = c + 1;
      if (r < n && less(a[r]!, a[c]!)) c = r;
      if (!less(a[c]!, item)) break;
      a[i] = a[c]!;
      i = c;
    }
    a[i] = item;
  }
}
