import { sql, type Updateable } from 'kysely';
import type { Db } from '../store/database.js';
import { PREPARED } from '../store/prepared-statements.js';
import { canTransition, isTerminal, sourcesOf } from './execution-states.js';
import { counterColumns } from './job-counters.js';
import { counterChangeOf, transitionChanges, type TransitionRequest } from './execution-transitions.js';
import type { ExecutionRow } from './executions.repository.js';
import type { JobRow } from './jobs.repository.js';
import type { JobExecutionsTable } from './jobs.tables.js';

/**
 * Issue 17, PostgreSQL: device transitions as single statements, batched over the requests of one
 * event-loop turn (src/store/statement-batcher.ts). A transition used to be BEGIN, the job lock,
 * the execution, the CAS, the deltas, the outbox and COMMIT, each a round trip waiting on the
 * server's busy event loop while holding a pool connection; now it is one read and one write, each
 * shared with the other devices that reported in the same turn.
 */

/** The job's settings a device transition reads (not its document or counters). */
export type JobSettings = Pick<JobRow, 'status' | 'retry_config' | 'timeout_config'>;

/**
 * Whether a device transition can be written by transitionsInOneStatement: everything but a
 * terminal status with rollout effects beyond counters and the outbox, i.e. a jobExecution event
 * (spec 5.9) or a retry (spec 3.8). Those take the transactional path (applyTransition).
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

export interface UpdateTargetKey {
  jobId: string;
  thingName: string;
  executionNumber: number | undefined;
}

export interface UpdateTarget {
  job: JobSettings | undefined;
  execution: ExecutionRow | undefined;
  /** Whether jobExecution events are on (spec 5.9): then terminal updates take the transactional path. */
  eventsEnabled: boolean;
}

/**
 * What UpdateJobExecution reads before its write, for many requests in one statement: the job's
 * settings, the thing's execution of it (that number, or the latest) and the event switch.
 * Executions come back as JSON: every column is text, integer or bigint, which JSON carries
 * exactly (bigints stay below 2^53).
 */
export async function readUpdateTargets(db: Db, keys: readonly UpdateTargetKey[]): Promise<UpdateTarget[]> {
  const r = await sql<{
    i: number;
    job_status: JobRow['status'] | null;
    retry_config: string | null;
    timeout_config: string | null;
    execution: ExecutionRow | null;
    events: number | null;
  }>`
    SELECT k.i, j.status AS job_status, j.retry_config, j.timeout_config,
      (SELECT to_jsonb(e) FROM job_executions e
        WHERE e.job_id = k.job_id AND e.thing_name = k.thing_name
          AND (k.execution_number IS NULL OR e.execution_number = k.execution_number)
        ORDER BY e.execution_number DESC LIMIT 1) AS execution,
      (SELECT enabled FROM event_configurations WHERE event_type = 'JOB_EXECUTION') AS events
    FROM unnest(${keys.map((k) => k.jobId)}::text[], ${keys.map((k) => k.thingName)}::text[],
                ${keys.map((k) => k.executionNumber ?? null)}::integer[])
      WITH ORDINALITY AS k(job_id, thing_name, execution_number, i)
    LEFT JOIN jobs j ON j.job_id = k.job_id
    ORDER BY k.i ${sql.raw(PREPARED)}`.execute(db);
  return r.rows.map((row) => ({
    job:
      row.job_status === null
        ? undefined
        : { status: row.job_status, retry_config: row.retry_config, timeout_config: row.timeout_config },
    execution: row.execution ?? undefined,
    eventsEnabled: row.events === 1,
  }));
}

export interface HeadKey {
  thingName: string;
  namespaceId: string;
}

/**
 * StartNext's read for many things in one statement: each thing's head (its first released
 * pending execution in spec 4.1 order, as executions.pendingOfThing) and that execution's job.
 */
export async function readHeads(
  db: Db,
  keys: readonly HeadKey[],
): Promise<{ head: ExecutionRow | undefined; job: JobRow | undefined }[]> {
  // A lateral join, not a scalar sub-query referenced twice: PostgreSQL planned that one's head
  // look-up twice per thing (once for the head, once for its job), 2.5x the execution time.
  const r = await sql<{ head: ExecutionRow | null; job: JobRow | null }>`
    SELECT to_jsonb(e) AS head, to_jsonb(j) AS job
    FROM unnest(${keys.map((k) => k.thingName)}::text[], ${keys.map((k) => k.namespaceId)}::text[])
      WITH ORDINALITY AS k(thing_name, namespace_id, i)
    LEFT JOIN LATERAL (
      SELECT * FROM job_executions e
        WHERE e.thing_name = k.thing_name AND e.namespace_id = k.namespace_id
          AND e.status IN ('IN_PROGRESS', 'QUEUED') AND e.released_at IS NOT NULL
        ORDER BY CASE WHEN e.status = 'IN_PROGRESS' THEN 0 ELSE 1 END, e.queued_at, e.id
        LIMIT 1) e ON true
    LEFT JOIN jobs j ON j.job_id = e.job_id
    ORDER BY k.i ${sql.raw(PREPARED)}`.execute(db);
  return r.rows.map((row) => ({ head: row.head ?? undefined, job: row.job ?? undefined }));
}

export interface StatementTransition {
  exec: ExecutionRow;
  req: Omit<TransitionRequest, 'counters'>;
}

