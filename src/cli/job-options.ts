import type { Command } from 'commander';
import type {
  AbortConfig,
  JobExecutionsRetryConfig,
  JobExecutionsRolloutConfig,
  PresignedUrlConfig,
  SchedulingConfig,
  TimeoutConfig,
} from '@aws-sdk/client-iot';
import { int, keyValues, list, num, oneOf } from './args.js';
import { UsageError } from './exit-codes.js';

/**
 * The job configuration flags shared by `jobs create`, `jobs update` and `templates create`, and
 * the pure translation into the CreateJob members (spec 2.3, 2.6, 3.4-3.9) plus our
 * `stagedRollout` extension.
 */
export const ABORT_TYPES = ['FAILED', 'REJECTED', 'TIMED_OUT', 'ALL'] as const;
export const RETRY_TYPES = ['FAILED', 'TIMED_OUT', 'ALL'] as const;
export const END_BEHAVIORS = ['STOP_ROLLOUT', 'CANCEL', 'FORCE_CANCEL'] as const;
export const GATE_ACTIONS = ['PAUSE', 'ABORT'] as const;
export const TARGET_SELECTIONS = ['SNAPSHOT', 'CONTINUOUS'] as const;

export interface StagedRollout {
  waves: ({ count: number } | { percentage: number })[];
  successThresholdPercentage: number;
  onGateFailure: (typeof GATE_ACTIONS)[number];
}

export interface JobConfigFlags {
  description?: string;
  maxPerMinute?: number;
  exponentialRate?: string;
  abort?: string[];
  timeoutMinutes?: number;
  retry?: string[];
  startTime?: string;
  endTime?: string;
  endBehavior?: (typeof END_BEHAVIORS)[number];
  maintenanceWindow?: string[];
  waves?: string;
  waveSuccessThreshold?: number;
  onGateFailure?: (typeof GATE_ACTIONS)[number];
  presignRole?: string;
  presignExpiry?: number;
}

export interface JobConfigs {
  description?: string;
  jobExecutionsRolloutConfig?: JobExecutionsRolloutConfig;
  abortConfig?: AbortConfig;
  timeoutConfig?: TimeoutConfig;
  jobExecutionsRetryConfig?: JobExecutionsRetryConfig;
  schedulingConfig?: SchedulingConfig;
  presignedUrlConfig?: PresignedUrlConfig;
  stagedRollout?: StagedRollout;
}

/** Adds the configuration flags; `scheduling` is false for UpdateJob, which cannot change it. */
export function addJobConfigFlags(cmd: Command, { scheduling = true, waves = true } = {}): Command {
  cmd
    .option('--description <text>', 'description')
    .option(
      '--max-per-minute <n>',
      'rollout: at most this many things notified per minute',
      int('--max-per-minute', 1, 1000),
    )
    .option(
      '--exponential-rate <spec>',
      'rollout: base=N,factor=F,notified=N|succeeded=N (rate x factor each time the count is reached)',
    )
    .option(
      '--abort <type:percent:min>',
      `abort (cancel) when percent of at least min finished executions are of type ${ABORT_TYPES.join('|')} (repeatable)`,
      list,
    )
    .option('--timeout-minutes <n>', 'in-progress timeout per execution', int('--timeout-minutes', 1, 10080))
    .option('--retry <type:count>', `retry executions that end ${RETRY_TYPES.join('|')}, count 0-10 (repeatable)`, list)
    .option('--presign-role <arn>', 'IAM role the service assumes to presign S3 URLs in the document')
    .option('--presign-expiry <seconds>', 'lifetime of presigned URLs (60-3600)', int('--presign-expiry', 60, 3600));
  if (scheduling) {
    cmd
      .option('--start-time <time>', 'scheduled start, YYYY-MM-DDTHH:MM (UTC)')
      .option('--end-time <time>', 'scheduled end, YYYY-MM-DDTHH:MM (UTC)')
      .option('--end-behavior <b>', END_BEHAVIORS.join('|'), oneOf('--end-behavior', END_BEHAVIORS))
      .option(
        '--maintenance-window <cron@minutes>',
        'recurring window, e.g. "cron(0 2 ? * SAT *)@120" (repeatable)',
        (v: string, prev: string[] = []) => [...prev, v],
      );
  }
  if (waves) {
    cmd
      .option(
        '--waves <list>',
        'staged rollout (fleetjobs): wave sizes as counts or percentages of the targets, e.g. 10,25%,65%',
      )
      .option(
        '--wave-success-threshold <percent>',
        'open the next wave only when this % of released executions succeeded (default 100)',
        num('--wave-success-threshold', 0, 100),
      )
      .option(
        '--on-gate-failure <action>',
        `when a wave misses the threshold: ${GATE_ACTIONS.join('|')} (default PAUSE)`,
        oneOf('--on-gate-failure', GATE_ACTIONS),
      );
  }
  return cmd;
}

