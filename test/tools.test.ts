import { describe, expect, it } from 'vitest';
import {
  type AwaitedInfo,
  buildAsyncTree,
  CycleFoundException,
  coroutine,
  createTask,
  dumpAwaitedBy,
  formatTaskTable,
  formatTaskTree,
  gather,
  run,
  sleep,
} from '../src/node/index.js';
import { formatCycleError } from '../src/tools.js';

describe('task table and tree (tools.py) in-process', () => {
  it('dumpAwaitedBy describes the running loop; formatTaskTree draws it', async () => {
    const worker = coroutine(function* worker() {
      yield* sleep(10);
    });
    const main = coroutine(function* main() {
      const a = createTask(worker(), { name: 'a' });
      const b = createTask(worker(), { name: 'b' });
      const g = createTask(
        coroutine(function* waiter() {
          yield* gather(a, b);
        })(),
        { name: 'waiter' },
      );
      yield* sleep(0);
      const dump = dumpAwaitedBy();
      g.cancel();
      return dump;
    });
    const dump = await run(main());
    expect(dump).toHaveLength(1);
    expect(dump[0]!.awaitedBy.map((t) => t.taskName)).toEqual([
      expect.stringMatching(/^Task-\d+$/),
      'a',
      'b',
      'waiter',
    ]);
    const tree = formatTaskTree(dump).split('\n');
    expect(tree.slice(-6)).toEqual([
      '└── (T) waiter',
      '    └──  waiter',
      '        ├── (T) a',
      '        │   └──  worker',
      '        └── (T) b',
      '            └──  worker',
    ]);
    expect(formatTaskTable(dump).split('\n')).toHaveLength(2 + 4);
    expect(dumpAwaitedBy()).toEqual([]);
  });

  it('a cycle in the await graph is CycleFoundException, printed as Python prints it', () => {
    const frame = { filename: '', lineno: 0, funcname: 'f' };
    const dump: AwaitedInfo[] = [
      {
        threadId: 1,
        awaitedBy: [
          {
            taskId: '0x1',
            taskName: 'A',
            coroutineStack: [],
            awaitedBy: [{ callStack: [frame], taskName: '0x2' }],
          },
          {
            taskId: '0x2',
            taskName: 'B',
            coroutineStack: [],
            awaitedBy: [{ callStack: [frame], taskName: '0x1' }],
          },
        ],
      },
    ];
    let caught: unknown;
    try {
      buildAsyncTree(dump);
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(CycleFoundException);
    expect(formatCycleError(caught as CycleFoundException)).toBe(
      'ERROR: await-graph contains cycles - cannot print a tree!\n\ncycle: B → A → B',
    );
  });
});
