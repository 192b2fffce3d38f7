import type { AbortConfig, RetryConfig, RolloutConfig, SchedulingConfig, StagedRollout } from '../jobs/job-configs.js';
import { parseScheduleTime } from '../jobs/job-configs.js';
import type { JobRow } from '../jobs/jobs.repository.js';
import { parseWindow, type ParsedWindow } from './maintenance-windows.js';
import { hasRate } from './rollout-math.js';

const json = <T>(text: string | null): T | undefined => (text === null ? undefined : (JSON.parse(text) as T));

/** A job's stored (already validated) advanced configurations, parsed once per use. */
export interface JobPlan {
  rollout?: RolloutConfig;
  abort?: AbortConfig;
  retry?: RetryConfig;
  scheduling?: SchedulingConfig;
  staged?: StagedRollout;
  startAt?: number;
  endAt?: number;
  windows: ParsedWindow[];
  /** Windows whose expression could not be read: they never open (logged by the scheduler). */
  badWindows: string[];
}

export function planOf(job: JobRow): JobPlan {
  const scheduling = json<SchedulingConfig>(job.scheduling_config);
  const windows: ParsedWindow[] = [];
  const badWindows: string[] = [];
  for (const w of scheduling?.maintenanceWindows ?? []) {
    try {
      windows.push(parseWindow(w));
    } catch {
      badWindows.push(w.startTime);
    }
  }
  return {
    rollout: json(job.rollout_config),
    abort: json(job.abort_config),
    retry: json(job.retry_config),
    scheduling,
    staged: json(job.staged_rollout),
    startAt: scheduling?.startTime !== undefined ? parseScheduleTime(scheduling.startTime) : undefined,
    endAt: scheduling?.endTime !== undefined ? parseScheduleTime(scheduling.endTime) : undefined,
    windows,
    badWindows,
  };
}

/**
 * Whether the rollout holds a job's executions back for the scheduler to release: a rollout
 * rate (spec 3.5), maintenance windows (spec 3.9) or a staged rollout. Otherwise executions are
 * released as they are created, exactly as before the rollout engine existed.
 */
export function isGated(plan: JobPlan): boolean {
  return hasRate(plan.rollout) || plan.staged !== undefined || (plan.scheduling?.maintenanceWindows?.length ?? 0) > 0;
}

/** fanOut's question: are a new job's executions visible to devices at once? */
export const releasedAtCreation = (job: JobRow): boolean => !isGated(planOf(job));
