/**
 * Loop binding for the synchronization primitives and queues (CPython's mixins.py).
 *
 * A Lock, Event, Queue, … is created without a loop (Python 3.10 removed the `loop=` parameter) and binds
 * itself to the running loop the first time it has to wait — creating a waiter Future is the first moment a
 * loop is needed. Using it later from another loop raises RuntimeError, because its waiters would be
 * Futures of the first loop. The fast paths (an uncontended acquire, a get from a non-empty queue) never
 * bind, exactly as in CPython.
 */

import { refuseAwait } from './_internal/args.js';
import type { EventLoop } from './base_events.js';
import { _getRunningLoop } from './events.js';
import { RuntimeError } from './exceptions.js';

export class LoopBoundMixin {
  /** @internal the loop this object was first used with, or null before its first wait */
  _loop: EventLoop | null = null;

  /** @internal CPython's `_get_loop`: bind to the running loop, or check that it is the bound one. */
  _getLoop(): EventLoop {
    const loop = _getRunningLoop();
    if (this._loop === null) {
      // Python binds None here and then fails on `None.create_future()`; say what is wrong instead.
      if (loop === null) throw new RuntimeError('no running event loop');
      this._loop = loop;
    }
    if (loop !== this._loop) throw new RuntimeError(`${this} is bound to a different event loop`);
    return loop;
  }

  /** Node's console.log/util.inspect show the Python repr (`toString()`). */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return String(this);
  }
}

// `yield* lock` (any lock, Event, Barrier or queue): CPython's "'Lock' object can't be awaited".
refuseAwait(LoopBoundMixin);
