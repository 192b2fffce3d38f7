import type { Kysely } from 'kysely';
import { autoIncrementColumn } from '../dialect.js';

/**
 * Issue 17: no per-job hot row. On PostgreSQL a device transition no longer updates the job row's
 * counters (every device of a job queued on that one row lock); it appends its changes here, and
 * whoever next takes the job's exclusive lock folds them into the row (jobs.repository.ts
 * lockJob). Readers add what is not folded yet, so counters stay exact.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const id = autoIncrementColumn(db);
  await db.schema
    .createTable('job_counter_deltas')
    .addColumn('id', id.type, id.build)
    .addColumn('job_id', 'text', (c) => c.notNull())
    // A jobs column: n_<status> or an attempt counter.
    .addColumn('counter', 'text', (c) => c.notNull())
    .addColumn('delta', 'integer', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('job_counter_deltas_job').on('job_counter_deltas').columns(['job_id']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('job_counter_deltas').execute();
}
