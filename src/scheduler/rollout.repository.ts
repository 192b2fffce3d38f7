import { sql, type Selectable, type Updateable } from 'kysely';
import { PENDING_STATUSES } from '../jobs/execution-states.js';
import type { Executor } from '../store/database.js';
import type { WaveStats } from './rollout-math.js';
import type { JobRolloutsTable } from './scheduler.tables.js';

export type RolloutRow = Selectable<JobRolloutsTable>;

/** Jobs the scheduler looks at: scheduled or rolling out, with a config it acts on. */
export async function candidateJobs(db: Executor): Promise<{ job_id: string; status: string }[]> {
  return db
    .selectFrom('jobs')
    .select(['job_id', 'status'])
    .where('status', 'in', ['SCHEDULED', 'IN_PROGRESS'])
    .where((eb) =>
      eb.or([
        eb('rollout_config', 'is not', null),
        eb('abort_config', 'is not', null),
        eb('scheduling_config', 'is not', null),
        eb('staged_rollout', 'is not', null),
      ]),
    )
    .orderBy('created_at')
    .orderBy('job_id')
    .execute();
}

export async function ensureState(db: Executor, jobId: string, now: number): Promise<void> {
  await db
    .insertInto('job_rollouts')
    .values({
      job_id: jobId,
      released: 0,
      recent_releases: null,
      wave: 0,
      paused: 0,
      pause_reason: null,
      pause_kind: null,
      end_applied: 0,
      stopped: 0,
      lease_owner: null,
      lease_until: 0,
      updated_at: now,
    })
    .onConflict((oc) => oc.column('job_id').doNothing())
    .execute();
}

/**
 * Claims the job for one scheduler replica (DESIGN.md: periodic work is claimed through the
 * database): a compare-and-set that succeeds only when no other replica holds an unexpired lease.
 */
export async function lease(db: Executor, jobId: string, owner: string, now: number, until: number): Promise<boolean> {
  const r = await db
    .updateTable('job_rollouts')
    .set({ lease_owner: owner, lease_until: until })
    .where('job_id', '=', jobId)
    .where((eb) => eb.or([eb('lease_until', '<=', now), eb('lease_owner', '=', owner)]))
    .executeTakeFirst();
  return r.numUpdatedRows > 0n;
}

export async function unlease(db: Executor, jobId: string, owner: string): Promise<void> {
  await db
    .updateTable('job_rollouts')
    .set({ lease_owner: null, lease_until: 0 })
    .where('job_id', '=', jobId)
    .where('lease_owner', '=', owner)
    .execute();
}

export async function findState(db: Executor, jobId: string): Promise<RolloutRow | undefined> {
  return db.selectFrom('job_rollouts').selectAll().where('job_id', '=', jobId).executeTakeFirst();
}

export async function saveState(db: Executor, jobId: string, changes: Updateable<JobRolloutsTable>): Promise<void> {
  await db.updateTable('job_rollouts').set(changes).where('job_id', '=', jobId).execute();
}

export async function deleteState(db: Executor, jobId: string): Promise<void> {
  await db.deleteFrom('job_rollouts').where('job_id', '=', jobId).execute();
}

