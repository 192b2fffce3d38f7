/**
 * The job-execution state machine as data (DESIGN.md rule 3, spec 4.1-4.2). The services turn a
 * transition into a compare-and-set UPDATE whose WHERE clause lists `sourcesOf(cause, to)`, and
 * the unit tests read the same table.
 */
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

/** spec 4.1: "pending" means QUEUED or IN_PROGRESS; everything else is terminal. */
export const PENDING_STATUSES = ['QUEUED', 'IN_PROGRESS'] as const satisfies readonly ExecutionStatus[];
export const TERMINAL_STATUSES = EXECUTION_STATUSES.filter(
  (s): s is Exclude<ExecutionStatus, (typeof PENDING_STATUSES)[number]> =>
    !(PENDING_STATUSES as readonly string[]).includes(s),
);

/** spec 4.2: the statuses a device may ask for in UpdateJobExecution. */
export const DEVICE_SETTABLE_STATUSES = [
  'IN_PROGRESS',
  'SUCCEEDED',
  'FAILED',
  'REJECTED',
] as const satisfies readonly ExecutionStatus[];
export type DeviceSettableStatus = (typeof DEVICE_SETTABLE_STATUSES)[number];

/** Who causes a transition. */
export const TRANSITION_CAUSES = [
  'device-update',
  'start-next',
  'cancel',
  'force-cancel',
  'timeout',
  'remove',
] as const;
export type TransitionCause = (typeof TRANSITION_CAUSES)[number];

export interface Transition {
  readonly from: ExecutionStatus;
  readonly to: ExecutionStatus;
  readonly cause: TransitionCause;
}

const each = (cause: TransitionCause, from: readonly ExecutionStatus[], to: readonly ExecutionStatus[]): Transition[] =>
  from.flatMap((f) => to.map((t) => ({ from: f, to: t, cause })));

/** spec 4.2, the whole table. IN_PROGRESS -> IN_PROGRESS is a details/step-timer update. */
export const TRANSITIONS: readonly Transition[] = [
  ...each('device-update', ['QUEUED', 'IN_PROGRESS'], DEVICE_SETTABLE_STATUSES),
  ...each('start-next', ['QUEUED'], ['IN_PROGRESS']),
  ...each('cancel', ['QUEUED'], ['CANCELED']),
  ...each('force-cancel', ['QUEUED', 'IN_PROGRESS'], ['CANCELED']),
  ...each('timeout', ['IN_PROGRESS'], ['TIMED_OUT']),
  ...each('remove', PENDING_STATUSES, ['REMOVED']),
];

export const isTerminal = (s: ExecutionStatus): boolean => (TERMINAL_STATUSES as readonly string[]).includes(s);
export const isPending = (s: ExecutionStatus): boolean => !isTerminal(s);
export const isDeviceSettable = (s: string): s is DeviceSettableStatus =>
  (DEVICE_SETTABLE_STATUSES as readonly string[]).includes(s);

export function canTransition(cause: TransitionCause, from: ExecutionStatus, to: ExecutionStatus): boolean {
  return TRANSITIONS.some((t) => t.cause === cause && t.from === from && t.to === to);
}

/** The statuses an execution may be in for `cause` to move it to `to` (the CAS WHERE list). */
export function sourcesOf(cause: TransitionCause, to: ExecutionStatus): ExecutionStatus[] {
  return TRANSITIONS.filter((t) => t.cause === cause && t.to === to).map((t) => t.from);
}

/** jobProcessDetails counter per status (spec 3.10); the jobs table has one column per status. */
export const COUNTER_OF = {
  QUEUED: 'numberOfQueuedThings',
  IN_PROGRESS: 'numberOfInProgressThings',
  SUCCEEDED: 'numberOfSucceededThings',
  FAILED: 'numberOfFailedThings',
  TIMED_OUT: 'numberOfTimedOutThings',
  REJECTED: 'numberOfRejectedThings',
  REMOVED: 'numberOfRemovedThings',
  CANCELED: 'numberOfCanceledThings',
} as const satisfies Record<ExecutionStatus, string>;

export const COLUMN_OF = {
  QUEUED: 'n_queued',
  IN_PROGRESS: 'n_in_progress',
  SUCCEEDED: 'n_succeeded',
  FAILED: 'n_failed',
  TIMED_OUT: 'n_timed_out',
  REJECTED: 'n_rejected',
  REMOVED: 'n_removed',
  CANCELED: 'n_canceled',
} as const satisfies Record<ExecutionStatus, string>;
export type CounterColumn = (typeof COLUMN_OF)[ExecutionStatus];
