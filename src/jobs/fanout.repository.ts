import { sql } from 'kysely';
import type { Executor } from '../store/database.js';
import { PENDING_STATUSES, type ExecutionStatus } from './execution-states.js';

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
  /** False: the rollout engine releases the executions later (src/scheduler, spec 3.5). */
  released: boolean;
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
      (s.released ? int(s.now) : sql<number | null>`cast(null as bigint)`).as('released_at'),
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
      'released_at',
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

/**
 * Counters count things by their latest execution (issue 15): the statuses of the executions that
 * the executions created after `afterId` superseded (each thing's previous attempt), by status.
 */
export async function supersededStatuses(
  db: Executor,
  jobId: string,
  afterId: number,
): Promise<Partial<Record<ExecutionStatus, number>>> {
  const rows = await db
    .selectFrom('job_executions as n')
    .innerJoin('job_executions as p', (j) =>
      j
        .onRef('p.job_id', '=', 'n.job_id')
        .onRef('p.thing_name', '=', 'n.thing_name')
        .on('p.execution_number', '=', sql<number>`n.execution_number - 1`),
    )
    .select(['p.status', (eb) => eb.fn.countAll<number>().as('c')])
    .where('n.job_id', '=', jobId)
    .where('n.id', '>', afterId)
    .groupBy('p.status')
    .execute();
  const out: Partial<Record<ExecutionStatus, number>> = {};
  for (const r of rows) out[r.status] = -Number(r.c);
  return out;
}