/** The execution columns a device transition may set, with their SQL types. */
const SETTABLE = {
  status: 'text',
  status_details: 'text',
  last_updated_at: 'bigint',
  started_at: 'bigint',
  in_progress_deadline: 'bigint',
  step_deadline: 'bigint',
  timeout_at: 'bigint',
} as const;
type Settable = keyof typeof SETTABLE;
const SETTABLE_COLUMNS = Object.keys(SETTABLE) as Settable[];

/**
 * Many device transitions in one statement, so one round trip and an implicit transaction. For
 * each, the same guarantees as applyTransition with `counters: 'delta'`:
 * - the jobs' locks (jobLockKey) are taken shared, in job id order, before any execution row is
 *   touched (`l` is an uncorrelated sub-query of the UPDATE's WHERE, an InitPlan run before the
 *   scan), so exclusive lockers (CancelJob, DeleteJob, the scheduler's fold) order against it, in
 *   the one lock order: jobs by id, then executions;
 * - the UPDATE is each transition's compare-and-set (id, version, allowed sources); its counter
 *   deltas and outbox row are written only for the rows it changed, in the same commit;
 * - an execution whose job row is gone is not written, and its caller sees a lost race;
 * - two transitions of one execution in one batch: the row is updated once, so one wins and the
 *   other loses its race, as if they had come one after the other.
 * A statement that fails (a deadlock between two batches, say) writes nothing; the batcher then
 * retries each transition alone. The outbox trigger sends NOTIFY at commit, as for any outbox
 * insert. Callers check the jobs' completion after this returns, as for the transactional path.
 * Returns, per transition, the row as written, or undefined when its CAS lost.
 */
export async function transitionsInOneStatement(
  db: Db,
  items: readonly StatementTransition[],
): Promise<(ExecutionRow | undefined)[]> {
  const written = items.map(({ exec, req }) => {
    if (!canTransition(req.cause, exec.status, req.to)) {
      throw new Error(`${req.cause} cannot move an execution from ${exec.status} to ${req.to}`);
    }
    return transitionChanges(req);
  });
  const rows = items.map(({ exec, req }, i) => {
    const moved = exec.status !== req.to;
    return {
      i,
      id: exec.id,
      v: exec.version_number,
      src: sourcesOf(req.cause, req.to),
      job: exec.job_id,
      thing: exec.thing_name,
      ns: exec.namespace_id,
      ann: moved && req.announce !== false,
      set: settableOf(written[i]!),
      d: moved ? counterColumns(counterChangeOf(exec.status, req.to)) : [],
      now: req.now,
    };
  });
  // The marker comment is COUNTS_STATUS_CHANGES: the metrics plugin counts the rows by status.
  const r = await sql<{ i: number; status: string }>`/* fleetjobs: execution status changes */
    WITH x AS (
      SELECT (r->>'i')::integer AS i, (r->>'id')::bigint AS id, (r->>'v')::integer AS v, r->'src' AS src,
        r->>'job' AS job_id, r->>'thing' AS thing_name, r->>'ns' AS namespace_id, (r->>'ann')::boolean AS ann,
        r->'set' AS s, r->'d' AS d, (r->>'now')::bigint AS now
      FROM jsonb_array_elements(${JSON.stringify(rows)}::jsonb) AS r
    ),
    l AS (
      SELECT pg_advisory_xact_lock_shared(hashtextextended('fleetjobs/job/' || k.job_id, 0))
      FROM (SELECT DISTINCT job_id FROM x ORDER BY job_id) k
    ),
    u AS (
      UPDATE job_executions e SET ${sql.join(SETTABLE_COLUMNS.map(assignment))}, version_number = x.v + 1
      FROM x
      WHERE e.id = x.id AND e.version_number = x.v AND x.src ? e.status
        AND (SELECT count(*) FROM l) >= 0 AND EXISTS (SELECT 1 FROM jobs WHERE jobs.job_id = x.job_id)
      RETURNING x.i, x.job_id, x.thing_name, x.namespace_id, x.ann, x.d, x.now, e.status
    ),
    d AS (
      INSERT INTO job_counter_deltas (job_id, counter, delta)
      SELECT u.job_id, c->>0, (c->>1)::integer FROM u CROSS JOIN LATERAL jsonb_array_elements(u.d) AS c
    ),
    o AS (
      INSERT INTO outbox (kind, thing_name, namespace_id, topic, payload, created_at, claimed_until)
      SELECT 'thing-jobs-changed', u.thing_name, u.namespace_id, NULL, NULL, u.now, 0 FROM u WHERE u.ann
    )
    SELECT i, status FROM u ${sql.raw(PREPARED)}`.execute(db);
  const won = new Set(r.rows.map((row) => Number(row.i)));
  return items.map(({ exec }, i) =>
    won.has(i) ? ({ ...exec, ...written[i], version_number: exec.version_number + 1 } as ExecutionRow) : undefined,
  );
}

/** `col = CASE WHEN x.s ? 'col' THEN (x.s->>'col')::type ELSE e.col END`: unset columns keep their value. */
function assignment(column: Settable) {
  const value = sql`(x.s->>${sql.lit(column)})::${sql.raw(SETTABLE[column])}`;
  return sql`${sql.ref(column)} = CASE WHEN x.s ? ${sql.lit(column)} THEN ${value} ELSE ${sql.ref(`e.${column}`)} END`;
}

function settableOf(changes: Updateable<JobExecutionsTable>): Partial<Record<Settable, unknown>> {
  const out: Partial<Record<Settable, unknown>> = {};
  for (const [column, value] of Object.entries(changes)) {
    if (value === undefined) continue;
    if (!(column in SETTABLE)) throw new Error(`a device transition cannot set ${column}`);
    out[column as Settable] = value;
  }
  return out;
}
