import type { Updateable } from 'kysely';
import { afterTerminalTransition } from '../scheduler/transition-effects.js';
import type { Executor } from '../store/database.js';
import { thingJobsChanged } from '../store/outbox.js';
import {
  canTransition,
  isTerminal,
  sourcesOf,
  type ExecutionStatus,
  type TransitionCause,
} from './execution-states.js';
import { casUpdate, type ExecutionRow } from './executions.repository.js';
import { addToCounters, completeIfDone, type CounterMode } from './jobs.repository.js';
import type { CounterChange } from './job-counters.js';
import type { JobExecutionsTable } from './jobs.tables.js';

export interface TransitionRequest {
  cause: TransitionCause;
  to: ExecutionStatus;
  now: number;
  changes?: Updateable<JobExecutionsTable>;
  /**
   * Whether to tell the notifier. StartNext turns the head itself IN_PROGRESS, which changes
   * neither the pending set nor the head (spec 0.6, 5.6: nothing is published), so it passes false.
   */
  announce?: boolean;
  /**
   * `delta` when the caller holds the job's lock only shared (device transitions on PostgreSQL,
   * issue 17): counters go to job_counter_deltas and the caller checks completion after commit
   * (completeIfDone needs the exclusive lock to see every concurrent transition).
   */
  counters?: CounterMode;
}

/** The columns a transition sets besides the caller's own changes. */
export function transitionChanges(
  req: Pick<TransitionRequest, 'to' | 'now' | 'changes'>,
): Updateable<JobExecutionsTable> {
  return {
    ...req.changes,
    status: req.to,
    last_updated_at: req.now,
    // A terminal execution has no timer left (spec 2.7: no approximateSecondsBeforeTimedOut).
    ...(isTerminal(req.to) && { in_progress_deadline: null, step_deadline: null, timeout_at: null }),
  };
}

/** How moving one execution changes its job's counters: things by status, and attempts. */
export function counterChangeOf(from: ExecutionStatus, to: ExecutionStatus): CounterChange {
  return {
    statuses: { [from]: -1, [to]: 1 },
    attempts: to === 'FAILED' || to === 'TIMED_OUT' ? { [to]: 1 } : {},
  };
}

/** Thrown only for a programming error: callers check the table first to give a good message. */
export class IllegalTransition extends Error {}

/**
 * Applies one transition of the table as a compare-and-set UPDATE (DESIGN.md rule 3), then keeps
 * the job's counters, its completion and the outbox in step, all in the caller's transaction
 * (which holds the job lock). Returns the new row, or undefined when the CAS lost a race.
 */
export async function applyTransition(
  trx: Executor,
  exec: ExecutionRow,
  req: TransitionRequest,
): Promise<ExecutionRow | undefined> {
  if (!canTransition(req.cause, exec.status, req.to)) {
    throw new IllegalTransition(`${req.cause} cannot move an execution from ${exec.status} to ${req.to}`);
  }
  const terminal = isTerminal(req.to);
  const changes = transitionChanges(req);
  const ok = await casUpdate(trx, exec.id, exec.version_number, sourcesOf(req.cause, req.to), changes);
  if (!ok) return undefined;
  const updated = { ...exec, ...changes, version_number: exec.version_number + 1 } as ExecutionRow;
  if (exec.status !== req.to) {
    const mode = req.counters ?? 'row';
    const change = counterChangeOf(exec.status, req.to);
    await addToCounters(trx, exec.job_id, change.statuses, change.attempts, mode);
    // The rollout engine's event and retry come before the completion check (a retry keeps the job open).
    if (terminal) await afterTerminalTransition(trx, updated, req.now, mode);
    if (terminal && mode === 'row') await completeIfDone(trx, exec.job_id, req.now);
  }
  if (req.announce !== false && exec.status !== req.to) {
    await thingJobsChanged(trx, [exec.thing_name], exec.namespace_id, req.now);
  }
  return updated;
}

/** The most thing names passed to one thingJobsChanged call (its rows stay under SQLite's 32,766 parameters). */
export const OUTBOX_BATCH = 4000;
