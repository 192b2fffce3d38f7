import { sql, type Selectable, type Updateable } from 'kysely';
import { emitJobEvent } from '../scheduler/job-events.js';
import type { Dialect, Executor } from '../store/database.js';
import { jobSourcesOf, type JobStatus, type TargetSelection } from './job-states.js';
import type { JobsTable, JobTargetsTable } from './jobs.tables.js';
import { foldCounterDeltas, withUnfoldedCounters } from './job-counters.js';

export type JobRow = Selectable<JobsTable>;
export type JobTargetRow = Selectable<JobTargetsTable>;

/** The job with its counters as of this read (deltas not folded yet included, issue 17). */
export async function findJob(db: Executor, jobId: string): Promise<JobRow | undefined> {
  const row = await db.selectFrom('jobs').selectAll().where('job_id', '=', jobId).executeTakeFirst();
  return row && (await withUnfoldedCounters(db, [row]))[0];
}

/** The job row as stored: its counters leave out unfolded deltas (for its configuration and document). */
export async function jobRowWithoutCounters(db: Executor, jobId: string): Promise<JobRow | undefined> {
  return db.selectFrom('jobs').selectAll().where('job_id', '=', jobId).executeTakeFirst();
}

/**
 * The job's lock on PostgreSQL (issue 17): a transaction-scoped advisory lock keyed by the job id,
 * shared by device transitions and exclusive for everything else that changes the job's
 * executions or counters. Not a row lock: FOR SHARE on the job row by many devices at once wrote
 * a lock record to the WAL and a MultiXact for each, and they queued on the row (tuple lock
 * waits). The 64-bit hash keeps two live jobs from sharing a key but for a 2^-64 chance, which
 * would only make them wait for each other. Its key space (one bigint) is apart from the
 * two-integer advisory locks of src/jobs/jobs.hooks.ts.
 */
export const jobLockKey = (jobId: string) => sql`hashtextextended(${`fleetjobs/job/${jobId}`}, 0)`;

/**
 * Reads the job and, on PostgreSQL, locks it until commit, exclusively: the job's advisory lock
 * (so device transitions holding it shared have committed, and new ones wait), then its row.
 * Every writer that touches a job's executions locks the job first, so counters, completion and
 * cancellation serialize per job and two transactions never take the same locks in opposite
 * orders. (SQLite serializes writers on its single connection.)
 */
export async function lockJob(db: Executor, dialect: Dialect, jobId: string): Promise<JobRow | undefined> {
  if (dialect === 'postgres') await sql`SELECT pg_advisory_xact_lock(${jobLockKey(jobId)})`.execute(db);
  // Raw SQL: every SQLite device transition takes this lock (issue 17, see executions.repository findExecution).
  const forUpdate = dialect === 'postgres' ? sql`FOR UPDATE` : sql``;
  const row = (await sql<JobRow>`SELECT * FROM jobs WHERE job_id = ${jobId} ${forUpdate}`.execute(db)).rows[0];
  // Holding the job exclusively: its counter deltas (issue 17) are all committed; fold them in.
  return row && foldCounterDeltas(db, row);
}

/**
 * Device transitions (issue 17): on PostgreSQL the job's lock shared, so devices of one job do
 * not queue behind each other, while exclusive lockers (cancel, delete, the scheduler) still wait
 * for them and they for those. Counters change through deltas (CounterMode `delta`) and the job's
 * completion is checked after commit (DeviceJobsService). The row's counters leave out unfolded
 * deltas. On SQLite the same as lockJob.
 */
export async function shareJob(db: Executor, dialect: Dialect, jobId: string): Promise<JobRow | undefined> {
  if (dialect !== 'postgres') return lockJob(db, dialect, jobId);
  await sql`SELECT pg_advisory_xact_lock_shared(${jobLockKey(jobId)})`.execute(db);
  // Device transitions read the job's configuration, never its counters: no deltas are added here.
  return jobRowWithoutCounters(db, jobId);
}

/** Whether the counters say a SNAPSHOT job is done (spec 3.2): a hint; completeIfDone decides. */
export const looksDone = (job: Pick<JobRow, 'status' | 'target_selection'> & { pending: number }): boolean =>
  jobSourcesOf('complete').includes(job.status) && job.target_selection === 'SNAPSHOT' && job.pending === 0;

/** Locks several jobs in id order (the one global order, so no deadlock between lockers). */
export async function lockJobs(db: Executor, dialect: Dialect, jobIds: readonly string[]): Promise<JobRow[]> {
  const rows: JobRow[] = [];
  for (const id of [...new Set(jobIds)].sort()) {
    const row = await lockJob(db, dialect, id);
    if (row) rows.push(row);
  }
  return rows;
}

export async function insertJob(db: Executor, row: JobRow, targets: readonly JobTargetRow[]): Promise<void> {
  await db.insertInto('jobs').values(row).execute();
  if (targets.length > 0)
    await db
      .insertInto('job_targets')
      .values([...targets])
      .execute();
}

export async function addTargets(
  db: Executor,
  jobId: string,
  all: readonly string[],
  added: readonly JobTargetRow[],
  now: number,
): Promise<void> {
  await db
    .updateTable('jobs')
    .set({ targets: JSON.stringify(all), last_updated_at: now })
    .where('job_id', '=', jobId)
    .execute();
  if (added.length > 0)
    await db
      .insertInto('job_targets')
      .values([...added])
      .execute();
}

export async function updateJob(db: Executor, jobId: string, changes: Updateable<JobsTable>): Promise<void> {
  await db.updateTable('jobs').set(changes).where('job_id', '=', jobId).execute();
}

