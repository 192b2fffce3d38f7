import { codeSignatureVerifier } from '../signing/verify.js';

/**
 * Code-signature verification on the device (spec 6.3, 6.4): the interface the agent uses, so a
 * device build can plug in its own (e.g. a secure element); the default is the signing feature's.
 */

/** AWS Signer's signed-object JSON (spec 6.4), as put into a job document's `codesign` member. */
export interface SignatureBlock {
  /** base64 of the DER-encoded signature over the raw file bytes. */
  signature: string;
  /** e.g. SHA256withECDSA (the AWSIoTDeviceManagement-SHA256-ECDSA platform), SHA256withRSA, SHA1withRSA. */
  signatureAlgorithm?: string;
  rawPayloadSize?: number;
  payloadLocation?: unknown;
  [more: string]: unknown;
}

export type VerifyResult = { ok: true; signer: string } | { ok: false; reason: string };

export interface CodeSignatureVerifier {
  /** Checks `block` over the bytes of `path` against the trusted signer certificates (PEM). */
  verifyFile(path: string, block: SignatureBlock, trustedCertificates: readonly string[]): Promise<VerifyResult>;
}

/**
 * The verifier of the signing feature (src/signing/verify.ts): AWS Signer blocks over the raw
 * file bytes, checked with each trusted signer certificate in turn.
 */
export const defaultVerifier: CodeSignatureVerifier = {
  verifyFile: (path, block, trusted) =>
    codeSignatureVerifier.verifyFile(path, block as Parameters<typeof codeSignatureVerifier.verifyFile>[1], trusted),
};
