import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { GetObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { DescribeSigningJobCommand, StartSigningJobCommand } from '@aws-sdk/client-signer';
import type { Session } from './context.js';
import { CliError, UsageError } from './exit-codes.js';
import { findCodeSignPlaceholders, replaceCodeSign, unsignedFileEntries, type S3ObjectRef } from './placeholders.js';

/**
 * `jobs create --sign-with PROFILE`: what the AWS console does for code signing (spec 6.3), done
 * over the wire by the CLI: a Signer job per file, then the signature block put into the document.
 */
export interface SignatureBlock {
  rawPayloadSize?: number;
  signature: string;
  signatureAlgorithm?: string;
  payloadLocation?: unknown;
  [more: string]: unknown;
}

const SIGNED_PREFIX = 'SignedImages/';
const POLL_MS = 250;
const TIMEOUT_MS = 5 * 60_000;

export async function signObject(s: Session, profileName: string, ref: S3ObjectRef): Promise<SignatureBlock> {
  const version = ref.version ?? (await currentVersion(s, ref));
  const started = await s.signer().send(
    new StartSigningJobCommand({
      profileName,
      clientRequestToken: randomUUID(),
      source: { s3: { bucketName: ref.bucket, key: ref.key, version } },
      destination: { s3: { bucketName: ref.bucket, prefix: SIGNED_PREFIX } },
    }),
  );
  const deadline = s.io.clock.now().getTime() + TIMEOUT_MS;
  for (;;) {
    const job = await s.signer().send(new DescribeSigningJobCommand({ jobId: started.jobId }));
    if (job.status === 'Succeeded') {
      const signed = job.signedObject?.s3;
      if (!signed?.bucketName || !signed.key)
        throw new CliError('service', `signing job ${started.jobId} named no signed object`);
      return readBlock(s, signed.bucketName, signed.key);
    }
    if (job.status === 'Failed') {
      throw new CliError(
        'service',
        `signing s3://${ref.bucket}/${ref.key} failed: ${job.statusReason ?? 'no reason given'}`,
      );
    }
    if (s.io.clock.now().getTime() > deadline)
      throw new CliError('service', `signing job ${started.jobId} did not finish`);
    await sleep(POLL_MS);
  }
}

/** Signer signs one object version; the source bucket must be versioned (spec 6.6). */
async function currentVersion(s: Session, ref: S3ObjectRef): Promise<string> {
  const head = await s.s3().send(new HeadObjectCommand({ Bucket: ref.bucket, Key: ref.key }));
  if (!head.VersionId || head.VersionId === 'null') {
    throw new UsageError(
      `--sign-with: s3://${ref.bucket}/${ref.key} has no version id; enable versioning on the bucket`,
    );
  }
  return head.VersionId;
}

async function readBlock(s: Session, bucket: string, key: string): Promise<SignatureBlock> {
  const obj = await s.s3().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const text = (await obj.Body?.transformToString('utf8')) ?? '';
  let block: unknown;
  try {
    block = JSON.parse(text);
  } catch {
    throw new CliError('service', `the signed object s3://${bucket}/${key} is not a JSON signature block`);
  }
  if (typeof (block as SignatureBlock | null)?.signature !== 'string') {
    throw new CliError('service', `the signed object s3://${bucket}/${key} has no signature`);
  }
  return block as SignatureBlock;
}

/**
 * Fills every code-sign placeholder; when there is none, signs each file the document has a
 * presigned-URL placeholder for and adds its `codesign` block next to it.
 */
export async function signDocument(
  s: Session,
  profileName: string,
  document: string,
): Promise<{ document: string; signed: S3ObjectRef[] }> {
  const placeholders = findCodeSignPlaceholders(document);
  if (placeholders.length > 0) {
    let out = document;
    for (const p of placeholders) {
      s.out.note(`signing s3://${p.bucket}/${p.key} (version ${p.version}) with profile ${profileName}`);
      out = replaceCodeSign(out, p.text, await signObject(s, profileName, p));
    }
    return { document: out, signed: placeholders };
  }
  const doc = JSON.parse(document) as unknown;
  const entries = unsignedFileEntries(doc);
  if (entries.length === 0) {
    throw new UsageError(
      '--sign-with: the document has no ${aws:iot:code-sign-signature:...} placeholder and no presigned-URL file to sign',
    );
  }
  for (const e of entries) {
    s.out.note(`signing s3://${e.ref.bucket}/${e.ref.key} with profile ${profileName}`);
    e.holder.codesign = await signObject(s, profileName, e.ref);
  }
  return { document: JSON.stringify(doc), signed: entries.map((e) => e.ref) };
}
