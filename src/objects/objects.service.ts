import type { Readable } from 'node:stream';
import type { ServiceContext } from '../context.js';
import { ServiceError } from '../errors.js';
import type { Executor } from '../store/database.js';
import type { ByteRange } from './backends/backend.js';
import type { BodyExpectations, StoredBlob } from './blob-writer.js';
import type { BlobStore } from './blob-store.js';
import { attributesJson, toMeta } from './object-meta.js';
import * as repo from './objects.repository.js';
import {
  checkBucketName,
  checkKey,
  newVersionId,
  noSuchBucket,
  noSuchKey,
  NULL_VERSION,
  quoteEtag,
  VERSIONING_STATUSES,
  type ChecksumType,
  type ObjectAttributes,
  type ObjectMeta,
} from './objects.schemas.js';

export interface WriteResult {
  etag: string;
  /** Present when the bucket has (or had) versioning: S3 then returns x-amz-version-id. */
  versionId?: string;
  checksum?: { algorithm: string; value: string; type: ChecksumType };
  lastModified: Date;
}

export interface DeleteResult {
  versionId?: string;
  deleteMarker?: boolean;
}

export interface Conditions {
  ifMatch?: string;
  ifNoneMatch?: string;
  ifModifiedSince?: Date;
  ifUnmodifiedSince?: Date;
}

/** The content of a new version: a stored blob, or nothing for a delete marker. */
export interface NewContent {
  blob?: StoredBlob;
  etag: string;
  attributes: ObjectAttributes;
  checksum?: { algorithm: string; value: string; type: ChecksumType };
  partsCount?: number;
}

const etagMatches = (list: string, etag: string): boolean =>
  list.split(',').some((t) => {
    const tag = t.trim();
    return tag === '*' || tag === etag || `"${tag}"` === etag;
  });

/** Buckets and object versions of the embedded S3 store (issue 6, item 1). */
export class ObjectsService {
  constructor(
    private readonly ctx: ServiceContext,
    readonly blobs: BlobStore,
  ) {}

  private now(): number {
    return this.ctx.clock.now().getTime();
  }

  async createBucket(name: string): Promise<void> {
    checkBucketName(name);
    const created = await this.ctx.db.transaction().execute(async (trx) => {
      if (await repo.findBucket(trx, name)) return false;
      await repo.insertBucket(trx, { name, created_at: this.now(), versioning: '' });
      return true;
    });
    if (!created) {
      throw new ServiceError(
        'BucketAlreadyOwnedByYou',
        'Your previous request to create the named bucket succeeded and you already own it.',
        { BucketName: name },
      );
    }
  }

  async requireBucket(name: string): Promise<repo.BucketRow> {
    const row = await repo.findBucket(this.ctx.db, name);
    if (!row) throw noSuchBucket(name);
    return row;
  }

  async listBuckets(): Promise<{ name: string; createdAt: Date }[]> {
    return (await repo.listBuckets(this.ctx.db)).map((b) => ({ name: b.name, createdAt: new Date(b.created_at) }));
  }

  /** Deletes an empty bucket; unfinished multipart uploads in it are aborted. */
  async deleteBucket(name: string): Promise<void> {
    const outcome = await this.ctx.db.transaction().execute(async (trx) => {
      if (!(await repo.findBucket(trx, name))) return { state: 'missing' as const, blobs: [] };
      if (await repo.bucketHasVersions(trx, name)) return { state: 'not-empty' as const, blobs: [] };
      const released: string[] = [];
      for (const upload of await repo.listUploadsInBucket(trx, name)) {
        const parts = await repo.listParts(trx, upload.upload_id);
        released.push(
          ...(await this.blobs.release(
            trx,
            parts.map((p) => p.blob_id),
          )),
        );
        await repo.deleteUpload(trx, upload.upload_id);
      }
      await repo.deleteBucket(trx, name);
      return { state: 'deleted' as const, blobs: released };
    });
    if (outcome.state === 'missing') throw noSuchBucket(name);
    if (outcome.state === 'not-empty') {
      throw new ServiceError('BucketNotEmpty', 'The bucket you tried to delete is not empty', { BucketName: name });
    }
    await this.blobs.collect(outcome.blobs);
  }

