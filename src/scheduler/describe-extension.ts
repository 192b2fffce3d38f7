import type { JobRow } from '../jobs/jobs.repository.js';
import type { Executor } from '../store/database.js';
import { isGated, planOf, type JobPlan } from './job-plan.js';
import { isOpen, nextStarts, scheduleTime } from './maintenance-windows.js';
import { allowance, nextRoomAt, parseLog } from './release-window.js';
import { ratePerMinute, waveEnds } from './rollout-math.js';
import * as repo from './rollout.repository.js';
import type { RolloutRow } from './rollout.repository.js';

export const STAGED_ROLLOUT_STATES = ['ROLLING_OUT', 'WAITING_FOR_GATE', 'PAUSED', 'RELEASED'] as const;

/** ListJobs' JobSummary.isConcurrent (spec 3.10), for a page of jobs at once. */
export async function summarizeRollouts(
  db: Executor,
  jobs: readonly JobRow[],
): Promise<Map<string, Record<string, unknown>>> {
  const concurrent = await repo.concurrentJobs(
    db,
    jobs.map((j) => j.job_id),
  );
  return new Map([...concurrent].map((id) => [id, { isConcurrent: true }]));
}

/**
 * What DescribeJob adds about the rollout (spec 2.6 Job): `scheduledJobRollouts` (the next 7
 * maintenance-window starts, spec 3.9), `isConcurrent` (true while executions are still held
 * back for release, spec 3.10) and, as fleetjobs extensions AWS clients ignore,
 * `stagedRolloutStatus` and `rolloutStatus`.
 */
export async function describeRollout(db: Executor, job: JobRow, now: number): Promise<Record<string, unknown>> {
  const plan = planOf(job);
  const out: Record<string, unknown> = {};
  if (plan.windows.length > 0) {
    out.scheduledJobRollouts = nextStarts(plan.windows, now, 7).map((t) => ({ startTime: scheduleTime(t) }));
  }
  const state = await repo.findState(db, job.job_id);
  const unreleased = await repo.countUnreleased(db, job.job_id);
  if ((await repo.concurrentJobs(db, [job.job_id])).has(job.job_id)) out.isConcurrent = true;
  const released = Number(state?.released ?? 0);
  const ends = plan.staged ? waveEnds(plan.staged, released + unreleased) : [];
  const wave = Math.min(state?.wave ?? 0, Math.max(0, ends.length - 1));
  if (plan.staged) {
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
      ...(state?.paused === 1 && state.pause_kind !== null && { pausedBy: state.pause_kind }),
    };
  }
  if (isGated(plan) && (job.status === 'IN_PROGRESS' || job.status === 'SCHEDULED')) {
    const waveRoom = plan.staged ? Math.max(0, (ends[wave] ?? 0) - released) : unreleased;
    out.rolloutStatus = rolloutStatus(job, plan, state, unreleased, Math.min(unreleased, waveRoom), now);
  }
  return out;
}

/**
 * fleetjobs extension `rolloutStatus`: where a held-back rollout stands (issue 15, for `jobs
 * watch` and the console). The things not yet released are split by what holds them: the staged
 * rollout's next waves (waitingForWave), a pause (waitingForResume), a closed maintenance window
 * (waitingForWindow) or the rate (waitingForRate: the current minute's share is used up, or they
 * go at the next tick). nextReleaseAt (epoch seconds) is when the rate or the next window lets
 * more go, while something waits for either.
 */
function rolloutStatus(
  job: JobRow,
  plan: JobPlan,
  state: RolloutRow | undefined,
  unreleased: number,
  inWave: number,
  now: number,
) {
  const released = Number(state?.released ?? 0);
  const counts = { waitingForRate: 0, waitingForWindow: 0, waitingForWave: 0, waitingForResume: 0 };
  let next: number | undefined;
  if (state?.stopped === 1) return { releasedThings: released, ...counts, stopped: true };
  if (state?.paused === 1) {
    counts.waitingForResume = unreleased;
    return { releasedThings: released, ...counts, paused: true, pauseReason: state.pause_reason ?? undefined };
  }
  counts.waitingForWave = unreleased - inWave;
  const open = plan.windows.length === 0 ? plan.badWindows.length === 0 : isOpen(plan.windows, now);
  if (!open || job.status === 'SCHEDULED') {
    counts.waitingForWindow = job.status === 'SCHEDULED' ? 0 : inWave;
    next = job.status === 'SCHEDULED' ? plan.startAt : nextStarts(plan.windows, now, 1)[0];
  } else {
    counts.waitingForRate = inWave;
    const rate = ratePerMinute(plan.rollout, { notified: released, succeeded: Number(job.n_succeeded) });
    const log = parseLog(state?.recent_releases);
    if (inWave > 0 && rate !== Infinity) next = allowance(log, rate, now) > 0 ? now : nextRoomAt(log, rate, now);
  }
  return {
    releasedThings: released,
    ...counts,
    ...(next !== undefined && inWave > 0 && { nextReleaseAt: Math.floor(next / 1000) }),
  };
}
