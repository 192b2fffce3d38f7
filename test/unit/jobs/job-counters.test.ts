import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXECUTION_STATUSES, COLUMN_OF } from '../../../src/jobs/execution-states.js';
import { groupArn, jobsFixture, thingArn, type JobsFixture } from '../../helpers/jobs-fixture.js';

const DOC = JSON.stringify({ operation: 'update', version: '2.0' });

async function counters(f: JobsFixture, jobId: string) {
  return (await f.jobs.describeJob(jobId)).job.jobProcessDetails;
}

/**
 * The counters the rows say, by GROUP BY over each thing's latest execution (counters count
 * things, issue 15): what the maintained counters must equal.
 */
async function countedFromRows(f: JobsFixture, jobId: string) {
  const rows = await f.store.db
    .selectFrom('job_executions as e')
    .select(['e.status', (eb) => eb.fn.countAll<number>().as('n')])
    .where('e.job_id', '=', jobId)
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('job_executions as later')
            .select('later.id')
            .whereRef('later.job_id', '=', 'e.job_id')
            .whereRef('later.thing_name', '=', 'e.thing_name')
            .whereRef('later.execution_number', '>', 'e.execution_number'),
        ),
      ),
    )
    .groupBy('e.status')
    .execute();
  const job = await f.store.db.selectFrom('jobs').selectAll().where('job_id', '=', jobId).executeTakeFirstOrThrow();
  return {
    rows: Object.fromEntries(EXECUTION_STATUSES.map((s) => [s, Number(rows.find((r) => r.status === s)?.n ?? 0)])),
    columns: Object.fromEntries(EXECUTION_STATUSES.map((s) => [s, Number(job[COLUMN_OF[s]])])),
  };
}

async function fleet(f: JobsFixture, group: string, n: number, prefix = 'dev'): Promise<string[]> {
  await f.groups.createThingGroup({ thingGroupName: group });
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    const name = `${prefix}-${i}`;
    await f.things.createThing({ thingName: name });
    await f.groups.addThingToThingGroup({ thingGroupName: group, thingName: name });
    names.push(name);
  }
  return names;
}

