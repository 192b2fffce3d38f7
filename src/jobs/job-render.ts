import type { Arns } from '../arns.js';
import { COUNTER_OF, EXECUTION_STATUSES, COLUMN_OF, type ExecutionStatus } from './execution-states.js';
import type { ExecutionRow } from './executions.repository.js';
import type { JobRow } from './jobs.repository.js';

/** spec 1.6: control-plane timestamps are epoch seconds, fractions allowed. */
const cpTime = (ms: number): number => ms / 1000;
/** spec 0.3: device-facing timestamps are integer epoch seconds. */
export const deviceTime = (ms: number): number => Math.floor(ms / 1000);

const json = <T>(text: string | null): T | undefined => (text === null ? undefined : (JSON.parse(text) as T));

export const detailsOf = (row: ExecutionRow): Record<string, string> =>
  json<Record<string, string>>(row.status_details) ?? {};

/** Seconds left before the execution times out, when a timer runs (spec 3.7). */
export function secondsBeforeTimeout(row: ExecutionRow, now: number): number | undefined {
  if (row.status !== 'IN_PROGRESS' || row.timeout_at === null) return undefined;
  return Math.max(0, Math.ceil((row.timeout_at - now) / 1000));
}

export function processDetails(job: JobRow): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of EXECUTION_STATUSES) out[COUNTER_OF[s]] = Number(job[COLUMN_OF[s]]);
  return out;
}

/**
 * fleetjobs extension (AWS clients ignore unknown members): jobProcessDetails counts things by
 * their latest execution (issue 15); the attempts behind them are shown apart, for jobs that retry.
 */
export function attemptDetails(job: JobRow): { attemptDetails?: Record<string, number> } {
  if (job.retry_config === null && Number(job.n_retries) === 0) return {};
  return {
    attemptDetails: {
      numberOfRetryAttempts: Number(job.n_retries),
      numberOfFailedAttempts: Number(job.n_failed_attempts),
      numberOfTimedOutAttempts: Number(job.n_timed_out_attempts),
    },
  };
}

export const counterOf = (job: JobRow, status: ExecutionStatus): number => Number(job[COLUMN_OF[status]]);

/** DescribeJob's `job` (spec 2.6 Job, 2.7: {} for unset presignedUrl/rollout/timeout blocks). */
export function jobShape(job: JobRow, arns: Arns) {
  return {
    jobArn: arns.job(job.job_id),
    jobId: job.job_id,
    targetSelection: job.target_selection,
    status: job.status,
    forceCanceled: job.force_canceled === 1,
    ...(job.reason_code !== null && { reasonCode: job.reason_code }),
    ...(job.comment !== null && { comment: job.comment }),
    targets: JSON.parse(job.targets) as string[],
    ...(job.description !== null && { description: job.description }),
    presignedUrlConfig: json(job.presigned_url_config) ?? {},
    jobExecutionsRolloutConfig: json(job.rollout_config) ?? {},
    ...(job.abort_config !== null && { abortConfig: json(job.abort_config) }),
    createdAt: cpTime(job.created_at),
    lastUpdatedAt: cpTime(job.last_updated_at),
    ...(job.completed_at !== null && { completedAt: cpTime(job.completed_at) }),
    jobProcessDetails: processDetails(job),
    ...attemptDetails(job),
    timeoutConfig: json(job.timeout_config) ?? {},
    ...(job.namespace_id !== '' && { namespaceId: job.namespace_id }),
    ...(job.job_template_arn !== null && { jobTemplateArn: job.job_template_arn }),
    ...(job.retry_config !== null && { jobExecutionsRetryConfig: json(job.retry_config) }),
    ...(job.document_parameters !== null && { documentParameters: json(job.document_parameters) }),
    // True while the rollout engine still holds executions back (src/scheduler describe-extension.ts).
    isConcurrent: false,
    ...(job.scheduling_config !== null && { schedulingConfig: json(job.scheduling_config) }),
    ...(job.destination_package_versions !== null && {
      destinationPackageVersions: json(job.destination_package_versions),
    }),
    // fleetjobs extension; AWS clients ignore unknown members.
    ...(job.staged_rollout !== null && { stagedRollout: json(job.staged_rollout) }),
  };
}

export function jobSummaryShape(job: JobRow, arns: Arns, thingGroupId: string | undefined) {
  return {
    jobArn: arns.job(job.job_id),
    jobId: job.job_id,
    ...(thingGroupId !== undefined && { thingGroupId }),
    targetSelection: job.target_selection,
    status: job.status,
    createdAt: cpTime(job.created_at),
    lastUpdatedAt: cpTime(job.last_updated_at),
    ...(job.completed_at !== null && { completedAt: cpTime(job.completed_at) }),
    isConcurrent: false,
  };
}

/** Control-plane JobExecution (spec 2.6, 2.7). */
export function executionShape(row: ExecutionRow, arns: Arns, now: number) {
  const details = detailsOf(row);
  const left = secondsBeforeTimeout(row, now);
  return {
    jobId: row.job_id,
    status: row.status,
    forceCanceled: row.force_canceled === 1,
    statusDetails: Object.keys(details).length > 0 ? { detailsMap: details } : {},
    thingArn: arns.thing(row.thing_name),
    queuedAt: cpTime(row.queued_at),
    ...(row.started_at !== null && { startedAt: cpTime(row.started_at) }),
    lastUpdatedAt: cpTime(row.last_updated_at),
    executionNumber: row.execution_number,
    versionNumber: row.version_number,
    ...(left !== undefined && { approximateSecondsBeforeTimedOut: left }),
  };
}

/** Control-plane JobExecutionSummary. */
export function executionSummaryShape(row: ExecutionRow) {
  return {
    status: row.status,
    queuedAt: cpTime(row.queued_at),
    ...(row.started_at !== null && { startedAt: cpTime(row.started_at) }),
    lastUpdatedAt: cpTime(row.last_updated_at),
    executionNumber: row.execution_number,
    ...(row.retry_attempt > 0 && { retryAttempt: row.retry_attempt }),
  };
}
