/**
 * The loop's pending tasks, for allTasks() and the tools: an intrusive doubly linked list through two
 * fields of each task (CPython 3.14 keeps its tasks in a linked list as well). [HOT: every task is added
 * once and removed once] A Set cost ~40 bytes per pending task and a rehash now and then while
 * hundreds of thousands of tasks come and go; here add and delete are four pointer writes.
 */

export interface Linked {
  _prevTask: Linked | null;
  _nextTask: Linked | null;
}

export class TaskList<T extends Linked> implements Iterable<T> {
  /** @internal */ _first: T | null = null;
  /** @internal */ _last: T | null = null;
  /** @internal */ _size = 0;

  get size(): number {
    return this._size;
  }

  has(task: T): boolean {
    return task._prevTask !== null || this._first === task;
  }

  /** Append (no-op if already listed). */
  add(task: T): void {
    if (this.has(task)) return;
    task._prevTask = this._last;
    task._nextTask = null;
    if (this._last === null) this._first = task;
    else this._last._nextTask = task;
    this._last = task;
    this._size++;
  }

  /** Remove (no-op if not listed). */
  delete(task: T): void {
    if (!this.has(task)) return;
    const prev = task._prevTask as T | null;
    const next = task._nextTask as T | null;
    if (prev === null) this._first = next;
    else prev._nextTask = next;
    if (next === null) this._last = prev;
    else next._prevTask = prev;
    task._prevTask = null;
    task._nextTask = null;
    this._size--;
  }

  /**
   * In insertion order. The task being visited may be deleted during the iteration, no other (a deleted
   * task drops its links, so that a finished task kept by the user does not keep its neighbours alive).
   */
  *[Symbol.iterator](): Generator<T> {
    let t = this._first;
    while (t !== null) {
      const next = t._nextTask as T | null;
      yield t;
      t = next;
    }
  }
}
