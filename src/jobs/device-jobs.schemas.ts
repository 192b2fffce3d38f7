import { ServiceError } from '../errors.js';
import { JOB_ID_RULE, NAME_RULE, PATTERNS, type Validator } from '../validation.js';
import { DEVICE_SETTABLE_STATUSES, EXECUTION_STATUSES, type ExecutionStatus } from './execution-states.js';
import type { ExecutionRow } from './executions.repository.js';
import { detailsOf } from './job-render.js';

/** spec 7: pending executions in GetPendingJobExecutions and notify. */
export const PENDING_LIST_LIMIT = 10;
/**
 * spec 3.9, 7 (AWS "Job executions limits"): 15 "with scheduling configuration". Ours: when one
 * of the thing's pending executions that would be listed comes from a job with a
 * schedulingConfig. (AWS's "up to 5 in a ListNotification during a maintenance window" is not
 * reproduced: the page does not say which 5, and a shorter list would hide work from devices.)
 */
export const PENDING_LIST_LIMIT_SCHEDULED = 15;
export const NEXT = '$next';

/**
 * spec 4.3 / 5.3 / 7: at most 10 pairs, keys [a-zA-Z0-9:_-]{1,128}, values 1-1024 characters.
 * Values take any character: the model's `[^\p{C}]+` is not what AWS enforces on device updates
 * (the AWS IoT Device Client reports handler stdout / stderr with newlines and gets SUCCEEDED
 * from AWS), and a rejection is final for that client, which would leave the thing's queue
 * blocked behind an IN_PROGRESS execution. Values are stored as JSON text, so even NUL survives
 * both databases. Length and count limits stay: the Device Client itself cuts to 1,024.
 */
export const STATUS_DETAILS_RULES = {
  key: { min: 1, max: 128, pattern: PATTERNS.thingName },
  value: { min: 1, max: 1024 },
  maxEntries: 10,
} as const;

export const STEP_TIMEOUT = { min: 1, max: 10080 } as const;

/**
 * The aws-iot-device-sdk v1 jobs agent sends numbers and booleans as statusDetails values
 * (STACK.md); store them as the strings AWS would have kept.
 */
export function coerceDetails(value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] = typeof v === 'number' || typeof v === 'boolean' ? String(v) : v;
  }
  return out;
}

export function checkThingAndNamespace(v: Validator, thingName: unknown, namespaceId: unknown): void {
  if (v.required('thingName', thingName)) v.string('thingName', thingName, NAME_RULE);
  v.string('namespaceId', namespaceId, { pattern: PATTERNS.namespaceId });
}

export function checkStatusDetails(v: Validator, value: unknown): void {
  v.stringMap('statusDetails', value, STATUS_DETAILS_RULES);
}

export function checkJobIdOrNext(v: Validator, jobId: unknown): void {
  if (!v.required('jobId', jobId)) return;
  if (jobId !== NEXT) v.string('jobId', jobId, JOB_ID_RULE);
}

/** spec 4.2: anything but the four device statuses is refused as InvalidRequest. */
export function checkDeviceStatus(v: Validator, status: unknown): void {
  if (!v.required('status', status)) return;
  if (!v.string('status', status, { enum: EXECUTION_STATUSES })) return;
  if (!(DEVICE_SETTABLE_STATUSES as readonly string[]).includes(status as string)) {
    v.fail('status', status, `A device may set only ${DEVICE_SETTABLE_STATUSES.join(', ')}`);
  }
}

/** spec 0.7: the embedded Jobs library sends expectedVersion as a JSON string ("1"). */
export function parseExpectedVersion(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  if (typeof value === 'string' && /^\d{1,15}$/.test(value)) return Number(value);
  throw new ServiceError(
    'InvalidRequest',
    `expectedVersion must be a whole number (or a string of digits), got ${JSON.stringify(value)}.`,
  );
}

/** spec 5.5: InvalidStateTransition and VersionMismatch carry the execution's current state. */
export function executionState(row: ExecutionRow): {
  status: ExecutionStatus;
  statusDetails: Record<string, string>;
  versionNumber: number;
} {
  return { status: row.status, statusDetails: detailsOf(row), versionNumber: row.version_number };
}

export function versionMismatch(row: ExecutionRow, expected: number): ServiceError {
  return new ServiceError(
    'VersionConflict',
    `The job execution of ${row.job_id} on ${row.thing_name} is at version ${row.version_number}, not the expected version ${expected}.`,
    { executionState: executionState(row) },
  );
}

export function illegalTransition(row: ExecutionRow, to: string): ServiceError {
  return new ServiceError(
    'InvalidStateTransition',
    `The job execution of ${row.job_id} on ${row.thing_name} is ${row.status} and cannot become ${to}.`,
    { executionState: executionState(row) },
  );
}

export function executionNotFound(jobId: string, thingName: string, executionNumber?: number): ServiceError {
  const which = executionNumber === undefined ? '' : ` with execution number ${executionNumber}`;
  return new ServiceError(
    'ResourceNotFound',
    `Job execution of ${jobId} on thing ${thingName}${which} does not exist.`,
  );
}

/** The earlier of the two timers (spec 3.7: a step timer never extends the in-progress deadline). */
export function earliest(...deadlines: (number | null)[]): number | null {
  const set = deadlines.filter((d): d is number => d !== null);
  return set.length === 0 ? null : Math.min(...set);
}
