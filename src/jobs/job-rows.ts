import { ServiceError } from '../errors.js';
import type { RetryConfig } from './job-configs.js';
import type { ResolvedSource } from './job-sources.js';
import type { JobStatus } from './job-states.js';
import type { JobRow, JobTargetRow } from './jobs.repository.js';
import type { CreateJobInput } from './jobs.schemas.js';

const toJson = (v: unknown): string | null => (v === undefined ? null : JSON.stringify(v));

/** A new job's row: CreateJob's members over the template's defaults (spec 3.3), counters at 0. */
export function newJobRow(
  input: CreateJobInput,
  source: ResolvedSource,
  document: string,
  targets: readonly JobTargetRow[],
  now: number,
): JobRow {
  const d = source.defaults;
  const scheduling = input.schedulingConfig ?? (d.maintenanceWindows && { maintenanceWindows: d.maintenanceWindows });
  // spec 2.7: a job whose startTime lies ahead waits as SCHEDULED.
  const status: JobStatus = input.schedulingConfig?.startTime !== undefined ? 'SCHEDULED' : 'IN_PROGRESS';
  return {
    job_id: input.jobId,
    namespace_id: input.namespaceId ?? '',
    status,
    target_selection: input.targetSelection ?? 'SNAPSHOT',
    targets: JSON.stringify(targets.map((t) => t.arn)),
    description: input.description ?? null,
    document,
    document_before_substitution: source.documentBeforeSubstitution ?? null,
    document_source: source.documentSource ?? null,
    document_parameters: toJson(input.documentParameters),
    job_template_arn: source.jobTemplateArn ?? null,
    presigned_url_config: toJson(input.presignedUrlConfig ?? d.presignedUrlConfig),
    rollout_config: toJson(input.jobExecutionsRolloutConfig ?? d.jobExecutionsRolloutConfig),
    abort_config: toJson(input.abortConfig ?? d.abortConfig),
    timeout_config: toJson(input.timeoutConfig ?? d.timeoutConfig),
    retry_config: toJson(input.jobExecutionsRetryConfig ?? d.jobExecutionsRetryConfig),
    scheduling_config: toJson(scheduling),
    staged_rollout: toJson(input.stagedRollout),
    destination_package_versions: toJson(input.destinationPackageVersions ?? d.destinationPackageVersions),
    force_canceled: 0,
    reason_code: null,
    comment: null,
    created_at: now,
    last_updated_at: now,
    completed_at: null,
    n_queued: 0,
    n_in_progress: 0,
    n_succeeded: 0,
    n_failed: 0,
    n_timed_out: 0,
    n_rejected: 0,
    n_removed: 0,
    n_canceled: 0,
    n_failed_attempts: 0,
    n_timed_out_attempts: 0,
    n_retries: 0,
  };
}

/** spec 2.7 / 3.8: once a job exists, a retry count can only be changed to 0. */
export function checkRetryChange(job: JobRow, next: RetryConfig): void {
  const current = job.retry_config ? (JSON.parse(job.retry_config) as RetryConfig) : { criteriaList: [] };
  for (const c of next.criteriaList) {
    const was = current.criteriaList.find((x) => x.failureType === c.failureType)?.numberOfRetries ?? 0;
    if (c.numberOfRetries !== 0 && c.numberOfRetries !== was) {
      throw new ServiceError(
        'InvalidRequest',
        `The retry count for ${c.failureType} of job ${job.job_id} is ${was}; an existing job's retry count can only be changed to 0.`,
      );
    }
  }
}
