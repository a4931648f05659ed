/**
 * docs/PORTING.md's code runs: every `ts` block is run as pasted and type-checked under strict settings
 * (test/doc_blocks.ts, the README's mechanism), and prints what the guide says it prints.
 */
import { describeDocBlocks } from './doc_blocks.js';

const EXPECTED: [RegExp, RegExp][] = [
  [
    /console\.log\(repr\(/,
    /^b'GET \/\\r\\n'\n\{'name': 'job', 'tags': \['a', 'b'\], 'owner': None\}\n\{1: True\}\nset\(\)\nValueError\('bad value'\)\n"it's"\n$/,
  ],
  [/class Account/, /^12\n$/],
  [/class Connection/, /^inside: true\nafter: false\n\[ 3, 2, 1 \]\n$/],
  [
    /isBaseExceptionOnly\(e\)/,
    /^attempt 1: service unavailable\nattempt 2: service unavailable\ncancelled: true true\n$/,
  ],
  [
    /except\* ValueError/,
    /^ValueError: \[ 'ValueError: bad input' \]\nTypeError: \[ 'TypeError: bad type' \]\nunhandled: ExceptionGroup: unhandled errors in a TaskGroup \(1 sub-exception\)\n$/,
  ],
  [/newEventLoop\(\{ clock: 'virtual'/, /^60\n65\ntrue\n$/],
  [/const walk = coroutine\(/, /^4\n$/],
  [/ThreadPoolExecutor\(\{ maxWorkers: 2 \}\)/, /^6765\n\[ 10946, 17711 \]\n$/],
  [/reader\.feedEof\(\)/, /^\[ 'first', 'second' \]\n$/],
  [/class Job implements Ordered/, /^\[ 'urgent', 'normal', 'low' \]\n\{ due: 1 \}\n$/],
];

describeDocBlocks('docs/PORTING.md', EXPECTED, { minBlocks: 10 });
