import type { ExecutionRow } from '../jobs/executions.repository.js';
import type { RetryConfig } from '../jobs/job-configs.js';
import { addToCounters, type CounterMode } from '../jobs/jobs.repository.js';
import type { Executor } from '../store/database.js';
import { thingJobsChanged } from '../store/outbox.js';
import { retryDue, type ChainFailures } from './rollout-math.js';

/** Failures of the thing's current retry chain: executions numbered from its first attempt on. */
async function chainFailures(trx: Executor, exec: ExecutionRow): Promise<ChainFailures> {
  const rows = await trx
    .selectFrom('job_executions')
    .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
    .where('job_id', '=', exec.job_id)
    .where('thing_name', '=', exec.thing_name)
    .where('execution_number', '>=', exec.execution_number - exec.retry_attempt)
    .where('execution_number', '<=', exec.execution_number)
    .where('status', 'in', ['FAILED', 'TIMED_OUT'])
    .groupBy('status')
    .execute();
  const n = (s: string) => Number(rows.find((r) => r.status === s)?.n ?? 0);
  return { failed: n('FAILED'), timedOut: n('TIMED_OUT') };
}

/**
 * spec 3.8, 4.6, 9.6: after an execution ends FAILED or TIMED_OUT, in the same transaction (the
 * job is locked), queue the next attempt when the retry config allows: a new QUEUED execution with
 * executionNumber + 1 and retryAttempt + 1, released at once (retries are not rate-limited) and
 * announced. It runs once per failure because the failure itself is a compare-and-set, and the
 * unique (job_id, thing_name, execution_number) index refuses a second attempt with the same number.
 * A job that is no longer IN_PROGRESS (canceled, aborted) gets no retries.
 */
export async function queueRetryIfDue(
  trx: Executor,
  failed: ExecutionRow,
  now: number,
  counters: CounterMode = 'row',
): Promise<ExecutionRow | undefined> {
  if (failed.status !== 'FAILED' && failed.status !== 'TIMED_OUT') return undefined;
  const job = await trx
    .selectFrom('jobs')
    .select(['status', 'retry_config'])
    .where('job_id', '=', failed.job_id)
    .executeTakeFirst();
  if (job?.status !== 'IN_PROGRESS' || job.retry_config === null) return undefined;
  const config = JSON.parse(job.retry_config) as RetryConfig;
  if (!retryDue(config, failed.status, await chainFailures(trx, failed), failed.retry_attempt)) return undefined;
  const latest = await trx
    .selectFrom('job_executions')
    .select(['execution_number', 'status'])
    .where('job_id', '=', failed.job_id)
    .where('thing_name', '=', failed.thing_name)
    .orderBy('execution_number', 'desc')
    .limit(1)
    .executeTakeFirst();
  // A newer attempt already exists (this failure was not the thing's latest execution).
  if (latest && latest.execution_number !== failed.execution_number) return undefined;
  const row = await trx
    .insertInto('job_executions')
    .values({
      job_id: failed.job_id,
      thing_name: failed.thing_name,
      execution_number: failed.execution_number + 1,
      namespace_id: failed.namespace_id,
      status: 'QUEUED',
      status_details: null,
      force_canceled: 0,
      version_number: 1,
      retry_attempt: failed.retry_attempt + 1,
      queued_at: now,
      started_at: null,
      last_updated_at: now,
      in_progress_deadline: null,
      step_deadline: null,
      timeout_at: null,
      released_at: now,
      rollout_wave: failed.rollout_wave,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  // Counted as things (issue 15): the thing moves from its failure back to QUEUED; the attempt is counted apart.
  await addToCounters(trx, failed.job_id, { [failed.status]: -1, QUEUED: 1 }, { RETRY: 1 }, counters);
  await thingJobsChanged(trx, [failed.thing_name], failed.namespace_id, now);
  return row;
}
