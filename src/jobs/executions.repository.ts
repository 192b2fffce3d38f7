import { sql, type Selectable, type Updateable } from 'kysely';
import type { Executor } from '../store/database.js';
import { PENDING_STATUSES, type ExecutionStatus } from './execution-states.js';
import type { JobExecutionsTable } from './jobs.tables.js';

export type ExecutionRow = Selectable<JobExecutionsTable>;

const text = (v: string) => sql<string>`cast(${v} as text)`;
const int = (v: number) => sql<number>`cast(${v} as bigint)`;

export interface FanOutSpec {
  jobId: string;
  namespaceId: string;
  now: number;
  /** Expanded groups (self and descendants) whose members get an execution. */
  groups: readonly string[];
  /** Things targeted directly (they exist: the caller checked). */
  things: readonly string[];
  /** Things covered by these groups or named here already had the job: skip them. */
  exceptGroups?: readonly string[];
  exceptThings?: readonly string[];
  /** Fresh jobs start at execution number 1; later rollouts continue each thing's numbering. */
  continueNumbering?: boolean;
}

/**
 * One INSERT ... SELECT creates the executions of every targeted thing (DESIGN.md rule 7): the
 * fleet never passes through application memory and no statement nears SQLite's parameter limit.
 * Returns the number of executions created.
 */
export async function fanOut(db: Executor, s: FanOutSpec): Promise<number> {
  if (s.groups.length === 0 && s.things.length === 0) return 0;
  const fromGroups = db
    .selectFrom('thing_group_members')
    .select('thing_name')
    .where('group_name', 'in', s.groups.length > 0 ? s.groups : ['']);
  const fromThings = db
    .selectFrom('things')
    .select('name as thing_name')
    .where('name', 'in', s.things.length > 0 ? s.things : ['']);
  const source = fromGroups.union(fromThings);
  const numberExpr = s.continueNumbering
    ? sql<number>`coalesce((select max(e.execution_number) from job_executions e where e.job_id = ${s.jobId} and e.thing_name = t.thing_name), 0) + 1`
    : int(1);
  let select = db
    .selectFrom(source.as('t'))
    .select([
      text(s.jobId).as('job_id'),
      't.thing_name',
      numberExpr.as('execution_number'),
      text(s.namespaceId).as('namespace_id'),
      text('QUEUED').as('status'),
      int(0).as('force_canceled'),
      int(1).as('version_number'),
      int(0).as('retry_attempt'),
      int(s.now).as('queued_at'),
      int(s.now).as('last_updated_at'),
    ]);
  const exceptGroups = s.exceptGroups ?? [];
  const exceptThings = s.exceptThings ?? [];
  if (exceptGroups.length > 0) {
    select = select.where('t.thing_name', 'not in', (eb) =>
      eb.selectFrom('thing_group_members').select('thing_name').where('group_name', 'in', exceptGroups),
    );
  }
  if (exceptThings.length > 0) select = select.where('t.thing_name', 'not in', exceptThings);
  if (s.continueNumbering) {
    select = select.where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('job_executions as p')
            .select('p.id')
            .where('p.job_id', '=', s.jobId)
            .whereRef('p.thing_name', '=', 't.thing_name')
            .where('p.status', 'in', PENDING_STATUSES),
        ),
      ),
    );
  }
  const result = await db
    .insertInto('job_executions')
    .columns([
      'job_id',
      'thing_name',
      'execution_number',
      'namespace_id',
      'status',
      'force_canceled',
      'version_number',
      'retry_attempt',
      'queued_at',
      'last_updated_at',
    ])
    .expression(select.orderBy('t.thing_name'))
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n);
}

export async function maxExecutionId(db: Executor): Promise<number> {
  const row = await db
    .selectFrom('job_executions')
    .select((eb) => eb.fn.max('id').as('m'))
    .executeTakeFirst();
  return Number(row?.m ?? 0);
}

/** Executions of a job created after `afterId`, in id order (to announce a fan-out in batches). */
export async function newExecutionsPage(
  db: Executor,
  jobId: string,
  afterId: number,
  limit: number,
): Promise<{ id: number; thing_name: string }[]> {
  return db
    .selectFrom('job_executions')
    .select(['id', 'thing_name'])
    .where('job_id', '=', jobId)
    .where('id', '>', afterId)
    .orderBy('id')
    .limit(limit)
    .execute();
}

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
  let q = db.selectFrom('job_executions').selectAll().where('job_id', '=', jobId).where('thing_name', '=', thingName);
  if (executionNumber !== undefined) q = q.where('execution_number', '=', executionNumber);
  return q.orderBy('execution_number', 'desc').limit(1).executeTakeFirst();
}

export async function findById(db: Executor, id: number): Promise<ExecutionRow | undefined> {
  return db.selectFrom('job_executions').selectAll().where('id', '=', id).executeTakeFirst();
}

/**
 * The thing's pending executions in spec 4.1 order: IN_PROGRESS first, then QUEUED, each by
 * queue time (creation order breaks ties).
 */
export async function pendingOfThing(
  db: Executor,
  thingName: string,
  namespaceId: string | undefined,
  limit: number,
): Promise<ExecutionRow[]> {
  let q = db
    .selectFrom('job_executions')
    .selectAll()
    .where('thing_name', '=', thingName)
    .where('status', 'in', PENDING_STATUSES);
  if (namespaceId !== undefined) q = q.where('namespace_id', '=', namespaceId);
  return q
    .orderBy(sql`case when status = 'IN_PROGRESS' then 0 else 1 end`)
    .orderBy('queued_at')
    .orderBy('id')
    .limit(limit)
    .execute();
}

/** All pending executions of a thing, every namespace (thing deletion). */
export async function allPendingOfThing(db: Executor, thingName: string): Promise<ExecutionRow[]> {
  return pendingOfThing(db, thingName, undefined, Number.MAX_SAFE_INTEGER);
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
