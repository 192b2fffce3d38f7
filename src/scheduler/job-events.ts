import { withUnfoldedCounters } from '../jobs/job-counters.js';
import { newUuid } from '../ids.js';
import type { ExecutionStatus } from '../jobs/execution-states.js';
import type { ExecutionRow } from '../jobs/executions.repository.js';
import type { JobRow } from '../jobs/jobs.repository.js';
import type { Executor } from '../store/database.js';
import { enqueuePublish } from '../store/outbox.js';
import { isEnabled } from './events.repository.js';

/**
 * Job and job-execution events (spec 5.9), written to the outbox in the transaction of the change
 * they report, and only while UpdateEventConfigurations has enabled their type.
 */

export const JOB_EVENT_OPS = [
  'completed',
  'canceled',
  'cancellation_in_progress',
  'deleted',
  'deletion_in_progress',
] as const;
export type JobEventOp = (typeof JOB_EVENT_OPS)[number];

const JOB_EVENT_STATUS = {
  completed: 'COMPLETED',
  canceled: 'CANCELED',
  cancellation_in_progress: 'CANCELLATION_IN_PROGRESS',
  deleted: 'DELETED',
  deletion_in_progress: 'DELETION_IN_PROGRESS',
} as const satisfies Record<JobEventOp, string>;

/** spec 5.9: the execution event operation of each terminal status. */
export const EXECUTION_EVENT_OP = {
  SUCCEEDED: 'succeeded',
  FAILED: 'failed',
  REJECTED: 'rejected',
  CANCELED: 'canceled',
  TIMED_OUT: 'timed_out',
  REMOVED: 'removed',
} as const satisfies Partial<Record<ExecutionStatus, string>>;
export type ExecutionEventOp = (typeof EXECUTION_EVENT_OP)[keyof typeof EXECUTION_EVENT_OP] | 'deleted';

const seconds = (ms: number): number => Math.floor(ms / 1000);

/**
 * The job event payload. Timestamps: `timestamp` in epoch seconds; createdAt / lastUpdatedAt /
 * completedAt in epoch milliseconds, as the AWS documentation's examples show them (spec 5.9,
 * 9.10: unverified).
 */
export function jobEventPayload(job: JobRow, op: JobEventOp, eventId: string, now: number) {
  return {
    eventType: 'JOB',
    eventId,
    timestamp: seconds(now),
    operation: op,
    jobId: job.job_id,
    status: JOB_EVENT_STATUS[op],
    targetSelection: job.target_selection,
    targets: JSON.parse(job.targets) as string[],
    ...(job.description !== null && { description: job.description }),
    createdAt: job.created_at,
    lastUpdatedAt: job.last_updated_at,
    ...(job.completed_at !== null && { completedAt: job.completed_at }),
    ...((op === 'canceled' || op === 'cancellation_in_progress' || op.startsWith('delet')) &&
      job.comment !== null && { comment: job.comment }),
    ...(op === 'completed' && {
      jobProcessDetails: {
        numberOfCanceledThings: Number(job.n_canceled),
        numberOfRejectedThings: Number(job.n_rejected),
        numberOfFailedThings: Number(job.n_failed),
        numberOfRemovedThings: Number(job.n_removed),
        numberOfSucceededThings: Number(job.n_succeeded),
      },
    }),
  };
}

/**
 * A thing's ARN in the job's account and region. CreateJob accepts only targets of this server's
 * own account and region (src/jobs/targets.ts parseTargets), so every target ARN carries them.
 */
export function thingArnOf(job: Pick<JobRow, 'targets'>, thingName: string): string {
  const first = (JSON.parse(job.targets) as string[])[0] ?? '';
  return `${first.replace(/:[a-z]+\/.*$/, '')}:thing/${thingName}`;
}

export interface ExecutionEventSource {
  thing_name: string;
  status: ExecutionStatus;
  status_details: string | null;
}

export function executionEventPayload(
  job: JobRow,
  exec: ExecutionEventSource,
  op: ExecutionEventOp,
  eventId: string,
  now: number,
) {
  const details = exec.status_details === null ? {} : (JSON.parse(exec.status_details) as Record<string, string>);
  return {
    eventType: 'JOB_EXECUTION',
    eventId,
    timestamp: seconds(now),
    operation: op,
    jobId: job.job_id,
    thingArn: thingArnOf(job, exec.thing_name),
    status: exec.status,
    ...(Object.keys(details).length > 0 && { statusDetails: details }),
  };
}

