import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'vite';

const WEB = fileURLToPath(new URL('../../web', import.meta.url));
const INDEX = join(WEB, 'dist', 'index.html');
const LOCK = join(WEB, '.build-lock');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(path) : statSync(path).mtimeMs);
  }
  return newest;
}

const stale = (): boolean =>
  !existsSync(INDEX) ||
  statSync(INDEX).mtimeMs <
    Math.max(
      newestSource(join(WEB, 'src')),
      statSync(join(WEB, 'index.html')).mtimeMs,
      statSync(join(WEB, 'vite.config.ts')).mtimeMs,
    );

/** Builds web/ (as `npm run build` does) when web/dist is missing or older than its sources. */
export async function ensureWebBuilt(): Promise<void> {
  if (!stale()) return;
  // Test files run in parallel workers: one builds, the others wait for it.
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      if (existsSync(LOCK) && Date.now() - statSync(LOCK).mtimeMs > 120_000)
        rmSync(LOCK, { recursive: true, force: true });
      await sleep(200);
      if (!stale()) return;
    }
  }
  try {
    if (stale()) {
      // Vitest sets NODE_ENV=test, which would make Vite bundle React's development build.
      const before = process.env.NODE_ENV;
      process.env.NODE_ENV = 'production';
      try {
        await build({ root: WEB, configFile: join(WEB, 'vite.config.ts'), mode: 'production', logLevel: 'warn' });
      } finally {
        process.env.NODE_ENV = before;
      }
    }
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}
