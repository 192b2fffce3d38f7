import { sql, type Selectable, type Updateable } from 'kysely';
import type { Executor } from '../store/database.js';
import { PENDING_STATUSES, type ExecutionStatus } from './execution-states.js';
import { PENDING_LIST_LIMIT, PENDING_LIST_LIMIT_SCHEDULED } from './device-jobs.schemas.js';
import type { JobExecutionsTable } from './jobs.tables.js';

export type ExecutionRow = Selectable<JobExecutionsTable>;

/** Things with an execution of the job in one of the statuses, keyset by thing name. */
export async function thingsInStatus(
  db: Executor,
  jobId: string,
  statuses: readonly ExecutionStatus[],
  after: string | undefined,
  limit: number,
): Promise<string[]> {
  let q = db
    .selectFrom('job_executions')
    .select('thing_name')
    .where('job_id', '=', jobId)
    .where('status', 'in', statuses);
  if (after !== undefined) q = q.where('thing_name', '>', after);
  const rows = await q.orderBy('thing_name').limit(limit).execute();
  return rows.map((r) => r.thing_name);
}

export async function insertExecution(db: Executor, row: Omit<ExecutionRow, 'id'>): Promise<ExecutionRow> {
  return db.insertInto('job_executions').values(row).returningAll().executeTakeFirstOrThrow();
}

/** The execution with that number, or the latest one (spec 4.3: requests without a number act on it). */
export async function findExecution(
  db: Executor,
  jobId: string,
  thingName: string,
  executionNumber?: number,
): Promise<ExecutionRow | undefined> {
  // Raw SQL on the device plane's hot path: Kysely's builder was a fifth of the busy time (issue 17).
  const numbered = executionNumber === undefined ? sql`` : sql`AND execution_number = ${executionNumber}`;
  const r = await sql<ExecutionRow>`SELECT * FROM job_executions WHERE job_id = ${jobId} AND thing_name = ${thingName}
    ${numbered} ORDER BY execution_number DESC LIMIT 1`.execute(db);
  return r.rows[0];
}

export async function findById(db: Executor, id: number): Promise<ExecutionRow | undefined> {
  return db.selectFrom('job_executions').selectAll().where('id', '=', id).executeTakeFirst();
}

/**
 * The thing's pending executions in spec 4.1 order: IN_PROGRESS first, then QUEUED, each by
 * queue time (creation order breaks ties). Devices see only what the rollout has released
 * (src/scheduler); `include: 'all'` adds the held-back ones.
 */
export async function pendingOfThing(
  db: Executor,
  thingName: string,
  namespaceId: string | undefined,
  limit: number,
  include: 'released' | 'all' = 'released',
): Promise<ExecutionRow[]> {
  // Raw SQL on the device plane's hot path (see findExecution).
  const released = include === 'released' ? sql`AND released_at IS NOT NULL` : sql``;
  const namespace = namespaceId === undefined ? sql`` : sql`AND namespace_id = ${namespaceId}`;
  const r = await sql<ExecutionRow>`SELECT * FROM job_executions
    WHERE thing_name = ${thingName} AND status IN (${sql.join(PENDING_STATUSES)}) ${released} ${namespace}
    ORDER BY CASE WHEN status = 'IN_PROGRESS' THEN 0 ELSE 1 END, queued_at, id LIMIT ${limit}`.execute(db);
  return r.rows;
}

/**
 * The pending list devices get (GetPendingJobExecutions, notify): 10 executions, 15 when one of
 * them comes from a job with a schedulingConfig (spec 3.9, 7: PENDING_LIST_LIMIT_SCHEDULED).
 */
export async function pendingList(db: Executor, thingName: string, namespaceId: string): Promise<ExecutionRow[]> {
  const rows = await pendingOfThing(db, thingName, namespaceId, PENDING_LIST_LIMIT_SCHEDULED);
  if (rows.length <= PENDING_LIST_LIMIT) return rows;
  const scheduled = await db
    .selectFrom('jobs')
    .select('job_id')
    .where('job_id', 'in', [...new Set(rows.map((r) => r.job_id))])
    .where('scheduling_config', 'is not', null)
    .limit(1)
    .executeTakeFirst();
  return scheduled ? rows : rows.slice(0, PENDING_LIST_LIMIT);
}

/**
 * The first `limit` released pending executions of each of many things, in pendingOfThing's
 * order, in one query (the notifier announces a batch of things at once, issue 17). Rows of a
 * thing's other namespaces come too; callers keep the (thing, namespace) pairs they asked for.
 */
export async function pendingOfThings(
  db: Executor,
  thingNames: readonly string[],
  limit: number,
): Promise<ExecutionRow[]> {
  if (thingNames.length === 0) return [];
  const ranked = db
    .selectFrom('job_executions')
    .selectAll()
    .select(
      sql<number>`row_number() over (partition by thing_name, namespace_id order by case when status = 'IN_PROGRESS' then 0 else 1 end, queued_at, id)`.as(
        'pending_rank',
      ),
    )
    .where('thing_name', 'in', [...new Set(thingNames)])
    .where('status', 'in', PENDING_STATUSES)
    .where('released_at', 'is not', null);
  const rows = await db
    .selectFrom(ranked.as('r'))
    .selectAll()
    .where('pending_rank', '<=', limit)
    .orderBy('thing_name')
    .orderBy('namespace_id')
    .orderBy('pending_rank')
    .execute();
  return rows.map(({ pending_rank: _rank, ...row }) => row as ExecutionRow);
}

