import {
  AddThingToThingGroupCommand,
  AssociateTargetsWithJobCommand,
  CancelJobCommand,
  CancelJobExecutionCommand,
  CreateJobCommand,
  CreateJobTemplateCommand,
  CreateThingCommand,
  CreateThingGroupCommand,
  DeleteJobCommand,
  DeleteJobExecutionCommand,
  DeleteJobTemplateCommand,
  DeleteThingCommand,
  DescribeJobCommand,
  DescribeJobExecutionCommand,
  DescribeJobTemplateCommand,
  DescribeManagedJobTemplateCommand,
  DescribeThingGroupCommand,
  GetJobDocumentCommand,
  ListJobExecutionsForJobCommand,
  ListJobExecutionsForThingCommand,
  ListJobTemplatesCommand,
  ListJobsCommand,
  ListManagedJobTemplatesCommand,
  ListTagsForResourceCommand,
  RemoveThingFromThingGroupCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateJobCommand,
  type IoTClient,
  type JobSummary,
} from '@aws-sdk/client-iot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DOC, ERROR_CASES, seedJobsWorld, type JobsWorld } from '../helpers/jobs-e2e.js';
import { DIALECTS } from '../helpers/postgres.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe.each(DIALECTS)('jobs control plane with @aws-sdk/client-iot on %s', (dialect) => {
  let t: TestServer;
  let iot: IoTClient;
  let w: JobsWorld;

  beforeAll(async () => {
    t = await startTestServer({ dialect });
    iot = t.iot();
    w = await seedJobsWorld(t, iot);
  });
  afterAll(async () => t?.stop());

  const things = async (...names: string[]) => {
    for (const n of names) await iot.send(new CreateThingCommand({ thingName: n }));
  };
  const group = async (name: string, parent?: string, members: string[] = []) => {
    await iot.send(new CreateThingGroupCommand({ thingGroupName: name, parentGroupName: parent }));
    for (const m of members) await iot.send(new AddThingToThingGroupCommand({ thingGroupName: name, thingName: m }));
  };
  const executionsOf = async (jobId: string) => {
    const out: { thing: string; status?: string; executionNumber?: number }[] = [];
    let nextToken: string | undefined;
    do {
      const page = await iot.send(new ListJobExecutionsForJobCommand({ jobId, nextToken, maxResults: 250 }));
      for (const s of page.executionSummaries ?? []) {
        out.push({
          thing: s.thingArn!.split('/').pop()!,
          status: s.jobExecutionSummary?.status,
          executionNumber: s.jobExecutionSummary?.executionNumber,
        });
      }
      nextToken = page.nextToken;
    } while (nextToken);
    return out;
  };

  it.each(ERROR_CASES)('$name -> $error', async (c) => {
    const err = (await c.sdk(iot, w).then(
      () => undefined,
      (e: unknown) => e,
    )) as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } } | undefined;
    expect(err, 'the request should have failed').toBeDefined();
    expect(err!.name).toBe(c.error);
    expect(err!.$metadata?.httpStatusCode).toBe(c.status);
    expect(err!.message).toMatch(/\w{3,}.*\w{3,}/);
    expect(err!.message).not.toBe('UnknownError');
  });

  it('expands nested groups into one execution per distinct thing and describes the job', async () => {
    await things('h-a', 'h-b', 'h-c', 'h-d');
    await group('h-root', undefined, ['h-a', 'h-c']);
    await group('h-child', 'h-root', ['h-b', 'h-c', 'h-d']);
    const created = await iot.send(
      new CreateJobCommand({
        jobId: 'h-1',
        targets: [w.group('h-root'), w.thing('h-d')],
        document: DOC,
        description: 'nested',
      }),
    );
    expect(created).toMatchObject({ jobArn: w.job('h-1'), jobId: 'h-1', description: 'nested' });
    const { job, documentSource } = await iot.send(new DescribeJobCommand({ jobId: 'h-1' }));
    expect(documentSource).toBeUndefined();
    expect(job).toMatchObject({
      jobArn: w.job('h-1'),
      status: 'IN_PROGRESS',
      targetSelection: 'SNAPSHOT',
      forceCanceled: false,
      isConcurrent: false,
      targets: [w.group('h-root'), w.thing('h-d')],
      presignedUrlConfig: {},
      jobExecutionsRolloutConfig: {},
      timeoutConfig: {},
      jobProcessDetails: {
        numberOfQueuedThings: 4,
        numberOfInProgressThings: 0,
        numberOfSucceededThings: 0,
        numberOfFailedThings: 0,
        numberOfRejectedThings: 0,
        numberOfCanceledThings: 0,
        numberOfRemovedThings: 0,
        numberOfTimedOutThings: 0,
      },
    });
    expect(job!.createdAt).toBeInstanceOf(Date);
    expect(job!.completedAt).toBeUndefined();
    expect((await iot.send(new GetJobDocumentCommand({ jobId: 'h-1' }))).document).toBe(DOC);
    expect((await executionsOf('h-1')).map((e) => e.thing)).toEqual(['h-a', 'h-b', 'h-c', 'h-d']);

    const page1 = await iot.send(new ListJobExecutionsForJobCommand({ jobId: 'h-1', maxResults: 3 }));
    expect(page1.executionSummaries).toHaveLength(3);
    const page2 = await iot.send(
      new ListJobExecutionsForJobCommand({ jobId: 'h-1', maxResults: 3, nextToken: page1.nextToken }),
    );
    expect(page2.executionSummaries?.map((s) => s.thingArn)).toEqual([w.thing('h-d')]);
    expect(page2.nextToken).toBeUndefined();

    const e = await iot.send(new DescribeJobExecutionCommand({ jobId: 'h-1', thingName: 'h-b' }));
    expect(e.execution).toMatchObject({
      jobId: 'h-1',
      status: 'QUEUED',
      statusDetails: {},
      thingArn: w.thing('h-b'),
      executionNumber: 1,
      versionNumber: 1,
      forceCanceled: false,
    });
    expect(e.execution!.queuedAt).toBeInstanceOf(Date);

    // SNAPSHOT: a thing joining later does not get the job.
    await things('h-late');
    await iot.send(new AddThingToThingGroupCommand({ thingGroupName: 'h-child', thingName: 'h-late' }));
    expect(await executionsOf('h-1')).toHaveLength(4);

    // The job completes when every execution is terminal.
    const device = t.server.services.deviceJobs;
    await device.updateJobExecution('h-a', 'h-1', { status: 'SUCCEEDED' });
    await device.updateJobExecution('h-b', 'h-1', { status: 'FAILED' });
    await device.updateJobExecution('h-c', 'h-1', { status: 'REJECTED' });
    await iot.send(new CancelJobExecutionCommand({ jobId: 'h-1', thingName: 'h-d', statusDetails: { why: 'test' } }));
    const done = (await iot.send(new DescribeJobCommand({ jobId: 'h-1' }))).job!;
    expect(done.status).toBe('COMPLETED');
    expect(done.completedAt).toBeInstanceOf(Date);
    expect(done.jobProcessDetails).toMatchObject({
      numberOfSucceededThings: 1,
      numberOfFailedThings: 1,
      numberOfRejectedThings: 1,
      numberOfCanceledThings: 1,
      numberOfQueuedThings: 0,
    });
    const canceled = await iot.send(new DescribeJobExecutionCommand({ jobId: 'h-1', thingName: 'h-d' }));
    expect(canceled.execution).toMatchObject({
      status: 'CANCELED',
      versionNumber: 2,
      statusDetails: { detailsMap: { why: 'test' } },
    });
  });

  it('lists jobs with every filter, newest first, page by page', async () => {
    await things('l-1');
    await group('l-g', undefined, ['l-1']);
    await iot.send(new CreateJobCommand({ jobId: 'l-snap', targets: [w.group('l-g')], document: DOC }));
    await iot.send(
      new CreateJobCommand({
        jobId: 'l-cont',
        targets: [w.group('l-g')],
        document: DOC,
        targetSelection: 'CONTINUOUS',
      }),
    );
    await iot.send(
      new CreateJobCommand({ jobId: 'l-ns', targets: [w.thing('l-1')], document: DOC, namespaceId: 'l-space' }),
    );
    const all: JobSummary[] = [];
    let nextToken: string | undefined;
    do {
      const page = await iot.send(new ListJobsCommand({ maxResults: 2, nextToken }));
      expect(page.jobs!.length).toBeLessThanOrEqual(2);
      all.push(...page.jobs!);
      nextToken = page.nextToken;
    } while (nextToken);
    const ids = all.map((j) => j.jobId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(expect.arrayContaining(['l-snap', 'l-cont', 'l-ns', 'e-running', 'e-done']));
    const times = all.map((j) => j.createdAt!.getTime());
    expect([...times].sort((a, b) => b - a)).toEqual(times);

    const byGroup = await iot.send(new ListJobsCommand({ thingGroupName: 'l-g' }));
    expect(byGroup.jobs!.map((j) => j.jobId).sort()).toEqual(['l-cont', 'l-snap']);
    const groupId = (await iot.send(new DescribeThingGroupCommand({ thingGroupName: 'l-g' }))).thingGroupId!;
    const byGroupId = await iot.send(new ListJobsCommand({ thingGroupId: groupId }));
    expect(byGroupId.jobs!.map((j) => j.jobId).sort()).toEqual(['l-cont', 'l-snap']);
    expect(byGroupId.jobs!.every((j) => j.thingGroupId === groupId)).toBe(true);
    const continuous = await iot.send(new ListJobsCommand({ targetSelection: 'CONTINUOUS', thingGroupName: 'l-g' }));
    expect(continuous.jobs!.map((j) => j.jobId)).toEqual(['l-cont']);
    const ns = await iot.send(new ListJobsCommand({ namespaceId: 'l-space' }));
    expect(ns.jobs!.map((j) => j.jobId)).toEqual(['l-ns']);
    const completed = await iot.send(new ListJobsCommand({ status: 'COMPLETED' }));
    expect(completed.jobs!.map((j) => j.jobId)).toContain('e-done');
    expect(completed.jobs!.every((j) => j.status === 'COMPLETED')).toBe(true);
  });

  it('updates a job and keeps its configuration', async () => {
    await iot.send(new CreateJobCommand({ jobId: 'u-1', targets: [w.thing('e-t2')], document: DOC }));
    const before = (await iot.send(new DescribeJobCommand({ jobId: 'u-1' }))).job!;
    await new Promise((r) => setTimeout(r, 5));
    const config = {
      description: 'updated',
      presignedUrlConfig: { roleArn: 'arn:aws:iam::000000000000:role/jobs-s3', expiresInSec: 900 },
      jobExecutionsRolloutConfig: {
        maximumPerMinute: 100,
        exponentialRate: {
          baseRatePerMinute: 10,
          incrementFactor: 2.5,
          rateIncreaseCriteria: { numberOfSucceededThings: 5 },
        },
      },
      abortConfig: {
        criteriaList: [
          {
            failureType: 'FAILED' as const,
            action: 'CANCEL' as const,
            thresholdPercentage: 12.5,
            minNumberOfExecutedThings: 10,
          },
        ],
      },
      timeoutConfig: { inProgressTimeoutInMinutes: 60 },
    };
    await iot.send(new UpdateJobCommand({ jobId: 'u-1', ...config }));
    const after = (await iot.send(new DescribeJobCommand({ jobId: 'u-1' }))).job!;
    expect(after).toMatchObject(config);
    expect(after.lastUpdatedAt!.getTime()).toBeGreaterThanOrEqual(before.lastUpdatedAt!.getTime());
    // spec 3.8: an existing job's retry count may be lowered to 0.
    await iot.send(
      new UpdateJobCommand({
        jobId: 'e-retry',
        jobExecutionsRetryConfig: { criteriaList: [{ failureType: 'FAILED', numberOfRetries: 0 }] },
      }),
    );
    const retry = (await iot.send(new DescribeJobCommand({ jobId: 'e-retry' }))).job!.jobExecutionsRetryConfig;
    expect(retry).toEqual({ criteriaList: [{ failureType: 'FAILED', numberOfRetries: 0 }] });
  });

  it('gives CONTINUOUS jobs to things that join, REMOVES them from things that leave, and takes more groups', async () => {
    await things('c-1', 'c-2', 'c-3');
    await group('c-g1', undefined, ['c-1']);
    await group('c-g2', undefined, ['c-1', 'c-3']);
    await iot.send(
      new CreateJobCommand({
        jobId: 'c-job',
        targets: [w.group('c-g1')],
        document: DOC,
        targetSelection: 'CONTINUOUS',
      }),
    );
    await iot.send(new AddThingToThingGroupCommand({ thingGroupName: 'c-g1', thingName: 'c-2' }));
    expect(await executionsOf('c-job')).toEqual([
      { thing: 'c-1', status: 'QUEUED', executionNumber: 1 },
      { thing: 'c-2', status: 'QUEUED', executionNumber: 1 },
    ]);
    const assoc = await iot.send(
      new AssociateTargetsWithJobCommand({ jobId: 'c-job', targets: [w.group('c-g2')], comment: 'second wave' }),
    );
    expect(assoc).toMatchObject({ jobArn: w.job('c-job'), jobId: 'c-job' });
    // c-1 already had the job through c-g1; only c-3 is new.
    expect((await executionsOf('c-job')).map((e) => e.thing)).toEqual(['c-1', 'c-2', 'c-3']);
    expect((await iot.send(new DescribeJobCommand({ jobId: 'c-job' }))).job!.targets).toEqual([
      w.group('c-g1'),
      w.group('c-g2'),
    ]);
    await iot.send(new RemoveThingFromThingGroupCommand({ thingGroupName: 'c-g1', thingName: 'c-2' }));
    const removed = await iot.send(new DescribeJobExecutionCommand({ jobId: 'c-job', thingName: 'c-2' }));
    expect(removed.execution).toMatchObject({ status: 'REMOVED', versionNumber: 2 });
    // c-1 left c-g1 but is still in c-g2: it keeps its execution.
    await iot.send(new RemoveThingFromThingGroupCommand({ thingGroupName: 'c-g1', thingName: 'c-1' }));
    expect(
      (await iot.send(new DescribeJobExecutionCommand({ jobId: 'c-job', thingName: 'c-1' }))).execution?.status,
    ).toBe('QUEUED');
    const job = (await iot.send(new DescribeJobCommand({ jobId: 'c-job' }))).job!;
    expect(job.status).toBe('IN_PROGRESS');
    expect(job.jobProcessDetails).toMatchObject({ numberOfQueuedThings: 2, numberOfRemovedThings: 1 });
  });

  it('lists, cancels and deletes executions of a thing', async () => {
    await things('x-1');
    for (const id of ['x-a', 'x-b', 'x-c']) {
      await iot.send(new CreateJobCommand({ jobId: id, targets: [w.thing('x-1')], document: DOC }));
    }
    await iot.send(
      new CreateJobCommand({ jobId: 'x-ns', targets: [w.thing('x-1')], document: DOC, namespaceId: 'x-space' }),
    );
    const device = t.server.services.deviceJobs;
    await device.startNextPendingJobExecution('x-1');
    const inProgress = await iot.send(
      new ListJobExecutionsForThingCommand({ thingName: 'x-1', status: 'IN_PROGRESS' }),
    );
    expect(inProgress.executionSummaries?.map((s) => s.jobId)).toEqual(['x-a']);
    const first = await iot.send(new ListJobExecutionsForThingCommand({ thingName: 'x-1', maxResults: 2 }));
    const second = await iot.send(
      new ListJobExecutionsForThingCommand({ thingName: 'x-1', maxResults: 2, nextToken: first.nextToken }),
    );
    expect([...first.executionSummaries!, ...second.executionSummaries!].map((s) => s.jobId).sort()).toEqual([
      'x-a',
      'x-b',
      'x-c',
      'x-ns',
    ]);
    expect(second.nextToken).toBeUndefined();
    const ns = await iot.send(new ListJobExecutionsForThingCommand({ thingName: 'x-1', namespaceId: 'x-space' }));
    expect(ns.executionSummaries?.map((s) => s.jobId)).toEqual(['x-ns']);
    const byJob = await iot.send(new ListJobExecutionsForThingCommand({ thingName: 'x-1', jobId: 'x-b' }));
    expect(byJob.executionSummaries).toEqual([
      { jobId: 'x-b', jobExecutionSummary: expect.objectContaining({ status: 'QUEUED', executionNumber: 1 }) },
    ]);

    await iot.send(new CancelJobExecutionCommand({ jobId: 'x-a', thingName: 'x-1', force: true, expectedVersion: 2 }));
    const a = (await iot.send(new DescribeJobExecutionCommand({ jobId: 'x-a', thingName: 'x-1' }))).execution!;
    expect(a).toMatchObject({ status: 'CANCELED', forceCanceled: true, versionNumber: 3 });
    await iot.send(new DeleteJobExecutionCommand({ jobId: 'x-a', thingName: 'x-1', executionNumber: 1 }));
    await expect(iot.send(new DescribeJobExecutionCommand({ jobId: 'x-a', thingName: 'x-1' }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
    expect(
      (await iot.send(new DescribeJobCommand({ jobId: 'x-a' }))).job!.jobProcessDetails?.numberOfCanceledThings,
    ).toBe(0);
    await iot.send(new DeleteJobExecutionCommand({ jobId: 'x-b', thingName: 'x-1', executionNumber: 1, force: true }));
    expect((await iot.send(new DescribeJobCommand({ jobId: 'x-b' }))).job!.status).toBe('COMPLETED');
  });

  it('cancels a job: QUEUED at once, IN_PROGRESS only with force', async () => {
    await things('k-1', 'k-2');
    await group('k-g', undefined, ['k-1', 'k-2']);
    await iot.send(
      new CreateJobCommand({ jobId: 'k-job', targets: [w.group('k-g')], document: DOC, description: 'k' }),
    );
    await t.server.services.deviceJobs.startNextPendingJobExecution('k-1');
    const out = await iot.send(
      new CancelJobCommand({ jobId: 'k-job', reasonCode: 'BAD_FIRMWARE_1', comment: 'bricks the radio' }),
    );
    expect(out).toMatchObject({ jobArn: w.job('k-job'), jobId: 'k-job', description: 'k' });
    let job = (await iot.send(new DescribeJobCommand({ jobId: 'k-job' }))).job!;
    expect(job).toMatchObject({
      status: 'CANCELED',
      forceCanceled: false,
      reasonCode: 'BAD_FIRMWARE_1',
      comment: 'bricks the radio',
    });
    expect(job.jobProcessDetails).toMatchObject({ numberOfInProgressThings: 1, numberOfCanceledThings: 1 });
    await iot.send(new CancelJobCommand({ jobId: 'k-job', force: true }));
    job = (await iot.send(new DescribeJobCommand({ jobId: 'k-job' }))).job!;
    expect(job).toMatchObject({ status: 'CANCELED', forceCanceled: true });
    expect(job.jobProcessDetails).toMatchObject({ numberOfInProgressThings: 0, numberOfCanceledThings: 2 });
    const e = (await iot.send(new DescribeJobExecutionCommand({ jobId: 'k-job', thingName: 'k-1' }))).execution!;
    expect(e).toMatchObject({ status: 'CANCELED', forceCanceled: true });
  });

  it('deletes jobs through DELETION_IN_PROGRESS, at most 10 at once, then frees the id', async () => {
    await things('del-t');
    const deletions = t.server.services.jobDeletions;
    for (let i = 0; i < 11; i++) {
      await iot.send(new CreateJobCommand({ jobId: `del-${i}`, targets: [w.thing('del-t')], document: DOC }));
    }
    deletions.pause();
    try {
      for (let i = 0; i < 10; i++) await iot.send(new DeleteJobCommand({ jobId: `del-${i}`, force: true }));
      const deleting = (await iot.send(new DescribeJobCommand({ jobId: 'del-0' }))).job!;
      expect(deleting.status).toBe('DELETION_IN_PROGRESS');
      const listed = await iot.send(new ListJobsCommand({ status: 'DELETION_IN_PROGRESS' }));
      expect(listed.jobs).toHaveLength(10);
      await expect(iot.send(new DeleteJobCommand({ jobId: 'del-10', force: true }))).rejects.toMatchObject({
        name: 'LimitExceededException',
        $metadata: { httpStatusCode: 410 },
      });
      await expect(iot.send(new DeleteJobCommand({ jobId: 'del-0', force: true }))).rejects.toMatchObject({
        name: 'InvalidStateTransitionException',
      });
      await expect(
        iot.send(new CreateJobCommand({ jobId: 'del-0', targets: [w.thing('del-t')], document: DOC })),
      ).rejects.toMatchObject({ name: 'ResourceAlreadyExistsException' });
      // The device no longer sees a job that is being deleted.
      const pending = await t.server.services.deviceJobs.getPendingJobExecutions('del-t');
      expect(pending.queuedJobs.map((s) => s.jobId)).toEqual(['del-10']);
    } finally {
      deletions.resumePurging();
    }
    await deletions.idle();
    await expect(iot.send(new DescribeJobCommand({ jobId: 'del-0' }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
    await iot.send(new DeleteJobCommand({ jobId: 'del-10', force: true }));
    await deletions.idle();
    await iot.send(new CreateJobCommand({ jobId: 'del-0', targets: [w.thing('del-t')], document: DOC }));
    expect((await iot.send(new DescribeJobCommand({ jobId: 'del-0' }))).job!.status).toBe('IN_PROGRESS');
  });

  it('creates, lists, uses and deletes job templates', async () => {
    const timeoutConfig = { inProgressTimeoutInMinutes: 30 };
    await iot.send(
      new CreateJobTemplateCommand({
        jobTemplateId: 'tpl-1',
        description: 'firmware 2.1',
        document: DOC,
        timeoutConfig,
        jobExecutionsRetryConfig: { criteriaList: [{ failureType: 'TIMED_OUT', numberOfRetries: 3 }] },
        maintenanceWindows: [{ startTime: 'cron(0 22 ? * SAT *)', durationInMinutes: 120 }],
        tags: [{ Key: 'team', Value: 'radio' }],
      }),
    );
    const d = await iot.send(new DescribeJobTemplateCommand({ jobTemplateId: 'tpl-1' }));
    expect(d).toMatchObject({
      jobTemplateArn: w.template('tpl-1'),
      jobTemplateId: 'tpl-1',
      description: 'firmware 2.1',
      document: DOC,
      timeoutConfig,
      maintenanceWindows: [{ startTime: 'cron(0 22 ? * SAT *)', durationInMinutes: 120 }],
    });
    expect(d.createdAt).toBeInstanceOf(Date);
    const tags = await iot.send(new ListTagsForResourceCommand({ resourceArn: w.template('tpl-1') }));
    expect(tags.tags).toEqual([{ Key: 'team', Value: 'radio' }]);

    await things('tpl-t');
    await iot.send(
      new CreateJobCommand({
        jobId: 'tpl-job',
        targets: [w.thing('tpl-t')],
        jobTemplateArn: w.template('tpl-1'),
        jobExecutionsRolloutConfig: { maximumPerMinute: 5 },
      }),
    );
    const job = (await iot.send(new DescribeJobCommand({ jobId: 'tpl-job' }))).job!;
    expect(job).toMatchObject({
      jobTemplateArn: w.template('tpl-1'),
      timeoutConfig,
      jobExecutionsRolloutConfig: { maximumPerMinute: 5 },
      jobExecutionsRetryConfig: { criteriaList: [{ failureType: 'TIMED_OUT', numberOfRetries: 3 }] },
      schedulingConfig: { maintenanceWindows: [{ startTime: 'cron(0 22 ? * SAT *)', durationInMinutes: 120 }] },
    });
    expect((await iot.send(new GetJobDocumentCommand({ jobId: 'tpl-job' }))).document).toBe(DOC);

    // From an existing job: its document and configuration, with the description given here.
    await iot.send(
      new CreateJobTemplateCommand({ jobTemplateId: 'tpl-2', description: 'copy', jobArn: w.job('tpl-job') }),
    );
    expect(await iot.send(new DescribeJobTemplateCommand({ jobTemplateId: 'tpl-2' }))).toMatchObject({
      description: 'copy',
      document: DOC,
      timeoutConfig,
      jobExecutionsRolloutConfig: { maximumPerMinute: 5 },
    });

    const first = await iot.send(new ListJobTemplatesCommand({ maxResults: 2 }));
    const rest = await iot.send(new ListJobTemplatesCommand({ maxResults: 2, nextToken: first.nextToken }));
    const ids = [...first.jobTemplates!, ...(rest.jobTemplates ?? [])].map((x) => x.jobTemplateId);
    expect(ids).toEqual(expect.arrayContaining(['e-tpl', 'tpl-1', 'tpl-2']));
    expect(first.jobTemplates![0]).toMatchObject({ jobTemplateArn: expect.stringContaining(':jobtemplate/') });

    await iot.send(new DeleteJobTemplateCommand({ jobTemplateId: 'tpl-1' }));
    await expect(iot.send(new DescribeJobTemplateCommand({ jobTemplateId: 'tpl-1' }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
    // The job made from it is unaffected.
    expect((await iot.send(new DescribeJobCommand({ jobId: 'tpl-job' }))).job!.jobTemplateArn).toBe(
      w.template('tpl-1'),
    );
  });

  it('creates jobs from AWS managed templates with documentParameters', async () => {
    const list = await iot.send(new ListManagedJobTemplatesCommand({}));
    const names = list.managedJobTemplates!.map((m) => m.templateName);
    expect(names).toEqual(expect.arrayContaining(['AWS-Reboot', 'AWS-Run-Command', 'AWS-Download-File']));
    const arn = 'arn:aws:iot:us-east-1::jobtemplate/AWS-Run-Command:1.0';
    const described = await iot.send(new DescribeManagedJobTemplateCommand({ templateName: 'AWS-Run-Command' }));
    expect(described).toMatchObject({ templateArn: arn, templateVersion: '1.0', environments: ['LINUX'] });
    expect(described.documentParameters?.find((p) => p.key === 'command')).toMatchObject({ optional: false });

    await things('m-1');
    await iot.send(
      new CreateJobCommand({
        jobId: 'm-run',
        targets: [w.thing('m-1')],
        jobTemplateArn: arn,
        documentParameters: { command: 'echo,"hello world"', runAsUser: 'root' },
      }),
    );
    const doc = JSON.parse((await iot.send(new GetJobDocumentCommand({ jobId: 'm-run' }))).document!);
    expect(doc.steps[0].action).toEqual({
      name: 'Run-Command',
      type: 'runCommand',
      input: { command: 'echo,"hello world"' },
      runAsUser: 'root',
    });
    const raw = await iot.send(new GetJobDocumentCommand({ jobId: 'm-run', beforeSubstitution: true }));
    expect(raw.document).toContain('${aws:iot:parameter:command}');
    const job = (await iot.send(new DescribeJobCommand({ jobId: 'm-run' }))).job!;
    expect(job).toMatchObject({
      jobTemplateArn: arn,
      documentParameters: { command: 'echo,"hello world"', runAsUser: 'root' },
    });

    await iot.send(
      new CreateJobCommand({
        jobId: 'm-reboot',
        targets: [w.thing('m-1')],
        jobTemplateArn: 'arn:aws:iot:us-east-1::jobtemplate/AWS-Reboot:1.0',
      }),
    );
    const reboot = JSON.parse((await iot.send(new GetJobDocumentCommand({ jobId: 'm-reboot' }))).document!);
    expect(reboot.steps[0].action).toMatchObject({
      name: 'Reboot',
      runAsUser: '',
      input: { handler: 'reboot.sh', path: '' },
    });
  });

  it('tags jobs on creation and with TagResource / UntagResource', async () => {
    await iot.send(
      new CreateJobCommand({
        jobId: 'tag-job',
        targets: [w.thing('e-t2')],
        document: DOC,
        tags: [{ Key: 'env', Value: 'prod' }],
      }),
    );
    await iot.send(new TagResourceCommand({ resourceArn: w.job('tag-job'), tags: [{ Key: 'owner', Value: 'ops' }] }));
    expect((await iot.send(new ListTagsForResourceCommand({ resourceArn: w.job('tag-job') }))).tags).toEqual([
      { Key: 'env', Value: 'prod' },
      { Key: 'owner', Value: 'ops' },
    ]);
    await iot.send(new UntagResourceCommand({ resourceArn: w.job('tag-job'), tagKeys: ['env'] }));
    expect((await iot.send(new ListTagsForResourceCommand({ resourceArn: w.job('tag-job') }))).tags).toEqual([
      { Key: 'owner', Value: 'ops' },
    ]);
    await iot.send(new TagResourceCommand({ resourceArn: w.template('e-tpl'), tags: [{ Key: 'k', Value: 'v' }] }));
    expect((await iot.send(new ListTagsForResourceCommand({ resourceArn: w.template('e-tpl') }))).tags).toEqual([
      { Key: 'k', Value: 'v' },
    ]);
  });

  it('removes a deleted thing from its jobs and unblocks them', async () => {
    await things('gone-1', 'gone-2');
    await iot.send(
      new CreateJobCommand({ jobId: 'gone-job', targets: [w.thing('gone-1'), w.thing('gone-2')], document: DOC }),
    );
    await t.server.services.deviceJobs.updateJobExecution('gone-1', 'gone-job', { status: 'SUCCEEDED' });
    await t.server.services.deviceJobs.startNextPendingJobExecution('gone-2');
    await iot.send(new DeleteThingCommand({ thingName: 'gone-2' }));
    const job = (await iot.send(new DescribeJobCommand({ jobId: 'gone-job' }))).job!;
    expect(job.status).toBe('COMPLETED');
    expect(job.jobProcessDetails).toMatchObject({ numberOfRemovedThings: 1, numberOfSucceededThings: 1 });
    expect((await executionsOf('gone-job')).map((e) => e.thing)).toEqual(['gone-1']);
  });

  it('schedules a job with a future startTime without creating executions yet', async () => {
    const start = new Date(Date.now() + 2 * 3600_000).toISOString().slice(0, 16);
    await iot.send(
      new CreateJobCommand({
        jobId: 'sched-1',
        targets: [w.thing('e-t2')],
        document: DOC,
        schedulingConfig: { startTime: start, endBehavior: 'STOP_ROLLOUT' },
      }),
    );
    const job = (await iot.send(new DescribeJobCommand({ jobId: 'sched-1' }))).job!;
    expect(job).toMatchObject({
      status: 'SCHEDULED',
      schedulingConfig: { startTime: start, endBehavior: 'STOP_ROLLOUT' },
    });
    expect(await executionsOf('sched-1')).toEqual([]);
    expect(await t.server.services.jobs.startScheduledJob('sched-1')).toBe(true);
    expect((await executionsOf('sched-1')).map((e) => e.thing)).toEqual(['e-t2']);
  });
});
