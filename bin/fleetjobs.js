#!/usr/bin/env node
// Runs the compiled CLI (dist/, made by `npm run build`; `npm start` builds it when stale).
import { existsSync } from 'node:fs';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('fleetjobs: not built yet: run `npm run build` in the fleetjobs directory\n');
  process.exit(2);
}
await import(main.href);
