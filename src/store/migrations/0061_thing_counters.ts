import { sql, type Kysely } from 'kysely';

/**
 * Issue 15: jobProcessDetails counts things, not attempts (spec 3.10, 3.6: "the number of things
 * that ..."): a thing's latest execution decides where it is counted, so a retry moves its thing
 * from FAILED / TIMED_OUT back to QUEUED. Attempts are kept apart on the same row (no extra row
 * write per transition): failed and timed-out attempts, and retries queued.
 * job_rollouts.recent_releases: the releases of the last 60 s as JSON [[epochMs, n], ...], so the
 * rate is a maximum over every 60-second window (spec 3.5).
 * Existing jobs lose their superseded attempts from the per-status counters.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  for (const col of ['n_failed_attempts', 'n_timed_out_attempts', 'n_retries']) {
    await db.schema
      .alterTable('jobs')
      .addColumn(col, 'bigint', (c) => c.notNull().defaultTo(0))
      .execute();
  }
  await db.schema.alterTable('job_rollouts').addColumn('recent_releases', 'text').execute();
  await sql`update jobs set
    n_failed_attempts = (select count(*) from job_executions e where e.job_id = jobs.job_id and e.status = 'FAILED'),
    n_timed_out_attempts = (select count(*) from job_executions e where e.job_id = jobs.job_id and e.status = 'TIMED_OUT'),
    n_retries = (select count(*) from job_executions e where e.job_id = jobs.job_id and e.retry_attempt > 0)`.execute(
    db,
  );
  // Superseded attempts leave the per-status counters (a deleted thing's counts stay: its rows are gone).
  const superseded = (status: string) => sql`(select count(*) from job_executions e where e.job_id = jobs.job_id
    and e.status = ${status} and exists (select 1 from job_executions n where n.job_id = e.job_id
    and n.thing_name = e.thing_name and n.execution_number > e.execution_number))`;
  const cols = {
    SUCCEEDED: 'n_succeeded',
    FAILED: 'n_failed',
    TIMED_OUT: 'n_timed_out',
    REJECTED: 'n_rejected',
    REMOVED: 'n_removed',
    CANCELED: 'n_canceled',
  };
  for (const [status, col] of Object.entries(cols)) {
    await sql`update jobs set ${sql.ref(col)} = ${sql.ref(col)} - ${superseded(status)}`.execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('job_rollouts').dropColumn('recent_releases').execute();
  for (const col of ['n_retries', 'n_timed_out_attempts', 'n_failed_attempts']) {
    await db.schema.alterTable('jobs').dropColumn(col).execute();
  }
}
