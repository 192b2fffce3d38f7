import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COLUMN_OF, EXECUTION_STATUSES } from '../../src/jobs/execution-states.js';
import { findJob } from '../../src/jobs/jobs.repository.js';
import { DIALECTS } from '../helpers/postgres.js';
import { schedulerFixture, type SchedulerFixture } from '../helpers/scheduler-fixture.js';

const MIN = 60_000;

/**
 * Issue 15: jobProcessDetails and the abort criteria count things, a thing's latest execution
 * deciding where it is counted (AWS: numberOfFailedThings is "the number of things that failed
 * executing the job"; minNumberOfExecutedThings is "the minimum number of things"). Attempts are
 * shown apart in the `attemptDetails` extension.
 */
describe.each(DIALECTS)('counting things, not attempts, on %s', (dialect) => {
  let f: SchedulerFixture;
  beforeAll(async () => {
    f = await schedulerFixture(dialect);
  });
  afterAll(async () => {
    await f?.close();
  });

  async function fleet(prefix: string, n: number): Promise<string[]> {
    await f.groups.createThingGroup({ thingGroupName: prefix });
    const names = Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
    for (const thingName of names) {
      await f.things.createThing({ thingName });
      await f.groups.addThingToThingGroup({ thingGroupName: prefix, thingName });
    }
    return names;
  }
  const report = (thing: string, jobId: string, status: string) =>
    f.deviceJobs.updateJobExecution(thing, jobId, { status });
  const job = async (jobId: string) => (await f.jobs.describeJob(jobId)).job;

  /** Counters as the rows say, by each thing's latest execution. */
  async function countedFromRows(jobId: string) {
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
    // The row plus the deltas device transitions appended and nobody folded yet (issue 17).
    const row = (await findJob(f.store.db, jobId))!;
    return {
      rows: Object.fromEntries(EXECUTION_STATUSES.map((s) => [s, Number(rows.find((r) => r.status === s)?.n ?? 0)])),
      columns: Object.fromEntries(EXECUTION_STATUSES.map((s) => [s, Number(row[COLUMN_OF[s]])])),
    };
  }

  it('counts a retried thing once, and the abort criteria see finished things only', async () => {
    const [a, b, c, d, e, last] = await fleet('retries', 6);
    await f.jobs.createJob({
      jobId: 'rt',
      targets: [f.groupArn('retries')],
      document: '{}',
      jobExecutionsRetryConfig: { criteriaList: [{ failureType: 'FAILED', numberOfRetries: 1 }] },
      abortConfig: {
        criteriaList: [
          { failureType: 'FAILED', action: 'CANCEL', thresholdPercentage: 40, minNumberOfExecutedThings: 4 },
        ],
      },
    });
    await report(a!, 'rt', 'FAILED');
    // Waiting for its retry, the thing is QUEUED again, not failed.
    expect((await job('rt')).jobProcessDetails).toMatchObject({ numberOfFailedThings: 0, numberOfQueuedThings: 6 });
    await report(a!, 'rt', 'FAILED');
    await report(b!, 'rt', 'SUCCEEDED');
    await report(c!, 'rt', 'SUCCEEDED');
    // 3 things finished (counting attempts it was "2 of 4, 50%"): below minNumberOfExecutedThings.
    expect((await f.scheduler.tick(f.now())).aborted).toEqual([]);
    // A thing that failed once and then succeeded is counted succeeded only.
    await report(d!, 'rt', 'FAILED');
    await report(d!, 'rt', 'SUCCEEDED');
    expect(await job('rt')).toMatchObject({
      status: 'IN_PROGRESS',
      jobProcessDetails: expect.objectContaining({
        numberOfFailedThings: 1,
        numberOfSucceededThings: 3,
        numberOfQueuedThings: 2,
      }),
      attemptDetails: { numberOfRetryAttempts: 2, numberOfFailedAttempts: 3, numberOfTimedOutAttempts: 0 },
    });
    // 1 of 4 finished things failed: 25% < 40%.
    expect((await f.scheduler.tick(f.now())).aborted).toEqual([]);
    await report(e!, 'rt', 'FAILED');
    expect((await f.scheduler.tick(f.now())).aborted).toEqual([]);
    await report(e!, 'rt', 'FAILED');
    // 2 of 5 things failed: exactly 40%.
    expect((await f.scheduler.tick(f.now())).aborted).toEqual(['rt']);
    const done = await job('rt');
    expect(done.comment).toContain('2 of 5 executed things (40%)');
    expect(done.jobProcessDetails).toMatchObject({
      numberOfFailedThings: 2,
      numberOfSucceededThings: 3,
      numberOfCanceledThings: 1,
    });
    expect((await f.deviceJobs.getPendingJobExecutions(last!)).queuedJobs).toEqual([]);
  });

  it('counts a TIMED_OUT thing whose retry succeeded as succeeded', async () => {
    const [t] = await fleet('tmo', 1);
    await f.jobs.createJob({
      jobId: 'tmo',
      targets: [f.thingArn(t!)],
      document: '{}',
      timeoutConfig: { inProgressTimeoutInMinutes: 1 },
      jobExecutionsRetryConfig: { criteriaList: [{ failureType: 'ALL', numberOfRetries: 1 }] },
    });
    await f.deviceJobs.startNextPendingJobExecution(t!);
    expect((await f.scheduler.tick(f.now() + MIN + 1)).timedOut).toBe(1);
    await report(t!, 'tmo', 'SUCCEEDED');
    expect(await job('tmo')).toMatchObject({
      status: 'COMPLETED',
      jobProcessDetails: expect.objectContaining({ numberOfTimedOutThings: 0, numberOfSucceededThings: 1 }),
      attemptDetails: { numberOfRetryAttempts: 1, numberOfFailedAttempts: 0, numberOfTimedOutAttempts: 1 },
    });
  });

  it('DeleteJobExecution of an older attempt changes no count; of the latest, the thing falls back to the one before', async () => {
    const [t, u] = await fleet('del', 2);
    await f.jobs.createJob({
      jobId: 'del',
      targets: [f.groupArn('del')],
      document: '{}',
      jobExecutionsRetryConfig: { criteriaList: [{ failureType: 'FAILED', numberOfRetries: 1 }] },
    });
    await report(t!, 'del', 'FAILED');
    await report(t!, 'del', 'FAILED');
    await f.jobExecutions.deleteJobExecution({ jobId: 'del', thingName: t!, executionNumber: 1 });
    expect((await job('del')).jobProcessDetails).toMatchObject({ numberOfFailedThings: 1, numberOfQueuedThings: 1 });
    await report(u!, 'del', 'FAILED');
    await report(u!, 'del', 'SUCCEEDED');
    await f.jobExecutions.deleteJobExecution({ jobId: 'del', thingName: u!, executionNumber: 2 });
    expect(await job('del')).toMatchObject({
      status: 'COMPLETED',
      jobProcessDetails: expect.objectContaining({ numberOfFailedThings: 2, numberOfSucceededThings: 0 }),
    });
    const counted = await countedFromRows('del');
    expect(counted.columns).toEqual(counted.rows);
  });

  it('a thing that leaves a CONTINUOUS job and comes back (by group or by name) is counted once', async () => {
    const [t] = await fleet('back', 2);
    await f.groups.createThingGroup({ thingGroupName: 'back-again' });
    await f.groups.addThingToThingGroup({ thingGroupName: 'back-again', thingName: t! });
    await f.jobs.createJob({
      jobId: 'back',
      targets: [f.groupArn('back')],
      document: '{}',
      targetSelection: 'CONTINUOUS',
    });
    await f.groups.removeThingFromThingGroup({ thingGroupName: 'back', thingName: t! });
    expect((await job('back')).jobProcessDetails).toMatchObject({ numberOfRemovedThings: 1, numberOfQueuedThings: 1 });
    await f.groups.addThingToThingGroup({ thingGroupName: 'back', thingName: t! });
    expect((await job('back')).jobProcessDetails).toMatchObject({ numberOfRemovedThings: 0, numberOfQueuedThings: 2 });
    await f.groups.removeThingFromThingGroup({ thingGroupName: 'back', thingName: t! });
    await f.jobs.associateTargetsWithJob({ jobId: 'back', targets: [f.groupArn('back-again')] });
    expect((await job('back')).jobProcessDetails).toMatchObject({ numberOfRemovedThings: 0, numberOfQueuedThings: 2 });
    const counted = await countedFromRows('back');
    expect(counted.columns).toEqual(counted.rows);
  });

  it('keeps the counters equal to each thing’s latest execution through a random mix with retries', async () => {
    const things = await fleet('mix', 8);
    await f.jobs.createJob({
      jobId: 'mix',
      targets: [f.groupArn('mix')],
      document: '{}',
      targetSelection: 'CONTINUOUS',
      timeoutConfig: { inProgressTimeoutInMinutes: 1 },
      jobExecutionsRetryConfig: { criteriaList: [{ failureType: 'ALL', numberOfRetries: 2 }] },
    });
    let seed = 11;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return Math.floor((seed / 2147483648) * n);
    };
    const statuses = ['IN_PROGRESS', 'SUCCEEDED', 'FAILED', 'FAILED', 'REJECTED'] as const;
    for (let i = 0; i < 120; i++) {
      const thing = things[rand(things.length)]!;
      const op = rand(7);
      try {
        if (op === 0) await f.deviceJobs.startNextPendingJobExecution(thing);
        else if (op === 1) await report(thing, 'mix', statuses[rand(statuses.length)]!);
        else if (op === 2) await f.jobExecutions.cancelJobExecution({ jobId: 'mix', thingName: thing, force: true });
        else if (op === 3)
          await f.jobExecutions.deleteJobExecution({
            jobId: 'mix',
            thingName: thing,
            executionNumber: 1 + rand(3),
            force: rand(2) === 0,
          });
        else if (op === 4) await f.groups.removeThingFromThingGroup({ thingGroupName: 'mix', thingName: thing });
        else if (op === 5) await f.groups.addThingToThingGroup({ thingGroupName: 'mix', thingName: thing });
        else {
          f.clock.advance(MIN / 2);
          await f.scheduler.tick(f.now());
        }
      } catch (err) {
        expect((err as { code?: string }).code).toMatch(/InvalidStateTransition|ResourceNotFound/);
      }
      const counted = await countedFromRows('mix');
      expect(counted.columns).toEqual(counted.rows);
    }
    const attempts = (await job('mix')).attemptDetails as Record<string, number>;
    expect(attempts.numberOfRetryAttempts).toBeGreaterThan(0);
  });
});
