import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Owner-only modes for everything the server keeps on disk (the issue-14 hardening). */
export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

const openToOthers = (mode: number): boolean => (mode & 0o077) !== 0;

/**
 * Makes the data dir owner-only: the dir and each directory in it 0700 (which closes everything
 * below them, e.g. the blobs), each file in it 0600. A data dir made by an older version, or
 * copied with a loose umask, is tightened and `warn` says which paths were open. A path that
 * cannot be tightened (owned by another user) stops the start with a message naming it, since
 * the database holds sealed keys and the signing key file sits next to it.
 */
export function secureDataDir(dir: string, warn: (message: string) => void): void {
  mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  const loosened: string[] = [];
  tighten(dir, PRIVATE_DIR_MODE, loosened);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) tighten(join(dir, entry.name), PRIVATE_DIR_MODE, loosened);
    else if (entry.isFile()) tighten(join(dir, entry.name), PRIVATE_FILE_MODE, loosened);
  }
  if (loosened.length > 0) {
    warn(`the data dir was readable by other users; made owner-only: ${loosened.join(', ')}`);
  }
}

function tighten(path: string, mode: number, loosened: string[]): void {
  const current = statSync(path).mode & 0o777;
  if (!openToOthers(current)) return;
  try {
    chmodSync(path, mode);
  } catch (err) {
    throw new Error(
      `${path} is open to other users (mode 0${current.toString(8)}) and could not be made private ` +
        `(${(err as Error).message}); run \`chmod -R go-rwx ${path}\` as its owner, then start again`,
    );
  }
  loosened.push(`${path} (was 0${current.toString(8)})`);
}

/**
 * Creates `file` 0600 before a library opens it (SQLite gives its -wal and -shm files the mode
 * of the database file), and tightens an existing one and its companions.
 */
export function ensurePrivateFile(file: string, companions: readonly string[] = []): void {
  if (!existsSync(file)) closeSync(openSync(file, 'a', PRIVATE_FILE_MODE));
  for (const path of [file, ...companions]) {
    if (existsSync(path) && openToOthers(statSync(path).mode)) chmodSync(path, PRIVATE_FILE_MODE);
  }
}