describe('job counters and job status follow the executions', () => {
  let f: JobsFixture;
  beforeEach(async () => {
    f = await jobsFixture('sqlite');
  });
  afterEach(async () => {
    await f.close();
  });

  it('counts every transition and completes a SNAPSHOT job when the last execution ends', async () => {
    const things = await fleet(f, 'fleet', 5);
    await f.jobs.createJob({ jobId: 'j1', targets: [groupArn(f, 'fleet')], document: DOC });
    expect(await counters(f, 'j1')).toMatchObject({ numberOfQueuedThings: 5, numberOfInProgressThings: 0 });

    await f.deviceJobs.startNextPendingJobExecution(things[0]!);
    await f.deviceJobs.updateJobExecution(things[1]!, 'j1', { status: 'IN_PROGRESS' });
    await f.deviceJobs.updateJobExecution(things[1]!, 'j1', { status: 'SUCCEEDED' });
    await f.deviceJobs.updateJobExecution(things[2]!, 'j1', { status: 'FAILED' });
    await f.deviceJobs.updateJobExecution(things[3]!, 'j1', { status: 'REJECTED' });
    await f.jobExecutions.cancelJobExecution({ jobId: 'j1', thingName: things[4]! });
    expect(await counters(f, 'j1')).toEqual({
      numberOfQueuedThings: 0,
      numberOfInProgressThings: 1,
      numberOfSucceededThings: 1,
      numberOfFailedThings: 1,
      numberOfTimedOutThings: 0,
      numberOfRejectedThings: 1,
      numberOfRemovedThings: 0,
      numberOfCanceledThings: 1,
    });
    expect((await f.jobs.describeJob('j1')).job.status).toBe('IN_PROGRESS');

    f.clock.advance(90_500);
    await f.deviceJobs.updateJobExecution(things[0]!, 'j1', { status: 'SUCCEEDED' });
    const { job } = await f.jobs.describeJob('j1');
    expect(job.status).toBe('COMPLETED');
    expect(job.completedAt).toBe(f.clock.now().getTime() / 1000);
    expect(job.jobProcessDetails.numberOfSucceededThings).toBe(2);
    const c = await countedFromRows(f, 'j1');
    expect(c.columns).toEqual(c.rows);
  });

  it('never completes a CONTINUOUS job, and counts joins and leaves', async () => {
    await fleet(f, 'cont', 2);
    await f.jobs.createJob({
      jobId: 'c1',
      targets: [groupArn(f, 'cont')],
      document: DOC,
      targetSelection: 'CONTINUOUS',
    });
    for (const t of ['dev-0', 'dev-1']) await f.deviceJobs.updateJobExecution(t, 'c1', { status: 'SUCCEEDED' });
    expect((await f.jobs.describeJob('c1')).job.status).toBe('IN_PROGRESS');

    await f.things.createThing({ thingName: 'late' });
    await f.groups.addThingToThingGroup({ thingGroupName: 'cont', thingName: 'late' });
    expect(await counters(f, 'c1')).toMatchObject({ numberOfQueuedThings: 1, numberOfSucceededThings: 2 });

    await f.groups.removeThingFromThingGroup({ thingGroupName: 'cont', thingName: 'late' });
    expect(await counters(f, 'c1')).toMatchObject({ numberOfQueuedThings: 0, numberOfRemovedThings: 1 });
    const removed = await f.jobExecutions.describeJobExecution({ jobId: 'c1', thingName: 'late' });
    expect(removed.execution).toMatchObject({ status: 'REMOVED', executionNumber: 1, versionNumber: 2 });

    // spec 3.2: re-adding the thing starts a new execution, with the next execution number.
    await f.groups.addThingToThingGroup({ thingGroupName: 'cont', thingName: 'late' });
    const again = await f.jobExecutions.describeJobExecution({ jobId: 'c1', thingName: 'late' });
    expect(again.execution).toMatchObject({ status: 'QUEUED', executionNumber: 2, versionNumber: 1 });
    const c = await countedFromRows(f, 'c1');
    expect(c.columns).toEqual(c.rows);
  });

  it('deleting a target group of a CONTINUOUS job removes its members unless another target covers them', async () => {
    await fleet(f, 'doomed', 2);
    await f.groups.createThingGroup({ thingGroupName: 'kept' });
    await f.groups.addThingToThingGroup({ thingGroupName: 'kept', thingName: 'dev-1' });
    await f.jobs.createJob({
      jobId: 'gd',
      targets: [groupArn(f, 'doomed'), groupArn(f, 'kept')],
      document: DOC,
      targetSelection: 'CONTINUOUS',
    });
    await f.groups.deleteThingGroup('doomed');
    const e0 = await f.jobExecutions.describeJobExecution({ jobId: 'gd', thingName: 'dev-0' });
    const e1 = await f.jobExecutions.describeJobExecution({ jobId: 'gd', thingName: 'dev-1' });
    expect(e0.execution.status).toBe('REMOVED');
    expect(e1.execution.status).toBe('QUEUED');
    expect(await counters(f, 'gd')).toMatchObject({ numberOfQueuedThings: 1, numberOfRemovedThings: 1 });
  });

  it('a deleted thing counts as removed and unblocks its SNAPSHOT job', async () => {
    await fleet(f, 'g', 2);
    await f.jobs.createJob({ jobId: 's1', targets: [groupArn(f, 'g')], document: DOC });
    await f.deviceJobs.updateJobExecution('dev-0', 's1', { status: 'SUCCEEDED' });
    await f.deviceJobs.startNextPendingJobExecution('dev-1');
    await f.things.deleteThing('dev-1');
    const { job } = await f.jobs.describeJob('s1');
    expect(job.status).toBe('COMPLETED');
    expect(job.jobProcessDetails).toMatchObject({
      numberOfInProgressThings: 0,
      numberOfRemovedThings: 1,
      numberOfSucceededThings: 1,
    });
    await expect(f.jobExecutions.describeJobExecution({ jobId: 's1', thingName: 'dev-1' })).rejects.toMatchObject({
      code: 'ResourceNotFound',
    });
  });

  it('cancel leaves IN_PROGRESS alone; force cancels it and marks it forceCanceled', async () => {
    await fleet(f, 'g', 3);
    await f.jobs.createJob({ jobId: 'k1', targets: [groupArn(f, 'g')], document: DOC });
    await f.deviceJobs.startNextPendingJobExecution('dev-0');
    await f.jobLifecycle.cancelJob({ jobId: 'k1', reasonCode: 'BAD_BUILD', comment: 'stop it' });
    let d = await f.jobs.describeJob('k1');
    expect(d.job).toMatchObject({
      status: 'CANCELED',
      forceCanceled: false,
      reasonCode: 'BAD_BUILD',
      comment: 'stop it',
    });
    expect(d.job.jobProcessDetails).toMatchObject({ numberOfInProgressThings: 1, numberOfCanceledThings: 2 });

    await f.jobLifecycle.cancelJob({ jobId: 'k1', force: true });
    d = await f.jobs.describeJob('k1');
    expect(d.job).toMatchObject({ status: 'CANCELED', forceCanceled: true });
    expect(d.job.jobProcessDetails).toMatchObject({ numberOfInProgressThings: 0, numberOfCanceledThings: 3 });
    const e = await f.jobExecutions.describeJobExecution({ jobId: 'k1', thingName: 'dev-0' });
    expect(e.execution).toMatchObject({ status: 'CANCELED', forceCanceled: true, versionNumber: 3 });
    const c = await countedFromRows(f, 'k1');
    expect(c.columns).toEqual(c.rows);
  });

  it('DeleteJobExecution takes the execution out of the counts', async () => {
    await fleet(f, 'g', 2);
    await f.jobs.createJob({ jobId: 'd1', targets: [groupArn(f, 'g')], document: DOC });
    await f.deviceJobs.updateJobExecution('dev-0', 'd1', { status: 'FAILED' });
    await f.jobExecutions.deleteJobExecution({ jobId: 'd1', thingName: 'dev-0', executionNumber: 1 });
    expect(await counters(f, 'd1')).toMatchObject({ numberOfFailedThings: 0, numberOfQueuedThings: 1 });
    // Force-deleting the last pending execution leaves nothing to wait for.
    await f.jobExecutions.deleteJobExecution({ jobId: 'd1', thingName: 'dev-1', executionNumber: 1, force: true });
    expect((await f.jobs.describeJob('d1')).job.status).toBe('COMPLETED');
  });

  it('keeps the counters equal to the rows through a random mix of operations', async () => {
    const things = await fleet(f, 'mix', 12);
    await f.jobs.createJob({ jobId: 'm1', targets: [groupArn(f, 'mix'), thingArn(f, 'dev-0')], document: DOC });
    // dev-0 is targeted twice (by name and through the group) and still gets one execution.
    expect(await counters(f, 'm1')).toMatchObject({ numberOfQueuedThings: 12 });
    let seed = 7;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const statuses = ['IN_PROGRESS', 'SUCCEEDED', 'FAILED', 'REJECTED'] as const;
    for (let i = 0; i < 150; i++) {
      const thing = things[rand(things.length)]!;
      const op = rand(4);
      try {
        if (op === 0) await f.deviceJobs.startNextPendingJobExecution(thing);
        else if (op === 1) await f.deviceJobs.updateJobExecution(thing, 'm1', { status: statuses[rand(4)]! });
        else if (op === 2)
          await f.jobExecutions.cancelJobExecution({ jobId: 'm1', thingName: thing, force: rand(2) === 0 });
        else
          await f.jobExecutions.deleteJobExecution({
            jobId: 'm1',
            thingName: thing,
            executionNumber: 1,
            force: rand(2) === 0,
          });
      } catch (err) {
        expect((err as { code?: string }).code).toMatch(/InvalidStateTransition|ResourceNotFound/);
      }
      const c = await countedFromRows(f, 'm1');
      expect(c.columns).toEqual(c.rows);
    }
  });
});
