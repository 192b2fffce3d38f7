import { sql, type ColumnDefinitionBuilder, type Kysely } from 'kysely';
import { autoIncrementColumn, isSqlite } from '../dialect.js';

/** The embedded S3 store's catalogue (issue 6); the bytes live in the object backend. */
export async function up(db: Kysely<unknown>): Promise<void> {
  // S3 lists keys in UTF-8 binary order: SQLite's BINARY collation is that; PostgreSQL needs "C".
  const binaryKey = (c: ColumnDefinitionBuilder): ColumnDefinitionBuilder =>
    isSqlite(db) ? c.notNull() : c.notNull().modifyEnd(sql`collate "C"`);
  const id = autoIncrementColumn(db);
  await db.schema
    .createTable('s3_buckets')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('versioning', 'text', (c) => c.notNull().defaultTo(''))
    .execute();
  await db.schema
    .createTable('s3_object_versions')
    .addColumn('id', id.type, id.build)
    .addColumn('bucket', 'text', (c) => c.notNull().references('s3_buckets.name'))
    .addColumn('key', 'text', binaryKey)
    .addColumn('version_id', 'text', (c) => c.notNull())
    .addColumn('is_latest', 'integer', (c) => c.notNull())
    .addColumn('is_delete_marker', 'integer', (c) => c.notNull())
    .addColumn('blob_id', 'text')
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('etag', 'text', (c) => c.notNull())
    .addColumn('content_type', 'text')
    .addColumn('metadata', 'text', (c) => c.notNull())
    .addColumn('checksum_algorithm', 'text')
    .addColumn('checksum_value', 'text')
    .addColumn('checksum_type', 'text')
    .addColumn('parts_count', 'integer')
    .addColumn('last_modified', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('s3_object_versions_version')
    .on('s3_object_versions')
    .columns(['bucket', 'key', 'version_id'])
    .unique()
    .execute();
  // ListObjectsV2 walks the current versions of a bucket in key order.
  await db.schema
    .createIndex('s3_object_versions_latest')
    .on('s3_object_versions')
    .columns(['bucket', 'is_latest', 'key'])
    .execute();
  // ListObjectVersions walks (key, newest first).
  await db.schema
    .createIndex('s3_object_versions_history')
    .on('s3_object_versions')
    .columns(['bucket', 'key', 'id'])
    .execute();
  await db.schema
    .createTable('s3_uploads')
    .addColumn('upload_id', 'text', (c) => c.primaryKey())
    .addColumn('bucket', 'text', (c) => c.notNull().references('s3_buckets.name'))
    .addColumn('key', 'text', binaryKey)
    .addColumn('content_type', 'text')
    .addColumn('metadata', 'text', (c) => c.notNull())
    .addColumn('checksum_algorithm', 'text')
    .addColumn('checksum_type', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('s3_uploads_bucket').on('s3_uploads').columns(['bucket', 'key', 'upload_id']).execute();
  await db.schema
    .createTable('s3_upload_parts')
    .addColumn('upload_id', 'text', (c) => c.notNull().references('s3_uploads.upload_id').onDelete('cascade'))
    .addColumn('part_number', 'integer', (c) => c.notNull())
    .addColumn('blob_id', 'text', (c) => c.notNull())
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('etag', 'text', (c) => c.notNull())
    .addColumn('checksum_value', 'text')
    .addColumn('last_modified', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('s3_upload_parts_pk', ['upload_id', 'part_number'])
    .execute();
  await db.schema
    .createTable('s3_orphan_blobs')
    .addColumn('blob_id', 'text', (c) => c.primaryKey())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('s3_orphan_blobs').execute();
  await db.schema.dropTable('s3_upload_parts').execute();
  await db.schema.dropTable('s3_uploads').execute();
  await db.schema.dropTable('s3_object_versions').execute();
  await db.schema.dropTable('s3_buckets').execute();
}
