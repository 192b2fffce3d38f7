import { describe, expect, it } from 'vitest';
import { rebuildHistory } from '../../src/console/routes/job-history.js';
import { formatBytes } from '../../web/src/components/format.js';
import { settingsInWords } from '../../web/src/components/settings-words.js';

describe('a job in words (console)', () => {
  it('says each setting in a sentence and keeps what it does not understand', () => {
    const words = settingsInWords({
      codeSigning: { profileName: 'fw' },
      presignedUrlConfig: { roleArn: 'arn:aws:iam::000000000000:role/dl', expiresInSec: 600 },
      jobExecutionsRolloutConfig: {
        maximumPerMinute: 100,
        exponentialRate: {
          baseRatePerMinute: 5,
          incrementFactor: 2,
          rateIncreaseCriteria: { numberOfSucceededThings: 10 },
        },
      },
      abortConfig: {
        criteriaList: [
          { failureType: 'FAILED', action: 'CANCEL', thresholdPercentage: 10, minNumberOfExecutedThings: 20 },
        ],
      },
      timeoutConfig: { inProgressTimeoutInMinutes: 1 },
      jobExecutionsRetryConfig: { criteriaList: [{ failureType: 'TIMED_OUT', numberOfRetries: 3 }] },
      schedulingConfig: { startTime: '2026-12-01T10:00', endBehavior: 'CANCEL', endTime: '2026-12-02T10:00' },
      stagedRollout: {
        waves: [{ percentage: 10 }, { count: 50 }],
        successThresholdPercentage: 90,
        onGateFailure: 'PAUSE',
      },
      timeoutConfigUnknown: { x: 1 },
    });
    expect(words).toEqual([
      { label: 'Code signing', text: 'signed at creation with profile fw' },
      { label: 'Presigned URLs', text: 'download URLs made with role dl, valid for 600 seconds' },
      {
        label: 'Rollout',
        text: 'at most 100 things notified a minute; starting at 5 a minute, times 2 every 10 things succeeded',
      },
      {
        label: 'Abort',
        text: 'cancel the job when 10% of things ended failed, once at least 20 things finished',
      },
      { label: 'Timeout', text: 'a thing that stays in progress for 1 minute times out' },
      { label: 'Retries', text: 'retry 3 times when timed out' },
      {
        label: 'Scheduling',
        text: 'starts 2026-12-01 10:00 UTC; ends 2026-12-02 10:00 UTC (then cancel the rollout)',
      },
      {
        label: 'Staged waves',
        text: 'waves of 10%, then 50 things; the next wave starts when 90% of a wave succeeded, else the rollout pauses',
      },
    ]);
    expect(settingsInWords({ presignedUrlConfig: {}, jobExecutionsRolloutConfig: {} })).toEqual([]);
  });

  it('writes sizes in words', () => {
    expect([0, 1, 41, 999, 1000, 1_500_000, 42_000_000, 3e9].map(formatBytes)).toEqual([
      '0 bytes',
      '1 byte',
      '41 bytes',
      '999 bytes',
      '1.0 kB',
      '1.5 MB',
      '42 MB',
      '3.0 GB',
    ]);
  });

  it("rebuilds a job's history from each thing's latest execution", () => {
    const e = (
      thing: string,
      n: number,
      status: string,
      queuedAt: number,
      startedAt?: number,
      lastUpdatedAt?: number,
    ) => ({
      thingArn: `arn:aws:iot:us-east-1:0:thing/${thing}`,
      jobExecutionSummary: { status, queuedAt, startedAt, lastUpdatedAt, executionNumber: n } as never,
    });
    const history = rebuildHistory(
      [
        e('a', 1, 'FAILED', 100, 101, 102), // retried: only #2 counts
        e('a', 2, 'SUCCEEDED', 103, 104, 105),
        e('b', 1, 'QUEUED', 100),
      ],
      106_000,
    );
    const at = (ms: number) => history.filter((p) => p.at <= ms).pop()!.counts;
    expect(at(100_000)).toMatchObject({ numberOfQueuedThings: 1, numberOfFailedThings: 0 });
    expect(at(103_000)).toMatchObject({ numberOfQueuedThings: 2 });
    expect(at(104_000)).toMatchObject({ numberOfQueuedThings: 1, numberOfInProgressThings: 1 });
    expect(at(105_000)).toMatchObject({ numberOfQueuedThings: 1, numberOfSucceededThings: 1, numberOfFailedThings: 0 });
  });
});
