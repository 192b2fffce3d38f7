import type { Kysely } from 'kysely';

/**
 * Streams (issue 20): files delivered in blocks over MQTT (AWS IoT MQTT-based file delivery).
 * A stream's files (at most 50) are a JSON column: they are always read and written together.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('streams')
    .addColumn('stream_id', 'text', (c) => c.primaryKey())
    .addColumn('description', 'text')
    .addColumn('role_arn', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('files', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  // ListStreams pages by creation time (keyset: created_at, stream_id) in either order.
  await db.schema.createIndex('streams_created').on('streams').columns(['created_at', 'stream_id']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('streams').execute();
}
