import type { AbortConfig, RetryConfig, RolloutConfig, StagedRollout } from '../jobs/job-configs.js';

/**
 * The pure arithmetic of the rollout engine: rates (spec 3.5; release-window.ts applies them to
 * every 60-second window), the abort criteria (spec 3.6) and staged-rollout waves (fleetjobs
 * extension). No I/O, no clock: the unit tests read these directly.
 */

/** spec 3.5 / 7: maximumPerMinute defaults to 1000. */
export const DEFAULT_MAXIMUM_PER_MINUTE = 1000;

/** Whether the config limits the rate at all (an empty `{}` does not). */
export function hasRate(config: RolloutConfig | undefined): boolean {
  return config?.maximumPerMinute !== undefined || config?.exponentialRate !== undefined;
}

/** What the exponential criterion counts so far (spec 3.5 rateIncreaseCriteria). */
export interface RateCounts {
  notified: number;
  succeeded: number;
}

/**
 * The release rate per minute (spec 3.5). Constant: maximumPerMinute. Exponential: the base rate
 * times incrementFactor once for every full multiple of the threshold the count has reached,
 * capped at maximumPerMinute (default 1000). Worked example: base 50, factor 2, threshold 1000:
 * 50/min below 1000, 100/min from 1000, 200/min from 2000, 400/min from 3000.
 * Infinity when the config sets no rate.
 */
export function ratePerMinute(config: RolloutConfig | undefined, counts: RateCounts): number {
  if (!hasRate(config)) return Infinity;
  const max = config!.maximumPerMinute ?? DEFAULT_MAXIMUM_PER_MINUTE;
  const exp = config!.exponentialRate;
  if (!exp) return max;
  const c = exp.rateIncreaseCriteria;
  const threshold = c.numberOfNotifiedThings ?? c.numberOfSucceededThings ?? Infinity;
  const count = c.numberOfNotifiedThings !== undefined ? counts.notified : counts.succeeded;
  const steps = Math.floor(count / threshold);
  let rate = exp.baseRatePerMinute;
  // Multiplying step by step stops as soon as the cap is reached (no overflow for huge counts).
  for (let i = 0; i < steps && rate < max; i++) rate *= exp.incrementFactor;
  return Math.min(rate, max);
}

/** The jobProcessDetails counters the abort criteria read (spec 3.6): things, by their latest execution. */
export interface TerminalCounts {
  succeeded: number;
  failed: number;
  rejected: number;
  timedOut: number;
  removed: number;
  canceled: number;
}

export interface AbortDecision {
  /** 0-based index of the criterion that fired. */
  criterion: number;
  failures: number;
  executed: number;
}

const failuresOf = (type: AbortConfig['criteriaList'][number]['failureType'], c: TerminalCounts): number => {
  switch (type) {
    case 'FAILED':
      return c.failed;
    case 'REJECTED':
      return c.rejected;
    case 'TIMED_OUT':
      return c.timedOut;
    case 'ALL':
      return c.failed + c.rejected + c.timedOut;
  }
};

/**
 * spec 3.6: criteria are checked in order; one is evaluated once at least
 * minNumberOfExecutedThings executions are terminal ("executed" = every terminal status), and
 * fires when failures / executed >= thresholdPercentage. Integer arithmetic on hundredths of a
 * percent (the threshold has at most two decimals), so "exactly at the threshold" is exact.
 */
export function abortDecision(config: AbortConfig | undefined, c: TerminalCounts): AbortDecision | undefined {
  if (!config) return undefined;
  const executed = c.succeeded + c.failed + c.rejected + c.timedOut + c.removed + c.canceled;
  for (const [i, criterion] of config.criteriaList.entries()) {
    if (executed < criterion.minNumberOfExecutedThings || executed === 0) continue;
    const failures = failuresOf(criterion.failureType, c);
    if (failures * 10_000 >= Math.round(criterion.thresholdPercentage * 100) * executed) {
      return { criterion: i, failures, executed };
    }
  }
  return undefined;
}

/**
 * Cumulative wave ends over `total` things: wave i releases the things numbered
 * (ends[i-1], ends[i]]. A wave is `count` things or ceil(percentage% of total), at least one
 * while things remain. Things left over after the declared waves form one last wave, which
 * opens when the last declared wave passes its gate.
 */
export function waveEnds(staged: StagedRollout, total: number): number[] {
  const ends: number[] = [];
  let end = 0;
  for (const w of staged.waves) {
    const size = w.count ?? Math.max(1, Math.ceil(((w.percentage ?? 0) * total) / 100 - 1e-9));
    end = Math.min(total, end + size);
    ends.push(end);
  }
  if (end < total) ends.push(total);
  return ends;
}

export interface WaveStats {
  /** Executions of the wave still QUEUED or IN_PROGRESS (retries included). */
  pending: number;
  /** Distinct things of the wave. */
  things: number;
  /** Distinct things of the wave with a SUCCEEDED execution (a retry that succeeded counts). */
  succeeded: number;
}

export type GateResult = 'WAITING' | 'PASSED' | 'FAILED';

/**
 * The success gate between waves: it is decided once every execution of the wave (retries
 * included) is terminal, and passes when succeeded things / things of the wave >=
 * successThresholdPercentage. An empty wave passes.
 */
export function gate(staged: StagedRollout, s: WaveStats): GateResult {
  if (s.pending > 0) return 'WAITING';
  if (s.things === 0) return 'PASSED';
  return s.succeeded * 10_000 >= Math.round(staged.successThresholdPercentage * 100) * s.things ? 'PASSED' : 'FAILED';
}

/** A thing's failures so far in one retry chain (the first attempt and its retries), this one included. */
export interface ChainFailures {
  failed: number;
  timedOut: number;
}

/** spec 3.8: at most 10 retries per thing, whatever the criteria say. */
export const MAX_RETRIES = 10;

/**
 * spec 3.8 / 4.6: whether a FAILED or TIMED_OUT execution gets another attempt. The criterion for
 * the failure's own type governs when there is one, else the ALL criterion. A specific criterion
 * counts only failures of its type, ALL counts both; a retry is due while that count (this
 * failure included) is at most numberOfRetries. REJECTED, CANCELED and REMOVED never reach here.
 */
export function retryDue(
  config: RetryConfig | undefined,
  failure: 'FAILED' | 'TIMED_OUT',
  chain: ChainFailures,
  retryAttempt: number,
): boolean {
  if (!config || retryAttempt >= MAX_RETRIES) return false;
  const specific = config.criteriaList.find((c) => c.failureType === failure);
  const criterion = specific ?? config.criteriaList.find((c) => c.failureType === 'ALL');
  if (!criterion) return false;
  const used = specific ? (failure === 'FAILED' ? chain.failed : chain.timedOut) : chain.failed + chain.timedOut;
  return used <= criterion.numberOfRetries;
}
