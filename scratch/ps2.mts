import { spawn } from 'node:child_process';
import { main } from '../src/node/cli.ts';
const child = spawn(process.execPath, ['--import', 'tsx', '--inspect-port=9334', 'test/fixtures/hung_tasks.ts'], { stdio: ['ignore', 'pipe', 'inherit'] });
await new Promise((r) => child.stdout.once('data', r));
for (let i = 0; i < 3; i++) { const t = Date.now(); console.log('exit', await main(['ps', String(child.pid), '--port', '9334'], () => {}), Date.now() - t); }
child.kill();
