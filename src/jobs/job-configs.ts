import { parseWindow } from '../scheduler/maintenance-windows.js';
import { PATTERNS, type Validator } from '../validation.js';

/**
 * The advanced job configurations (spec 2.6, 3.4-3.9, 7). CreateJob, UpdateJob and the templates
 * accept, validate and store them; the rollout engine and the scheduler act on them later.
 */
export interface PresignedUrlConfig {
  roleArn?: string;
  expiresInSec?: number;
}

export interface RateIncreaseCriteria {
  numberOfNotifiedThings?: number;
  numberOfSucceededThings?: number;
}

export interface RolloutConfig {
  maximumPerMinute?: number;
  exponentialRate?: { baseRatePerMinute: number; incrementFactor: number; rateIncreaseCriteria: RateIncreaseCriteria };
}

export const ABORT_FAILURE_TYPES = ['FAILED', 'REJECTED', 'TIMED_OUT', 'ALL'] as const;
export const ABORT_ACTIONS = ['CANCEL'] as const;
export interface AbortConfig {
  criteriaList: {
    failureType: (typeof ABORT_FAILURE_TYPES)[number];
    action: (typeof ABORT_ACTIONS)[number];
    thresholdPercentage: number;
    minNumberOfExecutedThings: number;
  }[];
}

export interface TimeoutConfig {
  inProgressTimeoutInMinutes?: number;
}

export const RETRY_FAILURE_TYPES = ['FAILED', 'TIMED_OUT', 'ALL'] as const;
export interface RetryConfig {
  criteriaList: { failureType: (typeof RETRY_FAILURE_TYPES)[number]; numberOfRetries: number }[];
}

export const END_BEHAVIORS = ['STOP_ROLLOUT', 'CANCEL', 'FORCE_CANCEL'] as const;
export interface MaintenanceWindow {
  startTime: string;
  durationInMinutes: number;
}
export interface SchedulingConfig {
  startTime?: string;
  endTime?: string;
  endBehavior?: (typeof END_BEHAVIORS)[number];
  maintenanceWindows?: MaintenanceWindow[];
}

/**
 * fleetjobs extension (AWS clients ignore unknown members): release the job in waves, each of
 * `count` things or `percentage` of all targeted things, and only open the next wave when at
 * least `successThresholdPercentage` of the released executions succeeded; otherwise PAUSE the
 * rollout or ABORT (cancel) the job.
 */
export const GATE_FAILURE_ACTIONS = ['PAUSE', 'ABORT'] as const;
export interface StagedRollout {
  waves: { count?: number; percentage?: number }[];
  successThresholdPercentage: number;
  onGateFailure: (typeof GATE_FAILURE_ACTIONS)[number];
}

export const LIMITS = {
  maxRetriesTotal: 10,
  maxTimeoutMinutes: 10080,
  maxWaves: 100,
  minScheduleLeadMs: 30 * 60_000,
  maxStartAheadMs: 366 * 24 * 3600_000,
  maxEndAheadMs: 2 * 366 * 24 * 3600_000,
} as const;

const INT = { integer: true } as const;
const decimals = (value: number, places: number): boolean =>
  Math.abs(Math.round(value * 10 ** places) - value * 10 ** places) < 1e-6;

export function checkPresignedUrlConfig(v: Validator, f: string, value: unknown): void {
  if (!v.object(f, value)) return;
  v.string(`${f}.roleArn`, value.roleArn, { min: 20, max: 2048 });
  v.number(`${f}.expiresInSec`, value.expiresInSec, { ...INT, min: 60, max: 3600 });
}

export function checkRolloutConfig(v: Validator, f: string, value: unknown): void {
  if (!v.object(f, value)) return;
  v.number(`${f}.maximumPerMinute`, value.maximumPerMinute, { ...INT, min: 1, max: 1000 });
  const exp = value.exponentialRate;
  if (!v.object(`${f}.exponentialRate`, exp)) return;
  const e = `${f}.exponentialRate`;
  if (v.required(`${e}.baseRatePerMinute`, exp.baseRatePerMinute)) {
    v.number(`${e}.baseRatePerMinute`, exp.baseRatePerMinute, { ...INT, min: 1, max: 1000 });
  }
  if (v.required(`${e}.incrementFactor`, exp.incrementFactor)) {
    if (v.number(`${e}.incrementFactor`, exp.incrementFactor, { min: 1.1, max: 5 })) {
      if (!decimals(exp.incrementFactor as number, 1)) {
        v.fail(`${e}.incrementFactor`, exp.incrementFactor, 'Member must have at most one decimal place');
      }
    }
  }
  const c = exp.rateIncreaseCriteria;
  if (v.required(`${e}.rateIncreaseCriteria`, c) && v.object(`${e}.rateIncreaseCriteria`, c)) {
    v.number(`${e}.rateIncreaseCriteria.numberOfNotifiedThings`, c.numberOfNotifiedThings, { ...INT, min: 1 });
    v.number(`${e}.rateIncreaseCriteria.numberOfSucceededThings`, c.numberOfSucceededThings, { ...INT, min: 1 });
    const given = [c.numberOfNotifiedThings, c.numberOfSucceededThings].filter((x) => x !== undefined).length;
    if (given !== 1) {
      v.fail(
        `${e}.rateIncreaseCriteria`,
        c,
        'Exactly one of numberOfNotifiedThings and numberOfSucceededThings must be given',
      );
    }
  }
  const max = value.maximumPerMinute;
  if (typeof max === 'number' && typeof exp.baseRatePerMinute === 'number' && exp.baseRatePerMinute > max) {
    v.fail(`${e}.baseRatePerMinute`, exp.baseRatePerMinute, `Member must not exceed maximumPerMinute (${max})`);
  }
}

