import { sql, type Kysely } from 'kysely';
import { isSqlite } from '../store/dialect.js';
import type { Executor } from '../store/database.js';
import { COLUMN_OF, type ExecutionStatus } from './execution-states.js';
import type { JobRow } from './jobs.repository.js';
import type { JobsTable } from './jobs.tables.js';

/** The attempt counters kept apart from the per-thing ones (issue 15). */
export const ATTEMPT_COLUMN = {
  FAILED: 'n_failed_attempts',
  TIMED_OUT: 'n_timed_out_attempts',
  RETRY: 'n_retries',
} as const;
export type AttemptKind = keyof typeof ATTEMPT_COLUMN;

/** Every jobs column a delta may name; nothing else is ever folded into a job row. */
const COUNTER_COLUMNS: ReadonlySet<string> = new Set([...Object.values(COLUMN_OF), ...Object.values(ATTEMPT_COLUMN)]);
type CounterColumn = keyof JobsTable & string;

/**
 * How a transaction changes a job's counters (issue 17):
 * - `row`: UPDATE the job row; the caller holds the job's exclusive lock (or is on SQLite).
 * - `delta`: append to job_counter_deltas; for transactions that hold the job's lock only shared
 *   (device transitions on PostgreSQL), so devices of one job never queue on one row lock.
 */
export type CounterMode = 'row' | 'delta';

/** A change of a job's counters: things by status (n_<status>) and attempts. */
export interface CounterChange {
  statuses: Partial<Record<ExecutionStatus, number>>;
  attempts: Partial<Record<AttemptKind, number>>;
}

/** The jobs columns a change touches, with what it adds to each; zeros left out. */
export function counterColumns(change: CounterChange): [string, number][] {
  return [
    ...(Object.entries(change.statuses) as [ExecutionStatus, number][]).map(([s, d]): [string, number] => [
      COLUMN_OF[s],
      d,
    ]),
    ...(Object.entries(change.attempts) as [AttemptKind, number][]).map(([k, d]): [string, number] => [
      ATTEMPT_COLUMN[k],
      d,
    ]),
  ].filter(([, d]) => d !== 0);
}

/**
 * Adds to the per-status counters, which count things by their latest execution (a thing whose
 * execution is superseded by a retry or a new execution leaves its old status's counter), and to
 * the attempt counters.
 */
export async function addToCounters(
  db: Executor,
  jobId: string,
  deltas: Partial<Record<ExecutionStatus, number>>,
  attempts: Partial<Record<AttemptKind, number>> = {},
  mode: CounterMode = 'row',
): Promise<void> {
  const columns = counterColumns({ statuses: deltas, attempts });
  if (columns.length === 0) return;
  if (mode === 'delta') {
    await db
      .insertInto('job_counter_deltas')
      .values(columns.map(([counter, delta]) => ({ job_id: jobId, counter, delta })))
      .execute();
    return;
  }
  await addToRow(db, jobId, new Map(columns));
}

async function addToRow(db: Executor, jobId: string, sums: ReadonlyMap<string, number>): Promise<void> {
  const set = [...sums]
    .filter(([, d]) => d !== 0)
    .map(([col, d]) => sql`${sql.ref(checkedCounter(col))} = ${sql.ref(col)} + ${d}`);
  if (set.length === 0) return;
  // Raw SQL: every SQLite device transition that moves a counter runs this (issue 17).
  await sql`UPDATE jobs SET ${sql.join(set)} WHERE job_id = ${jobId}`.execute(db);
}

/**
 * SQLite has one writer, so device transitions there update the row (mode `row`) and no delta is
 * ever written: its readers skip the extra statement.
 */
const neverDeltas = (db: Executor): boolean => isSqlite(db as unknown as Kysely<unknown>);

function checkedCounter(column: string): string {
  if (!COUNTER_COLUMNS.has(column)) throw new Error(`${column} is not a job counter`);
  return column;
}

