import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

const ROOT = join(import.meta.dirname, '..', '..');
/** What users run: `node bin/fleetjobs.js`, i.e. the compiled dist/ (tests import src/ directly). */
export const FLEETJOBS_BIN = join(ROOT, 'bin', 'fleetjobs.js');

let built: Promise<void> | undefined;

/**
 * Compiles src/ to dist/ when dist/ is missing or older than its sources (scripts/build.mjs, which
 * also makes parallel test files wait for one build), so a spawned bin/fleetjobs.js runs this code.
 */
export function ensureCompiled(): Promise<void> {
  built ??= promisify(execFile)(process.execPath, [join(ROOT, 'scripts', 'build.mjs'), 'server'], {
    cwd: ROOT,
  }).then(() => undefined);
  return built;
}
