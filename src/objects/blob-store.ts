import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { Clock } from '../clock.js';
import type { Db, Executor } from '../store/database.js';
import type { ByteRange, ObjectBackend } from './backends/backend.js';
import { newBlobId, writeBlob, type BodyExpectations, type StoredBlob } from './blob-writer.js';
import * as repo from './objects.repository.js';

/** Pending blobs older than this are taken for leftovers of a crash and removed by the sweep. */
export const ORPHAN_GRACE_MS = 6 * 3600 * 1000;

/**
 * Blob life cycle around the catalogue. A new blob is listed as an orphan before its first byte
 * is written and adopted in the transaction that references it; a blob that loses its last
 * reference is listed again in that transaction and removed after the commit. So a crash at any
 * point leaves at worst a listed orphan, which the sweep removes: no partial object is ever
 * visible and no bytes leak.
 */
export class BlobStore {
  constructor(
    private readonly db: Db,
    readonly backend: ObjectBackend,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  private now(): number {
    return this.clock.now().getTime();
  }

  async write(source: Readable, expect: BodyExpectations, maxBytes?: number): Promise<StoredBlob> {
    const blobId = newBlobId();
    await repo.addOrphans(this.db, [blobId], this.now());
    try {
      return await writeBlob(this.backend, source, expect, maxBytes, blobId);
    } catch (err) {
      await this.collect([blobId]);
      throw err;
    }
  }

  read(blobId: string, range?: ByteRange): Promise<Readable> {
    return this.backend.get(blobId, range);
  }

  /** Inside the transaction that now references the blob. */
  async adopt(trx: Executor, blobId: string): Promise<void> {
    await repo.removeOrphan(trx, blobId);
  }

  /** Inside the transaction that dropped the last reference. */
  async release(trx: Executor, blobIds: readonly (string | null)[]): Promise<string[]> {
    const ids = blobIds.filter((b): b is string => b !== null);
    await repo.addOrphans(trx, ids, this.now());
    return ids;
  }

  /** After the commit: removes released blobs; failures stay listed for the sweep. */
  async collect(blobIds: readonly string[]): Promise<void> {
    for (const id of blobIds) {
      try {
        await this.backend.delete(id);
        await repo.removeOrphan(this.db, id);
      } catch (err) {
        this.logger.warn({ err, blobId: id }, 'could not remove an unreferenced blob; the sweep will retry');
      }
    }
  }

  /** Removes orphans older than the grace period (uploads still running elsewhere are younger). */
  async sweep(): Promise<number> {
    const cutoff = this.now() - ORPHAN_GRACE_MS;
    const old = await this.db
      .selectFrom('s3_orphan_blobs')
      .select('blob_id')
      .where('created_at', '<', cutoff)
      .limit(1000)
      .execute();
    await this.collect(old.map((r) => r.blob_id));
    return old.length;
  }
}
