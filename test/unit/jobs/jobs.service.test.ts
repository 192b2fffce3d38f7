import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobsFixture, thingArn, type JobsFixture } from '../../helpers/jobs-fixture.js';

const DOC = '{"op":"x"}';

describe('JobsService extras', () => {
  let f: JobsFixture;
  beforeAll(async () => {
    f = await jobsFixture('sqlite');
    await f.things.createThing({ thingName: 'a' });
  });
  afterAll(async () => f.close());

  it('stores the stagedRollout extension and shows it in DescribeJob', async () => {
    const stagedRollout = {
      waves: [{ count: 5 }, { percentage: 50 }],
      successThresholdPercentage: 90,
      onGateFailure: 'ABORT' as const,
    };
    await f.jobs.createJob({ jobId: 'staged', targets: [thingArn(f, 'a')], document: DOC, stagedRollout });
    expect((await f.jobs.describeJob('staged')).job.stagedRollout).toEqual(stagedRollout);
    const next = { ...stagedRollout, onGateFailure: 'PAUSE' as const };
    await f.jobs.updateJob({ jobId: 'staged', stagedRollout: next });
    expect((await f.jobs.describeJob('staged')).job.stagedRollout).toEqual(next);
    await expect(
      f.jobs.updateJob({ jobId: 'staged', stagedRollout: { ...next, waves: [{ percentage: 0 }] } }),
    ).rejects.toMatchObject({ code: 'InvalidRequest' });
  });

  it('starts a SCHEDULED job once, when the scheduler says so', async () => {
    const start = new Date(f.clock.now().getTime() + 3600_000).toISOString().slice(0, 16);
    await f.jobs.createJob({
      jobId: 'later',
      targets: [thingArn(f, 'a')],
      document: DOC,
      schedulingConfig: { startTime: start },
    });
    expect((await f.jobs.describeJob('later')).job).toMatchObject({
      status: 'SCHEDULED',
      jobProcessDetails: { numberOfQueuedThings: 0 },
    });
    expect(await f.jobs.startScheduledJob('later')).toBe(true);
    expect(await f.jobs.startScheduledJob('later')).toBe(false);
    expect((await f.jobs.describeJob('later')).job).toMatchObject({
      status: 'IN_PROGRESS',
      jobProcessDetails: { numberOfQueuedThings: 1 },
    });
  });

  it('completes a SNAPSHOT job on an empty group at once', async () => {
    await f.groups.createThingGroup({ thingGroupName: 'empty' });
    await f.jobs.createJob({ jobId: 'nobody', targets: [f.ctx.arns.thingGroup('empty')], document: DOC });
    const { job } = await f.jobs.describeJob('nobody');
    expect(job.status).toBe('COMPLETED');
    expect(job.completedAt).toBe(f.clock.now().getTime() / 1000);
  });

  it('reads documentSource through the pluggable fetcher, once, at creation', async () => {
    await expect(
      f.jobs.createJob({ jobId: 'src-0', targets: [thingArn(f, 'a')], documentSource: 'https://s3.amazonaws.com/b/k' }),
    ).rejects.toMatchObject({ code: 'InvalidRequest', message: expect.stringContaining('no object store') });
    const saved = f.jobs.fetchDocumentSource;
    let calls = 0;
    f.jobs.fetchDocumentSource = async (source) => {
      calls++;
      return JSON.stringify({ from: source });
    };
    try {
      await f.jobs.createJob({
        jobId: 'src-1',
        targets: [thingArn(f, 'a')],
        documentSource: 'https://s3.amazonaws.com/b/k',
      });
    } finally {
      f.jobs.fetchDocumentSource = saved;
    }
    expect(calls).toBe(1);
    expect(await f.jobs.describeJob('src-1')).toMatchObject({ documentSource: 'https://s3.amazonaws.com/b/k' });
    expect(await f.jobs.getJobDocument('src-1')).toEqual({ document: '{"from":"https://s3.amazonaws.com/b/k"}' });
  });
});
