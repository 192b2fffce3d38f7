import { createVerify, X509Certificate, type KeyObject } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';

/**
 * Verifies a file against a code signature (spec 6.4, 6.5). Pure apart from reading the file:
 * the reference agent and `fleetjobs verify` both use it, and neither needs the server.
 */

/** The signed-object JSON AWS Signer writes for IoT platforms (spec 6.4); extra members are ignored. */
export interface SignatureBlock {
  signature: string;
  signatureAlgorithm?: string;
  rawPayloadSize?: number;
  payloadLocation?: { s3?: { bucketName?: string; key?: string; version?: string } };
}

export type VerifyResult =
  { ok: true; algorithm: string; size: number; subject: string } | { ok: false; reason: string };

interface Algorithm {
  hash: 'sha1' | 'sha256' | 'sha384';
  key: 'ec' | 'rsa';
  name: string;
}

const ALGORITHMS: Record<string, Algorithm> = {
  SHA256WITHECDSA: { hash: 'sha256', key: 'ec', name: 'SHA256withECDSA' },
  SHA384WITHECDSA: { hash: 'sha384', key: 'ec', name: 'SHA384withECDSA' },
  SHA1WITHRSA: { hash: 'sha1', key: 'rsa', name: 'SHA1withRSA' },
  SHA256WITHRSA: { hash: 'sha256', key: 'rsa', name: 'SHA256withRSA' },
};

/** FreeRTOS OTA names the algorithm by the document key (spec 6.5: `sig-sha256-ecdsa`, `sig-sha1-rsa`). */
const FREERTOS_KEYS: Record<string, string> = {
  'sig-sha256-ecdsa': 'SHA256WITHECDSA',
  'sig-sha1-rsa': 'SHA1WITHRSA',
  'sig-sha256-rsa': 'SHA256WITHRSA',
};

export const FREERTOS_SIGNATURE_KEYS = Object.keys(FREERTOS_KEYS);

/** Accepts `SHA256withECDSA`, `sha256-ecdsa`, `sig-sha1-rsa`, ... ; undefined when unknown. */
export function parseAlgorithm(name: string): Algorithm | undefined {
  const freertos = FREERTOS_KEYS[name.toLowerCase()];
  if (freertos) return ALGORITHMS[freertos];
  const compact = name.toUpperCase().replace(/[-_ ]/g, '');
  return ALGORITHMS[compact] ?? ALGORITHMS[compact.replace(/^(SHA\d+)(ECDSA|RSA)$/, '$1WITH$2')];
}

export type FileInput = string | Buffer | Readable;

export interface VerifyInput {
  file: FileInput;
  /** A signature block, or a bare base64 signature (then `algorithm` or the key type decides). */
  signature: SignatureBlock | string;
  certificatePem: string;
  /** Overrides the block's signatureAlgorithm (e.g. a FreeRTOS document key). */
  algorithm?: string;
  /** When given, the certificate must be valid at this time. */
  at?: Date;
}

const fail = (reason: string): VerifyResult => ({ ok: false, reason });

export async function verifyFile(input: VerifyInput): Promise<VerifyResult> {
  const block: SignatureBlock = typeof input.signature === 'string' ? { signature: input.signature } : input.signature;
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(input.certificatePem);
  } catch {
    return fail('the certificate is not a PEM X.509 certificate');
  }
  if (input.at && (input.at < new Date(cert.validFrom) || input.at > new Date(cert.validTo))) {
    return fail(`the certificate is valid from ${cert.validFrom} to ${cert.validTo}, not at ${input.at.toISOString()}`);
  }
  const key = cert.publicKey;
  const algorithm = chooseAlgorithm(input.algorithm ?? block.signatureAlgorithm, key);
  if (typeof algorithm === 'string') return fail(algorithm);
  if (typeof block.signature !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(block.signature.trim())) {
    return fail('the signature is not base64');
  }
  const verifier = createVerify(algorithm.hash);
  let size = 0;
  try {
    for await (const chunk of toStream(input.file)) {
      const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
      size += buf.length;
      verifier.update(buf);
    }
  } catch (err) {
    return fail(`cannot read the file: ${(err as Error).message}`);
  }
  if (block.rawPayloadSize !== undefined && block.rawPayloadSize !== size) {
    return fail(`the file is ${size} bytes but the signature covers ${block.rawPayloadSize} bytes`);
  }
  let valid: boolean;
  try {
    valid = verifier.verify({ key, dsaEncoding: 'der' }, Buffer.from(block.signature.trim(), 'base64'));
  } catch (err) {
    return fail(`the signature cannot be checked: ${(err as Error).message}`);
  }
  if (!valid) return fail(`the ${algorithm.name} signature does not match the file and the certificate`);
  return { ok: true, algorithm: algorithm.name, size, subject: cert.subject };
}

function chooseAlgorithm(name: string | undefined, key: KeyObject): Algorithm | string {
  const keyType = key.asymmetricKeyType === 'ec' ? 'ec' : key.asymmetricKeyType === 'rsa' ? 'rsa' : undefined;
  if (!keyType) return `the certificate's ${key.asymmetricKeyType ?? 'unknown'} key is neither EC nor RSA`;
  if (name === undefined) return keyType === 'ec' ? ALGORITHMS.SHA256WITHECDSA! : ALGORITHMS.SHA256WITHRSA!;
  const algorithm = parseAlgorithm(name);
  if (!algorithm) return `unknown signature algorithm '${name}'`;
  if (algorithm.key !== keyType) {
    return `the signature algorithm ${algorithm.name} needs an ${algorithm.key.toUpperCase()} key; the certificate has an ${keyType.toUpperCase()} key`;
  }
  return algorithm;
}

function toStream(file: FileInput): Readable {
  if (typeof file === 'string') return createReadStream(file);
  if (Buffer.isBuffer(file)) return Readable.from([file]);
  return file;
}

/**
 * Reads a signature given as text: a spec 6.4 signature block (JSON), an object holding one under
 * `codesign`, or a bare base64 signature.
 */
export function parseSignatureText(text: string): SignatureBlock | string {
  const trimmed = text.trim();
  if (!trimmed.startsWith('{')) return trimmed;
  const parsed = JSON.parse(trimmed) as Record<string, unknown>;
  const candidate = (typeof parsed.signature === 'string' ? parsed : parsed.codesign) as SignatureBlock | undefined;
  if (!candidate || typeof candidate.signature !== 'string') {
    throw new Error('the JSON has no "signature" member (nor a "codesign" block holding one)');
  }
  return candidate;
}

/**
 * The reference agent's CodeSignatureVerifier shape (src/agent/verify.ts): the block must verify
 * with one of the trusted signer certificates.
 */
export const codeSignatureVerifier = {
  async verifyFile(
    path: string,
    block: SignatureBlock,
    trustedCertificates: readonly string[],
  ): Promise<{ ok: true; signer: string } | { ok: false; reason: string }> {
    if (trustedCertificates.length === 0) return { ok: false, reason: 'no trusted signer certificate is configured' };
    const reasons: string[] = [];
    for (const certificatePem of trustedCertificates) {
      const r = await verifyFile({ file: path, signature: block, certificatePem });
      if (r.ok) return { ok: true, signer: r.subject };
      reasons.push(r.reason);
    }
    return { ok: false, reason: [...new Set(reasons)].join('; ') };
  },
};
