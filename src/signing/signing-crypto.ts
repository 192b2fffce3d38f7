import { createHash, createSign, type KeyObject } from 'node:crypto';
import type { Readable } from 'node:stream';
import type { EncryptionAlgorithm, HashAlgorithm } from './platforms.js';

export interface Signed {
  /** base64 DER (ECDSA) or PKCS#1 v1.5 (RSA) signature over the raw bytes (spec 6.4). */
  signature: string;
  size: number;
  /** SHA-256 of the bytes, kept to check later that the object still has this content. */
  sha256: string;
}

const NODE_HASH: Record<HashAlgorithm, string> = { SHA1: 'sha1', SHA256: 'sha256' };

/** Signs a byte stream in one pass, hashing it for the integrity check at the same time. */
export async function signStream(
  body: Readable,
  key: KeyObject,
  hash: HashAlgorithm,
  maxBytes: number,
): Promise<Signed> {
  const signer = createSign(NODE_HASH[hash]);
  const digest = createHash('sha256');
  let size = 0;
  for await (const chunk of body) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    size += buf.length;
    if (size > maxBytes) {
      body.destroy();
      throw new PayloadTooLarge(maxBytes);
    }
    signer.update(buf);
    digest.update(buf);
  }
  const signature = signer.sign({ key, dsaEncoding: 'der' }).toString('base64');
  return { signature, size, sha256: digest.digest('hex') };
}

export class PayloadTooLarge extends Error {
  constructor(readonly maxBytes: number) {
    super(`the object is larger than the platform's maximum of ${maxBytes / 1024 / 1024} MB`);
  }
}

/** SHA-256 of a stream (the delivery-time check of src/signing/signature-guard.ts). */
export async function sha256Stream(body: Readable): Promise<{ sha256: string; size: number }> {
  const digest = createHash('sha256');
  let size = 0;
  for await (const chunk of body) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    size += buf.length;
    digest.update(buf);
  }
  return { sha256: digest.digest('hex'), size };
}

/** Which Signer encryption algorithm a key serves; undefined for other key types. */
export function encryptionOf(key: KeyObject): EncryptionAlgorithm | undefined {
  if (key.asymmetricKeyType === 'ec') return 'ECDSA';
  if (key.asymmetricKeyType === 'rsa') return 'RSA';
  return undefined;
}

/** ACM's KeyAlgorithm name for a key (EC_prime256v1, RSA_2048, ...). */
export function keyAlgorithmName(key: KeyObject): string {
  const d = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'ec') {
    const curve = d.namedCurve === 'prime256v1' || d.namedCurve === 'P-256' ? 'prime256v1' : (d.namedCurve ?? '');
    return `EC_${curve}`;
  }
  if (key.asymmetricKeyType === 'rsa') return `RSA_${d.modulusLength ?? 0}`;
  return key.asymmetricKeyType ?? 'unknown';
}
