import { describe, expect, it } from 'vitest';
import { checkMaintenanceWindows } from '../../../src/jobs/job-configs.js';
import {
  isOpen,
  nextStarts,
  openOccurrence,
  parseWindow,
  scheduleTime,
} from '../../../src/scheduler/maintenance-windows.js';
import { validate } from '../../../src/validation.js';

const at = (iso: string) => Date.parse(iso);
// 2030-01-05 is a Saturday.
const saturday = parseWindow({ startTime: 'cron(0 22 ? * SAT *)', durationInMinutes: 60 });

describe('maintenance windows (spec 3.9)', () => {
  it('are open from the start minute up to, not including, start + duration', () => {
    expect(isOpen([saturday], at('2030-01-05T21:59:59.999Z'))).toBe(false);
    expect(isOpen([saturday], at('2030-01-05T22:00:00.000Z'))).toBe(true);
    expect(openOccurrence(saturday, at('2030-01-05T22:59:59.999Z'))).toBe(at('2030-01-05T22:00:00Z'));
    expect(isOpen([saturday], at('2030-01-05T23:00:00.000Z'))).toBe(false);
    expect(isOpen([saturday], at('2030-01-06T22:30:00Z'))).toBe(false);
  });

  it('read AWS day-of-week numbers (1 = SUN ... 7 = SAT), ranges and nth weekday', () => {
    const seven = parseWindow({ startTime: 'cron(0 22 ? * 7 *)', durationInMinutes: 60 });
    expect(isOpen([seven], at('2030-01-05T22:10:00Z'))).toBe(true);
    const sunday = parseWindow({ startTime: 'cron(0 3 ? * 1 *)', durationInMinutes: 30 });
    expect(isOpen([sunday], at('2030-01-06T03:29:00Z'))).toBe(true);
    const weekdays = parseWindow({ startTime: 'cron(0 1 ? * 2-6 *)', durationInMinutes: 10 });
    expect(isOpen([weekdays], at('2030-01-07T01:05:00Z'))).toBe(true); // Monday
    expect(isOpen([weekdays], at('2030-01-06T01:05:00Z'))).toBe(false); // Sunday
    const firstFriday = parseWindow({ startTime: 'cron(0 12 ? * 6#1 *)', durationInMinutes: 60 });
    expect(nextStarts([firstFriday], at('2030-01-01T00:00:00Z'), 2).map(scheduleTime)).toEqual([
      '2030-01-04T12:00',
      '2030-02-01T12:00',
    ]);
  });

  it('span midnight and honour the year field', () => {
    const late = parseWindow({ startTime: 'cron(30 23 * * ? *)', durationInMinutes: 60 });
    expect(isOpen([late], at('2030-03-02T00:29:00Z'))).toBe(true);
    expect(isOpen([late], at('2030-03-02T00:30:00Z'))).toBe(false);
    const later = parseWindow({ startTime: 'cron(0 22 ? * SAT 2031)', durationInMinutes: 60 });
    expect(isOpen([later], at('2030-01-05T22:10:00Z'))).toBe(false);
    expect(isOpen([later], at('2031-01-04T22:10:00Z'))).toBe(true);
    expect(nextStarts([later], at('2030-01-01T00:00:00Z'), 1).map(scheduleTime)).toEqual(['2031-01-04T22:00']);
  });

  it('list the next 7 starts over all windows, sorted and without duplicates', () => {
    const daily = parseWindow({ startTime: 'cron(0 22 * * ? *)', durationInMinutes: 30 });
    const starts = nextStarts([saturday, daily], at('2030-01-03T23:00:00Z'), 7).map(scheduleTime);
    expect(starts).toEqual([
      '2030-01-04T22:00',
      '2030-01-05T22:00',
      '2030-01-06T22:00',
      '2030-01-07T22:00',
      '2030-01-08T22:00',
      '2030-01-09T22:00',
      '2030-01-10T22:00',
    ]);
    // A start exactly at now is not "next".
    expect(nextStarts([saturday], at('2030-01-05T22:00:00Z'), 1).map(scheduleTime)).toEqual(['2030-01-12T22:00']);
  });

  it('refuses expressions it cannot read', () => {
    expect(() => parseWindow({ startTime: 'cron(0 22 15W * ? *)', durationInMinutes: 60 })).toThrow();
    expect(() => parseWindow({ startTime: 'cron(0 22 * * ?)', durationInMinutes: 60 })).toThrow();
    expect(() => parseWindow({ startTime: 'rate(5 minutes)', durationInMinutes: 60 })).toThrow();
  });
});

describe('CreateJob validation of maintenance windows', () => {
  const check = (startTime: string) => () =>
    validate((v) => checkMaintenanceWindows(v, 'maintenanceWindows', [{ startTime, durationInMinutes: 30 }]));

  it('accepts what the scheduler can compute and refuses the rest with an AWS-style message', () => {
    expect(check('cron(0 22 ? * SAT *)')).not.toThrow();
    expect(check('cron(0/15 1-3 ? * MON-FRI 2030-2031)')).not.toThrow();
    expect(check('cron(0 22 15W * ? *)')).toThrow(/maintenanceWindows.1.member.startTime.*the scheduler supports/);
    expect(check('cron(0 22 ? * SAT)')).toThrow(/like cron\(0 22 \? \* SAT \*\)/);
  });
});
