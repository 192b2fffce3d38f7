import { sql, type Kysely } from 'kysely';
import { OTA_UPDATE_STATUSES } from '../../ota/ota.schemas.js';

/**
 * OTA updates (issue 20 item 3, CreateOTAUpdate): one row per update, with the lease the OTA
 * worker takes to build it (any replica may, one at a time).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('ota_updates')
    .addColumn('ota_update_id', 'text', (c) => c.primaryKey())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('targets', 'text', (c) => c.notNull())
    .addColumn('protocols', 'text')
    .addColumn('target_selection', 'text')
    .addColumn('rollout_config', 'text')
    .addColumn('presigned_url_config', 'text')
    .addColumn('abort_config', 'text')
    .addColumn('timeout_config', 'text')
    .addColumn('files', 'text', (c) => c.notNull())
    .addColumn('role_arn', 'text', (c) => c.notNull())
    .addColumn('additional_parameters', 'text')
    .addColumn('stream_id', 'text')
    .addColumn('stream_created', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('aws_iot_job_id', 'text')
    .addColumn('error_code', 'text')
    .addColumn('error_message', 'text')
    .addColumn('lease_owner', 'text')
    .addColumn('lease_until', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addCheckConstraint('ota_updates_status', sql`status in (${sql.join(OTA_UPDATE_STATUSES.map((s) => sql.lit(s)))})`)
    .execute();
  // The worker's scan: updates still to build. ListOTAUpdates pages by (created_at, id).
  await db.schema.createIndex('ota_updates_status').on('ota_updates').columns(['status', 'lease_until']).execute();
  await db.schema
    .createIndex('ota_updates_created')
    .on('ota_updates')
    .columns(['created_at', 'ota_update_id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('ota_updates').execute();
}