export function checkAbortConfig(v: Validator, f: string, value: unknown): void {
  if (!v.object(f, value)) return;
  if (!v.required(`${f}.criteriaList`, value.criteriaList)) return;
  if (!v.list(`${f}.criteriaList`, value.criteriaList, { min: 1 })) return;
  value.criteriaList.forEach((c, i) => {
    const m = `${f}.criteriaList.${i + 1}.member`;
    if (!v.object(m, c)) return;
    if (v.required(`${m}.failureType`, c.failureType))
      v.string(`${m}.failureType`, c.failureType, { enum: ABORT_FAILURE_TYPES });
    if (v.required(`${m}.action`, c.action)) v.string(`${m}.action`, c.action, { enum: ABORT_ACTIONS });
    if (v.required(`${m}.thresholdPercentage`, c.thresholdPercentage)) {
      if (v.number(`${m}.thresholdPercentage`, c.thresholdPercentage, { min: 0, max: 100 })) {
        if (!decimals(c.thresholdPercentage as number, 2)) {
          v.fail(`${m}.thresholdPercentage`, c.thresholdPercentage, 'Member must have at most two decimal places');
        }
      }
    }
    if (v.required(`${m}.minNumberOfExecutedThings`, c.minNumberOfExecutedThings)) {
      v.number(`${m}.minNumberOfExecutedThings`, c.minNumberOfExecutedThings, { ...INT, min: 1 });
    }
  });
}

export function checkTimeoutConfig(v: Validator, f: string, value: unknown): void {
  if (!v.object(f, value)) return;
  v.number(`${f}.inProgressTimeoutInMinutes`, value.inProgressTimeoutInMinutes, {
    ...INT,
    min: 1,
    max: LIMITS.maxTimeoutMinutes,
  });
}

export function checkRetryConfig(v: Validator, f: string, value: unknown): void {
  if (!v.object(f, value)) return;
  if (!v.required(`${f}.criteriaList`, value.criteriaList)) return;
  if (!v.list(`${f}.criteriaList`, value.criteriaList, { min: 1, max: 2 })) return;
  const seen = new Set<unknown>();
  let total = 0;
  value.criteriaList.forEach((c, i) => {
    const m = `${f}.criteriaList.${i + 1}.member`;
    if (!v.object(m, c)) return;
    if (v.required(`${m}.failureType`, c.failureType)) {
      v.string(`${m}.failureType`, c.failureType, { enum: RETRY_FAILURE_TYPES });
      if (seen.has(c.failureType)) v.fail(`${m}.failureType`, c.failureType, 'Each failureType may appear only once');
      seen.add(c.failureType);
    }
    if (v.required(`${m}.numberOfRetries`, c.numberOfRetries)) {
      if (v.number(`${m}.numberOfRetries`, c.numberOfRetries, { ...INT, min: 0, max: 10 })) {
        total += c.numberOfRetries as number;
      }
    }
  });
  if (total > LIMITS.maxRetriesTotal) {
    v.fail(`${f}.criteriaList`, total, `The retries of all criteria may add up to at most ${LIMITS.maxRetriesTotal}`);
  }
}