export function jobConfigsFrom(f: JobConfigFlags): JobConfigs {
  const out: JobConfigs = {};
  if (f.description !== undefined) out.description = f.description;
  const rollout = rolloutFrom(f);
  if (rollout) out.jobExecutionsRolloutConfig = rollout;
  if (f.abort?.length) out.abortConfig = { criteriaList: f.abort.map(parseAbort) };
  if (f.timeoutMinutes !== undefined) out.timeoutConfig = { inProgressTimeoutInMinutes: f.timeoutMinutes };
  if (f.retry?.length) out.jobExecutionsRetryConfig = { criteriaList: f.retry.map(parseRetry) };
  const scheduling = schedulingFrom(f);
  if (scheduling) out.schedulingConfig = scheduling;
  if (f.presignRole !== undefined || f.presignExpiry !== undefined) {
    if (f.presignRole === undefined) throw new UsageError('--presign-expiry needs --presign-role');
    out.presignedUrlConfig = {
      roleArn: f.presignRole,
      ...(f.presignExpiry !== undefined && { expiresInSec: f.presignExpiry }),
    };
  }
  if (f.waves !== undefined) out.stagedRollout = stagedRolloutFrom(f);
  else if (f.waveSuccessThreshold !== undefined || f.onGateFailure !== undefined) {
    throw new UsageError('--wave-success-threshold and --on-gate-failure need --waves');
  }
  return out;
}

function rolloutFrom(f: JobConfigFlags): JobExecutionsRolloutConfig | undefined {
  if (f.maxPerMinute === undefined && f.exponentialRate === undefined) return undefined;
  const out: JobExecutionsRolloutConfig = {};
  if (f.maxPerMinute !== undefined) out.maximumPerMinute = f.maxPerMinute;
  if (f.exponentialRate !== undefined) {
    const kv = keyValues('--exponential-rate')(f.exponentialRate);
    const known = ['base', 'factor', 'notified', 'succeeded'];
    const unknown = Object.keys(kv).filter((k) => !known.includes(k));
    if (unknown.length)
      throw new UsageError(`--exponential-rate: unknown key '${unknown[0]}' (use ${known.join(', ')})`);
    if (kv.base === undefined || kv.factor === undefined)
      throw new UsageError('--exponential-rate needs base=N and factor=F');
    if ((kv.notified === undefined) === (kv.succeeded === undefined)) {
      throw new UsageError('--exponential-rate needs exactly one of notified=N and succeeded=N');
    }
    out.exponentialRate = {
      baseRatePerMinute: int('--exponential-rate base', 1, 1000)(kv.base),
      incrementFactor: num('--exponential-rate factor', 1.1, 5)(kv.factor),
      rateIncreaseCriteria:
        kv.notified !== undefined
          ? { numberOfNotifiedThings: int('--exponential-rate notified', 1)(kv.notified) }
          : { numberOfSucceededThings: int('--exponential-rate succeeded', 1)(kv.succeeded!) },
    };
  }
  return out;
}

export function parseAbort(spec: string): NonNullable<AbortConfig['criteriaList']>[number] {
  const parts = spec.split(':');
  if (parts.length !== 3) throw new UsageError(`--abort '${spec}' must be type:percent:min, e.g. FAILED:20:10`);
  return {
    failureType: oneOf('--abort type', ABORT_TYPES)(parts[0]!),
    action: 'CANCEL',
    thresholdPercentage: num('--abort percent', 0, 100)(parts[1]!),
    minNumberOfExecutedThings: int('--abort min', 1)(parts[2]!),
  };
}

export function parseRetry(spec: string): NonNullable<JobExecutionsRetryConfig['criteriaList']>[number] {
  const parts = spec.split(':');
  if (parts.length !== 2) throw new UsageError(`--retry '${spec}' must be type:count, e.g. FAILED:3`);
  return {
    failureType: oneOf('--retry type', RETRY_TYPES)(parts[0]!),
    numberOfRetries: int('--retry count', 0, 10)(parts[1]!),
  };
}

function schedulingFrom(f: JobConfigFlags): SchedulingConfig | undefined {
  if (
    f.startTime === undefined &&
    f.endTime === undefined &&
    f.endBehavior === undefined &&
    !f.maintenanceWindow?.length
  ) {
    return undefined;
  }
  const out: SchedulingConfig = {};
  if (f.startTime !== undefined) out.startTime = f.startTime;
  if (f.endTime !== undefined) out.endTime = f.endTime;
  if (f.endBehavior !== undefined) out.endBehavior = f.endBehavior;
  if (f.maintenanceWindow?.length) out.maintenanceWindows = f.maintenanceWindow.map(parseWindow);
  return out;
}

export function parseWindow(spec: string): { startTime: string; durationInMinutes: number } {
  const at = spec.lastIndexOf('@');
  if (at <= 0) throw new UsageError(`--maintenance-window '${spec}' must be <cron expression>@<minutes>`);
  return {
    startTime: spec.slice(0, at).trim(),
    durationInMinutes: int('--maintenance-window minutes', 1, 1430)(spec.slice(at + 1).trim()),
  };
}

/** `10,25%,100%`: a count or a percentage per wave (fleetjobs staged-rollout extension). */
export function parseWaves(spec: string): StagedRollout['waves'] {
  const parts = spec.split(',').map((s) => s.trim());
  if (parts.length === 0 || parts.some((p) => p === '')) throw new UsageError(`--waves '${spec}' must list wave sizes`);
  return parts.map((p) =>
    p.endsWith('%')
      ? { percentage: num('--waves percentage', 0.01, 100)(p.slice(0, -1)) }
      : { count: int('--waves count', 1)(p) },
  );
}

function stagedRolloutFrom(f: JobConfigFlags): StagedRollout {
  return {
    waves: parseWaves(f.waves!),
    successThresholdPercentage: f.waveSuccessThreshold ?? 100,
    onGateFailure: f.onGateFailure ?? 'PAUSE',
  };
}