/** Whether any of these jobs has a schedulingConfig (spec 3.9: pending lists of 15). */
export async function scheduledAmong(db: Executor, jobIds: readonly string[]): Promise<Set<string>> {
  if (jobIds.length === 0) return new Set();
  const rows = await db
    .selectFrom('jobs')
    .select('job_id')
    .where('job_id', 'in', [...new Set(jobIds)])
    .where('scheduling_config', 'is not', null)
    .execute();
  return new Set(rows.map((r) => r.job_id));
}

/** All pending executions of a thing, every namespace (thing deletion). */
export async function allPendingOfThing(db: Executor, thingName: string): Promise<ExecutionRow[]> {
  return pendingOfThing(db, thingName, undefined, Number.MAX_SAFE_INTEGER, 'all');
}

export async function pendingOfJobAndThing(
  db: Executor,
  jobId: string,
  thingName: string,
): Promise<ExecutionRow | undefined> {
  return db
    .selectFrom('job_executions')
    .selectAll()
    .where('job_id', '=', jobId)
    .where('thing_name', '=', thingName)
    .where('status', 'in', PENDING_STATUSES)
    .executeTakeFirst();
}

/**
 * Compare-and-set: applies `changes` only while the execution still has `version` and one of
 * the `from` statuses, and bumps the version (spec 4.3). False when something else won.
 */
export async function casUpdate(
  db: Executor,
  id: number,
  version: number,
  from: readonly ExecutionStatus[],
  changes: Updateable<JobExecutionsTable>,
): Promise<boolean> {
  // Built, not raw: the metrics plugin counts status changes from this statement (src/metrics/instrument.ts).
  const r = await db
    .updateTable('job_executions')
    .set({ ...changes, version_number: version + 1 })
    .where('id', '=', id)
    .where('version_number', '=', version)
    .where('status', 'in', from)
    .executeTakeFirst();
  return r.numUpdatedRows > 0n;
}

/** Moves every execution of a job in `from` to `to` (CancelJob); returns how many moved. */
export async function bulkTransition(
  db: Executor,
  jobId: string,
  from: ExecutionStatus,
  to: ExecutionStatus,
  now: number,
  extra: Updateable<JobExecutionsTable> = {},
): Promise<number> {
  const r = await db
    .updateTable('job_executions')
    .set((eb) => ({
      ...extra,
      status: to,
      version_number: eb('version_number', '+', 1),
      last_updated_at: now,
      in_progress_deadline: null,
      step_deadline: null,
      timeout_at: null,
    }))
    .where('job_id', '=', jobId)
    .where('status', '=', from)
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}

export async function deleteExecutionRow(db: Executor, id: number): Promise<void> {
  await db.deleteFrom('job_executions').where('id', '=', id).execute();
}

export async function deleteExecutionsOfJob(
  db: Executor,
  jobId: string,
  statuses: readonly ExecutionStatus[],
): Promise<number> {
  const r = await db
    .deleteFrom('job_executions')
    .where('job_id', '=', jobId)
    .where('status', 'in', statuses)
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}

/** Deletes up to `limit` executions of a job; returns how many (the purge of a deleted job). */
export async function deleteSomeOfJob(db: Executor, jobId: string, limit: number): Promise<number> {
  const ids = await db.selectFrom('job_executions').select('id').where('job_id', '=', jobId).limit(limit).execute();
  if (ids.length === 0) return 0;
  await db
    .deleteFrom('job_executions')
    .where(
      'id',
      'in',
      ids.map((r) => r.id),
    )
    .execute();
  return ids.length;
}

export async function deleteExecutionsOfThing(db: Executor, thingName: string): Promise<void> {
  await db.deleteFrom('job_executions').where('thing_name', '=', thingName).execute();
}

export interface JobExecutionFilter {
  status?: ExecutionStatus;
  after?: [string, number];
  limit: number;
}

/** ListJobExecutionsForJob: keyset on (thing_name, execution_number) through the job indexes. */
export async function listOfJob(db: Executor, jobId: string, f: JobExecutionFilter): Promise<ExecutionRow[]> {
  let q = db.selectFrom('job_executions').selectAll().where('job_id', '=', jobId);
  if (f.status !== undefined) q = q.where('status', '=', f.status);
  if (f.after !== undefined) {
    const [thing, n] = f.after;
    q = q.where((eb) =>
      eb.or([eb('thing_name', '>', thing), eb.and([eb('thing_name', '=', thing), eb('execution_number', '>', n)])]),
    );
  }
  return q
    .orderBy('thing_name')
    .orderBy('execution_number')
    .limit(f.limit + 1)
    .execute();
}

export interface ThingExecutionFilter {
  status?: ExecutionStatus;
  namespaceId?: string;
  jobId?: string;
  /** Keyset: id of the last row of the previous page (newest first). */
  before?: number;
  limit: number;
}

export async function listOfThing(db: Executor, thingName: string, f: ThingExecutionFilter): Promise<ExecutionRow[]> {
  let q = db.selectFrom('job_executions').selectAll().where('thing_name', '=', thingName);
  if (f.status !== undefined) q = q.where('status', '=', f.status);
  if (f.namespaceId !== undefined) q = q.where('namespace_id', '=', f.namespaceId);
  if (f.jobId !== undefined) q = q.where('job_id', '=', f.jobId);
  if (f.before !== undefined) q = q.where('id', '<', f.before);
  return q
    .orderBy('id', 'desc')
    .limit(f.limit + 1)
    .execute();
}
