import type { ServiceContext } from '../context.js';
import * as jobs from '../jobs/jobs.repository.js';
import type { JobRow } from '../jobs/jobs.repository.js';
import type { Executor } from '../store/database.js';
import { thingJobsChanged } from '../store/outbox.js';
import { isGated, planOf, type JobPlan } from './job-plan.js';
import { isOpen } from './maintenance-windows.js';
import { allowance, parseLog, record } from './release-window.js';
import { abortDecision, gate, ratePerMinute, waveEnds, type AbortDecision } from './rollout-math.js';
import type { PauseKind } from './rollout-controls.js';
import * as repo from './rollout.repository.js';
import type { RolloutRow } from './rollout.repository.js';

/** What the scheduler needs from the jobs feature (src/jobs), nothing more. */
export interface JobControls {
  /** SCHEDULED -> IN_PROGRESS and fan-out (spec 3.9); false when the job was not SCHEDULED. */
  startScheduledJob(jobId: string, now: number): Promise<boolean>;
  /** CancelJob's effect on a job the caller has locked in `trx` (spec 2.7, 3.6). */
  cancelLocked(trx: Executor, job: JobRow, opts: CancelOptions, now: number): Promise<void>;
}

export interface CancelOptions {
  force: boolean;
  reasonCode?: string;
  comment?: string;
}

export type StepOutcome = 'released' | 'aborted' | 'ended' | 'paused' | 'idle';

export interface StepResult {
  outcome: StepOutcome;
  released: number;
  /** Another batch may be released at once (the batch limit was reached). */
  more: boolean;
}

/** The most executions released in one transaction; a tick continues with the next batch. */
export const RELEASE_BATCH = 1000;

/** spec 3.6: AWS fills reasonCode itself when an abort criterion cancels a job; these are ours. */
export const ABORT_REASON_CODE = 'FAILURE_THRESHOLD_EXCEEDED';
export const GATE_REASON_CODE = 'STAGED_ROLLOUT_GATE_FAILED';

function abortComment(plan: JobPlan, d: AbortDecision): string {
  const c = plan.abort!.criteriaList[d.criterion]!;
  const share = Math.round((d.failures * 10_000) / d.executed) / 100;
  return (
    `Aborted by abortConfig criterion ${d.criterion + 1} (failureType ${c.failureType}, thresholdPercentage ` +
    `${c.thresholdPercentage}, minNumberOfExecutedThings ${c.minNumberOfExecutedThings}): ${d.failures} of ` +
    `${d.executed} executed things (${share}%) failed that way.`
  );
}

const countsOf = (job: JobRow) => ({
  succeeded: Number(job.n_succeeded),
  failed: Number(job.n_failed),
  rejected: Number(job.n_rejected),
  timedOut: Number(job.n_timed_out),
  removed: Number(job.n_removed),
  canceled: Number(job.n_canceled),
});

/**
 * One job's share of a tick, in the caller's transaction with the job locked (so it serializes
 * with device updates and CancelJob): abort criteria (spec 3.6), then endTime (spec 3.9), then
 * the staged-rollout gate, then releasing what the rate, the maintenance windows and the current
 * wave allow (spec 3.5).
 */
