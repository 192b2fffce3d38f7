import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ServiceContext } from '../context.js';
import { ServiceError } from '../errors.js';
import { randomHex } from '../ids.js';
import type { Executor } from '../store/database.js';
import type { BodyExpectations } from './blob-writer.js';
import type { BlobStore } from './blob-store.js';
import { FULL_OBJECT_CAPABLE, type ChecksumAlgorithm } from './checksums.js';
import { checkParts, objectChecksum, type CompletedPart } from './multipart.parts.js';
import { attributesJson } from './object-meta.js';
import * as repo from './objects.repository.js';
import { checkKey, quoteEtag, type ChecksumType, type ObjectAttributes } from './objects.schemas.js';
import type { ObjectsService, WriteResult } from './objects.service.js';

export { MIN_PART_BYTES, type CompletedPart } from './multipart.parts.js';
export const MAX_PART_BYTES = 5 * 1024 ** 3;
export const MAX_PART_NUMBER = 10000;

export interface UploadInfo {
  uploadId: string;
  bucket: string;
  key: string;
  initiated: Date;
  checksumAlgorithm?: ChecksumAlgorithm;
  checksumType?: ChecksumType;
}

const noSuchUpload = (uploadId: string): ServiceError =>
  new ServiceError(
    'NoSuchUpload',
    'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
    { UploadId: uploadId },
  );

