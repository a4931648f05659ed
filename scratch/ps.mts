import { spawn } from 'node:child_process';
import { main } from '../src/node/cli.ts';
const child = spawn(process.execPath, ['--import', 'tsx', '--inspect-port=9333', 'test/fixtures/hung_tasks.ts', ...process.argv.slice(2)], { stdio: ['ignore', 'pipe', 'inherit'] });
await new Promise((r) => child.stdout.once('data', r));
console.log('exit', await main(['ps', String(child.pid), '--port', '9333']));
console.log('exit', await main(['pstree', String(child.pid), '--port', '9333']));
child.kill();
