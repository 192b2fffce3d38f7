import { HeadObjectCommand } from '@aws-sdk/client-s3';
import type { Session } from './context.js';
import { UsageError } from './exit-codes.js';
import { findCodeSignPlaceholders, findPresignedUrls, unsignedFileEntries, type S3ObjectRef } from './placeholders.js';

/**
 * `jobs create --sign-with PROFILE` (spec 6.3). The server fills
 * `${aws:iot:code-sign-signature:s3://<region>.<bucket>/<key>@<version>}` placeholders at
 * CreateJob with the profile named in our `codeSigning` extension member, as the AWS console does.
 * When the document has no such placeholder, the CLI adds one as the `codesign` member of every
 * object that names a file by a presigned-URL placeholder, and pins that URL to the signed
 * version, so a device downloads exactly the bytes that were signed.
 */
export interface SignedDocument {
  document: string;
  codeSigning: { profileName: string };
  signed: S3ObjectRef[];
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

export const codeSignPlaceholder = (region: string, ref: Required<S3ObjectRef>): string =>
  `\${aws:iot:code-sign-signature:s3://${region}.${ref.bucket}/${ref.key}@${ref.version}}`;

/** The v2 presigned-URL placeholder of one object version (spec 6.1: the URL is percent-encoded). */
export function pinnedPresignedUrl(region: string, ref: Required<S3ObjectRef>): string {
  const key = ref.key.split('/').map(encodeURIComponent).join('/');
  return `\${aws:iot:s3-presigned-url-v2:https://s3.${region}.amazonaws.com/${ref.bucket}/${key}%3FversionId%3D${encodeURIComponent(ref.version)}}`;
}

export async function prepareSigning(s: Session, profileName: string, document: string): Promise<SignedDocument> {
  const codeSigning = { profileName };
  const placeholders = findCodeSignPlaceholders(document);
  if (placeholders.length > 0) return { document, codeSigning, signed: placeholders };
  let doc: unknown;
  try {
    doc = JSON.parse(document);
  } catch {
    throw new UsageError('--sign-with: the job document is not JSON');
  }
  const entries = unsignedFileEntries(doc);
  if (entries.length === 0) {
    throw new UsageError(
      '--sign-with: the document has no ${aws:iot:code-sign-signature:...} placeholder and no presigned-URL file to sign',
    );
  }
  const region = s.conn.region;
  const signed: S3ObjectRef[] = [];
  for (const { holder, ref } of entries) {
    const pinned = { ...ref, version: ref.version ?? (await currentVersion(s, ref)) };
    for (const [member, value] of Object.entries(holder)) {
      if (typeof value !== 'string') continue;
      const found = findPresignedUrls(value)[0];
      if (found && ref.version === undefined)
        holder[member] = value.replace(found.text, pinnedPresignedUrl(region, pinned));
    }
    holder.codesign = codeSignPlaceholder(region, pinned);
    signed.push(pinned);
    s.out.note(`will sign s3://${pinned.bucket}/${pinned.key} (version ${pinned.version}) with profile ${profileName}`);
  }
  return { document: JSON.stringify(doc), codeSigning, signed };
}
