import { sql, type Kysely } from 'kysely';
import { isSqlite } from '../dialect.js';

/**
 * Which replica wrote an outbox row (issue 17 item 3). On PostgreSQL each replica's connections
 * carry its own application_name (src/store/database.ts), which the column takes by default and
 * the commit-time NOTIFY carries, so a replica's notifier announces what its own devices and
 * requests caused, woken by its own commits only, and takes another replica's rows only once
 * they have waited past a poll (that replica stopped or is behind). Before, every commit woke
 * every replica's notifier and they split each other's batches. SQLite has one process: ''.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  if (isSqlite(db)) {
    await db.schema
      .alterTable('outbox')
      .addColumn('origin', 'text', (c) => c.notNull().defaultTo(''))
      .execute();
    return;
  }
  // Rows already there are anyone's (''); new ones take the writing connection's name.
  await sql`ALTER TABLE outbox ADD COLUMN origin text NOT NULL DEFAULT ''`.execute(db);
  await sql`ALTER TABLE outbox ALTER COLUMN origin SET DEFAULT current_setting('application_name')`.execute(db);
  await sql`CREATE OR REPLACE FUNCTION fleetjobs_outbox_notify() RETURNS trigger AS $$
    BEGIN PERFORM pg_notify('fleetjobs_outbox', current_setting('application_name')); RETURN NULL; END $$
    LANGUAGE plpgsql`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  if (!isSqlite(db)) {
    await sql`CREATE OR REPLACE FUNCTION fleetjobs_outbox_notify() RETURNS trigger AS $$
      BEGIN PERFORM pg_notify('fleetjobs_outbox', ''); RETURN NULL; END $$ LANGUAGE plpgsql`.execute(db);
  }
  await db.schema.alterTable('outbox').dropColumn('origin').execute();
}
