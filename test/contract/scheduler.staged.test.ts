import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/postgres.js';
import { schedulerFixture, type SchedulerFixture } from '../helpers/scheduler-fixture.js';

describe.each(DIALECTS)('staged rollouts with success gates (fleetjobs extension) on %s', (dialect) => {
  let f: SchedulerFixture;
  beforeAll(async () => {
    f = await schedulerFixture(dialect);
  });
  afterAll(async () => {
    await f?.close();
  });

  async function fleet(prefix: string, n: number): Promise<string[]> {
    await f.groups.createThingGroup({ thingGroupName: prefix });
    const names = Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(2, '0')}`);
    for (const thingName of names) {
      await f.things.createThing({ thingName });
      await f.groups.addThingToThingGroup({ thingGroupName: prefix, thingName });
    }
    return names;
  }
  const visible = async (jobId: string, things: string[]) => {
    const out: string[] = [];
    for (const t of things) {
      if ((await f.deviceJobs.getPendingJobExecutions(t)).queuedJobs.some((s) => s.jobId === jobId)) out.push(t);
    }
    return out;
  };
  const staged = async (jobId: string) => {
    const job = (await f.jobs.describeJob(jobId)).job as Record<string, unknown>;
    return {
      ...(job.stagedRolloutStatus as Record<string, unknown>),
      isConcurrent: job.isConcurrent,
      jobStatus: job.status,
    };
  };
  const tick = () => f.scheduler.tick(f.now());

  it('releases wave by wave, pauses on a failed gate and resumes only when told to', async () => {
    const things = await fleet('wave', 10);
    await f.jobs.createJob({
      jobId: 'waves',
      targets: [f.groupArn('wave')],
      document: '{}',
      stagedRollout: {
        waves: [{ count: 2 }, { percentage: 50 }],
        successThresholdPercentage: 50,
        onGateFailure: 'PAUSE',
      },
    });
    expect(await visible('waves', things)).toEqual([]);
    expect((await tick()).released).toBe(2);
    expect(await visible('waves', things)).toEqual(things.slice(0, 2));
    expect(await staged('waves')).toMatchObject({
      status: 'WAITING_FOR_GATE',
      currentWave: 1,
      waveCount: 3,
      releasedThings: 2,
      totalThings: 10,
      isConcurrent: true,
    });
    await f.deviceJobs.updateJobExecution(things[0]!, 'waves', { status: 'IN_PROGRESS' });
    await f.deviceJobs.updateJobExecution(things[1]!, 'waves', { status: 'FAILED' });
    // The gate waits for the whole wave to be terminal.
    expect(await tick()).toMatchObject({ released: 0, paused: [] });
    await f.deviceJobs.updateJobExecution(things[0]!, 'waves', { status: 'REJECTED' });
    expect(await tick()).toMatchObject({ released: 0, paused: ['waves'] });
    expect(await staged('waves')).toMatchObject({
      status: 'PAUSED',
      currentWave: 1,
      pauseReason: expect.stringContaining('Wave 1 did not reach successThresholdPercentage 50'),
    });
    expect((await f.jobs.describeJob('waves')).job.isConcurrent).toBe(false);
    expect(await tick()).toMatchObject({ released: 0, paused: [] });
    // Issue 15: changing the configuration does not re-open a paused gate (the operator lowers
    // the bar for the next gates; this one stays failed) ...
    await f.jobs.updateJob({
      jobId: 'waves',
      stagedRollout: {
        waves: [{ count: 2 }, { percentage: 50 }],
        successThresholdPercentage: 0,
        onGateFailure: 'PAUSE',
      },
    });
    expect((await tick()).released).toBe(0);
    expect(await staged('waves')).toMatchObject({ status: 'PAUSED', pausedBy: 'GATE', currentWave: 1 });
    // ... RESUME does: the operator goes past the failed gate and the next wave (50% = 5 things) opens.
    await f.jobs.updateJob({ jobId: 'waves', rolloutAction: 'RESUME' });
    expect((await tick()).released).toBe(5);
    expect(await visible('waves', things)).toEqual(things.slice(2, 7));
    expect(await staged('waves')).toMatchObject({ status: 'WAITING_FOR_GATE', currentWave: 2, releasedThings: 7 });
    for (const t of things.slice(2, 7)) await f.deviceJobs.updateJobExecution(t, 'waves', { status: 'SUCCEEDED' });
    // The rest of the things form the last wave.
    expect((await tick()).released).toBe(3);
    expect(await staged('waves')).toMatchObject({ status: 'RELEASED', currentWave: 3, releasedThings: 10 });
    const wavesOf = await f.store.db
      .selectFrom('job_executions')
      .select(['thing_name', 'rollout_wave'])
      .where('job_id', '=', 'waves')
      .orderBy('thing_name')
      .execute();
    expect(wavesOf.map((r) => r.rollout_wave)).toEqual([0, 0, 1, 1, 1, 1, 1, 2, 2, 2]);
  });

  it('passes the gate exactly at the threshold and counts a retry that succeeded', async () => {
    const things = await fleet('gate', 4);
    await f.jobs.createJob({
      jobId: 'gate',
      targets: [f.groupArn('gate')],
      document: '{}',
      jobExecutionsRetryConfig: { criteriaList: [{ failureType: 'FAILED', numberOfRetries: 1 }] },
      stagedRollout: { waves: [{ count: 2 }], successThresholdPercentage: 100, onGateFailure: 'ABORT' },
    });
    expect((await tick()).released).toBe(2);
    await f.deviceJobs.updateJobExecution(things[0]!, 'gate', { status: 'SUCCEEDED' });
    await f.deviceJobs.updateJobExecution(things[1]!, 'gate', { status: 'FAILED' });
    // The retry keeps the wave open.
    expect(await tick()).toMatchObject({ released: 0, aborted: [] });
    await f.deviceJobs.updateJobExecution(things[1]!, 'gate', { status: 'SUCCEEDED' });
    expect(await tick()).toMatchObject({ released: 2, aborted: [] });
    const retried = await f.store.db
      .selectFrom('job_executions')
      .select(['execution_number', 'rollout_wave'])
      .where('thing_name', '=', things[1]!)
      .orderBy('execution_number')
      .execute();
    expect(retried).toEqual([
      { execution_number: 1, rollout_wave: 0 },
      { execution_number: 2, rollout_wave: 0 },
    ]);
  });

  it('aborts the job when the gate fails with onGateFailure ABORT', async () => {
    const things = await fleet('abortgate', 3);
    await f.jobs.createJob({
      jobId: 'abortgate',
      targets: [f.groupArn('abortgate')],
      document: '{}',
      stagedRollout: { waves: [{ count: 1 }], successThresholdPercentage: 100, onGateFailure: 'ABORT' },
    });
    expect((await tick()).released).toBe(1);
    await f.deviceJobs.updateJobExecution(things[0]!, 'abortgate', { status: 'REJECTED' });
    expect((await tick()).aborted).toEqual(['abortgate']);
    expect((await f.jobs.describeJob('abortgate')).job).toMatchObject({
      status: 'CANCELED',
      reasonCode: 'STAGED_ROLLOUT_GATE_FAILED',
      comment: expect.stringContaining('Wave 1'),
      jobProcessDetails: expect.objectContaining({ numberOfCanceledThings: 2, numberOfRejectedThings: 1 }),
    });
    expect(await visible('abortgate', things)).toEqual([]);
  });

  it('combines waves with a rollout rate', async () => {
    const things = await fleet('ratewave', 6);
    await f.jobs.createJob({
      jobId: 'ratewave',
      targets: [f.groupArn('ratewave')],
      document: '{}',
      jobExecutionsRolloutConfig: { maximumPerMinute: 2 },
      stagedRollout: { waves: [{ count: 3 }], successThresholdPercentage: 0, onGateFailure: 'PAUSE' },
    });
    expect((await tick()).released).toBe(2);
    f.clock.advance(60_000);
    // The rate allows 2, the wave only 1 more.
    expect((await tick()).released).toBe(1);
    for (const t of things.slice(0, 3)) await f.deviceJobs.updateJobExecution(t, 'ratewave', { status: 'FAILED' });
    f.clock.advance(60_000);
    expect((await tick()).released).toBe(2);
  });

  it('pauses and resumes a rollout on UpdateJob rolloutAction (fleetjobs extension), gates still applying', async () => {
    const things = await fleet('pause', 6);
    await f.jobs.createJob({
      jobId: 'pause',
      targets: [f.groupArn('pause')],
      document: '{}',
      jobExecutionsRolloutConfig: { maximumPerMinute: 2 },
      stagedRollout: { waves: [{ count: 4 }], successThresholdPercentage: 100, onGateFailure: 'PAUSE' },
    });
    expect((await tick()).released).toBe(2);
    await f.jobs.updateJob({ jobId: 'pause', rolloutAction: 'PAUSE' });
    const held = (await f.jobs.describeJob('pause')).job as Record<string, unknown>;
    expect(held.isConcurrent).toBe(false);
    expect(held.stagedRolloutStatus).toMatchObject({ status: 'PAUSED', pausedBy: 'OPERATOR' });
    expect(held.rolloutStatus).toMatchObject({ releasedThings: 2, waitingForResume: 4, paused: true });
    f.clock.advance(5 * 60_000);
    await tick();
    expect(await visible('pause', things)).toEqual(things.slice(0, 2));
    // PAUSE twice is the same pause; RESUME goes on where the rollout stood (the rate still applies).
    await f.jobs.updateJob({ jobId: 'pause', rolloutAction: 'PAUSE' });
    await f.jobs.updateJob({ jobId: 'pause', rolloutAction: 'RESUME' });
    await tick();
    expect(await visible('pause', things)).toEqual(things.slice(0, 4));
    // The wave's gate still decides: all four must succeed before the rest goes.
    for (const t of things.slice(0, 4)) await f.deviceJobs.updateJobExecution(t, 'pause', { status: 'SUCCEEDED' });
    f.clock.advance(60_000);
    await tick();
    expect(await visible('pause', things)).toEqual(things.slice(4));
    await expect(f.jobs.updateJob({ jobId: 'pause', rolloutAction: 'STOP' as 'PAUSE' })).rejects.toMatchObject({
      code: 'InvalidRequest',
    });
  });

  it('refuses rolloutAction for a job that holds nothing back', async () => {
    await fleet('plainpause', 1);
    await f.jobs.createJob({ jobId: 'plainpause', targets: [f.groupArn('plainpause')], document: '{}' });
    await expect(f.jobs.updateJob({ jobId: 'plainpause', rolloutAction: 'PAUSE' })).rejects.toMatchObject({
      code: 'InvalidRequest',
      message: expect.stringContaining('nothing to pause'),
    });
  });
});
