import type { DeviceSettableStatus, ExecutionStatus } from './execution-states.js';
import type { JobRow } from './jobs.repository.js';

/** spec 2.6 data-plane JobExecutionSummary: integer epoch seconds. */
export interface Summary {
  jobId: string;
  queuedAt: number;
  startedAt?: number;
  lastUpdatedAt: number;
  versionNumber: number;
  executionNumber: number;
}

/** spec 2.6 data-plane JobExecution; jobDocument is the JSON text (MQTT sends it as an object). */
export interface DeviceExecution extends Summary {
  thingName: string;
  status: ExecutionStatus;
  statusDetails?: Record<string, string>;
  approximateSecondsBeforeTimedOut?: number;
  jobDocument?: string;
}

export interface ExecutionState {
  status: ExecutionStatus;
  statusDetails: Record<string, string>;
  versionNumber: number;
}

/**
 * Produces the document a device receives. Today the stored document unchanged; the presigned
 * URL feature replaces it (spec 6.1: placeholders are resolved on every delivery). Called outside
 * any transaction, so it may do I/O.
 */
export type DocumentRenderer = (job: JobRow, thingName: string) => Promise<string> | string;

/**
 * Runs on the stored document before it is rendered for a device; throwing a ServiceError
 * withholds the document (code signing: src/signing/signature-guard.ts). Outside any transaction.
 */
export type DocumentCheck = (job: JobRow, thingName: string) => Promise<void>;

export interface UpdateInput {
  status: DeviceSettableStatus | string;
  statusDetails?: Record<string, string>;
  expectedVersion?: number | string;
  executionNumber?: number;
  includeJobExecutionState?: boolean;
  includeJobDocument?: boolean;
  stepTimeoutInMinutes?: number;
}
