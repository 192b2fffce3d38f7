import { sql, type Updateable } from 'kysely';
import type { Db } from '../store/database.js';
import { canTransition, isTerminal, sourcesOf } from './execution-states.js';
import { counterColumns } from './job-counters.js';
import { counterChangeOf, transitionChanges, type TransitionRequest } from './execution-transitions.js';
import type { ExecutionRow } from './executions.repository.js';
import { jobLockKey, type JobRow } from './jobs.repository.js';
import type { JobExecutionsTable } from './jobs.tables.js';

/**
 * Whether a device transition on PostgreSQL can be written as one statement: everything but a
 * terminal status that has rollout effects beyond counters and the outbox, i.e. a jobExecution
 * event (spec 5.9) or a retry (spec 3.8). Those take the transactional path (applyTransition).
 * `eventsEnabled` comes from the same read as the execution; an event configuration changed
 * between that read and the write orders the transition before the change.
 */
export function fitsOneStatement(
  to: ExecutionRow['status'],
  job: Pick<JobRow, 'status' | 'retry_config'>,
  eventsEnabled: boolean,
): boolean {
  if (!isTerminal(to)) return true;
  if (eventsEnabled) return false;
  const mayRetry = (to === 'FAILED' || to === 'TIMED_OUT') && job.status === 'IN_PROGRESS' && job.retry_config !== null;
  return !mayRetry;
}

/**
 * Issue 17: a device transition on PostgreSQL in one statement, so one round trip and an implicit
 * transaction, instead of BEGIN, the job's shared lock, the CAS, the deltas, the outbox and COMMIT,
 * each of which waited on the server's busy event loop while holding a pool connection.
 *
 * The same guarantees as applyTransition with `counters: 'delta'`:
 * - the job's lock (jobLockKey) is taken shared before the execution row is touched (`j` is an
 *   uncorrelated sub-query of the UPDATE's WHERE, an InitPlan run before the scan), so exclusive
 *   lockers (CancelJob, DeleteJob, the scheduler's fold) order against it, in the one lock order:
 *   job, then execution;
 * - the UPDATE is the compare-and-set (id, version, allowed sources); the counter deltas and the
 *   outbox row are written only when it matched (`EXISTS (SELECT 1 FROM u)`), in the same commit;
 * - a deleted job leaves `j` empty, so nothing is written and the caller sees a lost race.
 * The outbox trigger (migration 0021) sends NOTIFY at commit, as for any outbox insert.
 * The caller checks the job's completion after this returns, as for the transactional path.
 */
export async function transitionInOneStatement(
  db: Db,
  exec: ExecutionRow,
  req: Omit<TransitionRequest, 'counters'>,
): Promise<ExecutionRow | undefined> {
  if (!canTransition(req.cause, exec.status, req.to)) {
    throw new Error(`${req.cause} cannot move an execution from ${exec.status} to ${req.to}`);
  }
  const changes = transitionChanges(req);
  const set = setList({ ...changes, version_number: exec.version_number + 1 });
  const moved = exec.status !== req.to;
  const deltas = moved ? counterColumns(counterChangeOf(exec.status, req.to)) : [];
  const announce = moved && req.announce !== false;
  const sources = sourcesOf(req.cause, req.to);
  const r = await sql<{ id: number }>`
    WITH j AS (SELECT pg_advisory_xact_lock_shared(${jobLockKey(exec.job_id)})),
    u AS (
      UPDATE job_executions SET ${set}
      WHERE id = ${exec.id} AND version_number = ${exec.version_number}
        AND status IN (${sql.join(sources)})
        AND EXISTS (SELECT 1 FROM j) AND EXISTS (SELECT 1 FROM jobs WHERE job_id = ${exec.job_id})
      RETURNING id
    ),
    d AS (
      INSERT INTO job_counter_deltas (job_id, counter, delta)
      SELECT ${exec.job_id}, c.counter, c.delta
      FROM ${deltaRows(deltas)}
      WHERE EXISTS (SELECT 1 FROM u)
    ),
    o AS (
      INSERT INTO outbox (kind, thing_name, namespace_id, topic, payload, created_at, claimed_until)
      SELECT 'thing-jobs-changed', ${exec.thing_name}, ${exec.namespace_id}, NULL, NULL, ${req.now}::bigint, 0
      WHERE ${announce} AND EXISTS (SELECT 1 FROM u)
    )
    SELECT id FROM u`.execute(db);
  if (r.rows.length === 0) return undefined;
  return { ...exec, ...changes, version_number: exec.version_number + 1 } as ExecutionRow;
}

function setList(changes: Updateable<JobExecutionsTable>) {
  return sql.join(
    Object.entries(changes)
      .filter(([, v]) => v !== undefined)
      .map(([column, v]) => sql`${sql.ref(column)} = ${v}`),
  );
}

/** `(VALUES (counter, delta), ...) AS c(counter, delta)`, empty when nothing moves. */
function deltaRows(deltas: readonly [string, number][]) {
  if (deltas.length === 0) return sql`(SELECT NULL::text AS counter, NULL::integer AS delta WHERE false) AS c`;
  const rows = deltas.map(([counter, delta]) => sql`(${counter}, ${delta}::integer)`);
  return sql`(VALUES ${sql.join(rows)}) AS c(counter, delta)`;
}

export interface UpdateTarget {
  job: JobRow | undefined;
  execution: ExecutionRow | undefined;
  /** Whether jobExecution events are on (spec 5.9): then terminal updates take the transactional path. */
  eventsEnabled: boolean;
}

/**
 * What UpdateJobExecution reads before its write, in one round trip on PostgreSQL: the job (its
 * counters without unfolded deltas; only its configuration is used), the thing's execution of it
 * (that number, or the latest) and the event switch. Rows come back as JSON: every column is text,
 * integer or bigint, which JSON carries exactly (bigints stay below 2^53).
 */
export async function readUpdateTarget(
  db: Db,
  jobId: string,
  thingName: string,
  executionNumber: number | undefined,
): Promise<UpdateTarget> {
  const numbered = executionNumber === undefined ? sql`` : sql`AND e.execution_number = ${executionNumber}`;
  const r = await sql<{ job: JobRow; execution: ExecutionRow | null; events: number | null }>`
    SELECT to_jsonb(j) AS job,
      (SELECT to_jsonb(e) FROM job_executions e
        WHERE e.job_id = j.job_id AND e.thing_name = ${thingName} ${numbered}
        ORDER BY e.execution_number DESC LIMIT 1) AS execution,
      (SELECT enabled FROM event_configurations WHERE event_type = 'JOB_EXECUTION') AS events
    FROM jobs j WHERE j.job_id = ${jobId}`.execute(db);
  const row = r.rows[0];
  return { job: row?.job, execution: row?.execution ?? undefined, eventsEnabled: row?.events === 1 };
}
