import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WINDOW_MS } from '../../src/scheduler/release-window.js';
import { DIALECTS } from '../helpers/postgres.js';
import { schedulerFixture, type SchedulerFixture } from '../helpers/scheduler-fixture.js';

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

/**
 * spec 3.5, issue 15: maximumPerMinute holds for every 60-second window, from the first one on,
 * through the real engine and database in fake time: things arrive at random instants
 * (AssociateTargetsWithJob adding groups), the scheduler ticks at random instants (several at one
 * instant, gaps of seconds and of minutes), and no window [a, a + 60 s) of the stored release
 * times ever holds more than the rate.
 */
describe.each(DIALECTS)('the rollout rate over every 60-second window on %s', (dialect) => {
  let f: SchedulerFixture;
  beforeAll(async () => {
    f = await schedulerFixture(dialect);
  });
  afterAll(async () => {
    await f?.close();
  });

  async function group(name: string, n: number): Promise<void> {
    await f.groups.createThingGroup({ thingGroupName: name });
    for (let i = 0; i < n; i++) {
      await f.things.createThing({ thingName: `${name}-${i}` });
      await f.groups.addThingToThingGroup({ thingGroupName: name, thingName: `${name}-${i}` });
    }
  }

  it.each([1, 2])('holds for random arrivals and ticks (seed %i)', async (seed) => {
    const random = rng(seed * 104_729);
    const rate = 2 + Math.floor(random() * 6);
    const jobId = `win-${seed}`;
    const batches = 4 + Math.floor(random() * 3);
    for (let b = 0; b < batches; b++) await group(`${jobId}-g${b}`, 1 + Math.floor(random() * 8));
    await f.jobs.createJob({
      jobId,
      targets: [f.groupArn(`${jobId}-g0`)],
      document: '{}',
      // CONTINUOUS, so AssociateTargetsWithJob can bring more things in later.
      targetSelection: 'CONTINUOUS',
      jobExecutionsRolloutConfig: { maximumPerMinute: rate },
    });
    const t0 = f.now();
    let now = t0;
    let added = 1;
    for (let step = 0; step < 120; step++) {
      const r = random();
      now += r < 0.15 ? 0 : r < 0.85 ? Math.floor(random() * 15_000) : Math.floor(random() * 2 * MIN);
      f.clock.set(now);
      if (added < batches && random() < 0.08) {
        await f.jobs.associateTargetsWithJob({ jobId, targets: [f.groupArn(`${jobId}-g${added++}`)] });
      }
      await f.scheduler.tick(now);
    }
    const rows = await f.store.db
      .selectFrom('job_executions')
      .select('released_at')
      .where('job_id', '=', jobId)
      .where('released_at', 'is not', null)
      .execute();
    const times = rows.map((r) => Number(r.released_at)).sort((a, b) => a - b);
    expect(times.length).toBeGreaterThan(rate);
    for (const start of times) {
      const inWindow = times.filter((x) => x >= start && x < start + WINDOW_MS).length;
      expect(inWindow, `window from ${start - t0} ms`).toBeLessThanOrEqual(rate);
    }
    // The first tick released the first minute's things at once.
    expect(times.filter((x) => x === times[0]).length).toBe(Math.min(rate, times.length));
  });
});
