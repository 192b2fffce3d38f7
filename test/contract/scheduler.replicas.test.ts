import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { schedulerFixture, type Replica, type SchedulerFixture } from '../helpers/scheduler-fixture.js';

const MIN = 60_000;

/** Two scheduler replicas on one PostgreSQL database (DESIGN.md: scaled out), ticking at once. */
describe('two schedulers on one PostgreSQL database', () => {
  let f: SchedulerFixture;
  let other: Replica;
  beforeAll(async () => {
    f = await schedulerFixture('postgres');
    other = await f.replica();
  });
  afterAll(async () => {
    await f?.close();
  });

  async function fleet(prefix: string, n: number): Promise<string[]> {
    await f.groups.createThingGroup({ thingGroupName: prefix });
    const names = Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(3, '0')}`);
    for (const thingName of names) {
      await f.things.createThing({ thingName });
      await f.groups.addThingToThingGroup({ thingGroupName: prefix, thingName });
    }
    return names;
  }
  /** Both replicas tick `times` times each, all concurrently, at the same instant. */
  async function tickBoth(now: number, times = 3) {
    const runs = Array.from({ length: times }, () => [f.scheduler.tick(now), other.scheduler.tick(now)]).flat();
    const results = await Promise.all(runs);
    return {
      released: results.reduce((s, r) => s + r.released, 0),
      timedOut: results.reduce((s, r) => s + r.timedOut, 0),
      skipped: results.reduce((s, r) => s + r.skipped.length, 0),
    };
  }
  const announcedCount = async (things: string[]) => {
    const rows = await f.announced();
    return rows.filter((t) => things.includes(t)).length;
  };

  it('never releases an execution twice nor more than the rate allows', async () => {
    const things = await fleet('rep', 120);
    await f.clearOutbox();
    await f.jobs.createJob({
      jobId: 'rep-rate',
      targets: [f.groupArn('rep')],
      document: '{}',
      jobExecutionsRolloutConfig: { maximumPerMinute: 25 },
    });
    const t0 = f.now();
    const perMinute: number[] = [];
    let skipped = 0;
    for (let m = 0; m < 6; m++) {
      const r = await tickBoth(t0 + m * MIN);
      perMinute.push(r.released);
      skipped += r.skipped;
    }
    expect(perMinute).toEqual([25, 25, 25, 25, 20, 0]);
    // The lease made the replicas take turns (some ticks found the job held by the other one).
    expect(skipped).toBeGreaterThan(0);
    const released = await f.store.db
      .selectFrom('job_executions')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('job_id', '=', 'rep-rate')
      .where('released_at', 'is not', null)
      .executeTakeFirstOrThrow();
    expect(Number(released.n)).toBe(120);
    // Each thing was announced exactly once: no release happened twice.
    expect(await announcedCount(things)).toBe(120);
    const counts = await f.store.db
      .selectFrom('job_executions')
      .select(['released_at', (eb) => eb.fn.countAll<number>().as('n')])
      .where('job_id', '=', 'rep-rate')
      .groupBy('released_at')
      .orderBy('released_at')
      .execute();
    expect(counts.map((c) => Number(c.n))).toEqual([25, 25, 25, 25, 20]);
  });

  it('times out and retries each execution exactly once', async () => {
    const things = await fleet('rto', 40);
    await f.eventConfigurations.updateEventConfigurations({
      eventConfigurations: { JOB_EXECUTION: { Enabled: true } },
    });
    await f.jobs.createJob({
      jobId: 'rep-timeout',
      targets: [f.groupArn('rto')],
      document: '{}',
      timeoutConfig: { inProgressTimeoutInMinutes: 1 },
      jobExecutionsRetryConfig: { criteriaList: [{ failureType: 'TIMED_OUT', numberOfRetries: 1 }] },
    });
    for (const t of things) await f.deviceJobs.startNextPendingJobExecution(t);
    await f.clearOutbox();
    const r = await tickBoth(f.now() + MIN, 2);
    expect(r.timedOut).toBe(40);
    const rows = await f.store.db
      .selectFrom('job_executions')
      .select(['status', 'execution_number', (eb) => eb.fn.countAll<number>().as('n')])
      .where('job_id', '=', 'rep-timeout')
      .groupBy(['status', 'execution_number'])
      .orderBy('execution_number')
      .execute();
    expect(rows.map((x) => [x.status, x.execution_number, Number(x.n)])).toEqual([
      ['TIMED_OUT', 1, 40],
      ['QUEUED', 2, 40],
    ]);
    expect((await f.published()).filter((p) => p.topic.endsWith('/timed_out'))).toHaveLength(40);
    // One announcement for the timeout and one for the retry, per thing.
    expect(await announcedCount(things)).toBe(80);
    // Things, by their latest execution (issue 15): all 40 wait for their retry; the attempts apart.
    const { job } = await f.jobs.describeJob('rep-timeout');
    expect(job.jobProcessDetails).toMatchObject({
      numberOfTimedOutThings: 0,
      numberOfQueuedThings: 40,
      numberOfInProgressThings: 0,
    });
    expect(job.attemptDetails).toEqual({
      numberOfRetryAttempts: 40,
      numberOfFailedAttempts: 0,
      numberOfTimedOutAttempts: 40,
    });
  });

  it('starts a scheduled job once', async () => {
    const things = await fleet('rsched', 10);
    const start = f.now() + 31 * MIN;
    await f.jobs.createJob({
      jobId: 'rep-sched',
      targets: [f.groupArn('rsched')],
      document: '{}',
      schedulingConfig: { startTime: new Date(start).toISOString().slice(0, 16) },
    });
    await f.clearOutbox();
    const results = await Promise.all([f.scheduler.tick(start), other.scheduler.tick(start)]);
    expect(results.flatMap((x) => x.started)).toEqual(['rep-sched']);
    const n = await f.jobExecutions.listJobExecutionsForJob({ jobId: 'rep-sched', maxResults: 100 });
    expect(n.executionSummaries).toHaveLength(10);
    expect(await announcedCount(things)).toBe(10);
  });
});
