/**
 * The rollout rate as a hard maximum (spec 3.5 "maximumPerMinute: the maximum number of things
 * that will be notified of a pending job, per minute"; issue 15): however ticks and arrivals fall,
 * no 60-second window [a, a + 60 s) ever holds more releases than the rate, from the first minute
 * on. The engine keeps the releases of the last minute as a log and releases at most what the log
 * leaves of the rate, so the first minute's things go at once and the next ones exactly when the
 * oldest release of the window ages out. (The token bucket this replaced started full and also
 * refilled during the first minute, letting through up to twice the rate after an idle minute.)
 * Pure: no I/O, no clock.
 */

export const WINDOW_MS = 60_000;

/** Releases as [epochMs, count], oldest first; only the last WINDOW_MS matter. */
export type ReleaseLog = readonly (readonly [number, number])[];

/** The entries that still count at `now`: released within (now - 60 s, now] (or later, if clocks ran back). */
export const recent = (log: ReleaseLog, now: number): ReleaseLog => log.filter(([at]) => at > now - WINDOW_MS);

export const releasedInWindow = (log: ReleaseLog, now: number): number =>
  recent(log, now).reduce((n, [, c]) => n + c, 0);

/** Whole releases a (possibly fractional, exponential) rate allows per minute; an epsilon absorbs float residue. */
export const wholeRate = (rate: number): number =>
  rate === Infinity ? Number.MAX_SAFE_INTEGER : Math.max(0, Math.floor(rate + 1e-9));

/** How many may be released at `now` without any 60-second window exceeding `rate`. */
export function allowance(log: ReleaseLog, rate: number, now: number): number {
  if (rate === Infinity) return Number.MAX_SAFE_INTEGER;
  return Math.max(0, wholeRate(rate) - releasedInWindow(log, now));
}

/** The log after releasing `n` at `now` (pruned to the window). */
export function record(log: ReleaseLog, now: number, n: number): ReleaseLog {
  const kept = recent(log, now);
  if (n <= 0) return kept;
  const last = kept[kept.length - 1];
  if (last && last[0] === now) return [...kept.slice(0, -1), [now, last[1] + n]];
  return [...kept, [now, n]];
}

/** When the rate next leaves room for a release (the oldest release of the window ages out); now if it does already. */
export function nextRoomAt(log: ReleaseLog, rate: number, now: number): number {
  if (allowance(log, rate, now) > 0) return now;
  const window = recent(log, now);
  // Releases age out oldest first; room opens once enough have left for the count to drop below the rate.
  let left = releasedInWindow(log, now);
  for (const [at, c] of window) {
    left -= c;
    if (left < wholeRate(rate)) return at + WINDOW_MS;
  }
  return now + WINDOW_MS;
}

export function parseLog(text: string | null | undefined): ReleaseLog {
  if (!text) return [];
  const v = JSON.parse(text) as unknown;
  return Array.isArray(v)
    ? v.filter((e): e is [number, number] => Array.isArray(e) && typeof e[0] === 'number' && typeof e[1] === 'number')
    : [];
}
