import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SigningKeyring, SIGNING_KEY_FILE } from '../../../src/signing/keyring.js';

describe('SigningKeyring (private keys at rest)', () => {
  const dirs: string[] = [];
  const tempDir = (): string => {
    const d = mkdtempSync(join(tmpdir(), 'fj-keyring-'));
    dirs.push(d);
    return d;
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('seals with AES-256-GCM: the ciphertext holds no plaintext and opens only for the same binding', () => {
    const k = new SigningKeyring(randomBytes(32));
    const secret = '-----BEGIN PRIVATE KEY-----\nsecret material\n-----END PRIVATE KEY-----\n';
    const sealed = k.encrypt(secret, 'arn:a');
    expect(sealed).toMatch(new RegExp(`^v1:${k.fingerprint}:`));
    expect(sealed).not.toContain('secret');
    expect(k.encrypt(secret, 'arn:a')).not.toBe(sealed);
    expect(k.decrypt(sealed, 'arn:a')).toBe(secret);
    expect(() => k.decrypt(sealed, 'arn:b')).toThrow('The stored private key of arn:b does not decrypt (tampered?).');
    const parts = sealed.split(':');
    const body = Buffer.from(parts[4]!, 'base64');
    body[0] = body[0]! ^ 1;
    parts[4] = body.toString('base64');
    expect(() => k.decrypt(parts.join(':'), 'arn:a')).toThrow(/does not decrypt/);
  });

  it('says which key a ciphertext needs when the server has another', () => {
    const a = new SigningKeyring(randomBytes(32));
    const b = new SigningKeyring(randomBytes(32));
    expect(() => b.decrypt(a.encrypt('x', 'arn:a'), 'arn:a')).toThrow(
      `was encrypted with signing key ${a.fingerprint}, but this server has signing key ${b.fingerprint}`,
    );
  });

  it('makes <data-dir>/signing-key (0600) once and reuses it', () => {
    const dir = tempDir();
    const first = SigningKeyring.open(dir, {});
    expect(statSync(join(dir, SIGNING_KEY_FILE)).mode & 0o777).toBe(0o600);
    const again = SigningKeyring.open(dir, {});
    expect(again.fingerprint).toBe(first.fingerprint);
    expect(again.decrypt(first.encrypt('x', 'arn'), 'arn')).toBe('x');
  });

  it('makes a key file others could read private, and says so', () => {
    const dir = tempDir();
    writeFileSync(join(dir, SIGNING_KEY_FILE), randomBytes(32).toString('base64'));
    chmodSync(join(dir, SIGNING_KEY_FILE), 0o644);
    const warnings: string[] = [];
    SigningKeyring.open(dir, {}, (m) => warnings.push(m));
    expect(warnings).toEqual([`${join(dir, SIGNING_KEY_FILE)} could be read by other users; its mode is now 0600`]);
    expect(statSync(join(dir, SIGNING_KEY_FILE)).mode & 0o777).toBe(0o600);
  });

  it('takes FLEETJOBS_SIGNING_KEY (base64 or hex) over the file, and refuses a key of the wrong size', () => {
    const dir = tempDir();
    const key = randomBytes(32);
    const fromB64 = SigningKeyring.open(dir, { FLEETJOBS_SIGNING_KEY: key.toString('base64') });
    const fromHex = SigningKeyring.open(dir, { FLEETJOBS_SIGNING_KEY: key.toString('hex') });
    expect(fromHex.fingerprint).toBe(fromB64.fingerprint);
    expect(() => readFileSync(join(dir, SIGNING_KEY_FILE))).toThrow(/ENOENT/);
    expect(() => SigningKeyring.open(dir, { FLEETJOBS_SIGNING_KEY: 'c2hvcnQ=' })).toThrow(
      'FLEETJOBS_SIGNING_KEY must hold 32 bytes as base64 or 64 hex digits',
    );
  });
});
