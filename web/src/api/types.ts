/** The AWS-shaped replies of the services, as the console API passes them on. */

export const JOB_STATUSES = ['IN_PROGRESS', 'SCHEDULED', 'COMPLETED', 'CANCELED', 'DELETION_IN_PROGRESS'] as const;
export const EXECUTION_STATUSES = [
  'QUEUED',
  'IN_PROGRESS',
  'SUCCEEDED',
  'FAILED',
  'TIMED_OUT',
  'REJECTED',
  'REMOVED',
  'CANCELED',
] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

/** jobProcessDetails counter of each execution status. */
export const COUNTER_OF: Record<ExecutionStatus, string> = {
  QUEUED: 'numberOfQueuedThings',
  IN_PROGRESS: 'numberOfInProgressThings',
  SUCCEEDED: 'numberOfSucceededThings',
  FAILED: 'numberOfFailedThings',
  TIMED_OUT: 'numberOfTimedOutThings',
  REJECTED: 'numberOfRejectedThings',
  REMOVED: 'numberOfRemovedThings',
  CANCELED: 'numberOfCanceledThings',
};

export type Counters = Record<string, number>;

export interface Session {
  username: string;
  csrfToken: string;
  account: string;
  region: string;
}

export interface JobSummary {
  jobArn: string;
  jobId: string;
  status: string;
  targetSelection: string;
  createdAt: number;
  lastUpdatedAt: number;
  completedAt?: number;
  description?: string;
  jobProcessDetails?: Counters;
  /** Retries and the attempts they replaced, counted apart from the things (fleetjobs extension). */
  attemptDetails?: Counters;
}

export interface Job extends JobSummary {
  targets: string[];
  forceCanceled?: boolean;
  reasonCode?: string;
  comment?: string;
  presignedUrlConfig?: { roleArn?: string; expiresInSec?: number };
  jobExecutionsRolloutConfig?: Record<string, unknown>;
  abortConfig?: Record<string, unknown>;
  timeoutConfig?: Record<string, unknown>;
  jobExecutionsRetryConfig?: Record<string, unknown>;
  schedulingConfig?: Record<string, unknown>;
  stagedRollout?: Record<string, unknown>;
}

export interface ExecutionSummary {
  thingArn: string;
  /** The device's statusDetails.reason, added by the console API. */
  reason?: string;
  jobExecutionSummary: {
    status: ExecutionStatus;
    queuedAt: number;
    startedAt?: number;
    lastUpdatedAt: number;
    executionNumber: number;
    retryAttempt?: number;
  };
}

export interface Execution {
  jobId: string;
  status: ExecutionStatus;
  forceCanceled?: boolean;
  statusDetails?: { detailsMap?: Record<string, string> };
  thingArn: string;
  queuedAt: number;
  startedAt?: number;
  lastUpdatedAt: number;
  executionNumber: number;
  versionNumber: number;
  approximateSecondsBeforeTimedOut?: number;
}

/** A live reading of a job's counters (server-sent events). */
export interface JobSnapshot {
  at: number;
  status: string;
  jobProcessDetails: Counters;
  attemptDetails?: Counters;
  forceCanceled?: boolean;
  reasonCode?: string;
  comment?: string;
}

export interface Thing {
  thingName: string;
  /** Added by the console API from the registry's connectivity records. */
  connectivity?: { connected: boolean; timestamp: number; disconnectReason?: string };
  thingArn: string;
  attributes?: Record<string, string>;
  version?: number;
}

export interface GroupRef {
  groupName: string;
  groupArn: string;
}

export interface Page {
  nextToken?: string;
}

/** The thing or group name at the end of an ARN. */
export const nameOf = (arn: string): string => arn.slice(arn.indexOf('/') + 1);

/** Control-plane timestamps are epoch seconds. */
export const when = (seconds: number | undefined): string =>
  seconds === undefined ? '—' : new Date(seconds * 1000).toLocaleString();

export function total(c: Counters | undefined): number {
  return c ? Object.values(COUNTER_OF).reduce((n, k) => n + (c[k] ?? 0), 0) : 0;
}

/** Executions that reached an end state. */
export function finished(c: Counters | undefined): number {
  return c ? total(c) - (c.numberOfQueuedThings ?? 0) - (c.numberOfInProgressThings ?? 0) : 0;
}
