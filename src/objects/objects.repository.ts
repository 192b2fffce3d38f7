import type { Insertable, Selectable } from 'kysely';
import type { Executor } from '../store/database.js';
import type { S3BucketsTable, S3ObjectVersionsTable, S3UploadPartsTable, S3UploadsTable } from './objects.tables.js';

export type BucketRow = S3BucketsTable;
export type VersionRow = Selectable<S3ObjectVersionsTable>;
export type NewVersionRow = Insertable<S3ObjectVersionsTable>;
export type UploadRow = S3UploadsTable;
export type PartRow = S3UploadPartsTable;

export async function findBucket(db: Executor, name: string): Promise<BucketRow | undefined> {
  return db.selectFrom('s3_buckets').selectAll().where('name', '=', name).executeTakeFirst();
}

export async function insertBucket(db: Executor, row: BucketRow): Promise<void> {
  await db.insertInto('s3_buckets').values(row).execute();
}

export async function deleteBucket(db: Executor, name: string): Promise<void> {
  await db.deleteFrom('s3_buckets').where('name', '=', name).execute();
}

export async function listBuckets(db: Executor): Promise<BucketRow[]> {
  return db.selectFrom('s3_buckets').selectAll().orderBy('name').execute();
}

export async function setVersioning(db: Executor, name: string, status: string): Promise<void> {
  await db.updateTable('s3_buckets').set({ versioning: status }).where('name', '=', name).execute();
}

export async function bucketHasVersions(db: Executor, bucket: string): Promise<boolean> {
  const row = await db
    .selectFrom('s3_object_versions')
    .select('id')
    .where('bucket', '=', bucket)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

export async function findLatest(db: Executor, bucket: string, key: string): Promise<VersionRow | undefined> {
  return db
    .selectFrom('s3_object_versions')
    .selectAll()
    .where('bucket', '=', bucket)
    .where('key', '=', key)
    .where('is_latest', '=', 1)
    .executeTakeFirst();
}

export async function findVersion(
  db: Executor,
  bucket: string,
  key: string,
  versionId: string,
): Promise<VersionRow | undefined> {
  return db
    .selectFrom('s3_object_versions')
    .selectAll()
    .where('bucket', '=', bucket)
    .where('key', '=', key)
    .where('version_id', '=', versionId)
    .executeTakeFirst();
}

/** Makes `row` the current version of its key (the caller has removed or demoted the others). */
export async function insertVersion(db: Executor, row: NewVersionRow): Promise<void> {
  await db
    .updateTable('s3_object_versions')
    .set({ is_latest: 0 })
    .where('bucket', '=', row.bucket)
    .where('key', '=', row.key)
    .where('is_latest', '=', 1)
    .execute();
  await db.insertInto('s3_object_versions').values(row).execute();
}

export async function deleteVersionRow(db: Executor, id: number): Promise<void> {
  await db.deleteFrom('s3_object_versions').where('id', '=', id).execute();
}

/** After the current version was deleted, the newest remaining one becomes current. */
export async function promoteNewest(db: Executor, bucket: string, key: string): Promise<void> {
  const newest = await db
    .selectFrom('s3_object_versions')
    .select('id')
    .where('bucket', '=', bucket)
    .where('key', '=', key)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (newest) await db.updateTable('s3_object_versions').set({ is_latest: 1 }).where('id', '=', newest.id).execute();
}

/** Current, non-deleted objects with key > after and key >= floor, in key order. */
export async function listLatest(
  db: Executor,
  bucket: string,
  f: { after?: string; floor?: string; limit: number },
): Promise<VersionRow[]> {
  let q = db
    .selectFrom('s3_object_versions')
    .selectAll()
    .where('bucket', '=', bucket)
    .where('is_latest', '=', 1)
    .where('is_delete_marker', '=', 0);
  if (f.after !== undefined) q = q.where('key', '>', f.after);
  if (f.floor !== undefined) q = q.where('key', '>=', f.floor);
  return q.orderBy('key').limit(f.limit).execute();
}

/** Versions in (key asc, newest first) order after the (key, id) cursor, keys >= floor. */
export async function listVersions(
  db: Executor,
  bucket: string,
  f: { afterKey?: string; afterId?: number; floor?: string; limit: number },
): Promise<VersionRow[]> {
  let q = db.selectFrom('s3_object_versions').selectAll().where('bucket', '=', bucket);
  const { afterKey, afterId } = f;
  if (afterKey !== undefined) {
    q =
      afterId === undefined
        ? q.where('key', '>', afterKey)
        : q.where((eb) =>
            eb.or([eb('key', '>', afterKey), eb.and([eb('key', '=', afterKey), eb('id', '<', afterId)])]),
          );
  }
  if (f.floor !== undefined) q = q.where('key', '>=', f.floor);
  return q.orderBy('key').orderBy('id', 'desc').limit(f.limit).execute();
}

export async function insertUpload(db: Executor, row: UploadRow): Promise<void> {
  await db.insertInto('s3_uploads').values(row).execute();
}

export async function findUpload(db: Executor, uploadId: string): Promise<UploadRow | undefined> {
  return db.selectFrom('s3_uploads').selectAll().where('upload_id', '=', uploadId).executeTakeFirst();
}

export async function deleteUpload(db: Executor, uploadId: string): Promise<void> {
  await db.deleteFrom('s3_upload_parts').where('upload_id', '=', uploadId).execute();
  await db.deleteFrom('s3_uploads').where('upload_id', '=', uploadId).execute();
}

export async function listUploadsInBucket(db: Executor, bucket: string): Promise<UploadRow[]> {
  return db
    .selectFrom('s3_uploads')
    .selectAll()
    .where('bucket', '=', bucket)
    .orderBy('key')
    .orderBy('upload_id')
    .execute();
}

export async function findPart(db: Executor, uploadId: string, partNumber: number): Promise<PartRow | undefined> {
  return db
    .selectFrom('s3_upload_parts')
    .selectAll()
    .where('upload_id', '=', uploadId)
    .where('part_number', '=', partNumber)
    .executeTakeFirst();
}

export async function upsertPart(db: Executor, row: PartRow): Promise<void> {
  await db
    .deleteFrom('s3_upload_parts')
    .where('upload_id', '=', row.upload_id)
    .where('part_number', '=', row.part_number)
    .execute();
  await db.insertInto('s3_upload_parts').values(row).execute();
}

export async function listParts(
  db: Executor,
  uploadId: string,
  f: { after?: number; limit?: number } = {},
): Promise<PartRow[]> {
  let q = db.selectFrom('s3_upload_parts').selectAll().where('upload_id', '=', uploadId);
  if (f.after !== undefined) q = q.where('part_number', '>', f.after);
  q = q.orderBy('part_number');
  if (f.limit !== undefined) q = q.limit(f.limit);
  return q.execute();
}

export async function addOrphans(db: Executor, blobIds: readonly string[], now: number): Promise<void> {
  if (blobIds.length === 0) return;
  await db
    .insertInto('s3_orphan_blobs')
    .values(blobIds.map((blob_id) => ({ blob_id, created_at: now })))
    .onConflict((oc) => oc.column('blob_id').doNothing())
    .execute();
}

export async function removeOrphan(db: Executor, blobId: string): Promise<void> {
  await db.deleteFrom('s3_orphan_blobs').where('blob_id', '=', blobId).execute();
}

export async function listOrphans(db: Executor, limit: number): Promise<string[]> {
  const rows = await db.selectFrom('s3_orphan_blobs').select('blob_id').orderBy('blob_id').limit(limit).execute();
  return rows.map((r) => r.blob_id);
}
