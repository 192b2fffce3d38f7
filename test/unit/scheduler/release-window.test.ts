import { describe, expect, it } from 'vitest';
import type { RolloutConfig } from '../../../src/jobs/job-configs.js';
import {
  allowance,
  nextRoomAt,
  parseLog,
  record,
  WINDOW_MS,
  type ReleaseLog,
} from '../../../src/scheduler/release-window.js';
import { ratePerMinute } from '../../../src/scheduler/rollout-math.js';

const MIN = 60_000;

/** A seeded generator (mulberry32), so a failing case can be replayed from its seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Release {
  at: number;
  n: number;
  rate: number;
}

/**
 * The engine's release rule in fake time: things arrive at random instants, ticks come at random
 * instants (bursts, gaps of minutes, several at one instant); each tick releases what is waiting,
 * up to the allowance of the rate at that moment.
 */
function simulate(random: () => number, config: RolloutConfig) {
  const arrivals: number[] = [];
  let t = 0;
  const total = 1 + Math.floor(random() * 400);
  for (let i = 0; i < total; i++) {
    // Mostly bursts at one instant, sometimes long quiet gaps.
    const r = random();
    t += r < 0.5 ? 0 : r < 0.9 ? Math.floor(random() * 10_000) : Math.floor(random() * 5 * MIN);
    arrivals.push(t);
  }
  let log: ReleaseLog = [];
  let released = 0;
  let notified = 0;
  const releases: Release[] = [];
  // Ticks until everything is out (at least one thing a minute, so bounded by the arrivals).
  const end = t + (total + 5) * 4 * MIN;
  for (let now = 0; released < total && now < end;) {
    const r = random();
    now += r < 0.1 ? 0 : r < 0.8 ? Math.floor(random() * 3000) : Math.floor(random() * 3 * MIN);
    const waiting = arrivals.filter((a) => a <= now).length - released;
    const rate = ratePerMinute(config, { notified, succeeded: 0 });
    const n = Math.min(waiting, allowance(log, rate, now));
    log = record(log, now, n);
    released += n;
    notified += n;
    if (n > 0) releases.push({ at: now, n, rate });
  }
  return { releases, released, total };
}

/** The most releases in any window [a, a + 60 s): the worst window starts at some release. */
function worstWindow(releases: Release[]): { count: number; rateAtEnd: number } {
  let worst = { count: 0, rateAtEnd: Infinity };
  for (const start of releases) {
    const inside = releases.filter((r) => r.at >= start.at && r.at < start.at + WINDOW_MS);
    const count = inside.reduce((s, r) => s + r.n, 0);
    const rateAtEnd = Math.max(...inside.map((r) => r.rate));
    if (count - rateAtEnd > worst.count - worst.rateAtEnd) worst = { count, rateAtEnd };
  }
  return worst;
}

describe('the rate is a maximum over every 60-second window (spec 3.5, issue 15)', () => {
  it('releases the first minute at once, then exactly when the oldest release ages out', () => {
    let log: ReleaseLog = [];
    expect(allowance(log, 10, 0)).toBe(10);
    log = record(log, 0, 10);
    expect(allowance(log, 10, 1000)).toBe(0);
    expect(allowance(log, 10, MIN - 1)).toBe(0);
    expect(nextRoomAt(log, 10, 1000)).toBe(MIN);
    expect(allowance(log, 10, MIN)).toBe(10);
    // Spread releases age out one by one.
    log = record(record(record([], 0, 4), 20_000, 3), 40_000, 3);
    expect(allowance(log, 10, 59_999)).toBe(0);
    expect(nextRoomAt(log, 10, 59_999)).toBe(MIN);
    expect(allowance(log, 10, MIN)).toBe(4);
    expect(allowance(log, 10, 80_000)).toBe(7);
    // The table, for maximumPerMinute 10 on 30 things: at most 10 visible at 50 s, 20 at 110 s.
    log = [];
    let seen = 0;
    const visible: Record<number, number> = {};
    for (let s = 0; s <= 110; s++) {
      const n = Math.min(30 - seen, allowance(log, 10, s * 1000));
      log = record(log, s * 1000, n);
      seen += n;
      visible[s] = seen;
    }
    expect([visible[2], visible[20], visible[50], visible[65], visible[80], visible[110]]).toEqual([
      10, 10, 10, 20, 20, 20,
    ]);
  });

  it('keeps only the last minute in the log and merges releases of one instant', () => {
    let log = record([], 0, 3);
    log = record(log, 0, 2);
    expect(log).toEqual([[0, 5]]);
    log = record(log, 30_000, 1);
    expect(record(log, MIN + 1, 0)).toEqual([[30_000, 1]]);
    expect(parseLog(JSON.stringify(log))).toEqual(log);
    expect(parseLog(null)).toEqual([]);
    expect(allowance([], Infinity, 0)).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('never exceeds a constant rate in any window, whatever the arrivals and ticks (1000 random cases)', () => {
    for (let seed = 1; seed <= 1000; seed++) {
      const random = rng(seed);
      const rate = 1 + Math.floor(random() * 30);
      const sim = simulate(random, { maximumPerMinute: rate });
      const worst = worstWindow(sim.releases);
      expect(worst.count, `seed ${seed}`).toBeLessThanOrEqual(rate);
      // Liveness: everything that arrived goes out.
      expect(sim.released, `seed ${seed}`).toBe(sim.total);
    }
  });

  it('never exceeds the current exponential rate in any window (1000 random cases)', () => {
    for (let seed = 1; seed <= 1000; seed++) {
      const random = rng(seed * 7919);
      const config: RolloutConfig = {
        maximumPerMinute: 5 + Math.floor(random() * 100),
        exponentialRate: {
          baseRatePerMinute: 1 + Math.floor(random() * 10),
          incrementFactor: 1.1 + Math.round(random() * 39) / 10,
          rateIncreaseCriteria: { numberOfNotifiedThings: 1 + Math.floor(random() * 20) },
        },
      };
      const sim = simulate(random, config);
      const worst = worstWindow(sim.releases);
      expect(worst.count, `seed ${seed}`).toBeLessThanOrEqual(Math.floor(worst.rateAtEnd + 1e-9));
      expect(sim.released, `seed ${seed}`).toBe(sim.total);
    }
  });

  it('releases a first burst at once, up to the rate', () => {
    for (let seed = 1; seed <= 200; seed++) {
      const random = rng(seed);
      const rate = 1 + Math.floor(random() * 50);
      const waiting = 1 + Math.floor(random() * 100);
      expect(Math.min(waiting, allowance([], rate, 0))).toBe(Math.min(waiting, rate));
    }
  });
});
