import type { ServiceContext } from '../context.js';
import { ServiceError } from '../errors.js';
import type { JobRow } from '../jobs/jobs.repository.js';
import type { UpdateJobInput } from '../jobs/jobs.schemas.js';
import type { Executor } from '../store/database.js';
import { isGated, planOf } from './job-plan.js';
import * as repo from './rollout.repository.js';

export const PAUSE_KINDS = ['GATE', 'OPERATOR'] as const;
export type PauseKind = (typeof PAUSE_KINDS)[number];

export const OPERATOR_PAUSE_REASON = 'Paused by UpdateJob rolloutAction PAUSE.';

/**
 * UpdateJob's fleetjobs extension `rolloutAction` (AWS has no pause for a job; staged rollouts are
 * our own): PAUSE holds every further release of a job whose executions the rollout engine holds
 * back (rate, maintenance windows, staged waves) until RESUME. RESUME after an operator's pause
 * goes on where the rollout stood; RESUME after a failed gate (onGateFailure PAUSE) is the
 * operator's decision to go past it: the next wave opens. Changing stagedRollout (e.g. a lower
 * threshold) never re-opens a paused rollout by itself. Runs in UpdateJob's transaction, with
 * the job locked, so it serializes with the scheduler's step for the job.
 */
export function rolloutActionHandler(ctx: ServiceContext) {
  return async (trx: Executor, job: JobRow, input: UpdateJobInput, now: number): Promise<void> => {
    const action = input.rolloutAction;
    if (action === undefined) return;
    if (job.status !== 'IN_PROGRESS' && job.status !== 'SCHEDULED') {
      throw new ServiceError(
        'InvalidRequest',
        `Job ${job.job_id} is ${job.status}; only a running rollout can be paused or resumed.`,
      );
    }
    if (!isGated(planOf(job))) {
      throw new ServiceError(
        'InvalidRequest',
        `Job ${job.job_id} releases every execution at once (no rollout rate, maintenance window or staged rollout); there is nothing to ${action.toLowerCase()}.`,
      );
    }
    await repo.ensureState(trx, job.job_id, now);
    const state = await repo.findState(trx, job.job_id);
    if (!state) return;
    if (action === 'PAUSE') {
      // A rollout a failed gate already holds keeps its reason.
      if (state.paused === 1) return;
      await repo.saveState(trx, job.job_id, {
        paused: 1,
        pause_kind: 'OPERATOR' satisfies PauseKind,
        pause_reason: OPERATOR_PAUSE_REASON,
        updated_at: now,
      });
      return;
    }
    if (state.paused === 0) return;
    await repo.saveState(trx, job.job_id, {
      paused: 0,
      pause_kind: null,
      pause_reason: null,
      ...(state.pause_kind === ('GATE' satisfies PauseKind) && { wave: state.wave + 1 }),
      updated_at: now,
    });
    ctx.logger.info({ jobId: job.job_id, after: state.pause_kind }, 'rollout resumed');
  };
}
