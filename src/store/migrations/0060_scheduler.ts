import { sql, type Kysely } from 'kysely';

/**
 * The rollout engine (issue 5, spec 3.5-3.9, 5.9):
 * - job_executions.released_at: when the rollout released the execution to its device (null =
 *   not yet; devices do not see it). Existing executions count as released when queued.
 * - job_executions.rollout_wave: the staged-rollout wave that released it (fleetjobs extension).
 * - job_rollouts: per-job rollout state (token bucket, wave, pause, end behaviour) and the lease
 *   that lets one scheduler replica at a time work on a job.
 * - event_configurations: UpdateEventConfigurations (spec 2.7, 5.9).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('job_executions').addColumn('released_at', 'bigint').execute();
  await db.schema.alterTable('job_executions').addColumn('rollout_wave', 'integer').execute();
  await sql`update job_executions set released_at = queued_at`.execute(db);
  // The release scan: a job's unreleased executions in creation order. Partial, so released
  // executions (nearly all of them, most of the time) cost nothing here.
  await db.schema
    .createIndex('job_executions_unreleased')
    .on('job_executions')
    .columns(['job_id', 'id'])
    .where(sql.ref('released_at'), 'is', null)
    .execute();
  // The staged-rollout gate counts one wave's executions.
  await db.schema
    .createIndex('job_executions_wave')
    .on('job_executions')
    .columns(['job_id', 'rollout_wave', 'status'])
    .where(sql.ref('rollout_wave'), 'is not', null)
    .execute();

  await db.schema
    .createTable('job_rollouts')
    .addColumn('job_id', 'text', (c) => c.primaryKey())
    .addColumn('released', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('tokens', 'double precision', (c) => c.notNull().defaultTo(0))
    .addColumn('last_refill_at', 'bigint')
    .addColumn('wave', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('paused', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('pause_reason', 'text')
    .addColumn('end_applied', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('stopped', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('lease_owner', 'text')
    .addColumn('lease_until', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('updated_at', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();

  await db.schema
    .createTable('event_configurations')
    .addColumn('event_type', 'text', (c) => c.primaryKey())
    .addColumn('enabled', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('event_configurations').execute();
  await db.schema.dropTable('job_rollouts').execute();
  await db.schema.dropIndex('job_executions_wave').execute();
  await db.schema.dropIndex('job_executions_unreleased').execute();
  await db.schema.alterTable('job_executions').dropColumn('rollout_wave').execute();
  await db.schema.alterTable('job_executions').dropColumn('released_at').execute();
}
