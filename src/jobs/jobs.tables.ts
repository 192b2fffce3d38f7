import type { Generated } from 'kysely';
import type { ExecutionStatus } from './execution-states.js';
import type { JobStatus, TargetSelection } from './job-states.js';

/**
 * One row per job. The jobProcessDetails counters (things, by each thing's latest execution) live on the row and change in the same
 * transaction as the executions they count (the job row is locked first), so they stay exact
 * under concurrency and a DescribeJob on a 100,000-thing job reads one row.
 */
export interface JobsTable {
  job_id: string;
  /** '' for un-namespaced jobs (spec 5.7), like the outbox. */
  namespace_id: string;
  status: JobStatus;
  target_selection: TargetSelection;
  /** JSON array of target ARNs, in the order given. */
  targets: string;
  description: string | null;
  /** The document devices get (after documentParameters substitution). */
  document: string;
  /** The managed template's document before substitution (beforeSubstitution=true). */
  document_before_substitution: string | null;
  document_source: string | null;
  /** JSON objects (null when not set). */
  document_parameters: string | null;
  job_template_arn: string | null;
  presigned_url_config: string | null;
  rollout_config: string | null;
  abort_config: string | null;
  timeout_config: string | null;
  retry_config: string | null;
  scheduling_config: string | null;
  staged_rollout: string | null;
  destination_package_versions: string | null;
  force_canceled: number;
  reason_code: string | null;
  comment: string | null;
  created_at: number;
  last_updated_at: number;
  completed_at: number | null;
  n_queued: number;
  n_in_progress: number;
  n_succeeded: number;
  n_failed: number;
  n_timed_out: number;
  n_rejected: number;
  n_removed: number;
  n_canceled: number;
  /** Attempts, apart from the per-thing counters above (issue 15): every execution that ended FAILED / TIMED_OUT, and retries queued. */
  n_failed_attempts: number;
  n_timed_out_attempts: number;
  n_retries: number;
}

/** The targets of a job, one row each, so the registry hooks find CONTINUOUS jobs by group. */
export interface JobTargetsTable {
  job_id: string;
  arn: string;
  kind: 'thing' | 'group';
  name: string;
}

export interface JobExecutionsTable {
  id: Generated<number>;
  job_id: string;
  thing_name: string;
  execution_number: number;
  namespace_id: string;
  status: ExecutionStatus;
  /** JSON object; null when the execution has no details. */
  status_details: string | null;
  force_canceled: number;
  version_number: number;
  retry_attempt: number;
  queued_at: number;
  started_at: number | null;
  last_updated_at: number;
  /** Epoch ms when the in-progress timer (spec 3.7) runs out; fixed when the execution starts. */
  in_progress_deadline: number | null;
  /** Epoch ms when the step timer runs out. */
  step_deadline: number | null;
  /** The earlier of the two deadlines: what the scheduler scans and devices are told. */
  timeout_at: number | null;
  /**
   * When the rollout released the execution to its device (src/scheduler, spec 3.5); null while
   * a rollout rate, staged rollout or maintenance window holds it back. Devices see only
   * released executions.
   */
  released_at: number | null;
  /** The staged-rollout wave that released it (fleetjobs extension); null outside staged rollouts. */
  rollout_wave: number | null;
}

export interface JobTemplatesTable {
  template_id: string;
  description: string;
  document: string | null;
  document_source: string | null;
  presigned_url_config: string | null;
  rollout_config: string | null;
  abort_config: string | null;
  timeout_config: string | null;
  retry_config: string | null;
  maintenance_windows: string | null;
  destination_package_versions: string | null;
  created_at: number;
}

/** Counter changes not yet folded into their job row (issue 17; migration 0011). */
export interface JobCounterDeltasTable {
  id: Generated<number>;
  job_id: string;
  counter: string;
  delta: number;
}

declare module '../store/database.js' {
  interface Database {
    jobs: JobsTable;
    job_counter_deltas: JobCounterDeltasTable;
    job_targets: JobTargetsTable;
    job_executions: JobExecutionsTable;
    job_templates: JobTemplatesTable;
  }
}
