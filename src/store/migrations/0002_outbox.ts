import type { Kysely } from 'kysely';
import { autoIncrementColumn } from '../dialect.js';

export async function up(db: Kysely<unknown>): Promise<void> {
  const id = autoIncrementColumn(db);
  await db.schema
    .createTable('outbox')
    .addColumn('id', id.type, id.build)
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('thing_name', 'text')
    .addColumn('namespace_id', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('topic', 'text')
    .addColumn('payload', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('claimed_until', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.createIndex('outbox_claim').on('outbox').columns(['claimed_until', 'id']).execute();
  // The last notify / notify-next state sent to each thing, so the notifier can tell what changed
  // (spec 5.6) and a reconnecting device can be sent the current state.
  await db.schema
    .createTable('thing_notify_state')
    .addColumn('thing_name', 'text', (c) => c.notNull())
    .addColumn('namespace_id', 'text', (c) => c.notNull())
    .addColumn('pending_key', 'text', (c) => c.notNull())
    .addColumn('head_key', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('thing_notify_state_pk', ['thing_name', 'namespace_id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('thing_notify_state').execute();
  await db.schema.dropTable('outbox').execute();
}
