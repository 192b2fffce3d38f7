import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/postgres.js';
import { schedulerFixture, type SchedulerFixture } from '../helpers/scheduler-fixture.js';

const uuid = expect.stringMatching(/^[0-9a-f-]{36}$/);

describe.each(DIALECTS)('job and job-execution events (spec 5.9) on %s', (dialect) => {
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
      const thingName = `ev${++n}`;
      await f.things.createThing({ thingName });
      names.push(thingName);
    }
    return names;
  }
  const enable = (JOB: boolean, JOB_EXECUTION: boolean) =>
    f.eventConfigurations.updateEventConfigurations({
      eventConfigurations: { JOB: { Enabled: JOB }, JOB_EXECUTION: { Enabled: JOB_EXECUTION } },
    });
  const sec = () => Math.floor(f.now() / 1000);

  it('are off by default and configurable, with AWS validation errors', async () => {
    const before = await f.eventConfigurations.describeEventConfigurations();
    expect(Object.keys(before.eventConfigurations)).toHaveLength(11);
    expect(Object.values(before.eventConfigurations).every((c) => c.Enabled === false)).toBe(true);
    expect(before.creationDate).toBeUndefined();
    const [t] = await things(1);
    await f.clearOutbox();
    await f.jobs.createJob({ jobId: 'quiet', targets: [f.thingArn(t!)], document: '{}' });
    await f.deviceJobs.updateJobExecution(t!, 'quiet', { status: 'SUCCEEDED' });
    expect(await f.published()).toEqual([]);

    await enable(true, true);
    const after = await f.eventConfigurations.describeEventConfigurations();
    expect(after.eventConfigurations).toMatchObject({
      JOB: { Enabled: true },
      JOB_EXECUTION: { Enabled: true },
      THING: { Enabled: false },
    });
    expect(after).toMatchObject({ creationDate: sec(), lastModifiedDate: sec() });
    await expect(
      f.eventConfigurations.updateEventConfigurations({ eventConfigurations: { JOBS: { Enabled: true } } }),
    ).rejects.toMatchObject({ code: 'InvalidRequest', message: expect.stringContaining('enum value set') });
    await expect(
      f.eventConfigurations.updateEventConfigurations({
        eventConfigurations: { JOB: { Enabled: 'yes' as unknown as boolean } },
      }),
    ).rejects.toMatchObject({ code: 'InvalidRequest' });
  });

  it('publishes execution events for terminal statuses and the completed job event', async () => {
    await enable(true, true);
    const [a, b] = await things(2);
    await f.jobs.createJob({
      jobId: 'ev-done',
      targets: [f.thingArn(a!), f.thingArn(b!)],
      document: '{}',
      description: 'd',
    });
    await f.clearOutbox();
    await f.deviceJobs.updateJobExecution(a!, 'ev-done', { status: 'SUCCEEDED', statusDetails: { step: 'done' } });
    await f.deviceJobs.updateJobExecution(b!, 'ev-done', { status: 'REJECTED' });
    const job = (await f.jobs.describeJob('ev-done')).job;
    expect(await f.published()).toEqual([
      {
        topic: '$aws/events/jobExecution/ev-done/succeeded',
        payload: {
          eventType: 'JOB_EXECUTION',
          eventId: uuid,
          timestamp: sec(),
          operation: 'succeeded',
          jobId: 'ev-done',
          thingArn: f.thingArn(a!),
          status: 'SUCCEEDED',
          statusDetails: { step: 'done' },
        },
      },
      {
        topic: '$aws/events/jobExecution/ev-done/rejected',
        payload: expect.objectContaining({ operation: 'rejected', status: 'REJECTED', thingArn: f.thingArn(b!) }),
      },
      {
        topic: '$aws/events/job/ev-done/completed',
        payload: {
          eventType: 'JOB',
          eventId: uuid,
          timestamp: sec(),
          operation: 'completed',
          jobId: 'ev-done',
          status: 'COMPLETED',
          targetSelection: 'SNAPSHOT',
          targets: [f.thingArn(a!), f.thingArn(b!)],
          description: 'd',
          createdAt: job.createdAt * 1000,
          lastUpdatedAt: job.lastUpdatedAt * 1000,
          completedAt: job.completedAt! * 1000,
          jobProcessDetails: {
            numberOfCanceledThings: 0,
            numberOfRejectedThings: 1,
            numberOfFailedThings: 0,
            numberOfRemovedThings: 0,
            numberOfSucceededThings: 1,
          },
        },
      },
    ]);
  });

  it('publishes cancellation_in_progress, the executions canceled, then canceled; force cancels the running one', async () => {
    await enable(true, true);
    const [a, b] = await things(2);
    await f.jobs.createJob({ jobId: 'ev-cancel', targets: [f.thingArn(a!), f.thingArn(b!)], document: '{}' });
    await f.deviceJobs.startNextPendingJobExecution(a!);
    await f.clearOutbox();
    await f.jobLifecycle.cancelJob({ jobId: 'ev-cancel', comment: 'bad build' });
    const ops = (await f.published()).map((p) => [p.topic, p.payload.status, p.payload.comment ?? p.payload.thingArn]);
    expect(ops).toEqual([
      ['$aws/events/job/ev-cancel/cancellation_in_progress', 'CANCELLATION_IN_PROGRESS', 'bad build'],
      ['$aws/events/jobExecution/ev-cancel/canceled', 'CANCELED', f.thingArn(b!)],
      ['$aws/events/job/ev-cancel/canceled', 'CANCELED', 'bad build'],
    ]);
    await f.clearOutbox();
    await f.jobLifecycle.cancelJob({ jobId: 'ev-cancel', force: true });
    expect((await f.published()).map((p) => [p.topic, p.payload.thingArn])).toEqual([
      ['$aws/events/job/ev-cancel/cancellation_in_progress', undefined],
      ['$aws/events/jobExecution/ev-cancel/canceled', f.thingArn(a!)],
      ['$aws/events/job/ev-cancel/canceled', undefined],
    ]);
  });

  it('publishes timed_out, removed and deleted (with the status before deletion)', async () => {
    await enable(false, true);
    const [a, b, c] = await things(3);
    await f.jobs.createJob({
      jobId: 'ev-misc',
      targets: [a, b, c].map((t) => f.thingArn(t!)),
      document: '{}',
      timeoutConfig: { inProgressTimeoutInMinutes: 1 },
    });
    await f.deviceJobs.startNextPendingJobExecution(a!);
    await f.deviceJobs.updateJobExecution(c!, 'ev-misc', { status: 'FAILED' });
    await f.clearOutbox();
    f.clock.advance(60_000);
    await f.scheduler.tick(f.now());
    await f.things.deleteThing(b!);
    await f.jobExecutions.deleteJobExecution({ jobId: 'ev-misc', thingName: c!, executionNumber: 1 });
    expect((await f.published()).map((p) => [p.topic, p.payload.status, p.payload.thingArn])).toEqual([
      ['$aws/events/jobExecution/ev-misc/timed_out', 'TIMED_OUT', f.thingArn(a!)],
      ['$aws/events/jobExecution/ev-misc/removed', 'REMOVED', f.thingArn(b!)],
      ['$aws/events/jobExecution/ev-misc/deleted', 'FAILED', f.thingArn(c!)],
    ]);
  });

  it('publishes deletion_in_progress, each execution deleted and finally deleted for DeleteJob', async () => {
    await enable(true, true);
    const [a, b] = await things(2);
    await f.jobs.createJob({ jobId: 'ev-del', targets: [f.thingArn(a!), f.thingArn(b!)], document: '{}' });
    await f.deviceJobs.updateJobExecution(a!, 'ev-del', { status: 'SUCCEEDED' });
    await f.clearOutbox();
    await f.jobLifecycle.deleteJob({ jobId: 'ev-del', force: true });
    await f.jobDeletions.idle();
    expect((await f.published()).map((p) => [p.topic, p.payload.status, p.payload.thingArn])).toEqual([
      ['$aws/events/job/ev-del/deletion_in_progress', 'DELETION_IN_PROGRESS', undefined],
      ['$aws/events/jobExecution/ev-del/deleted', 'QUEUED', f.thingArn(b!)],
      ['$aws/events/jobExecution/ev-del/deleted', 'SUCCEEDED', f.thingArn(a!)],
      ['$aws/events/job/ev-del/deleted', 'DELETED', undefined],
    ]);
    await expect(f.jobs.describeJob('ev-del')).rejects.toMatchObject({ code: 'ResourceNotFound' });
  });

  it('publishes only the enabled type', async () => {
    await enable(true, false);
    const [a] = await things(1);
    await f.jobs.createJob({ jobId: 'ev-jobonly', targets: [f.thingArn(a!)], document: '{}' });
    await f.clearOutbox();
    await f.deviceJobs.updateJobExecution(a!, 'ev-jobonly', { status: 'FAILED' });
    expect((await f.published()).map((p) => p.topic)).toEqual(['$aws/events/job/ev-jobonly/completed']);
  });
});
