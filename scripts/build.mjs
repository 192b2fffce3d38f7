#!/usr/bin/env node
// Builds what `fleetjobs` runs, each part only when it is missing or older than its sources:
// the server and CLI (src/ -> dist/, by tsc) and the web console (web/ -> web/dist/, by Vite).
// `npm start` (prestart), `npm test` and the test helpers that spawn bin/fleetjobs.js run it;
// `--force` rebuilds both; `server` or `web` limits it to that part. Type errors are `npm run typecheck`'s job, so tsc only emits here.
/* global process, console, URL */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const at = (...p) => join(root, ...p);
const force = process.argv.includes('--force');

function newest(path) {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(st.mtimeMs, ...readdirSync(path).map((name) => newest(join(path, name))));
}

const parts = [
  {
    key: 'server',
    name: 'server and CLI',
    stamp: at('dist', '.built'),
    sources: [at('src'), at('tsconfig.json'), at('tsconfig.build.json'), at('package.json')],
    build() {
      rmSync(at('dist'), { recursive: true, force: true });
      run([at('node_modules', 'typescript', 'bin', 'tsc'), '-p', at('tsconfig.build.json'), '--noCheck']);
    },
  },
  {
    key: 'web',
    name: 'web console',
    stamp: at('web', 'dist', 'index.html'),
    sources: [at('web', 'src'), at('web', 'index.html'), at('web', 'vite.config.ts'), at('package.json')],
    build() {
      // NODE_ENV=test (set by vitest) would make Vite bundle React's development build.
      run([at('node_modules', 'vite', 'bin', 'vite.js'), 'build', 'web', '--logLevel', 'warn'], {
        NODE_ENV: 'production',
      });
    },
  },
];

function run(args, env = {}) {
  execFileSync(process.execPath, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
}

const only = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const stale = (p) =>
  (only.length === 0 || only.includes(p.key)) &&
  (force || !existsSync(p.stamp) || statSync(p.stamp).mtimeMs < Math.max(...p.sources.map(newest)));

// Test files run in parallel processes: one builds, the others wait for it.
const lock = at('.build-lock');
function acquire() {
  const started = Date.now();
  for (;;) {
    try {
      mkdirSync(lock);
      return;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      const held = Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now());
      if (held > 180_000) rmSync(lock, { recursive: true, force: true });
      else if (Date.now() - started > 300_000) throw new Error(`${lock} is held for too long`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
}

if (parts.some(stale)) {
  acquire();
  try {
    for (const p of parts.filter(stale)) {
      console.error(`fleetjobs: building the ${p.name}`);
      p.build();
      if (p.stamp.endsWith('.built')) writeFileSync(p.stamp, `${new Date().toISOString()}\n`);
    }
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}