/** Multipart uploads (create, upload part, complete, abort, list parts). */
export class MultipartService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly objects: ObjectsService,
    private readonly blobs: BlobStore,
  ) {}

  private info(u: repo.UploadRow): UploadInfo {
    return {
      uploadId: u.upload_id,
      bucket: u.bucket,
      key: u.key,
      initiated: new Date(u.created_at),
      ...(u.checksum_algorithm !== null && { checksumAlgorithm: u.checksum_algorithm as ChecksumAlgorithm }),
      ...(u.checksum_type !== null && { checksumType: u.checksum_type as ChecksumType }),
    };
  }

  private async requireUpload(db: Executor, bucket: string, key: string, uploadId: string): Promise<repo.UploadRow> {
    const u = await repo.findUpload(db, uploadId);
    if (!u || u.bucket !== bucket || u.key !== key) throw noSuchUpload(uploadId);
    return u;
  }

  async create(
    bucket: string,
    key: string,
    attributes: ObjectAttributes,
    checksumAlgorithm?: ChecksumAlgorithm,
    checksumType?: ChecksumType,
  ): Promise<UploadInfo> {
    checkKey(key);
    await this.objects.requireBucket(bucket);
    // S3: CRC64NVME is always full-object; the other CRCs default to composite; SHA* are composite only.
    const type =
      checksumAlgorithm && (checksumType ?? (checksumAlgorithm === 'CRC64NVME' ? 'FULL_OBJECT' : 'COMPOSITE'));
    if (checksumAlgorithm && type === 'FULL_OBJECT' && !FULL_OBJECT_CAPABLE.includes(checksumAlgorithm)) {
      throw new ServiceError(
        'InvalidRequest',
        `The FULL_OBJECT checksum type is not supported with ${checksumAlgorithm}.`,
      );
    }
    if (checksumAlgorithm === 'CRC64NVME' && type === 'COMPOSITE') {
      throw new ServiceError('InvalidRequest', 'The COMPOSITE checksum type is not supported with CRC64NVME.');
    }
    const row: repo.UploadRow = {
      upload_id: randomHex(24),
      bucket,
      key,
      content_type: attributes.contentType ?? null,
      metadata: attributesJson(attributes),
      checksum_algorithm: checksumAlgorithm ?? null,
      checksum_type: type ?? null,
      created_at: this.ctx.clock.now().getTime(),
    };
    await repo.insertUpload(this.ctx.db, row);
    return this.info(row);
  }

  async uploadPart(
    bucket: string,
    key: string,
    uploadId: string,
    partNumber: number,
    body: Readable,
    expect: BodyExpectations,
  ): Promise<{ etag: string; checksum?: { algorithm: ChecksumAlgorithm; value: string } }> {
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > MAX_PART_NUMBER) {
      throw new ServiceError(
        'InvalidArgument',
        `Part number must be an integer between 1 and ${MAX_PART_NUMBER}, inclusive`,
      );
    }
    const upload = await this.requireUpload(this.ctx.db, bucket, key, uploadId);
    const algorithm = (upload.checksum_algorithm as ChecksumAlgorithm | null) ?? expect.checksumAlgorithm;
    if (
      expect.checksumAlgorithm &&
      upload.checksum_algorithm &&
      expect.checksumAlgorithm !== upload.checksum_algorithm
    ) {
      throw new ServiceError(
        'InvalidRequest',
        `Checksum Type mismatch occurred, expected checksum Type: ${upload.checksum_algorithm.toLowerCase()}, actual checksum Type: ${expect.checksumAlgorithm.toLowerCase()}`,
      );
    }
    const blob = await this.blobs.write(
      body,
      { ...expect, ...(algorithm && { checksumAlgorithm: algorithm }) },
      MAX_PART_BYTES,
    );
    const etag = quoteEtag(blob.md5Hex);
    const released = await this.ctx.db.transaction().execute(async (trx) => {
      if (!(await repo.findUpload(trx, uploadId))) return undefined;
      const previous = await repo.findPart(trx, uploadId, partNumber);
      await repo.upsertPart(trx, {
        upload_id: uploadId,
        part_number: partNumber,
        blob_id: blob.blobId,
        size: blob.size,
        etag,
        checksum_value: blob.checksum?.value ?? null,
        last_modified: this.ctx.clock.now().getTime(),
      });
      await this.blobs.adopt(trx, blob.blobId);
      return this.blobs.release(trx, [previous?.blob_id ?? null]);
    });
    if (released === undefined) {
      await this.blobs.collect([blob.blobId]);
      throw noSuchUpload(uploadId);
    }
    await this.blobs.collect(released);
    return { etag, ...(blob.checksum && { checksum: blob.checksum }) };
  }

  async complete(
    bucket: string,
    key: string,
    uploadId: string,
    requested: CompletedPart[],
    declaredFullChecksum?: string,
  ): Promise<WriteResult> {
    const upload = await this.requireUpload(this.ctx.db, bucket, key, uploadId);
    const stored = await repo.listParts(this.ctx.db, uploadId);
    const parts = checkParts(requested, stored);
    const algorithm = upload.checksum_algorithm as ChecksumAlgorithm | null;
    const fullObject = algorithm !== null && upload.checksum_type === 'FULL_OBJECT';
    const total = parts.reduce((n, p) => n + p.size, 0);
    // The parts are streamed one after the other into one new blob; memory use stays constant.
    const blobs = this.blobs;
    const source = Readable.from(
      (async function* () {
        for (const p of parts) yield* await blobs.read(p.blob_id);
      })(),
    );
    const blob = await this.blobs.write(
      source,
      {
        length: total,
        ...(fullObject && { checksumAlgorithm: algorithm, checksumValue: () => declaredFullChecksum }),
      },
      Number.MAX_SAFE_INTEGER,
    );
    const etagDigest = createHash('md5');
    for (const p of parts) etagDigest.update(Buffer.from(p.etag.replace(/"/g, ''), 'hex'));
    const checksum = objectChecksum(
      algorithm,
      upload.checksum_type as ChecksumType | null,
      parts,
      blob.checksum?.value,
    );
    try {
      return await this.objects.commit(
        bucket,
        key,
        {
          blob,
          etag: quoteEtag(`${etagDigest.digest('hex')}-${parts.length}`),
          attributes: {
            ...(JSON.parse(upload.metadata) as ObjectAttributes),
            ...(upload.content_type !== null && { contentType: upload.content_type }),
          },
          ...(checksum && { checksum }),
          partsCount: parts.length,
        },
        async (trx) => {
          if (!(await repo.findUpload(trx, uploadId))) throw noSuchUpload(uploadId);
          const all = await repo.listParts(trx, uploadId);
          await repo.deleteUpload(trx, uploadId);
          return this.blobs.release(
            trx,
            all.map((p) => p.blob_id),
          );
        },
      );
    } catch (err) {
      await this.blobs.collect([blob.blobId]);
      throw err;
    }
  }

  async abort(bucket: string, key: string, uploadId: string): Promise<void> {
    const released = await this.ctx.db.transaction().execute(async (trx) => {
      await this.requireUpload(trx, bucket, key, uploadId);
      const parts = await repo.listParts(trx, uploadId);
      await repo.deleteUpload(trx, uploadId);
      return this.blobs.release(
        trx,
        parts.map((p) => p.blob_id),
      );
    });
    await this.blobs.collect(released);
  }

  async listParts(bucket: string, key: string, uploadId: string, marker = 0, maxParts = 1000) {
    const upload = await this.requireUpload(this.ctx.db, bucket, key, uploadId);
    const rows = await repo.listParts(this.ctx.db, uploadId, { after: marker, limit: maxParts + 1 });
    const parts = rows.slice(0, maxParts);
    return {
      upload: this.info(upload),
      parts: parts.map((p) => ({
        partNumber: p.part_number,
        etag: p.etag,
        size: p.size,
        lastModified: new Date(p.last_modified),
        ...(p.checksum_value !== null && { checksum: p.checksum_value }),
      })),
      isTruncated: rows.length > maxParts,
      nextMarker: parts.length > 0 ? parts[parts.length - 1]!.part_number : marker,
    };
  }

  async listUploads(bucket: string): Promise<UploadInfo[]> {
    await this.objects.requireBucket(bucket);
    return (await repo.listUploadsInBucket(this.ctx.db, bucket)).map((u) => this.info(u));
  }
}