/** Moves a job from one of `from` to `to`; false when it was in another status (compare-and-set). */
export async function setJobStatus(
  db: Executor,
  jobId: string,
  from: readonly JobStatus[],
  to: JobStatus,
  changes: Updateable<JobsTable> = {},
): Promise<boolean> {
  const r = await db
    .updateTable('jobs')
    .set({ ...changes, status: to })
    .where('job_id', '=', jobId)
    .where('status', 'in', from)
    .executeTakeFirst();
  return r.numUpdatedRows > 0n;
}

export { addToCounters, ATTEMPT_COLUMN, type AttemptKind, type CounterMode } from './job-counters.js';

/** spec 3.2: a SNAPSHOT job whose executions are all terminal is COMPLETED. */
export async function completeIfDone(db: Executor, jobId: string, now: number): Promise<boolean> {
  // Raw SQL: runs after every terminal device transition on SQLite (issue 17).
  const r = await sql`UPDATE jobs SET status = 'COMPLETED', completed_at = ${now}, last_updated_at = ${now}
    WHERE job_id = ${jobId} AND status IN (${sql.join(jobSourcesOf('complete'))}) AND target_selection = 'SNAPSHOT'
      AND n_queued = 0 AND n_in_progress = 0`.execute(db);
  const completed = (r.numAffectedRows ?? 0n) > 0n;
  // spec 5.9: the job `completed` event goes out in the transaction that completes the job.
  if (completed) await emitJobEvent(db, jobId, 'completed', now);
  return completed;
}

export async function countJobsInStatus(db: Executor, status: JobStatus): Promise<number> {
  const row = await db
    .selectFrom('jobs')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('status', '=', status)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function jobIdsInStatus(db: Executor, status: JobStatus): Promise<string[]> {
  const rows = await db.selectFrom('jobs').select('job_id').where('status', '=', status).execute();
  return rows.map((r) => r.job_id);
}

export async function deleteJobRow(db: Executor, jobId: string): Promise<void> {
  await db.deleteFrom('job_targets').where('job_id', '=', jobId).execute();
  await db.deleteFrom('job_counter_deltas').where('job_id', '=', jobId).execute();
  await db.deleteFrom('jobs').where('job_id', '=', jobId).execute();
}

export async function targetsOf(db: Executor, jobIds: readonly string[]): Promise<JobTargetRow[]> {
  if (jobIds.length === 0) return [];
  return db.selectFrom('job_targets').selectAll().where('job_id', 'in', jobIds).execute();
}

/** CONTINUOUS jobs that are rolling out and target one of the groups (spec 3.2). */
export async function continuousJobsTargeting(db: Executor, groups: readonly string[]): Promise<string[]> {
  if (groups.length === 0) return [];
  const rows = await db
    .selectFrom('job_targets as t')
    .innerJoin('jobs as j', 'j.job_id', 't.job_id')
    .select('j.job_id')
    .distinct()
    .where('t.kind', '=', 'group')
    .where('t.name', 'in', groups)
    .where('j.target_selection', '=', 'CONTINUOUS' satisfies TargetSelection)
    .where('j.status', '=', 'IN_PROGRESS' satisfies JobStatus)
    .execute();
  return rows.map((r) => r.job_id);
}

export interface JobListFilter {
  status?: JobStatus;
  targetSelection?: TargetSelection;
  thingGroupName?: string;
  namespaceId?: string;
  /** Keyset: the (created_at, job_id) of the last row of the previous page. */
  after?: [number, string];
  limit: number;
}

/** Newest first, keyset-paginated on (created_at, job_id). */
export async function listJobRows(db: Executor, f: JobListFilter): Promise<JobRow[]> {
  let q = db.selectFrom('jobs').selectAll('jobs');
  if (f.status !== undefined) q = q.where('jobs.status', '=', f.status);
  if (f.targetSelection !== undefined) q = q.where('jobs.target_selection', '=', f.targetSelection);
  if (f.namespaceId !== undefined) q = q.where('jobs.namespace_id', '=', f.namespaceId);
  if (f.thingGroupName !== undefined) {
    const group = f.thingGroupName;
    q = q.where((eb) =>
      eb.exists(
        eb
          .selectFrom('job_targets')
          .select('job_targets.job_id')
          .whereRef('job_targets.job_id', '=', 'jobs.job_id')
          .where('job_targets.kind', '=', 'group')
          .where('job_targets.name', '=', group),
      ),
    );
  }
  if (f.after !== undefined) {
    const [createdAt, jobId] = f.after;
    // The `<=` bound lets the index seek straight to the page; the OR only trims its first key.
    q = q
      .where('jobs.created_at', '<=', createdAt)
      .where((eb) => eb.or([eb('jobs.created_at', '<', createdAt), eb('jobs.job_id', '<', jobId)]));
  }
  const rows = await q
    .orderBy('jobs.created_at', 'desc')
    .orderBy('jobs.job_id', 'desc')
    .limit(f.limit + 1)
    .execute();
  return withUnfoldedCounters(db, rows);
}

/** The id of the first existing group each job targets (JobSummary.thingGroupId). */
export async function firstGroupIds(db: Executor, jobIds: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (jobIds.length === 0) return out;
  const rows = await db
    .selectFrom('job_targets as t')
    .innerJoin('thing_groups as g', 'g.name', 't.name')
    .select(['t.job_id', 'g.id', 't.name'])
    .where('t.kind', '=', 'group')
    .where('t.job_id', 'in', jobIds)
    .orderBy('t.name')
    .execute();
  for (const r of rows) if (!out.has(r.job_id)) out.set(r.job_id, r.id);
  return out;
}
