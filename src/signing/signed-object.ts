import type { SigningJobRow } from './signing.repository.js';

/** spec 6.4: the signed-object JSON, compact and in AWS Signer's member order. */
export function signedObjectJson(job: SigningJobRow): string {
  return JSON.stringify(signatureBlock(job));
}

export function signatureBlock(job: SigningJobRow) {
  return {
    rawPayloadSize: job.payload_size!,
    signature: job.signature!,
    signatureAlgorithm: job.signature_algorithm!,
    payloadLocation: { s3: { bucketName: job.source_bucket, key: job.source_key, version: job.source_version } },
  };
}
