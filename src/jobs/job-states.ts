/** The job status machine as data (spec 3.11). Code and tests read this table. */
export const JOB_STATUSES = ['SCHEDULED', 'IN_PROGRESS', 'CANCELED', 'COMPLETED', 'DELETION_IN_PROGRESS'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

export const TARGET_SELECTIONS = ['SNAPSHOT', 'CONTINUOUS'] as const;
export type TargetSelection = (typeof TARGET_SELECTIONS)[number];

export const JOB_EVENTS = ['start', 'complete', 'cancel', 'force-cancel', 'delete', 'force-delete'] as const;
export type JobEvent = (typeof JOB_EVENTS)[number];

export interface JobTransition {
  readonly from: JobStatus;
  readonly to: JobStatus;
  readonly on: JobEvent;
}

export const JOB_TRANSITIONS: readonly JobTransition[] = [
  { from: 'SCHEDULED', to: 'IN_PROGRESS', on: 'start' },
  // spec 3.11: only a SNAPSHOT job completes, when every execution is terminal.
  { from: 'IN_PROGRESS', to: 'COMPLETED', on: 'complete' },
  { from: 'SCHEDULED', to: 'CANCELED', on: 'cancel' },
  { from: 'IN_PROGRESS', to: 'CANCELED', on: 'cancel' },
  { from: 'SCHEDULED', to: 'CANCELED', on: 'force-cancel' },
  { from: 'IN_PROGRESS', to: 'CANCELED', on: 'force-cancel' },
  // spec 9.2: force-cancelling an already cancelled job still cancels its IN_PROGRESS executions.
  { from: 'CANCELED', to: 'CANCELED', on: 'force-cancel' },
  { from: 'COMPLETED', to: 'DELETION_IN_PROGRESS', on: 'delete' },
  { from: 'CANCELED', to: 'DELETION_IN_PROGRESS', on: 'delete' },
  { from: 'COMPLETED', to: 'DELETION_IN_PROGRESS', on: 'force-delete' },
  { from: 'CANCELED', to: 'DELETION_IN_PROGRESS', on: 'force-delete' },
  { from: 'IN_PROGRESS', to: 'DELETION_IN_PROGRESS', on: 'force-delete' },
  { from: 'SCHEDULED', to: 'DELETION_IN_PROGRESS', on: 'force-delete' },
];

export function jobSourcesOf(on: JobEvent): JobStatus[] {
  return JOB_TRANSITIONS.filter((t) => t.on === on).map((t) => t.from);
}

export function jobTargetOf(on: JobEvent, from: JobStatus): JobStatus | undefined {
  return JOB_TRANSITIONS.find((t) => t.on === on && t.from === from)?.to;
}
