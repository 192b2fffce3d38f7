import { sql, type Kysely } from 'kysely';
import { isSqlite } from '../dialect.js';

/**
 * The notifier's per-thing lease (several replicas never publish one thing's notifications
 * concurrently) and, on PostgreSQL, a NOTIFY sent when outbox rows commit so every replica's
 * notifier wakes at once instead of waiting for its poll.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('thing_notify_state')
    .addColumn('lease_until', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
  if (isSqlite(db)) return;
  await sql`CREATE OR REPLACE FUNCTION fleetjobs_outbox_notify() RETURNS trigger AS $$
    BEGIN PERFORM pg_notify('fleetjobs_outbox', ''); RETURN NULL; END $$ LANGUAGE plpgsql`.execute(db);
  await sql`CREATE TRIGGER outbox_notify AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION fleetjobs_outbox_notify()`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  if (!isSqlite(db)) {
    await sql`DROP TRIGGER IF EXISTS outbox_notify ON outbox`.execute(db);
    await sql`DROP FUNCTION IF EXISTS fleetjobs_outbox_notify()`.execute(db);
  }
  await db.schema.alterTable('thing_notify_state').dropColumn('lease_until').execute();
}
