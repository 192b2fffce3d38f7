import type { JobRow } from '../jobs/jobs.repository.js';
import type { Executor } from '../store/database.js';
import { planOf } from './job-plan.js';
import { nextStarts, scheduleTime } from './maintenance-windows.js';
import { waveEnds } from './rollout-math.js';
import * as repo from './rollout.repository.js';

export const STAGED_ROLLOUT_STATES = ['ROLLING_OUT', 'WAITING_FOR_GATE', 'PAUSED', 'RELEASED'] as const;

/**
 * What DescribeJob adds about the rollout (spec 2.6 Job): `scheduledJobRollouts` (the next 7
 * maintenance-window starts, spec 3.9), `isConcurrent` (true while executions are still held
 * back for release, spec 3.10) and, as a fleetjobs extension AWS clients ignore,
 * `stagedRolloutStatus`.
 */
export async function describeRollout(db: Executor, job: JobRow, now: number): Promise<Record<string, unknown>> {
  const plan = planOf(job);
  const out: Record<string, unknown> = {};
  if (plan.windows.length > 0) {
    out.scheduledJobRollouts = nextStarts(plan.windows, now, 7).map((t) => ({ startTime: scheduleTime(t) }));
  }
  const state = await repo.findState(db, job.job_id);
  const unreleased = await repo.countUnreleased(db, job.job_id);
  const active = job.status === 'IN_PROGRESS' && state?.stopped !== 1;
  if (active && unreleased > 0 && state?.paused !== 1) out.isConcurrent = true;
  if (plan.staged) {
    const released = Number(state?.released ?? 0);
    const ends = waveEnds(plan.staged, released + unreleased);
    const wave = Math.min(state?.wave ?? 0, Math.max(0, ends.length - 1));
    let status: (typeof STAGED_ROLLOUT_STATES)[number] = 'ROLLING_OUT';
    if (state?.paused === 1) status = 'PAUSED';
    else if (unreleased === 0) status = 'RELEASED';
    else if (released >= (ends[wave] ?? 0)) status = 'WAITING_FOR_GATE';
    out.stagedRolloutStatus = {
      status,
      currentWave: wave + 1,
      waveCount: ends.length,
      releasedThings: released,
      totalThings: released + unreleased,
      ...(state?.paused === 1 && state.pause_reason !== null && { pauseReason: state.pause_reason }),
    };
  }
  return out;
}
