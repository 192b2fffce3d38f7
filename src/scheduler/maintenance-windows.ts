import { CronExpressionParser } from 'cron-parser';
import type { MaintenanceWindow } from '../jobs/job-configs.js';

/**
 * Maintenance windows (spec 3.9): `cron(Minutes Hours Day-of-month Month Day-of-week Year)` in
 * UTC, the AWS (EventBridge) dialect, plus durationInMinutes. A window occurrence is the
 * half-open interval [start, start + duration): releasing is allowed at its first minute and no
 * longer at its end.
 */

const MINUTE = 60_000;
/** How far ahead the next-start search looks (schedules end at most 2 years out, spec 3.9). */
const HORIZON = 2 * 366 * 24 * 60 * MINUTE;
const MAX_STEPS = 10_000;

export interface ParsedWindow {
  /** The five-field expression cron-parser reads. */
  cron: string;
  years: (year: number) => boolean;
  durationMs: number;
}

/** AWS day-of-week numbers are 1-7 with 1 = SUN; cron-parser's are 0-6 with 0 = SUN. */
function convertDayOfWeek(field: string): string {
  if (field === '?') return '*';
  return field.replace(/(^|[,\-#/])([1-7])(?=$|[,\-#L/])/g, (_m, sep: string, d: string) => {
    // After '#' comes the nth-occurrence count and after '/' a step, not a day.
    if (sep === '#' || sep === '/') return `${sep}${d}`;
    return `${sep}${Number(d) - 1}`;
  });
}

function yearMatcher(field: string): (year: number) => boolean {
  if (field === '*' || field === '?') return () => true;
  const parts = field.split(',').map((part) => {
    const m = /^(\d{4})(?:-(\d{4}))?(?:\/(\d+))?$/.exec(part);
    if (!m) throw new Error(`unsupported year field '${field}'`);
    const from = Number(m[1]);
    const to = m[2] !== undefined ? Number(m[2]) : m[3] !== undefined ? 9999 : from;
    const step = m[3] !== undefined ? Number(m[3]) : 1;
    return (y: number) => y >= from && y <= to && (y - from) % step === 0;
  });
  return (y) => parts.some((p) => p(y));
}

/** Parses `cron(...)`; throws on an expression cron-parser cannot read (e.g. the `W` modifier). */
export function parseWindow(w: MaintenanceWindow): ParsedWindow {
  const m = /^cron\((.*)\)$/.exec(w.startTime.trim());
  const fields = m ? m[1]!.trim().split(/\s+/) : [];
  if (fields.length !== 6) throw new Error(`'${w.startTime}' is not cron(min hour day month weekday year)`);
  const [minute, hour, dom, month, dow, year] = fields as [string, string, string, string, string, string];
  const cron = [minute, hour, dom === '?' ? '*' : dom, month, convertDayOfWeek(dow)].join(' ');
  CronExpressionParser.parse(cron, { tz: 'UTC', strict: false });
  return { cron, years: yearMatcher(year), durationMs: w.durationInMinutes * MINUTE };
}

/** The start of the occurrence of `w` that contains `now`, if any. */
export function openOccurrence(w: ParsedWindow, now: number): number | undefined {
  // prev() from now + 1 ms yields the latest start <= now.
  const it = CronExpressionParser.parse(w.cron, { tz: 'UTC', currentDate: new Date(now + 1) });
  for (;;) {
    const start = it.prev().getTime();
    if (start + w.durationMs <= now) return undefined;
    if (w.years(new Date(start).getUTCFullYear())) return start;
  }
}

export function isOpen(windows: readonly ParsedWindow[], now: number): boolean {
  return windows.some((w) => openOccurrence(w, now) !== undefined);
}

/** The next `n` window starts strictly after `now`, over all windows, sorted, without duplicates. */
export function nextStarts(windows: readonly ParsedWindow[], now: number, n: number): number[] {
  const all = new Set<number>();
  for (const w of windows) {
    const it = CronExpressionParser.parse(w.cron, {
      tz: 'UTC',
      currentDate: new Date(now),
      endDate: new Date(now + HORIZON),
    });
    let found = 0;
    // A year field that excludes most occurrences must not turn this into a long walk.
    for (let tries = 0; found < n && tries < MAX_STEPS && it.hasNext(); tries++) {
      const start = it.next().getTime();
      if (!w.years(new Date(start).getUTCFullYear())) continue;
      all.add(start);
      found++;
    }
  }
  return [...all].sort((a, b) => a - b).slice(0, n);
}

/** The schedule time format of spec 3.9 (`YYYY-MM-DDTHH:MM`, UTC). */
export const scheduleTime = (ms: number): string => new Date(ms).toISOString().slice(0, 16);
