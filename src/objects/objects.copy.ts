import { ServiceError } from '../errors.js';
import type { BlobStore } from './blob-store.js';
import type { ObjectAttributes } from './objects.schemas.js';
import { quoteEtag } from './objects.schemas.js';
import type { Conditions, ObjectsService, WriteResult } from './objects.service.js';

export interface CopyInput {
  source: { bucket: string; key: string; versionId?: string };
  target: { bucket: string; key: string };
  /** COPY (default) keeps the source's attributes; REPLACE uses `attributes`. */
  metadataDirective: 'COPY' | 'REPLACE';
  attributes: ObjectAttributes;
  conditions: Conditions;
}

export interface CopyResult extends WriteResult {
  sourceVersionId?: string;
}

/** CopyObject: the bytes are streamed from the source blob into a new one. */
export async function copyObject(objects: ObjectsService, blobs: BlobStore, input: CopyInput): Promise<CopyResult> {
  const { source, target } = input;
  const meta = await objects.resolve(source.bucket, source.key, source.versionId);
  try {
    objects.checkConditions(meta, input.conditions);
  } catch (err) {
    // x-amz-copy-source-if-* failures are all 412 for a copy.
    if (err instanceof ServiceError && err.code === 'NotModified') {
      throw new ServiceError('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
    }
    throw err;
  }
  const sameObject = source.bucket === target.bucket && source.key === target.key && source.versionId === undefined;
  if (sameObject && input.metadataDirective === 'COPY') {
    throw new ServiceError(
      'InvalidRequest',
      "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
    );
  }
  await objects.requireBucket(target.bucket);
  const full = meta.checksum?.type === 'FULL_OBJECT' ? meta.checksum : undefined;
  const blob = await blobs.write(await objects.openBody(meta), {
    length: meta.size,
    ...(full && { checksumAlgorithm: full.algorithm, checksumValue: () => full.value }),
  });
  const attributes = input.metadataDirective === 'REPLACE' ? input.attributes : meta.attributes;
  const written = await objects.commit(target.bucket, target.key, {
    blob,
    etag: quoteEtag(blob.md5Hex),
    attributes,
    ...(blob.checksum && { checksum: { ...blob.checksum, type: 'FULL_OBJECT' as const } }),
  });
  return { ...written, ...(meta.versionId !== 'null' && { sourceVersionId: meta.versionId }) };
}
