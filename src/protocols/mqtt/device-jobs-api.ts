/**
 * The device side of the jobs service as the transports see it (src/jobs/device-jobs.service.ts
 * implements it). Times are integer epoch seconds; jobDocument is JSON text. Errors are
 * ServiceError; VersionConflict / InvalidStateTransition carry extras.executionState.
 */
export interface JobExecutionSummary {
  jobId: string;
  queuedAt: number;
  startedAt?: number;
  lastUpdatedAt: number;
  versionNumber: number;
  executionNumber: number;
}

export interface DeviceExecution extends JobExecutionSummary {
  thingName: string;
  status: string;
  statusDetails?: Record<string, string>;
  approximateSecondsBeforeTimedOut?: number;
  jobDocument?: string;
}

export interface ExecutionStateView {
  status: string;
  statusDetails?: Record<string, string>;
  versionNumber: number;
}

export interface PendingState {
  pending: { IN_PROGRESS?: JobExecutionSummary[]; QUEUED?: JobExecutionSummary[] };
  head?: DeviceExecution;
}

/**
 * Request members are passed through as received: the service validates them (spec 5.3), so a
 * device's wrong type is the service's InvalidRequest, the same over MQTT and HTTPS.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type RequestFields = Record<string, any>;

export interface DeviceJobsApi {
  getPendingJobExecutions(
    thingName: string,
    namespaceId?: string,
  ): Promise<{ inProgressJobs: JobExecutionSummary[]; queuedJobs: JobExecutionSummary[] }>;
  startNextPendingJobExecution(
    thingName: string,
    input: RequestFields,
    namespaceId?: string,
  ): Promise<{ execution?: DeviceExecution }>;
  describeJobExecution(
    thingName: string,
    jobIdOrNext: string,
    input: RequestFields,
    namespaceId?: string,
  ): Promise<{ execution?: DeviceExecution }>;
  updateJobExecution(
    thingName: string,
    jobId: string,
    input: RequestFields,
    namespaceId?: string,
  ): Promise<{ executionState?: ExecutionStateView; jobDocument?: string }>;
  pendingState(thingName: string, namespaceId?: string): Promise<PendingState>;
  /** pendingState of a batch of things at once (the notifier's, issue 17); results in the order asked. */
  pendingStates(keys: readonly { thingName: string; namespaceId?: string }[]): Promise<PendingState[]>;
}