function sumByCounter(rows: readonly { counter: string; delta: number | string }[]): Map<string, number> {
  const sums = new Map<string, number>();
  for (const r of rows) {
    if (!COUNTER_COLUMNS.has(r.counter)) throw new Error(`job_counter_deltas names an unknown counter ${r.counter}`);
    sums.set(r.counter, (sums.get(r.counter) ?? 0) + Number(r.delta));
  }
  return sums;
}

function withSums(row: JobRow, sums: ReadonlyMap<string, number> | undefined): JobRow {
  if (!sums || sums.size === 0) return row;
  const out: Record<string, unknown> = { ...row };
  for (const [col, d] of sums) out[col] = Number(row[col as CounterColumn]) + d;
  return out as JobRow;
}

/**
 * Moves the job's committed deltas into its row; the caller holds the job's exclusive lock, so
 * every device transaction that held it shared has committed and its deltas are all here.
 */
export async function foldCounterDeltas(db: Executor, row: JobRow): Promise<JobRow> {
  if (neverDeltas(db)) return row;
  const folded = await db
    .deleteFrom('job_counter_deltas')
    .where('job_id', '=', row.job_id)
    .returning(['counter', 'delta'])
    .execute();
  if (folded.length === 0) return row;
  const sums = sumByCounter(folded);
  await addToRow(db, row.job_id, sums);
  return withSums(row, sums);
}

/** The rows with the deltas not folded yet added in: what the counters are as of this read. */
export async function withUnfoldedCounters(db: Executor, rows: JobRow[]): Promise<JobRow[]> {
  if (rows.length === 0 || neverDeltas(db)) return rows;
  const deltas = await db
    .selectFrom('job_counter_deltas')
    .select(['job_id', 'counter', (eb) => eb.fn.sum<number | string>('delta').as('delta')])
    .where(
      'job_id',
      'in',
      rows.map((r) => r.job_id),
    )
    .groupBy(['job_id', 'counter'])
    .execute();
  if (deltas.length === 0) return rows;
  const byJob = new Map<string, { counter: string; delta: number | string }[]>();
  for (const d of deltas) byJob.set(d.job_id, [...(byJob.get(d.job_id) ?? []), d]);
  return rows.map((r) => {
    const mine = byJob.get(r.job_id);
    return mine ? withSums(r, sumByCounter(mine)) : r;
  });
}

/** Jobs with deltas waiting to be folded (the scheduler folds them, and completes finished jobs). */
export async function jobsWithDeltas(db: Executor, limit: number): Promise<string[]> {
  if (neverDeltas(db)) return [];
  const rows = await db.selectFrom('job_counter_deltas').select('job_id').distinct().limit(limit).execute();
  return rows.map((r) => r.job_id);
}

/**
 * A job's status, target selection and pending things (QUEUED + IN_PROGRESS, unfolded deltas
 * included) in one query: the post-commit completion hint of device transitions on PostgreSQL.
 */
export async function pendingThingsOf(
  db: Executor,
  jobId: string,
): Promise<(Pick<JobRow, 'status' | 'target_selection'> & { pending: number }) | undefined> {
  const pendingColumns = [COLUMN_OF.QUEUED, COLUMN_OF.IN_PROGRESS];
  const row = await db
    .selectFrom('jobs as j')
    .select(['j.status', 'j.target_selection'])
    .select((eb) =>
      sql<number>`${eb.ref(`j.${COLUMN_OF.QUEUED}`)} + ${eb.ref(`j.${COLUMN_OF.IN_PROGRESS}`)} + coalesce((${eb
        .selectFrom('job_counter_deltas as d')
        .select((d) => d.fn.sum<number>('d.delta').as('s'))
        .whereRef('d.job_id', '=', 'j.job_id')
        .where('d.counter', 'in', pendingColumns)}), 0)`.as('pending'),
    )
    .where('j.job_id', '=', jobId)
    .executeTakeFirst();
  return row && { ...row, pending: Number(row.pending) };
}
