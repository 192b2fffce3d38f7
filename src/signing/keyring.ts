import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ServiceError } from '../errors.js';

/** Environment variable holding the key (base64 or hex of 32 bytes); replicas must share it. */
export const SIGNING_KEY_ENV = 'FLEETJOBS_SIGNING_KEY';
/** Where the key is kept when the environment names none (mode 0600). */
export const SIGNING_KEY_FILE = 'signing-key';

const VERSION = 'v1';

/**
 * Encrypts signing private keys at rest with AES-256-GCM. The ciphertext names the key's
 * fingerprint, so a server started with another key says so instead of failing obscurely, and
 * is bound (as additional authenticated data) to the certificate it belongs to, so a key row
 * copied onto another certificate does not decrypt.
 */
export class SigningKeyring {
  readonly fingerprint: string;

  constructor(private readonly key: Buffer) {
    if (key.length !== 32) throw new Error('the signing key must be 32 bytes');
    this.fingerprint = createHash('sha256').update(key).digest('hex').slice(0, 16);
  }

  /**
   * The key from FLEETJOBS_SIGNING_KEY, else <dataDir>/signing-key, made (0600) on first start.
   * `warn` reports a key file others may read, which is then made private.
   */
  static open(dataDir: string, env: NodeJS.ProcessEnv, warn: (message: string) => void = () => {}): SigningKeyring {
    const fromEnv = env[SIGNING_KEY_ENV];
    if (fromEnv !== undefined && fromEnv !== '') return new SigningKeyring(decodeKey(fromEnv, SIGNING_KEY_ENV));
    const path = join(dataDir, SIGNING_KEY_FILE);
    if (!existsSync(path)) {
      writeFileSync(path, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
    }
    if ((statSync(path).mode & 0o077) !== 0) {
      warn(`${path} could be read by other users; its mode is now 0600`);
      chmodSync(path, 0o600);
    }
    return new SigningKeyring(decodeKey(readFileSync(path, 'utf8').trim(), path));
  }

  /** Whether a stored value is in the sealed form (base64 never contains ':'). */
  static isSealed(stored: string): boolean {
    return stored.startsWith(`${VERSION}:`);
  }

  encrypt(plaintext: string, boundTo: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(boundTo, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const parts = [iv, cipher.getAuthTag(), body].map((b) => b.toString('base64'));
    return [VERSION, this.fingerprint, ...parts].join(':');
  }

  decrypt(sealed: string, boundTo: string): string {
    const [version, fingerprint, iv, tag, body] = sealed.split(':');
    if (version !== VERSION || !iv || !tag || body === undefined) {
      throw new ServiceError('InternalFailure', `The stored private key of ${boundTo} is not in a known format.`);
    }
    if (fingerprint !== this.fingerprint) {
      throw new ServiceError(
        'InternalFailure',
        `The private key of ${boundTo} was encrypted with signing key ${fingerprint}, but this server has signing key ${this.fingerprint}; start it with the same ${SIGNING_KEY_ENV} (or ${SIGNING_KEY_FILE} file) as before.`,
      );
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(iv, 'base64'));
      decipher.setAAD(Buffer.from(boundTo, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64'));
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64')), decipher.final()]).toString('utf8');
    } catch {
      throw new ServiceError('InternalFailure', `The stored private key of ${boundTo} does not decrypt (tampered?).`);
    }
  }
}

function decodeKey(text: string, source: string): Buffer {
  const key = /^[0-9a-fA-F]{64}$/.test(text) ? Buffer.from(text, 'hex') : Buffer.from(text, 'base64');
  if (key.length !== 32) {
    throw new Error(`${source} must hold 32 bytes as base64 or 64 hex digits (e.g. \`openssl rand -base64 32\`)`);
  }
  return key;
}
