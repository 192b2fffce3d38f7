import { describe, expect, it } from 'vitest';
import type { AbortConfig, RetryConfig, RolloutConfig, StagedRollout } from '../../../src/jobs/job-configs.js';
import {
  abortDecision,
  gate,
  hasRate,
  ratePerMinute,
  retryDue,
  waveEnds,
  type TerminalCounts,
} from '../../../src/scheduler/rollout-math.js';
import { allowance, record, type ReleaseLog } from '../../../src/scheduler/release-window.js';

const MIN = 60_000;
const zero: TerminalCounts = { succeeded: 0, failed: 0, rejected: 0, timedOut: 0, removed: 0, canceled: 0 };

describe('rollout rate (spec 3.5)', () => {
  const worked: RolloutConfig = {
    exponentialRate: {
      baseRatePerMinute: 50,
      incrementFactor: 2,
      rateIncreaseCriteria: { numberOfNotifiedThings: 1000 },
    },
  };

  it('is unlimited without a rate and constant with maximumPerMinute', () => {
    expect(hasRate(undefined)).toBe(false);
    expect(hasRate({})).toBe(false);
    expect(ratePerMinute({}, { notified: 0, succeeded: 0 })).toBe(Infinity);
    expect(ratePerMinute({ maximumPerMinute: 7 }, { notified: 5000, succeeded: 5000 })).toBe(7);
  });

  it('follows the worked example: 50/min until 1000 notified, then 100, 200, 400, ... capped at 1000', () => {
    const at = (notified: number) => ratePerMinute(worked, { notified, succeeded: 0 });
    expect([0, 999, 1000, 1999, 2000, 2999, 3000, 3999, 4000, 4999, 5000, 10_000_000].map(at)).toEqual([
      50, 50, 100, 100, 200, 200, 400, 400, 800, 800, 1000, 1000,
    ]);
    expect(ratePerMinute({ ...worked, maximumPerMinute: 300 }, { notified: 3000, succeeded: 0 })).toBe(300);
  });

  it('counts succeeded things when rateIncreaseCriteria says so', () => {
    const c: RolloutConfig = {
      exponentialRate: {
        baseRatePerMinute: 10,
        incrementFactor: 1.5,
        rateIncreaseCriteria: { numberOfSucceededThings: 5 },
      },
    };
    expect(ratePerMinute(c, { notified: 100, succeeded: 4 })).toBe(10);
    expect(ratePerMinute(c, { notified: 0, succeeded: 5 })).toBe(15);
    expect(ratePerMinute(c, { notified: 0, succeeded: 10 })).toBe(22.5);
  });

  it('releases the worked example minute by minute when driven by the release window', () => {
    let log: ReleaseLog = [];
    let notified = 0;
    const perMinute: number[] = [];
    for (let minute = 0; minute <= 36; minute++) {
      const n = allowance(log, ratePerMinute(worked, { notified, succeeded: 0 }), minute * MIN);
      log = record(log, minute * MIN, n);
      notified += n;
      perMinute.push(n);
    }
    expect(perMinute.slice(0, 20)).toEqual(Array(20).fill(50)); // 1000 notified after minute 19
    expect(perMinute.slice(20, 30)).toEqual(Array(10).fill(100)); // 2000 after minute 29
    expect(perMinute.slice(30, 35)).toEqual(Array(5).fill(200)); // 3000 after minute 34
    expect(perMinute.slice(35, 37)).toEqual([400, 400]);
  });
});

describe('abort criteria (spec 3.6)', () => {
  const one = (c: Partial<AbortConfig['criteriaList'][number]>): AbortConfig => ({
    criteriaList: [
      { failureType: 'FAILED', action: 'CANCEL', thresholdPercentage: 50, minNumberOfExecutedThings: 4, ...c },
    ],
  });

  it('waits for minNumberOfExecutedThings terminal executions', () => {
    expect(abortDecision(one({}), { ...zero, failed: 3 })).toBeUndefined();
    expect(abortDecision(one({}), { ...zero, failed: 3, succeeded: 1 })).toEqual({
      criterion: 0,
      failures: 3,
      executed: 4,
    });
  });

  it('fires exactly at the threshold and not just below it', () => {
    expect(abortDecision(one({}), { ...zero, failed: 2, succeeded: 2 })).toBeDefined();
    expect(abortDecision(one({}), { ...zero, failed: 2, succeeded: 3 })).toBeUndefined();
    const third = one({ thresholdPercentage: 33.33, minNumberOfExecutedThings: 3 });
    expect(abortDecision(third, { ...zero, failed: 1, succeeded: 2 })).toBeDefined(); // 33.333...%
    const above = one({ thresholdPercentage: 33.34, minNumberOfExecutedThings: 3 });
    expect(abortDecision(above, { ...zero, failed: 1, succeeded: 2 })).toBeUndefined();
  });

  it('counts only its failure type; ALL is FAILED + REJECTED + TIMED_OUT; every terminal status is executed', () => {
    const c: TerminalCounts = { succeeded: 4, failed: 1, rejected: 2, timedOut: 2, removed: 1, canceled: 0 };
    expect(abortDecision(one({ failureType: 'REJECTED', thresholdPercentage: 20 }), c)).toEqual({
      criterion: 0,
      failures: 2,
      executed: 10,
    });
    expect(abortDecision(one({ failureType: 'TIMED_OUT', thresholdPercentage: 20.01 }), c)).toBeUndefined();
    expect(abortDecision(one({ failureType: 'ALL', thresholdPercentage: 50 }), c)?.failures).toBe(5);
    expect(abortDecision(one({ failureType: 'ALL', thresholdPercentage: 50.01 }), c)).toBeUndefined();
  });

  it('checks the criteria in order and reports the first that fires', () => {
    const config: AbortConfig = {
      criteriaList: [
        { failureType: 'REJECTED', action: 'CANCEL', thresholdPercentage: 90, minNumberOfExecutedThings: 1 },
        { failureType: 'ALL', action: 'CANCEL', thresholdPercentage: 10, minNumberOfExecutedThings: 100 },
        { failureType: 'FAILED', action: 'CANCEL', thresholdPercentage: 10, minNumberOfExecutedThings: 1 },
        { failureType: 'ALL', action: 'CANCEL', thresholdPercentage: 1, minNumberOfExecutedThings: 1 },
      ],
    };
    expect(abortDecision(config, { ...zero, succeeded: 8, failed: 2 })?.criterion).toBe(2);
    expect(abortDecision(undefined, { ...zero, failed: 10 })).toBeUndefined();
  });
});