export class RolloutStep {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly controls: JobControls,
  ) {}

  async run(trx: Executor, jobId: string, now: number): Promise<StepResult> {
    const idle: StepResult = { outcome: 'idle', released: 0, more: false };
    const job = await jobs.lockJob(trx, this.ctx.dialect, jobId);
    const state = job && (await repo.findState(trx, jobId));
    if (!job || !state || job.status !== 'IN_PROGRESS') return idle;
    const plan = planOf(job);

    const decision = abortDecision(plan.abort, countsOf(job));
    if (decision) {
      // spec 3.6: QUEUED executions and pending retries are canceled; IN_PROGRESS ones run on.
      const comment = abortComment(plan, decision);
      await this.controls.cancelLocked(trx, job, { force: false, reasonCode: ABORT_REASON_CODE, comment }, now);
      return { ...idle, outcome: 'aborted' };
    }
    if (plan.endAt !== undefined && plan.endAt <= now && state.end_applied === 0) {
      await this.applyEnd(trx, job, plan, now);
      return { ...idle, outcome: 'ended' };
    }
    // A paused rollout stays paused until UpdateJob rolloutAction RESUME (rollout-controls.ts);
    // no gate is decided again meanwhile, so a changed stagedRollout does not re-open it.
    if (state.stopped === 1 || state.paused === 1 || !isGated(plan)) return idle;
    return this.release(trx, job, plan, state, now);
  }

  /** spec 3.9 endBehavior at endTime: STOP_ROLLOUT (the default), CANCEL or FORCE_CANCEL. */
  private async applyEnd(trx: Executor, job: JobRow, plan: JobPlan, now: number): Promise<void> {
    const behavior = plan.scheduling?.endBehavior ?? 'STOP_ROLLOUT';
    await repo.saveState(trx, job.job_id, { end_applied: 1, stopped: 1, updated_at: now });
    if (behavior === 'STOP_ROLLOUT') {
      const dropped = await repo.deleteUnreleased(trx, job.job_id);
      await jobs.addToCounters(trx, job.job_id, { QUEUED: -dropped });
      await jobs.completeIfDone(trx, job.job_id, now);
      return;
    }
    const comment = `The job reached its schedulingConfig endTime ${plan.scheduling?.endTime} (endBehavior ${behavior}).`;
    await this.controls.cancelLocked(trx, job, { force: behavior === 'FORCE_CANCEL', comment }, now);
  }

  private async release(
    trx: Executor,
    job: JobRow,
    plan: JobPlan,
    state: RolloutRow,
    now: number,
  ): Promise<StepResult> {
    const unreleased = await repo.countUnreleased(trx, job.job_id);
    let wave = state.wave;
    let limit = Number.MAX_SAFE_INTEGER;
    let paused = 0;
    let pauseReason: string | null = null;
    if (plan.staged) {
      const ends = waveEnds(plan.staged, Number(state.released) + unreleased);
      wave = Math.min(wave, Math.max(0, ends.length - 1));
      // A fully released wave opens the next one only through its success gate.
      while (wave < ends.length - 1 && Number(state.released) >= ends[wave]!) {
        const result = gate(plan.staged, await repo.waveStats(trx, job.job_id, wave));
        if (result === 'WAITING') break;
        if (result === 'PASSED') {
          wave++;
          continue;
        }
        const reason =
          `Wave ${wave + 1} did not reach successThresholdPercentage ` + `${plan.staged.successThresholdPercentage}.`;
        if (plan.staged.onGateFailure === 'ABORT') {
          await this.controls.cancelLocked(
            trx,
            job,
            { force: false, reasonCode: GATE_REASON_CODE, comment: reason },
            now,
          );
          return { outcome: 'aborted', released: 0, more: false };
        }
        paused = 1;
        pauseReason = reason;
        break;
      }
      limit = paused === 1 ? 0 : Math.max(0, (ends[wave] ?? 0) - Number(state.released));
    }
    const open = plan.windows.length === 0 ? plan.badWindows.length === 0 : isOpen(plan.windows, now);
    const rate = ratePerMinute(plan.rollout, { notified: Number(state.released), succeeded: Number(job.n_succeeded) });
    // The rate is a maximum over every 60-second window (release-window.ts).
    const log = parseLog(state.recent_releases);
    const allowed = open ? Math.min(allowance(log, rate, now), limit, RELEASE_BATCH, unreleased) : 0;
    const picked = allowed > 0 ? await repo.nextUnreleased(trx, job.job_id, allowed) : [];
    const n = await repo.markReleased(
      trx,
      picked.map((p) => p.id),
      plan.staged ? wave : null,
      now,
    );
    if (n > 0) {
      await thingJobsChanged(
        trx,
        picked.map((p) => p.thing_name),
        job.namespace_id,
        now,
      );
    }
    await repo.saveState(trx, job.job_id, {
      released: Number(state.released) + n,
      recent_releases: JSON.stringify(record(log, now, n)),
      wave,
      paused,
      pause_reason: pauseReason,
      pause_kind: paused === 1 ? ('GATE' satisfies PauseKind) : null,
      updated_at: now,
    });
    const outcome: StepOutcome = n > 0 ? 'released' : paused === 1 ? 'paused' : 'idle';
    return { outcome, released: n, more: n === RELEASE_BATCH };
  }
}