/** spec 3.9: "YYYY-MM-DDTHH:MM" (seconds and a zone allowed); without a zone the time is UTC. */
export function parseScheduleTime(text: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})?$/.exec(text);
  if (!m) return undefined;
  const ms = Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6] ?? '00'}${m[7] ?? 'Z'}`);
  return Number.isNaN(ms) ? undefined : ms;
}

/**
 * spec 3.9: from endTime on a job creates no new executions, whatever its endBehavior (STOP_ROLLOUT
 * stops the rollout; CANCEL and FORCE_CANCEL cancel the job at the next tick): neither for things
 * joining a CONTINUOUS job's groups nor for AssociateTargetsWithJob.
 */
export function pastEndTime(schedulingConfig: string | null, now: number): boolean {
  if (schedulingConfig === null) return false;
  const end = (JSON.parse(schedulingConfig) as SchedulingConfig).endTime;
  const at = end === undefined ? undefined : parseScheduleTime(end);
  return at !== undefined && at <= now;
}

const CRON = /^cron\(\S+( \S+){5}\)$/;

function readableWindow(startTime: string): boolean {
  try {
    parseWindow({ startTime, durationInMinutes: 1 });
    return true;
  } catch {
    return false;
  }
}

export function checkMaintenanceWindows(v: Validator, f: string, value: unknown): void {
  if (!v.list(f, value)) return;
  value.forEach((w, i) => {
    const m = `${f}.${i + 1}.member`;
    if (!v.object(m, w)) return;
    if (v.required(`${m}.startTime`, w.startTime) && v.string(`${m}.startTime`, w.startTime, { min: 1, max: 256 })) {
      if (!CRON.test(w.startTime as string)) {
        v.fail(`${m}.startTime`, w.startTime, 'Member must be a cron expression like cron(0 22 ? * SAT *)');
      } else if (!readableWindow(w.startTime as string)) {
        // The scheduler must be able to compute the window (src/scheduler/maintenance-windows.ts).
        v.fail(`${m}.startTime`, w.startTime, 'Member must be a cron expression the scheduler supports');
      }
    }
    if (v.required(`${m}.durationInMinutes`, w.durationInMinutes)) {
      v.number(`${m}.durationInMinutes`, w.durationInMinutes, { ...INT, min: 1, max: 1430 });
    }
  });
}

export function checkSchedulingConfig(v: Validator, f: string, value: unknown, nowMs: number): void {
  if (!v.object(f, value)) return;
  const times: Record<'startTime' | 'endTime', number | undefined> = { startTime: undefined, endTime: undefined };
  for (const k of ['startTime', 'endTime'] as const) {
    if (!v.string(`${f}.${k}`, value[k], { min: 1, max: 64 })) continue;
    times[k] = parseScheduleTime(value[k] as string);
    if (times[k] === undefined) v.fail(`${f}.${k}`, value[k], 'Member must be a date and time like 2030-01-01T00:00');
  }
  v.string(`${f}.endBehavior`, value.endBehavior, { enum: END_BEHAVIORS });
  checkMaintenanceWindows(v, `${f}.maintenanceWindows`, value.maintenanceWindows);
  const { startTime: start, endTime: end } = times;
  const lead = LIMITS.minScheduleLeadMs;
  if (start !== undefined && (start < nowMs + lead || start > nowMs + LIMITS.maxStartAheadMs)) {
    v.fail(`${f}.startTime`, value.startTime, 'Member must be between 30 minutes and 1 year in the future');
  }
  if (end !== undefined && (end < nowMs + lead || end > nowMs + LIMITS.maxEndAheadMs)) {
    v.fail(`${f}.endTime`, value.endTime, 'Member must be between 30 minutes and 2 years in the future');
  }
  if (start !== undefined && end !== undefined && (end - start < lead || end - start > LIMITS.maxEndAheadMs)) {
    v.fail(`${f}.endTime`, value.endTime, 'Member must be between 30 minutes and 2 years after startTime');
  }
}

export function checkStagedRollout(v: Validator, f: string, value: unknown): void {
  if (!v.object(f, value)) return;
  if (v.required(`${f}.waves`, value.waves) && v.list(`${f}.waves`, value.waves, { min: 1, max: LIMITS.maxWaves })) {
    let percent = 0;
    value.waves.forEach((w, i) => {
      const m = `${f}.waves.${i + 1}.member`;
      if (!v.object(m, w)) return;
      v.number(`${m}.count`, w.count, { ...INT, min: 1 });
      if (v.number(`${m}.percentage`, w.percentage, { min: 0.01, max: 100 })) percent += w.percentage as number;
      if ((w.count === undefined) === (w.percentage === undefined)) {
        v.fail(m, w, 'Each wave must give exactly one of count and percentage');
      }
    });
    if (percent > 100 + 1e-9) v.fail(`${f}.waves`, percent, 'The wave percentages may add up to at most 100');
  }
  if (v.required(`${f}.successThresholdPercentage`, value.successThresholdPercentage)) {
    v.number(`${f}.successThresholdPercentage`, value.successThresholdPercentage, { min: 0, max: 100 });
  }
  if (v.required(`${f}.onGateFailure`, value.onGateFailure)) {
    v.string(`${f}.onGateFailure`, value.onGateFailure, { enum: GATE_FAILURE_ACTIONS });
  }
}

export function checkPackageVersions(v: Validator, f: string, value: unknown): void {
  if (!v.list(f, value, { max: 25 })) return;
  value.forEach((a, i) => v.string(`${f}.${i + 1}.member`, a, { min: 1, max: 1600, pattern: PATTERNS.arn }));
}
