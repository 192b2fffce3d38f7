import { describe, expect, it } from 'vitest';
import {
  canTransition,
  DEVICE_SETTABLE_STATUSES,
  EXECUTION_STATUSES,
  isTerminal,
  PENDING_STATUSES,
  sourcesOf,
  TERMINAL_STATUSES,
  TRANSITION_CAUSES,
  TRANSITIONS,
  type ExecutionStatus,
  type TransitionCause,
} from '../../../src/jobs/execution-states.js';
import { JOB_STATUSES, JOB_TRANSITIONS, jobSourcesOf, jobTargetOf } from '../../../src/jobs/job-states.js';

/** spec 4.2 written out by hand, independently of the table under test. */
const EXPECTED: Record<TransitionCause, Partial<Record<ExecutionStatus, ExecutionStatus[]>>> = {
  'device-update': {
    QUEUED: ['IN_PROGRESS', 'SUCCEEDED', 'FAILED', 'REJECTED'],
    IN_PROGRESS: ['IN_PROGRESS', 'SUCCEEDED', 'FAILED', 'REJECTED'],
  },
  'start-next': { QUEUED: ['IN_PROGRESS'] },
  cancel: { QUEUED: ['CANCELED'] },
  'force-cancel': { QUEUED: ['CANCELED'], IN_PROGRESS: ['CANCELED'] },
  timeout: { IN_PROGRESS: ['TIMED_OUT'] },
  remove: { QUEUED: ['REMOVED'], IN_PROGRESS: ['REMOVED'] },
};

describe('execution state machine (spec 4.1, 4.2)', () => {
  it('has exactly two pending statuses and six terminal ones', () => {
    expect([...PENDING_STATUSES]).toEqual(['QUEUED', 'IN_PROGRESS']);
    expect([...TERMINAL_STATUSES].sort()).toEqual(
      ['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'REJECTED', 'REMOVED', 'CANCELED'].sort(),
    );
    expect(EXECUTION_STATUSES.filter(isTerminal)).toEqual([...TERMINAL_STATUSES]);
  });

  for (const cause of TRANSITION_CAUSES) {
    for (const from of EXECUTION_STATUSES) {
      for (const to of EXECUTION_STATUSES) {
        const allowed = EXPECTED[cause][from]?.includes(to) ?? false;
        it(`${cause}: ${from} -> ${to} is ${allowed ? 'allowed' : 'refused'}`, () => {
          expect(canTransition(cause, from, to)).toBe(allowed);
        });
      }
    }
  }

  it('never leaves a terminal status, whatever the cause', () => {
    const fromTerminal = TRANSITIONS.filter((t) => isTerminal(t.from));
    expect(fromTerminal).toEqual([]);
  });

  it('lets devices set only IN_PROGRESS, SUCCEEDED, FAILED and REJECTED', () => {
    const deviceTargets = new Set(TRANSITIONS.filter((t) => t.cause === 'device-update').map((t) => t.to));
    expect([...deviceTargets].sort()).toEqual([...DEVICE_SETTABLE_STATUSES].sort());
  });

  it('gives the compare-and-set source lists the services put in their WHERE clauses', () => {
    expect(sourcesOf('cancel', 'CANCELED')).toEqual(['QUEUED']);
    expect(sourcesOf('force-cancel', 'CANCELED')).toEqual(['QUEUED', 'IN_PROGRESS']);
    expect(sourcesOf('remove', 'REMOVED')).toEqual(['QUEUED', 'IN_PROGRESS']);
    expect(sourcesOf('device-update', 'SUCCEEDED')).toEqual(['QUEUED', 'IN_PROGRESS']);
    expect(sourcesOf('start-next', 'IN_PROGRESS')).toEqual(['QUEUED']);
    expect(sourcesOf('timeout', 'TIMED_OUT')).toEqual(['IN_PROGRESS']);
    expect(sourcesOf('device-update', 'CANCELED')).toEqual([]);
  });
});

describe('job status machine (spec 3.11)', () => {
  it('only reaches statuses of the enumeration', () => {
    for (const t of JOB_TRANSITIONS) {
      expect(JOB_STATUSES).toContain(t.from);
      expect(JOB_STATUSES).toContain(t.to);
    }
  });

  it('deletes without force only COMPLETED or CANCELED jobs', () => {
    expect(jobSourcesOf('delete').sort()).toEqual(['CANCELED', 'COMPLETED']);
    expect(jobTargetOf('delete', 'IN_PROGRESS')).toBeUndefined();
    expect(jobTargetOf('force-delete', 'IN_PROGRESS')).toBe('DELETION_IN_PROGRESS');
  });

  it('never leaves DELETION_IN_PROGRESS', () => {
    expect(JOB_TRANSITIONS.filter((t) => t.from === 'DELETION_IN_PROGRESS')).toEqual([]);
  });

  it('cancels SCHEDULED and IN_PROGRESS jobs; force may cancel a CANCELED job again (spec 9.2)', () => {
    expect(jobSourcesOf('cancel').sort()).toEqual(['IN_PROGRESS', 'SCHEDULED']);
    expect(jobTargetOf('force-cancel', 'CANCELED')).toBe('CANCELED');
    expect(jobTargetOf('cancel', 'COMPLETED')).toBeUndefined();
  });

  it('completes only IN_PROGRESS jobs', () => {
    expect(jobSourcesOf('complete')).toEqual(['IN_PROGRESS']);
  });
});
