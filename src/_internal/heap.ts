/**
 * A binary min-heap ordered by (when, seq) [HOT: the loop's timers].
 *
 * WHY (when, seq): equal deadlines must run in the order they were scheduled (tsyncio promises what
 * CPython's heapq does not), so every push gets a monotonically increasing sequence number, kept here
 * beside the deadline (not on the handle: one field less per timer).
 * Cancelled entries are not removed here; the loop pops them lazily or rebuilds the heap past a threshold
 * (see constants.ts), which keeps mass cancellation O(n log n) instead of O(n²).
 * The deadline is given to push() and lives only here (peekWhen() reads the earliest), so an entry needs no
 * deadline field of its own: a sleep's future is its own timer entry without a boxed `_when`.
 */
export class TimerHeap<T> {
  /** The entries, in heap order (index-aligned with the key arrays). */
  items: T[] = [];
  // The keys live beside the entries in flat arrays [HOT]: sifting compares numbers in two contiguous
  // buffers instead of loading `_when`/`_seq` from handles scattered over the heap (a cache miss per
  // comparison once there are 100k timers).
  private whens = new Float64Array(64);
  private seqs = new Float64Array(64);
  /** Scheduling order: the next entry's sequence number (kept here, not on the entries). */
  private nextSeq = 0;

  get length(): number {
    return this.items.length;
  }

  peek(): T | undefined {
    return this.items[0];
  }

  /** The earliest deadline (meaningful only while length > 0). */
  peekWhen(): number {
    return this.whens[0]!;
  }

  /** [entry, deadline] pairs in heap order — for tests and introspection, not the loop. */
  entries(): [T, number][] {
    return this.items.map((item, i) => [item, this.whens[i]!]);
  }

  push(item: T, when: number): void {
    const a = this.items;
    let i = a.length;
    if (i === this.whens.length) this.grow();
    const w = this.whens;
    const s = this.seqs;
    const iw = when;
    const is = this.nextSeq++;
    a.push(item);
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pw = w[p]!;
      // less(item, parent), exactly: a NaN deadline compares like Python's heapq would (never less).
      if (!(iw < pw || (iw === pw && is < s[p]!))) break;
      a[i] = a[p]!;
      w[i] = pw;
      s[i] = s[p]!;
      i = p;
    }
    a[i] = item;
    w[i] = iw;
    s[i] = is;
  }

  pop(): T | undefined {
    const a = this.items;
    const n = a.length;
    if (n === 0) return undefined;
    const top = a[0]!;
    const last = a.pop()!;
    if (n > 1) this.siftDown(last, this.whens[n - 1]!, this.seqs[n - 1]!, 0);
    // Give back key space after a burst (1M timers would otherwise pin 16 MB): halve below a quarter full.
    if (n < this.whens.length >> 2 && this.whens.length > 1024) this.resize(this.whens.length >> 1);
    return top;
  }

  /** Keep only entries for which keep() is true, then restore the heap property (O(n)). */
  filter(keep: (item: T) => boolean): void {
    // Compact the entries and their keys together, then rebuild the heap.
    const a = this.items;
    const w = this.whens;
    const s = this.seqs;
    let j = 0;
    for (let i = 0; i < a.length; i++) {
      const item = a[i]!;
      if (!keep(item)) continue;
      a[j] = item;
      w[j] = w[i]!;
      s[j] = s[i]!;
      j++;
    }
    a.length = j;
    for (let i = (j >> 1) - 1; i >= 0; i--) this.siftDown(a[i]!, w[i]!, s[i]!, i);
  }

  private siftDown(item: T, iw: number, is: number, i: number): void {
    const a = this.items;
    const w = this.whens;
    const s = this.seqs;
    const n = a.length;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= n) break;
      let cw = w[c]!;
      let cs = s[c]!;
      const r = c + 1;
      if (r < n) {
        const rw = w[r]!;
        const rs = s[r]!;
        if (rw < cw || (rw === cw && rs < cs)) {
          c = r;
          cw = rw;
          cs = rs;
        }
      }
      if (!(cw < iw || (cw === iw && cs < is))) break;
      a[i] = a[c]!;
      w[i] = cw;
      s[i] = cs;
      i = c;
    }
    a[i] = item;
    w[i] = iw;
    s[i] = is;
  }

  private grow(): void {
    this.resize(this.whens.length * 2);
  }

  private resize(capacity: number): void {
    const n = this.items.length;
    const w = new Float64Array(capacity);
    w.set(this.whens.subarray(0, n));
    const s = new Float64Array(capacity);
    s.set(this.seqs.subarray(0, n));
    this.whens = w;
    this.seqs = s;
  }
}