const jobTopic = (jobId: string, op: string) => `$aws/events/job/${jobId}/${op}`;
const executionTopic = (jobId: string, op: string) => `$aws/events/jobExecution/${jobId}/${op}`;

async function readJob(trx: Executor, jobId: string): Promise<JobRow | undefined> {
  const row = await trx.selectFrom('jobs').selectAll().where('job_id', '=', jobId).executeTakeFirst();
  return row && (await withUnfoldedCounters(trx, [row]))[0];
}

/** A job event about the job as it is now in this transaction. */
export async function emitJobEvent(trx: Executor, jobId: string, op: JobEventOp, now: number): Promise<void> {
  if (!(await isEnabled(trx, 'JOB'))) return;
  const job = await readJob(trx, jobId);
  if (job) await enqueuePublish(trx, jobTopic(jobId, op), jobEventPayload(job, op, newUuid(), now), now);
}

/** One execution's event; `exec.status` is the status to report (for `deleted`, the one before). */
export async function emitExecutionEvent(
  trx: Executor,
  jobId: string,
  exec: ExecutionEventSource,
  op: ExecutionEventOp,
  now: number,
): Promise<void> {
  if (!(await isEnabled(trx, 'JOB_EXECUTION'))) return;
  const job = await readJob(trx, jobId);
  if (!job) return;
  await enqueuePublish(trx, executionTopic(jobId, op), executionEventPayload(job, exec, op, newUuid(), now), now);
}

const PAGE = 1000;

/**
 * Events for many executions of one job (CancelJob's bulk cancel, DeleteJob): `select` returns
 * the next page after an id. Only executions devices were told about (released) are reported.
 */
export async function emitExecutionEventsOfJob(
  trx: Executor,
  jobId: string,
  statuses: readonly ExecutionStatus[],
  op: (status: ExecutionStatus) => ExecutionEventOp,
  reportAs: (status: ExecutionStatus) => ExecutionStatus,
  now: number,
): Promise<void> {
  if (statuses.length === 0 || !(await isEnabled(trx, 'JOB_EXECUTION'))) return;
  const job = await readJob(trx, jobId);
  if (!job) return;
  let after = 0;
  for (;;) {
    const rows: Pick<ExecutionRow, 'id' | 'thing_name' | 'status' | 'status_details'>[] = await trx
      .selectFrom('job_executions')
      .select(['id', 'thing_name', 'status', 'status_details'])
      .where('job_id', '=', jobId)
      .where('status', 'in', statuses)
      .where('released_at', 'is not', null)
      .where('id', '>', after)
      .orderBy('id')
      .limit(PAGE)
      .execute();
    for (const r of rows) {
      const exec = { ...r, status: reportAs(r.status) };
      const o = op(r.status);
      await enqueuePublish(trx, executionTopic(jobId, o), executionEventPayload(job, exec, o, newUuid(), now), now);
    }
    if (rows.length < PAGE) return;
    after = rows[rows.length - 1]!.id;
  }
}

/**
 * Deletes up to `limit` executions of a job, after writing their `deleted` events (spec 5.9:
 * status = the status before deletion); DeleteJob's background purge calls this per batch.
 */
export async function deleteExecutionsWithEvents(
  trx: Executor,
  jobId: string,
  limit: number,
  now: number,
): Promise<number> {
  const rows = await trx
    .selectFrom('job_executions')
    .select(['id', 'thing_name', 'status', 'status_details', 'released_at'])
    .where('job_id', '=', jobId)
    .orderBy('id')
    .limit(limit)
    .execute();
  if (rows.length === 0) return 0;
  if (await isEnabled(trx, 'JOB_EXECUTION')) {
    const job = await readJob(trx, jobId);
    for (const r of rows) {
      if (!job || r.released_at === null) continue;
      const payload = executionEventPayload(job, r, 'deleted', newUuid(), now);
      await enqueuePublish(trx, executionTopic(jobId, 'deleted'), payload, now);
    }
  }
  await trx
    .deleteFrom('job_executions')
    .where(
      'id',
      'in',
      rows.map((r) => r.id),
    )
    .execute();
  return rows.length;
}