  async getVersioning(bucket: string): Promise<string> {
    return (await this.requireBucket(bucket)).versioning;
  }

  async putVersioning(bucket: string, status: string): Promise<void> {
    if (!(VERSIONING_STATUSES as readonly string[]).includes(status)) {
      throw new ServiceError('MalformedXML', `Versioning status must be one of ${VERSIONING_STATUSES.join(', ')}.`);
    }
    await this.requireBucket(bucket);
    await repo.setVersioning(this.ctx.db, bucket, status);
  }

  /** Streams a body into a new version of bucket/key (PutObject). */
  async putObject(
    bucket: string,
    key: string,
    body: Readable,
    expect: BodyExpectations,
    attributes: ObjectAttributes,
  ): Promise<WriteResult> {
    checkKey(key);
    await this.requireBucket(bucket);
    const blob = await this.blobs.write(body, expect);
    const checksum = blob.checksum && { ...blob.checksum, type: 'FULL_OBJECT' as const };
    return this.commit(bucket, key, {
      blob,
      etag: quoteEtag(blob.md5Hex),
      attributes,
      ...(checksum && { checksum }),
    });
  }

  /**
   * Makes new content the current version of bucket/key: with versioning Enabled a new version,
   * otherwise it replaces the null version. `inTransaction` runs in the same transaction and
   * returns blobs it released (multipart completion drops its parts there).
   */
  async commit(
    bucket: string,
    key: string,
    content: NewContent,
    inTransaction?: (trx: Executor) => Promise<string[]>,
  ): Promise<WriteResult> {
    const now = this.now();
    const outcome = await this.ctx.db.transaction().execute(async (trx) => {
      const b = await repo.findBucket(trx, bucket);
      if (!b) return { ok: false as const, released: content.blob ? [content.blob.blobId] : [] };
      const versionId = b.versioning === 'Enabled' ? newVersionId() : NULL_VERSION;
      const released: string[] = [];
      if (versionId === NULL_VERSION) {
        const previous = await repo.findVersion(trx, bucket, key, NULL_VERSION);
        if (previous) {
          await repo.deleteVersionRow(trx, previous.id);
          released.push(...(await this.blobs.release(trx, [previous.blob_id])));
        }
      }
      await repo.insertVersion(trx, {
        bucket,
        key,
        version_id: versionId,
        is_latest: 1,
        is_delete_marker: content.blob ? 0 : 1,
        blob_id: content.blob?.blobId ?? null,
        size: content.blob?.size ?? 0,
        etag: content.etag,
        content_type: content.attributes.contentType ?? null,
        metadata: attributesJson(content.attributes),
        checksum_algorithm: content.checksum?.algorithm ?? null,
        checksum_value: content.checksum?.value ?? null,
        checksum_type: content.checksum?.type ?? null,
        parts_count: content.partsCount ?? null,
        last_modified: now,
      });
      if (content.blob) await this.blobs.adopt(trx, content.blob.blobId);
      if (inTransaction) released.push(...(await inTransaction(trx)));
      return { ok: true as const, versionId, versioned: b.versioning !== '', released };
    });
    await this.blobs.collect(outcome.released);
    if (!outcome.ok) throw noSuchBucket(bucket);
    return {
      etag: content.etag,
      ...(outcome.versioned && { versionId: outcome.versionId }),
      ...(content.checksum && { checksum: content.checksum }),
      lastModified: new Date(now),
    };
  }

