import { describe, expect, it } from 'vitest';
import { ServiceError } from '../../../src/errors.js';
import {
  checkAbortConfig,
  checkRetryConfig,
  checkRolloutConfig,
  checkSchedulingConfig,
  checkStagedRollout,
  parseScheduleTime,
} from '../../../src/jobs/job-configs.js';
import { checkDocument } from '../../../src/jobs/jobs.schemas.js';
import { findManaged, substituteParameters } from '../../../src/jobs/managed-templates.js';
import { validate, type Validator } from '../../../src/validation.js';

const NOW = Date.UTC(2030, 0, 1);
const check = (fn: (v: Validator) => void): string | undefined => {
  try {
    validate(fn);
    return undefined;
  } catch (err) {
    expect(err).toBeInstanceOf(ServiceError);
    expect((err as ServiceError).code).toBe('InvalidRequest');
    return (err as ServiceError).message;
  }
};

describe('advanced job configurations (spec 2.6, 3.4-3.9, 7)', () => {
  it('accepts the documented ranges and refuses just outside them', () => {
    const rollout = (r: unknown) => check((v) => checkRolloutConfig(v, 'r', r));
    expect(rollout({ maximumPerMinute: 1000 })).toBeUndefined();
    expect(rollout({ maximumPerMinute: 0 })).toContain('greater than or equal to 1');
    const exp = (e: Record<string, unknown>) =>
      rollout({
        exponentialRate: {
          baseRatePerMinute: 10,
          incrementFactor: 1.5,
          rateIncreaseCriteria: { numberOfNotifiedThings: 1 },
          ...e,
        },
      });
    expect(exp({})).toBeUndefined();
    expect(exp({ incrementFactor: 1.05 })).toContain('incrementFactor');
    expect(exp({ incrementFactor: 1.25 })).toContain('one decimal place');
    expect(exp({ rateIncreaseCriteria: {} })).toContain('Exactly one of numberOfNotifiedThings');
    expect(
      rollout({
        maximumPerMinute: 5,
        exponentialRate: {
          baseRatePerMinute: 10,
          incrementFactor: 2,
          rateIncreaseCriteria: { numberOfSucceededThings: 3 },
        },
      }),
    ).toContain('must not exceed maximumPerMinute');

    const abort = (c: Record<string, unknown>) =>
      check((v) =>
        checkAbortConfig(v, 'a', {
          criteriaList: [
            { failureType: 'FAILED', action: 'CANCEL', thresholdPercentage: 10, minNumberOfExecutedThings: 1, ...c },
          ],
        }),
      );
    expect(abort({})).toBeUndefined();
    expect(abort({ thresholdPercentage: 12.345 })).toContain('two decimal places');
    expect(abort({ failureType: 'SUCCEEDED' })).toContain('enum value set');
    expect(abort({ action: 'PAUSE' })).toContain('[CANCEL]');
    expect(abort({ minNumberOfExecutedThings: 0 })).toContain('minNumberOfExecutedThings');
    expect(check((v) => checkAbortConfig(v, 'a', { criteriaList: [] }))).toContain('length greater than or equal to 1');

    const retry = (list: unknown[]) => check((v) => checkRetryConfig(v, 'r', { criteriaList: list }));
    expect(retry([{ failureType: 'FAILED', numberOfRetries: 10 }])).toBeUndefined();
    expect(
      retry([
        { failureType: 'FAILED', numberOfRetries: 6 },
        { failureType: 'TIMED_OUT', numberOfRetries: 5 },
      ]),
    ).toContain('at most 10');
    expect(
      retry([
        { failureType: 'FAILED', numberOfRetries: 1 },
        { failureType: 'FAILED', numberOfRetries: 1 },
      ]),
    ).toContain('only once');
    expect(retry([{ failureType: 'REJECTED', numberOfRetries: 1 }])).toContain('enum value set');
  });

  it('checks scheduling windows against the clock', () => {
    const sched = (s: unknown) => check((v) => checkSchedulingConfig(v, 's', s, NOW));
    expect(parseScheduleTime('2030-01-01T01:00')).toBe(NOW + 3600_000);
    expect(parseScheduleTime('2030-01-01T01:00:30+01:00')).toBe(NOW + 30_000);
    expect(parseScheduleTime('tomorrow')).toBeUndefined();
    expect(
      sched({ startTime: '2030-01-01T00:31', endTime: '2030-01-01T01:01', endBehavior: 'CANCEL' }),
    ).toBeUndefined();
    expect(sched({ startTime: '2030-01-01T00:29' })).toContain('30 minutes and 1 year');
    expect(sched({ startTime: '2031-02-01T00:00' })).toContain('30 minutes and 1 year');
    expect(sched({ startTime: '2030-01-01T01:00', endTime: '2030-01-01T01:10' })).toContain('after startTime');
    expect(sched({ startTime: 'soon' })).toContain('date and time');
    expect(sched({ endBehavior: 'EXPLODE' })).toContain('STOP_ROLLOUT');
    expect(
      sched({ maintenanceWindows: [{ startTime: 'cron(0 22 ? * SAT *)', durationInMinutes: 1430 }] }),
    ).toBeUndefined();
    expect(sched({ maintenanceWindows: [{ startTime: 'every saturday', durationInMinutes: 60 }] })).toContain('cron');
    expect(sched({ maintenanceWindows: [{ startTime: 'cron(0 22 ? * SAT *)', durationInMinutes: 1431 }] })).toContain(
      'less than or equal to 1430',
    );
  });

  it('validates the stagedRollout extension', () => {
    const staged = (s: unknown) => check((v) => checkStagedRollout(v, 'stagedRollout', s));
    const ok = {
      waves: [{ count: 10 }, { percentage: 25 }, { percentage: 75 }],
      successThresholdPercentage: 95,
      onGateFailure: 'PAUSE',
    };
    expect(staged(ok)).toBeUndefined();
    expect(staged({ ...ok, waves: [] })).toContain('length greater than or equal to 1');
    expect(staged({ ...ok, waves: [{ count: 1, percentage: 5 }] })).toContain('exactly one of count and percentage');
    expect(staged({ ...ok, waves: [{}] })).toContain('exactly one of count and percentage');
    expect(staged({ ...ok, waves: [{ percentage: 60 }, { percentage: 50 }] })).toContain('add up to at most 100');
    expect(staged({ ...ok, onGateFailure: 'RETRY' })).toContain('[PAUSE, ABORT]');
    expect(staged({ ...ok, successThresholdPercentage: 101 })).toContain('successThresholdPercentage');
    expect(staged({ waves: [{ count: 1 }] })).toContain("Value null at 'stagedRollout.onGateFailure'");
  });

  it('takes JSON object documents up to 32 KB', () => {
    expect(() => checkDocument(JSON.stringify({ a: 'x'.repeat(32_760) }))).not.toThrow(); // exactly 32,768 bytes
    expect(() => checkDocument(JSON.stringify({ a: 'x'.repeat(32_761) }))).toThrow(/32768 bytes/);
    // Bytes, not characters: 11,000 three-byte characters are over the limit.
    expect(() => checkDocument(JSON.stringify({ a: '€'.repeat(11_000) }))).toThrow(/bytes/);
    expect(() => checkDocument('[1, 2]')).toThrow(/JSON object/);
    expect(() => checkDocument('{oops}')).toThrow(/not valid JSON/);
  });

  it('fills managed template parameters, escaping them for JSON', () => {
    const run = findManaged('AWS-Run-Command')!;
    const doc = substituteParameters(run, { command: 'echo,"quoted" \\ back' });
    expect(JSON.parse(doc).steps[0].action).toMatchObject({
      input: { command: 'echo,"quoted" \\ back' },
      runAsUser: '',
    });
    expect(() => substituteParameters(run, {})).toThrow(/'command' is required/);
    expect(() => substituteParameters(run, { command: 'ls', colour: 'red' })).toThrow(/no parameter 'colour'/);
    expect(() => substituteParameters(run, { command: 'ls', runAsUser: 'not a user!' })).toThrow(/must match/);
  });
});
