import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/postgres.js';
import { schedulerFixture, type SchedulerFixture } from '../helpers/scheduler-fixture.js';

const MIN = 60_000;
const iso = (ms: number) => new Date(ms).toISOString().slice(0, 16);

describe.each(DIALECTS)('timeouts and scheduling (spec 3.7, 3.9, 4.6) on %s', (dialect) => {
  let f: SchedulerFixture;
  let n = 0;
  beforeAll(async () => {
    f = await schedulerFixture(dialect);
  });
  afterAll(async () => {
    await f?.close();
  });

  async function things(count: number): Promise<string[]> {
    const names: string[] = [];
    for (let i = 0; i < count; i++) {
      const thingName = `t${++n}`;
      await f.things.createThing({ thingName });
      names.push(thingName);
    }
    return names;
  }
  const left = async (thing: string, jobId: string) =>
    (await f.deviceJobs.describeJobExecution(thing, jobId)).execution?.approximateSecondsBeforeTimedOut;
  const status = async (jobId: string) => (await f.jobs.describeJob(jobId)).job.status;

  it('times out at the in-progress deadline even when a later step timer was set (the worked example)', async () => {
    const [t] = await things(1);
    await f.jobs.createJob({
      jobId: 'to-1',
      targets: [f.thingArn(t!)],
      document: '{}',
      timeoutConfig: { inProgressTimeoutInMinutes: 20 },
    });
    const t0 = f.now();
    await f.deviceJobs.startNextPendingJobExecution(t!);
    expect(await left(t!, 'to-1')).toBe(20 * 60);
    f.clock.set(t0 + 13 * MIN);
    await f.deviceJobs.updateJobExecution(t!, 'to-1', { status: 'IN_PROGRESS', stepTimeoutInMinutes: 9 });
    expect(await left(t!, 'to-1')).toBe(7 * 60);
    const cp = await f.jobExecutions.describeJobExecution({ jobId: 'to-1', thingName: t! });
    expect(cp.execution.approximateSecondsBeforeTimedOut).toBe(7 * 60);
    f.clock.set(t0 + 20 * MIN - 1);
    expect((await f.scheduler.tick(f.now())).timedOut).toBe(0);
    await f.clearOutbox();
    f.clock.set(t0 + 20 * MIN);
    expect((await f.scheduler.tick(f.now())).timedOut).toBe(1);
    const after = await f.jobExecutions.describeJobExecution({ jobId: 'to-1', thingName: t! });
    expect(after.execution).toMatchObject({ status: 'TIMED_OUT', versionNumber: 4 });
    expect(after.execution.approximateSecondsBeforeTimedOut).toBeUndefined();
    expect(await f.announced()).toEqual([t]);
    await expect(f.deviceJobs.updateJobExecution(t!, 'to-1', { status: 'SUCCEEDED' })).rejects.toMatchObject({
      code: 'InvalidStateTransition',
    });
    expect(await f.jobs.describeJob('to-1')).toMatchObject({
      job: { status: 'COMPLETED', jobProcessDetails: expect.objectContaining({ numberOfTimedOutThings: 1 }) },
    });
    // A second tick finds nothing left to time out.
    expect((await f.scheduler.tick(f.now())).timedOut).toBe(0);
  });

  it('replaces the step timer with each new value and discards it with -1', async () => {
    const [a, b] = await things(2);
    await f.jobs.createJob({ jobId: 'step-1', targets: [f.thingArn(a!)], document: '{}' });
    await f.jobs.createJob({
      jobId: 'step-2',
      targets: [f.thingArn(b!)],
      document: '{}',
      timeoutConfig: { inProgressTimeoutInMinutes: 10 },
    });
    const t0 = f.now();
    await f.deviceJobs.startNextPendingJobExecution(a!, { stepTimeoutInMinutes: 3 });
    await f.deviceJobs.startNextPendingJobExecution(b!, { stepTimeoutInMinutes: 2 });
    expect(await left(a!, 'step-1')).toBe(180);
    f.clock.set(t0 + 2 * MIN);
    await f.deviceJobs.updateJobExecution(a!, 'step-1', { status: 'IN_PROGRESS', stepTimeoutInMinutes: 5 });
    expect(await left(a!, 'step-1')).toBe(300);
    f.clock.set(t0 + MIN);
    await f.deviceJobs.updateJobExecution(b!, 'step-2', { status: 'IN_PROGRESS', stepTimeoutInMinutes: -1 });
    f.clock.set(t0 + 3 * MIN);
    expect((await f.scheduler.tick(f.now())).timedOut).toBe(0);
    expect(await left(b!, 'step-2')).toBe(7 * 60);
    f.clock.set(t0 + 4 * MIN);
    await f.deviceJobs.updateJobExecution(a!, 'step-1', { status: 'IN_PROGRESS', stepTimeoutInMinutes: -1 });
    expect(await left(a!, 'step-1')).toBeUndefined();
    f.clock.set(t0 + 10 * MIN);
    expect((await f.scheduler.tick(f.now())).timedOut).toBe(1);
    f.clock.set(t0 + 1000 * MIN);
    expect((await f.scheduler.tick(f.now())).timedOut).toBe(0);
    expect((await f.deviceJobs.describeJobExecution(a!, 'step-1')).execution?.status).toBe('IN_PROGRESS');
    expect((await f.deviceJobs.describeJobExecution(b!, 'step-2')).execution?.status).toBe('TIMED_OUT');
  });

  it('retries a TIMED_OUT execution once and then lets the job complete', async () => {
    const [t] = await things(1);
    await f.jobs.createJob({
      jobId: 'to-retry',
      targets: [f.thingArn(t!)],
      document: '{}',
      timeoutConfig: { inProgressTimeoutInMinutes: 1 },
      jobExecutionsRetryConfig: { criteriaList: [{ failureType: 'TIMED_OUT', numberOfRetries: 1 }] },
    });
    await f.deviceJobs.startNextPendingJobExecution(t!);
    f.clock.advance(MIN);
    expect((await f.scheduler.tick(f.now())).timedOut).toBe(1);
    const retry = await f.deviceJobs.startNextPendingJobExecution(t!);
    expect(retry.execution).toMatchObject({
      jobId: 'to-retry',
      executionNumber: 2,
      approximateSecondsBeforeTimedOut: 60,
    });
    f.clock.advance(MIN);
    expect((await f.scheduler.tick(f.now())).timedOut).toBe(1);
    expect(await f.deviceJobs.startNextPendingJobExecution(t!)).toEqual({});
    expect(await status('to-retry')).toBe('COMPLETED');
  });

  it('keeps a job SCHEDULED with no executions until startTime, then rolls it out', async () => {
    const [t] = await things(1);
    const start = f.now() + 40 * MIN;
    await f.jobs.createJob({
      jobId: 'sched',
      targets: [f.thingArn(t!)],
      document: '{}',
      schedulingConfig: { startTime: iso(start) },
    });
    expect(await status('sched')).toBe('SCHEDULED');
    expect((await f.jobExecutions.listJobExecutionsForJob({ jobId: 'sched' })).executionSummaries).toEqual([]);
    f.clock.set(start - 1);
    expect((await f.scheduler.tick(f.now())).started).toEqual([]);
    expect(await status('sched')).toBe('SCHEDULED');
    f.clock.set(start);
    expect((await f.scheduler.tick(f.now())).started).toEqual(['sched']);
    expect(await status('sched')).toBe('IN_PROGRESS');
    expect((await f.deviceJobs.getPendingJobExecutions(t!)).queuedJobs.map((s) => s.jobId)).toEqual(['sched']);
    expect((await f.scheduler.tick(f.now())).started).toEqual([]);
  });

  it('STOP_ROLLOUT at endTime drops what was never released and lets the rest finish', async () => {
    const ts = await things(3);
    const end = f.now() + 31 * MIN;
    await f.jobs.createJob({
      jobId: 'stop',
      targets: ts.map((t) => f.thingArn(t)),
      document: '{}',
      jobExecutionsRolloutConfig: { maximumPerMinute: 1 },
      schedulingConfig: { endTime: iso(end), endBehavior: 'STOP_ROLLOUT' },
    });
    expect((await f.scheduler.tick(f.now())).released).toBe(1);
    // Released in creation order (thing-name order here): the first thing has it and starts.
    expect((await f.deviceJobs.startNextPendingJobExecution(ts[0]!)).execution?.jobId).toBe('stop');
    f.clock.set(end - 1);
    // Up to the last millisecond the rollout goes on: the bucket (one minute's worth) allows one more.
    expect(await f.scheduler.tick(f.now())).toMatchObject({ ended: [], released: 1 });
    f.clock.set(end);
    expect((await f.scheduler.tick(f.now())).ended).toEqual(['stop']);
    expect((await f.jobs.describeJob('stop')).job.jobProcessDetails).toMatchObject({
      numberOfQueuedThings: 1,
      numberOfInProgressThings: 1,
    });
    const listed = await f.jobExecutions.listJobExecutionsForJob({ jobId: 'stop' });
    expect(listed.executionSummaries.map((e) => e.thingArn)).toEqual([f.thingArn(ts[0]!), f.thingArn(ts[1]!)]);
    await f.deviceJobs.updateJobExecution(ts[0]!, 'stop', { status: 'SUCCEEDED' });
    await f.deviceJobs.updateJobExecution(ts[1]!, 'stop', { status: 'SUCCEEDED' });
    expect(await status('stop')).toBe('COMPLETED');
    f.clock.advance(10 * MIN);
    expect((await f.scheduler.tick(f.now())).released).toBe(0);
  });

  it.each([
    ['CANCEL', false],
    ['FORCE_CANCEL', true],
  ] as const)(
    '%s at endTime cancels the queued executions (and with force the running one)',
    async (behavior, force) => {
      const ts = await things(3);
      const end = f.now() + 30 * MIN;
      const jobId = `end-${behavior}`;
      await f.jobs.createJob({
        jobId,
        targets: ts.map((t) => f.thingArn(t)),
        document: '{}',
        schedulingConfig: { endTime: iso(end), endBehavior: behavior },
      });
      await f.deviceJobs.startNextPendingJobExecution(ts[0]!);
      f.clock.set(end - 1);
      expect((await f.scheduler.tick(f.now())).ended).toEqual([]);
      f.clock.set(end);
      expect((await f.scheduler.tick(f.now())).ended).toEqual([jobId]);
      const job = (await f.jobs.describeJob(jobId)).job;
      expect(job).toMatchObject({
        status: 'CANCELED',
        forceCanceled: force,
        comment: expect.stringContaining(`endBehavior ${behavior}`),
      });
      expect(job.jobProcessDetails).toMatchObject({
        numberOfCanceledThings: force ? 3 : 2,
        numberOfInProgressThings: force ? 0 : 1,
      });
      expect((await f.scheduler.tick(f.now())).ended).toEqual([]);
    },
  );

  it('releases only inside maintenance windows and lists the next window starts', async () => {
    const ts = await things(6);
    f.clock.set(Date.parse('2030-01-01T01:00:00Z'));
    await f.jobs.createJob({
      jobId: 'window',
      targets: ts.map((t) => f.thingArn(t)),
      document: '{}',
      jobExecutionsRolloutConfig: { maximumPerMinute: 2 },
      schedulingConfig: { maintenanceWindows: [{ startTime: 'cron(0 2 * * ? *)', durationInMinutes: 30 }] },
    });
    const at = async (when: string) => {
      f.clock.set(Date.parse(when));
      return (await f.scheduler.tick(f.now())).released;
    };
    expect(await at('2030-01-01T01:59:59.999Z')).toBe(0);
    expect(await at('2030-01-01T02:00:00.000Z')).toBe(2);
    expect(await at('2030-01-01T02:01:00.000Z')).toBe(2);
    expect(await at('2030-01-01T02:30:00.000Z')).toBe(0);
    const job = (await f.jobs.describeJob('window')).job as Record<string, unknown>;
    expect(job.isConcurrent).toBe(true);
    expect(job.scheduledJobRollouts).toEqual([2, 3, 4, 5, 6, 7, 8].map((d) => ({ startTime: `2030-01-0${d}T02:00` })));
    expect(await at('2030-01-02T02:29:59.999Z')).toBe(2);
    expect((await f.jobs.describeJob('window')).job.isConcurrent).toBe(false);
  });
});
