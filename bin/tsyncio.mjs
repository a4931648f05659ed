#!/usr/bin/env node
// `npx tsyncio ps PID` / `npx tsyncio pstree PID` — see src/node/cli.ts (built into dist/node/cli.js).
import { main } from '../dist/node/cli.js';

process.exitCode = await main(process.argv.slice(2));
