import type { Kysely } from 'kysely';

/**
 * Issue 15: pause and resume of a rollout (UpdateJob's fleetjobs extension `rolloutAction`).
 * job_rollouts.pause_kind says who paused it: GATE (a failed staged-rollout gate) or OPERATOR.
 * A paused rollout stays paused until RESUME; an UpdateJob of its configuration no longer
 * re-opens a failed gate.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('job_rollouts').addColumn('pause_kind', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('job_rollouts').dropColumn('pause_kind').execute();
}