  /** The version a GET/HEAD/copy addresses; S3's errors for missing keys, versions and markers. */
  async resolve(bucket: string, key: string, versionId?: string): Promise<ObjectMeta> {
    checkKey(key);
    await this.requireBucket(bucket);
    if (versionId !== undefined) {
      const row = await repo.findVersion(this.ctx.db, bucket, key, versionId);
      if (!row) {
        throw new ServiceError('NoSuchVersion', 'The specified version does not exist.', {
          Key: key,
          VersionId: versionId,
        });
      }
      if (row.is_delete_marker === 1) {
        throw new ServiceError('MethodNotAllowed', 'The specified method is not allowed against this resource.', {
          deleteMarker: true,
          versionId,
          Method: 'GET',
          ResourceType: 'DeleteMarker',
        });
      }
      return toMeta(row);
    }
    const row = await repo.findLatest(this.ctx.db, bucket, key);
    if (!row) throw noSuchKey(key);
    if (row.is_delete_marker === 1) throw noSuchKey(key, { deleteMarker: true, versionId: row.version_id });
    return toMeta(row);
  }

  /** GET/HEAD preconditions (RFC 9110 order as S3 applies it). */
  checkConditions(meta: ObjectMeta, c: Conditions): void {
    if (c.ifMatch !== undefined && !etagMatches(c.ifMatch, meta.etag)) {
      throw new ServiceError('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
    }
    if (c.ifMatch === undefined && c.ifUnmodifiedSince && meta.lastModified > c.ifUnmodifiedSince) {
      throw new ServiceError('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
    }
    if (c.ifNoneMatch !== undefined && etagMatches(c.ifNoneMatch, meta.etag)) {
      throw new ServiceError('NotModified', 'Not Modified', { etag: meta.etag });
    }
    if (c.ifNoneMatch === undefined && c.ifModifiedSince) {
      const seconds = Math.floor(meta.lastModified.getTime() / 1000) * 1000;
      if (seconds <= c.ifModifiedSince.getTime())
        throw new ServiceError('NotModified', 'Not Modified', { etag: meta.etag });
    }
  }

  /** The bytes of a resolved version (all, or an inclusive range). */
  async openBody(meta: ObjectMeta, range?: ByteRange): Promise<Readable> {
    return this.blobs.read(meta.blobId!, range);
  }

  async deleteObject(bucket: string, key: string, versionId?: string): Promise<DeleteResult> {
    checkKey(key);
    const outcome = await this.ctx.db.transaction().execute(async (trx) => {
      const b = await repo.findBucket(trx, bucket);
      if (!b) return undefined;
      if (versionId !== undefined) return this.deleteVersion(trx, bucket, key, versionId);
      if (b.versioning === '') {
        const row = await repo.findLatest(trx, bucket, key);
        if (!row) return { result: {}, released: [] };
        await repo.deleteVersionRow(trx, row.id);
        return { result: {}, released: await this.blobs.release(trx, [row.blob_id]) };
      }
      return { result: { deleteMarker: true }, released: [], marker: b.versioning };
    });
    if (!outcome) throw noSuchBucket(bucket);
    await this.blobs.collect(outcome.released);
    if ('marker' in outcome) {
      // Versioned bucket: a delete marker becomes the current version (spec: S3 versioning).
      const written = await this.commit(bucket, key, { etag: '', attributes: { userMetadata: {}, headers: {} } });
      return { deleteMarker: true, versionId: written.versionId! };
    }
    return outcome.result;
  }

  private async deleteVersion(
    trx: Executor,
    bucket: string,
    key: string,
    versionId: string,
  ): Promise<{ result: DeleteResult; released: string[] }> {
    const row = await repo.findVersion(trx, bucket, key, versionId);
    if (!row) return { result: { versionId }, released: [] };
    await repo.deleteVersionRow(trx, row.id);
    if (row.is_latest === 1) await repo.promoteNewest(trx, bucket, key);
    const released = await this.blobs.release(trx, [row.blob_id]);
    return { result: { versionId, ...(row.is_delete_marker === 1 && { deleteMarker: true }) }, released };
  }
}
