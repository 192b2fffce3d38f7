import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/postgres.js';
import { schedulerFixture, type SchedulerFixture } from '../helpers/scheduler-fixture.js';

const MIN = 60_000;
const iso = (ms: number) => new Date(ms).toISOString().slice(0, 16);

/** Issue 15: the rest of AWS's rollout semantics, each with the AWS behaviour it follows. */
describe.each(DIALECTS)("AWS's rollout semantics on %s", (dialect) => {
  let f: SchedulerFixture;
  beforeAll(async () => {
    // A small job concurrency limit, so the test can reach it.
    f = await schedulerFixture(dialect, { maxConcurrentJobs: 2 });
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
  const job = async (jobId: string) => (await f.jobs.describeJob(jobId)).job as Record<string, unknown>;

  /*
   * AWS "Job executions limits" (job-limits.html): GetPendingJobExecutions and the ListNotification
   * (notify) carry at most 10 pending executions without a scheduling configuration, 15 with one.
   * Ours: 15 when one of the thing's listed pending executions comes from a job with a
   * schedulingConfig.
   */
  it('lists 10 pending executions, 15 when a job with a schedulingConfig is among them', async () => {
    const [t] = await fleet('pending', 1);
    for (let i = 0; i < 16; i++) {
      await f.jobs.createJob({ jobId: `p-${String(i).padStart(2, '0')}`, targets: [f.thingArn(t!)], document: '{}' });
    }
    expect((await f.deviceJobs.getPendingJobExecutions(t!)).queuedJobs).toHaveLength(10);
    expect(Object.values((await f.deviceJobs.pendingState(t!)).pending).flat()).toHaveLength(10);
    expect(await f.deviceJobs.pendingStates([{ thingName: t! }])).toEqual([await f.deviceJobs.pendingState(t!)]);
    const end = f.now() + 60 * MIN;
    await f.jobs.createJob({
      jobId: 'p-scheduled',
      targets: [f.thingArn(t!)],
      document: '{}',
      schedulingConfig: { endTime: iso(end), endBehavior: 'STOP_ROLLOUT' },
    });
    // The scheduled job's execution is the 17th; AWS's page speaks of the account's use of
    // scheduling, ours of the listed executions: it is not among the first 15, so still 10.
    expect((await f.deviceJobs.getPendingJobExecutions(t!)).queuedJobs).toHaveLength(10);
    // Once it moves up (earlier executions finish), the list holds 15.
    for (let i = 0; i < 5; i++) await f.deviceJobs.updateJobExecution(t!, `p-0${i}`, { status: 'SUCCEEDED' });
    const pending = await f.deviceJobs.getPendingJobExecutions(t!);
    expect(pending.queuedJobs).toHaveLength(12);
    expect(pending.queuedJobs.at(-1)?.jobId).toBe('p-scheduled');
    // The notifier's batched read (issue 17) applies the same 10/15 rule.
    expect(await f.deviceJobs.pendingStates([{ thingName: t! }])).toEqual([await f.deviceJobs.pendingState(t!)]);
    for (let i = 5; i < 16; i++) {
      await f.deviceJobs.updateJobExecution(t!, `p-${String(i).padStart(2, '0')}`, { status: 'SUCCEEDED' });
    }
    await f.jobLifecycle.cancelJob({ jobId: 'p-scheduled' });
  });

  /*
   * spec 3.10 / 2.6: isConcurrent is true "while the job is rolling out new executions or
   * cancelling existing ones" (DescribeJob and ListJobs, AWS job-limits.html). Ours: while the
   * rollout engine holds executions back and is neither paused nor stopped.
   */
  it('reports isConcurrent in ListJobs as in DescribeJob', async () => {
    await fleet('conc', 3);
    await f.jobs.createJob({
      jobId: 'conc-rate',
      targets: [f.groupArn('conc')],
      document: '{}',
      jobExecutionsRolloutConfig: { maximumPerMinute: 1 },
    });
    await f.jobs.createJob({ jobId: 'conc-plain', targets: [f.groupArn('conc')], document: '{}' });
    await f.scheduler.tick(f.now());
    const summaries = async () =>
      Object.fromEntries(
        (await f.jobs.listJobs({ maxResults: 250 })).jobs
          .filter((j) => j.jobId.startsWith('conc-'))
          .map((j) => [j.jobId, j.isConcurrent]),
      );
    expect(await summaries()).toEqual({ 'conc-rate': true, 'conc-plain': false });
    expect((await job('conc-rate')).isConcurrent).toBe(true);
    for (let m = 1; m <= 2; m++) await f.scheduler.tick(f.now() + m * MIN);
    // Everything released: no longer concurrent.
    expect(await summaries()).toEqual({ 'conc-rate': false, 'conc-plain': false });
    expect((await job('conc-rate')).isConcurrent).toBe(false);
    await f.jobLifecycle.cancelJob({ jobId: 'conc-rate' });
    await f.jobLifecycle.cancelJob({ jobId: 'conc-plain' });
  });

  /*
   * spec 3.9 endBehavior STOP_ROLLOUT "stops creating new executions" at endTime (AWS
   * SchedulingConfig: "the end behavior for all job executions after a job reaches the selected
   * endTime"). For a CONTINUOUS job that includes things joining its groups afterwards, and
   * AssociateTargetsWithJob (refused, saying why). Things already notified keep their executions.
   */
  it('creates no execution for a CONTINUOUS joiner after endTime with STOP_ROLLOUT', async () => {
    const things = await fleet('late', 2);
    const end = f.now() + 40 * MIN;
    await f.jobs.createJob({
      jobId: 'late',
      targets: [f.groupArn('late')],
      document: '{}',
      targetSelection: 'CONTINUOUS',
      schedulingConfig: { endTime: iso(end), endBehavior: 'STOP_ROLLOUT' },
    });
    await f.things.createThing({ thingName: 'late-before' });
    await f.groups.addThingToThingGroup({ thingGroupName: 'late', thingName: 'late-before' });
    expect((await f.deviceJobs.getPendingJobExecutions('late-before')).queuedJobs).toHaveLength(1);
    f.clock.set(end);
    expect((await f.scheduler.tick(f.now())).ended).toContain('late');
    await f.things.createThing({ thingName: 'late-after' });
    await f.groups.addThingToThingGroup({ thingGroupName: 'late', thingName: 'late-after' });
    expect((await f.deviceJobs.getPendingJobExecutions('late-after')).queuedJobs).toEqual([]);
    // Before the scheduler's tick too: the end is a time, not a state the tick must set first.
    const j = await job('late');
    expect(j.status).toBe('IN_PROGRESS');
    expect(j.jobProcessDetails).toMatchObject({ numberOfQueuedThings: 3 });
    await f.groups.createThingGroup({ thingGroupName: 'late-more' });
    await expect(
      f.jobs.associateTargetsWithJob({ jobId: 'late', targets: [f.groupArn('late-more')] }),
    ).rejects.toMatchObject({ code: 'InvalidRequest', message: expect.stringContaining('endTime') });
    // The things notified before the end keep their executions.
    expect((await f.deviceJobs.getPendingJobExecutions(things[0]!)).queuedJobs).toHaveLength(1);
    await f.jobLifecycle.cancelJob({ jobId: 'late' });
  });

  /*
   * AWS job-limits.html: "If a job with the optional scheduling configuration ... reaches the
   * selected startTime and you're at your maximum job concurrency limit, then that scheduled job
   * will move to a status state of CANCELED." The reasonCode and comment are ours (AWS documents
   * none); the limit here is 2 (the fixture's), DEFAULT_MAX_CONCURRENT_JOBS in a server.
   */
  it('cancels a scheduled job that reaches its startTime at the job concurrency limit', async () => {
    await fleet('limit', 2);
    // A staged rollout waiting for its first gate holds its second thing back: it is rolling out.
    const busy = (jobId: string) =>
      f.jobs.createJob({
        jobId,
        targets: [f.groupArn('limit')],
        document: '{}',
        stagedRollout: { waves: [{ count: 1 }], successThresholdPercentage: 100, onGateFailure: 'PAUSE' },
      });
    const scheduled = async (jobId: string) => {
      const start = f.now() + 31 * MIN;
      await f.jobs.createJob({
        jobId,
        targets: [f.groupArn('limit')],
        document: '{}',
        schedulingConfig: { startTime: iso(start) },
      });
      return start;
    };
    const startA = await scheduled('sched-a');
    await busy('busy-1');
    await f.scheduler.tick(f.now());
    f.clock.set(startA);
    // One job rolling out, the limit is 2: sched-a starts.
    const first = await f.scheduler.tick(f.now());
    expect(first).toMatchObject({ started: ['sched-a'], canceledAtStart: [] });
    await busy('busy-2');
    await f.scheduler.tick(f.now());
    expect((await job('busy-2')).isConcurrent).toBe(true);
    const startB = await scheduled('sched-b');
    f.clock.set(startB);
    const second = await f.scheduler.tick(f.now());
    expect(second).toMatchObject({ started: [], canceledAtStart: ['sched-b'] });
    expect(await job('sched-b')).toMatchObject({
      status: 'CANCELED',
      reasonCode: 'JOB_CONCURRENCY_LIMIT_REACHED',
      comment: expect.stringContaining('2 jobs were rolling out'),
    });
    expect(await f.deviceJobs.getPendingJobExecutions('limit-00')).toMatchObject({
      queuedJobs: expect.not.arrayContaining([expect.objectContaining({ jobId: 'sched-b' })]),
    });
  });
});
