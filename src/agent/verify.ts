import { createVerify, X509Certificate } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';

/**
 * Code-signature verification on the device (spec 6.3, 6.4). The signing feature (src/signing/)
 * may provide its own verifier with this interface; until then the agent and `fleetjobs verify`
 * use `cryptoVerifier`, which checks AWS Signer's detached signature blocks with node:crypto.
 */

/** AWS Signer's signed-object JSON (spec 6.4), as put into a job document's `codesign` member. */
export interface SignatureBlock {
  /** base64 of the DER-encoded signature over the raw file bytes. */
  signature: string;
  /** e.g. SHA256withECDSA (the AWSIoTDeviceManagement-SHA256-ECDSA platform), SHA256withRSA, SHA1withRSA. */
  signatureAlgorithm?: string;
  rawPayloadSize?: number;
  payloadLocation?: unknown;
  /** Signer may include the signing certificate; it is trusted only if it chains to a trust anchor. */
  certificate?: string;
  [more: string]: unknown;
}

export type VerifyResult = { ok: true; signer: string } | { ok: false; reason: string };

export interface CodeSignatureVerifier {
  /** Checks `block` over the bytes of `path` against the trusted signer certificates (PEM). */
  verifyFile(path: string, block: SignatureBlock, trustedCertificates: readonly string[]): Promise<VerifyResult>;
}

const HASHES: Record<string, string> = {
  SHA256WITHECDSA: 'sha256',
  SHA384WITHECDSA: 'sha384',
  SHA256WITHRSA: 'sha256',
  SHA1WITHRSA: 'sha1',
  'ECDSA-SHA256': 'sha256',
  'RSA-SHA256': 'sha256',
};

export function hashOf(algorithm: string | undefined): string | undefined {
  if (algorithm === undefined) return 'sha256';
  return HASHES[algorithm.toUpperCase().replace(/[\s_]/g, '')];
}

export function parseCertificates(pems: readonly string[]): X509Certificate[] {
  const out: X509Certificate[] = [];
  for (const pem of pems) {
    for (const block of pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []) {
      out.push(new X509Certificate(block));
    }
  }
  return out;
}

/** The trusted keys: each trust anchor, plus an embedded certificate when an anchor issued it. */
function candidateKeys(block: SignatureBlock, anchors: X509Certificate[]): X509Certificate[] {
  const keys = [...anchors];
  if (typeof block.certificate === 'string') {
    for (const embedded of parseCertificates([block.certificate])) {
      if (anchors.some((a) => embedded.checkIssued(a) && embedded.verify(a.publicKey))) keys.unshift(embedded);
    }
  }
  return keys;
}

async function digestVerifies(path: string, hash: string, signature: Buffer, cert: X509Certificate): Promise<boolean> {
  const v = createVerify(hash);
  for await (const chunk of createReadStream(path)) v.update(chunk as Buffer);
  try {
    return v.verify(cert.publicKey, signature);
  } catch {
    return false;
  }
}

export const cryptoVerifier: CodeSignatureVerifier = {
  async verifyFile(path, block, trustedCertificates) {
    const hash = hashOf(block.signatureAlgorithm);
    if (!hash) return { ok: false, reason: `unsupported signature algorithm ${block.signatureAlgorithm}` };
    const anchors = parseCertificates(trustedCertificates);
    if (anchors.length === 0) return { ok: false, reason: 'no trusted signer certificate is configured' };
    if (block.rawPayloadSize !== undefined && statSync(path).size !== block.rawPayloadSize) {
      return { ok: false, reason: `size ${statSync(path).size} differs from the signed size ${block.rawPayloadSize}` };
    }
    const signature = Buffer.from(block.signature, 'base64');
    if (signature.length === 0) return { ok: false, reason: 'the signature is empty' };
    for (const cert of candidateKeys(block, anchors)) {
      if (await digestVerifies(path, hash, signature, cert))
        return { ok: true, signer: cert.subject.replace(/\n/g, ', ') };
    }
    return { ok: false, reason: 'the signature does not match the file' };
  },
};
