import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface AdminCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** True only on the start that created them: the one time they are printed. */
  generated: boolean;
}

const FILE = 'admin-credentials.json';
const KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function accessKeyId(): string {
  const bytes = randomBytes(16);
  return `AKIA${[...bytes].map((b) => KEY_ALPHABET[b % 32]).join('')}`;
}

/** From the environment if set; otherwise the data dir's file, created (mode 0600) on first start. */
export function loadAdminCredentials(
  dataDir: string,
  fromEnv: { accessKeyId?: string; secretAccessKey?: string },
): AdminCredentials {
  if (fromEnv.accessKeyId && fromEnv.secretAccessKey) {
    return { accessKeyId: fromEnv.accessKeyId, secretAccessKey: fromEnv.secretAccessKey, generated: false };
  }
  const path = join(dataDir, FILE);
  if (existsSync(path)) {
    const stored = JSON.parse(readFileSync(path, 'utf8')) as { accessKeyId: string; secretAccessKey: string };
    return { ...stored, generated: false };
  }
  const created = { accessKeyId: accessKeyId(), secretAccessKey: randomBytes(30).toString('base64') };
  writeFileSync(path, `${JSON.stringify(created, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  return { ...created, generated: true };
}

export const adminCredentialsPath = (dataDir: string): string => join(dataDir, FILE);