/** How many of the job's executions are still held back (QUEUED and not released). */
export async function countUnreleased(db: Executor, jobId: string): Promise<number> {
  const row = await db
    .selectFrom('job_executions')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('job_id', '=', jobId)
    .where('released_at', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The next held-back executions in creation order (the partial index job_executions_unreleased). */
export async function nextUnreleased(
  db: Executor,
  jobId: string,
  limit: number,
): Promise<{ id: number; thing_name: string; namespace_id: string }[]> {
  return db
    .selectFrom('job_executions')
    .select(['id', 'thing_name', 'namespace_id'])
    .where('job_id', '=', jobId)
    .where('released_at', 'is', null)
    .where('status', '=', 'QUEUED')
    .orderBy('id')
    .limit(limit)
    .execute();
}

/**
 * Releases executions to their devices: from now on devices see them, queued at the moment of
 * release (in AWS an execution exists only once the rollout reaches its thing).
 */
export async function markReleased(db: Executor, ids: readonly number[], wave: number | null, now: number) {
  if (ids.length === 0) return 0;
  const r = await db
    .updateTable('job_executions')
    .set({ released_at: now, queued_at: now, last_updated_at: now, rollout_wave: wave })
    .where('id', 'in', ids)
    .where('released_at', 'is', null)
    .where('status', '=', 'QUEUED')
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}

/** endBehavior STOP_ROLLOUT: executions the rollout never released are dropped (they never existed for devices). */
export async function deleteUnreleased(db: Executor, jobId: string): Promise<number> {
  const r = await db
    .deleteFrom('job_executions')
    .where('job_id', '=', jobId)
    .where('released_at', 'is', null)
    .where('status', '=', 'QUEUED')
    .executeTakeFirst();
  return Number(r.numDeletedRows);
}

export async function waveStats(db: Executor, jobId: string, wave: number): Promise<WaveStats> {
  const row = await db
    .selectFrom('job_executions')
    .select([
      sql<number>`sum(case when status in (${sql.join(PENDING_STATUSES.map((s) => sql.lit(s)))}) then 1 else 0 end)`.as(
        'pending',
      ),
      sql<number>`count(distinct thing_name)`.as('things'),
      sql<number>`count(distinct case when status = 'SUCCEEDED' then thing_name end)`.as('succeeded'),
    ])
    .where('job_id', '=', jobId)
    .where('rollout_wave', '=', wave)
    .executeTakeFirstOrThrow();
  return { pending: Number(row.pending ?? 0), things: Number(row.things ?? 0), succeeded: Number(row.succeeded ?? 0) };
}

/** Executions whose timer has run out (spec 3.7), earliest first (the partial index job_executions_timeout). */
export async function dueTimeouts(db: Executor, now: number, limit: number): Promise<{ id: number; job_id: string }[]> {
  return db
    .selectFrom('job_executions')
    .select(['id', 'job_id'])
    .where('timeout_at', 'is not', null)
    .where('timeout_at', '<=', now)
    .where('status', '=', 'IN_PROGRESS')
    .orderBy('timeout_at')
    .orderBy('id')
    .limit(limit)
    .execute();
}

/**
 * spec 3.10 isConcurrent, AWS "Active and concurrent job limits": a job is concurrent while it is
 * rolling out new executions: IN_PROGRESS, with executions the rollout still holds back, and not
 * stopped (endTime STOP_ROLLOUT) nor paused. (CancelJob here cancels in its own transaction, so
 * no job is ever seen "canceling previously created executions".) One query for a page of jobs.
 */
export async function concurrentJobs(db: Executor, jobIds: readonly string[]): Promise<Set<string>> {
  if (jobIds.length === 0) return new Set();
  const rows = await db
    .selectFrom('jobs as j')
    .leftJoin('job_rollouts as r', 'r.job_id', 'j.job_id')
    .select('j.job_id')
    .where('j.job_id', 'in', jobIds)
    .where('j.status', '=', 'IN_PROGRESS')
    .where((eb) => eb.or([eb('r.job_id', 'is', null), eb.and([eb('r.stopped', '=', 0), eb('r.paused', '=', 0)])]))
    .where((eb) =>
      eb.exists(
        eb
          .selectFrom('job_executions as e')
          .select('e.id')
          .whereRef('e.job_id', '=', 'j.job_id')
          .where('e.released_at', 'is', null),
      ),
    )
    .execute();
  return new Set(rows.map((r) => r.job_id));
}

/** How many jobs are concurrent now (the job concurrency limit, AWS "job-limits"). */
export async function countConcurrentJobs(db: Executor): Promise<number> {
  const row = await db
    .selectFrom('jobs as j')
    .leftJoin('job_rollouts as r', 'r.job_id', 'j.job_id')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('j.status', '=', 'IN_PROGRESS')
    .where((eb) => eb.or([eb('r.job_id', 'is', null), eb.and([eb('r.stopped', '=', 0), eb('r.paused', '=', 0)])]))
    .where((eb) =>
      eb.exists(
        eb
          .selectFrom('job_executions as e')
          .select('e.id')
          .whereRef('e.job_id', '=', 'j.job_id')
          .where('e.released_at', 'is', null),
      ),
    )
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
