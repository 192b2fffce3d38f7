import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/postgres.js';
import { schedulerFixture, type SchedulerFixture } from '../helpers/scheduler-fixture.js';

const MIN = 60_000;

describe.each(DIALECTS)('rollout rate and release (spec 3.5) on %s', (dialect) => {
  let f: SchedulerFixture;
  beforeAll(async () => {
    f = await schedulerFixture(dialect);
  });
  afterAll(async () => {
    await f?.close();
  });

  /** A group of `n` things named <prefix>-00..; returns the thing names. */
  async function fleet(prefix: string, n: number): Promise<string[]> {
    await f.groups.createThingGroup({ thingGroupName: prefix });
    const names = Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(2, '0')}`);
    for (const thingName of names) {
      await f.things.createThing({ thingName });
      await f.groups.addThingToThingGroup({ thingGroupName: prefix, thingName });
    }
    return names;
  }
  const seeing = async (jobId: string, things: string[]) => {
    const out: string[] = [];
    for (const t of things) {
      const p = await f.deviceJobs.getPendingJobExecutions(t);
      if (p.queuedJobs.some((s) => s.jobId === jobId)) out.push(t);
    }
    return out;
  };

  it('holds executions back from devices until released, then releases maximumPerMinute per minute', async () => {
    const things = await fleet('rate', 25);
    await f.clearOutbox();
    const t0 = f.now();
    await f.jobs.createJob({
      jobId: 'rate-job',
      targets: [f.groupArn('rate')],
      document: '{}',
      jobExecutionsRolloutConfig: { maximumPerMinute: 10 },
    });
    // The control plane counts and lists them; no device sees one, and nothing is announced.
    expect((await f.jobs.describeJob('rate-job')).job).toMatchObject({
      status: 'IN_PROGRESS',
      isConcurrent: true,
      jobProcessDetails: expect.objectContaining({ numberOfQueuedThings: 25 }),
    });
    const listed = await f.jobExecutions.listJobExecutionsForJob({ jobId: 'rate-job', maxResults: 100 });
    expect(listed.executionSummaries).toHaveLength(25);
    expect(await f.announced()).toEqual([]);
    const t = things[0]!;
    expect(await f.deviceJobs.getPendingJobExecutions(t)).toEqual({ inProgressJobs: [], queuedJobs: [] });
    expect(await f.deviceJobs.pendingState(t)).toEqual({ pending: {} });
    expect(await f.deviceJobs.describeJobExecution(t, '$next')).toEqual({});
    await expect(f.deviceJobs.describeJobExecution(t, 'rate-job')).rejects.toMatchObject({ code: 'ResourceNotFound' });
    await expect(f.deviceJobs.updateJobExecution(t, 'rate-job', { status: 'IN_PROGRESS' })).rejects.toMatchObject({
      code: 'ResourceNotFound',
    });
    expect(await f.deviceJobs.startNextPendingJobExecution(t)).toEqual({});

    // First tick: one minute's worth at once, in creation order; announced in the same commit.
    f.clock.set(t0 + 1000);
    expect((await f.scheduler.tick(f.now())).released).toBe(10);
    const first = await seeing('rate-job', things);
    expect(first).toEqual(things.slice(0, 10));
    expect(await f.announced()).toEqual(things.slice(0, 10));
    const head = await f.deviceJobs.describeJobExecution(things[0]!, '$next');
    expect(head.execution).toMatchObject({
      jobId: 'rate-job',
      status: 'QUEUED',
      queuedAt: Math.floor((t0 + 1000) / 1000),
    });
    // The rate is a maximum over every 60-second window (issue 15): nothing more until the first
    // releases are a full minute old, then the next minute's worth at once.
    expect((await f.scheduler.tick(f.now())).released).toBe(0);
    f.clock.set(t0 + 1000 + MIN / 2);
    expect((await f.scheduler.tick(f.now())).released).toBe(0);
    f.clock.set(t0 + 1000 + MIN - 1);
    expect((await f.scheduler.tick(f.now())).released).toBe(0);
    f.clock.set(t0 + 1000 + MIN);
    expect((await f.scheduler.tick(f.now())).released).toBe(10);
    expect(await seeing('rate-job', things)).toEqual(things.slice(0, 20));
    // Ten quiet minutes allow no more than one minute's worth: the last 5 go at once.
    f.clock.set(t0 + 11 * MIN);
    expect((await f.scheduler.tick(f.now())).released).toBe(5);
    expect(await seeing('rate-job', things)).toEqual(things);
    const done = (await f.jobs.describeJob('rate-job')).job;
    expect(done.isConcurrent).toBe(false);
    // Devices can work them now: a started execution runs normally.
    const started = await f.deviceJobs.startNextPendingJobExecution(things[24]!);
    expect(started.execution).toMatchObject({ jobId: 'rate-job', status: 'IN_PROGRESS' });
  });

  it('raises an exponential rate step by step as things are notified', async () => {
    const things = await fleet('expo', 30);
    await f.jobs.createJob({
      jobId: 'expo-job',
      targets: [f.groupArn('expo')],
      document: '{}',
      jobExecutionsRolloutConfig: {
        maximumPerMinute: 8,
        exponentialRate: {
          baseRatePerMinute: 2,
          incrementFactor: 2,
          rateIncreaseCriteria: { numberOfNotifiedThings: 4 },
        },
      },
    });
    const t0 = f.now();
    const perMinute: number[] = [];
    for (let m = 0; m < 7; m++) {
      f.clock.set(t0 + m * MIN);
      perMinute.push((await f.scheduler.tick(f.now())).released);
    }
    // 2/min below 4 notified, 4/min from 4, 8/min (the maximum) from 8.
    expect(perMinute).toEqual([2, 2, 4, 8, 8, 6, 0]);
    expect(await seeing('expo-job', things)).toHaveLength(30);
  });

  it('raises it on succeeded things when rateIncreaseCriteria counts those', async () => {
    const things = await fleet('succ', 12);
    await f.jobs.createJob({
      jobId: 'succ-job',
      targets: [f.groupArn('succ')],
      document: '{}',
      jobExecutionsRolloutConfig: {
        exponentialRate: {
          baseRatePerMinute: 1,
          incrementFactor: 3,
          rateIncreaseCriteria: { numberOfSucceededThings: 2 },
        },
      },
    });
    const t0 = f.now();
    expect((await f.scheduler.tick(t0)).released).toBe(1);
    f.clock.set(t0 + MIN);
    expect((await f.scheduler.tick(f.now())).released).toBe(1);
    for (const t of await seeing('succ-job', things)) {
      await f.deviceJobs.updateJobExecution(t, 'succ-job', { status: 'SUCCEEDED' });
    }
    // Two succeeded: 3 per minute from now on.
    f.clock.set(t0 + 2 * MIN);
    expect((await f.scheduler.tick(f.now())).released).toBe(3);
  });

  it('releases jobs without a rollout config at creation, as before', async () => {
    const things = await fleet('plain', 3);
    await f.clearOutbox();
    await f.jobs.createJob({ jobId: 'plain-job', targets: [f.groupArn('plain')], document: '{}' });
    expect(await seeing('plain-job', things)).toEqual(things);
    expect(await f.announced()).toEqual(things);
    expect((await f.jobs.describeJob('plain-job')).job.isConcurrent).toBe(false);
  });

  it('treats a CONTINUOUS join as immediate and a retry as released, both outside the rate', async () => {
    await fleet('cont', 2);
    await f.jobs.createJob({
      jobId: 'cont-job',
      targets: [f.groupArn('cont')],
      document: '{}',
      targetSelection: 'CONTINUOUS',
      jobExecutionsRolloutConfig: { maximumPerMinute: 1 },
      jobExecutionsRetryConfig: { criteriaList: [{ failureType: 'FAILED', numberOfRetries: 1 }] },
    });
    expect((await f.scheduler.tick(f.now())).released).toBe(1);
    await f.things.createThing({ thingName: 'cont-late' });
    await f.groups.addThingToThingGroup({ thingGroupName: 'cont', thingName: 'cont-late' });
    expect((await f.deviceJobs.getPendingJobExecutions('cont-late')).queuedJobs).toHaveLength(1);
    await f.deviceJobs.updateJobExecution('cont-late', 'cont-job', { status: 'FAILED' });
    const retry = await f.deviceJobs.describeJobExecution('cont-late', '$next');
    expect(retry.execution).toMatchObject({ jobId: 'cont-job', status: 'QUEUED', executionNumber: 2 });
    // The rate still holds the second original thing back within the minute.
    expect((await f.scheduler.tick(f.now())).released).toBe(0);
  });
});
