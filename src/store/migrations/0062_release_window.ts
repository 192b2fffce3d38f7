import type { Kysely } from 'kysely';

/**
 * Issue 15: the rollout rate is a maximum over every 60-second window, kept as the log of the last
 * minute's releases (job_rollouts.recent_releases, added in 0061). The token bucket it replaces
 * goes: a new bucket started full and refilled during its first minute, letting up to twice the
 * rate through.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('job_rollouts').dropColumn('tokens').execute();
  await db.schema.alterTable('job_rollouts').dropColumn('last_refill_at').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('job_rollouts')
    .addColumn('tokens', 'double precision', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable('job_rollouts').addColumn('last_refill_at', 'bigint').execute();
}