describe('staged rollout waves', () => {
  const staged = (waves: StagedRollout['waves'], threshold = 80): StagedRollout => ({
    waves,
    successThresholdPercentage: threshold,
    onGateFailure: 'PAUSE',
  });

  it('cuts cumulative wave ends from counts and percentages, the rest as a last wave', () => {
    expect(waveEnds(staged([{ percentage: 10 }, { count: 5 }, { percentage: 50 }]), 100)).toEqual([10, 15, 65, 100]);
    expect(waveEnds(staged([{ percentage: 10 }, { percentage: 90 }]), 15)).toEqual([2, 15]);
    expect(waveEnds(staged([{ count: 10 }, { count: 10 }]), 12)).toEqual([10, 12]);
    expect(waveEnds(staged([{ percentage: 0.01 }]), 3)).toEqual([1, 3]);
    expect(waveEnds(staged([{ count: 2 }]), 0)).toEqual([0]);
  });

  it('decides the gate only when the whole wave is terminal, passing exactly at the threshold', () => {
    const s = staged([{ count: 5 }], 80);
    expect(gate(s, { pending: 1, things: 5, succeeded: 4 })).toBe('WAITING');
    expect(gate(s, { pending: 0, things: 5, succeeded: 4 })).toBe('PASSED');
    expect(gate(s, { pending: 0, things: 5, succeeded: 3 })).toBe('FAILED');
    expect(gate(s, { pending: 0, things: 0, succeeded: 0 })).toBe('PASSED');
    expect(gate(staged([{ count: 3 }], 66.67), { pending: 0, things: 3, succeeded: 2 })).toBe('FAILED');
    expect(gate(staged([{ count: 3 }], 66.66), { pending: 0, things: 3, succeeded: 2 })).toBe('PASSED');
  });
});

describe('retries (spec 3.8)', () => {
  const cfg = (...criteria: [RetryConfig['criteriaList'][number]['failureType'], number][]): RetryConfig => ({
    criteriaList: criteria.map(([failureType, numberOfRetries]) => ({ failureType, numberOfRetries })),
  });

  it('retries its own failure type up to numberOfRetries', () => {
    const c = cfg(['FAILED', 2]);
    expect(retryDue(c, 'FAILED', { failed: 1, timedOut: 0 }, 0)).toBe(true);
    expect(retryDue(c, 'FAILED', { failed: 2, timedOut: 0 }, 1)).toBe(true);
    expect(retryDue(c, 'FAILED', { failed: 3, timedOut: 0 }, 2)).toBe(false);
    expect(retryDue(c, 'TIMED_OUT', { failed: 0, timedOut: 1 }, 0)).toBe(false);
    expect(retryDue(cfg(['FAILED', 0]), 'FAILED', { failed: 1, timedOut: 0 }, 0)).toBe(false);
    expect(retryDue(undefined, 'FAILED', { failed: 1, timedOut: 0 }, 0)).toBe(false);
  });

  it('lets ALL count both types, a specific criterion govern its own type, and caps at 10', () => {
    const all = cfg(['ALL', 3]);
    expect(retryDue(all, 'TIMED_OUT', { failed: 2, timedOut: 1 }, 2)).toBe(true);
    expect(retryDue(all, 'FAILED', { failed: 3, timedOut: 1 }, 3)).toBe(false);
    const mixed = cfg(['FAILED', 1], ['ALL', 3]);
    expect(retryDue(mixed, 'FAILED', { failed: 2, timedOut: 0 }, 1)).toBe(false);
    expect(retryDue(mixed, 'TIMED_OUT', { failed: 1, timedOut: 1 }, 1)).toBe(true);
    expect(retryDue(cfg(['FAILED', 10]), 'FAILED', { failed: 10, timedOut: 0 }, 9)).toBe(true);
    expect(retryDue(cfg(['FAILED', 10]), 'FAILED', { failed: 11, timedOut: 0 }, 10)).toBe(false);
  });
});
