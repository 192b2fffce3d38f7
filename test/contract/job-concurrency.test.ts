import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COLUMN_OF, EXECUTION_STATUSES, type ExecutionStatus } from '../../src/jobs/execution-states.js';
import { applyTransition } from '../../src/jobs/execution-transitions.js';
import { findExecution } from '../../src/jobs/executions.repository.js';
import { findJob, shareJob } from '../../src/jobs/jobs.repository.js';
import { DIALECTS } from '../helpers/postgres.js';
import { schedulerFixture, type SchedulerFixture } from '../helpers/scheduler-fixture.js';

/**
 * Issue 17: device updates of one job no longer serialise on the job row (PostgreSQL takes it FOR
 * SHARE and appends counter deltas). With many devices of one job reporting at once, on both
 * dialects: counters stay exact at every read and at the end, the job completes exactly once, and
 * a CancelJob racing the devices still leaves every thing counted once.
 */
describe.each(DIALECTS)('many devices of one job at once on %s', (dialect) => {
  let f: SchedulerFixture;
  const N = 120;
  beforeAll(async () => {
    f = await schedulerFixture(dialect);
    await f.eventConfigurations.updateEventConfigurations({
      eventConfigurations: { JOB: { Enabled: true } },
    });
  });
  afterAll(async () => {
    await f?.close();
  });

  async function fleet(prefix: string): Promise<string[]> {
    await f.groups.createThingGroup({ thingGroupName: prefix });
    const names = Array.from({ length: N }, (_, i) => `${prefix}-${i}`);
    for (const thingName of names) {
      await f.things.createThing({ thingName });
      await f.groups.addThingToThingGroup({ thingGroupName: prefix, thingName });
    }
    return names;
  }

  /** Counters as DescribeJob reads them, and as the rows say (each thing by its latest execution). */
  async function counters(jobId: string) {
    const job = (await findJob(f.store.db, jobId))!;
    const rows = await f.store.db
      .selectFrom('job_executions')
      .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
      .where('job_id', '=', jobId)
      .groupBy('status')
      .execute();
    return {
      columns: Object.fromEntries(EXECUTION_STATUSES.map((s) => [s, Number(job[COLUMN_OF[s]])])),
      rows: Object.fromEntries(EXECUTION_STATUSES.map((s) => [s, Number(rows.find((r) => r.status === s)?.n ?? 0)])),
      status: job.status,
    };
  }

  const sum = (c: Record<string, number>) => Object.values(c).reduce((a, b) => a + b, 0);

  async function completedEvents(jobId: string): Promise<number> {
    return (await f.published()).filter((p) => p.topic === `$aws/events/job/${jobId}/completed`).length;
  }

  it('keeps counters exact at every read and completes the job exactly once', async () => {
    const things = await fleet('burst');
    await f.jobs.createJob({ jobId: 'burst', targets: [f.groupArn('burst')], document: '{}' });
    let reading = true;
    const reads: number[] = [];
    // DescribeJob while the devices report: every thing counted exactly once at every instant.
    const reader = (async () => {
      while (reading) {
        const c = await counters('burst');
        reads.push(sum(c.columns));
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    const finals: ExecutionStatus[] = ['SUCCEEDED', 'FAILED', 'REJECTED'];
    await Promise.all(
      things.map(async (thing, i) => {
        await f.deviceJobs.startNextPendingJobExecution(thing);
        await f.deviceJobs.updateJobExecution(thing, 'burst', { status: 'IN_PROGRESS', expectedVersion: 2 });
        // Two reports racing with the same expectedVersion: exactly one wins.
        const racing = await Promise.allSettled([
          f.deviceJobs.updateJobExecution(thing, 'burst', { status: finals[i % 3]!, expectedVersion: 3 }),
          f.deviceJobs.updateJobExecution(thing, 'burst', { status: 'SUCCEEDED', expectedVersion: 3 }),
        ]);
        expect(racing.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      }),
    );
    reading = false;
    await reader;
    expect(reads.length).toBeGreaterThan(0);
    expect(new Set(reads)).toEqual(new Set([N]));
    const end = await counters('burst');
    expect(end.columns).toEqual(end.rows);
    expect(end.columns.QUEUED! + end.columns.IN_PROGRESS!).toBe(0);
    expect(end.status).toBe('COMPLETED');
    expect(await completedEvents('burst')).toBe(1);
    // The scheduler folds what is left; nothing changes, and the job does not complete twice.
    await f.scheduler.tick(f.now());
    expect((await counters('burst')).columns).toEqual(end.rows);
    expect(await completedEvents('burst')).toBe(1);
    const left = await f.store.db.selectFrom('job_counter_deltas').select('id').where('job_id', '=', 'burst').execute();
    expect(left).toEqual([]);
  });

  // The hot row itself: on PostgreSQL a device's open transaction used to hold the job row FOR UPDATE.
  it.runIf(dialect === 'postgres')(
    'lets a device update while another device of the job is mid-transaction',
    async () => {
      const [a, b] = await fleet('hot');
      await f.jobs.createJob({ jobId: 'hot', targets: [f.groupArn('hot')], document: '{}' });
      await f.deviceJobs.startNextPendingJobExecution(a!);
      await f.deviceJobs.startNextPendingJobExecution(b!);
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let inside!: () => void;
      const entered = new Promise<void>((resolve) => (inside = resolve));
      const open = f.store.db.transaction().execute(async (trx) => {
        const job = await shareJob(trx, 'postgres', 'hot');
        const row = (await findExecution(trx, 'hot', a!))!;
        await applyTransition(trx, row, { cause: 'device-update', to: 'SUCCEEDED', now: f.now(), counters: 'delta' });
        expect(job).toBeDefined();
        inside();
        await held;
      });
      await entered;
      // Resolves while the other transaction is still open: no lock on the job row in its way.
      await f.deviceJobs.updateJobExecution(b!, 'hot', { status: 'SUCCEEDED' });
      release();
      await open;
      const end = await counters('hot');
      expect(end.columns.SUCCEEDED).toBe(2);
    },
  );

  it('counts every thing once when CancelJob races the devices', async () => {
    const things = await fleet('cancel');
    await f.jobs.createJob({ jobId: 'cancel', targets: [f.groupArn('cancel')], document: '{}' });
    const devices = Promise.allSettled(
      things.map(async (thing) => {
        await f.deviceJobs.startNextPendingJobExecution(thing);
        await f.deviceJobs.updateJobExecution(thing, 'cancel', { status: 'SUCCEEDED' });
      }),
    );
    const cancel = f.jobLifecycle.cancelJob({ jobId: 'cancel', force: true });
    await Promise.all([devices, cancel]);
    const end = await counters('cancel');
    expect(end.columns).toEqual(end.rows);
    expect(sum(end.columns)).toBe(N);
    expect(end.columns.QUEUED! + end.columns.IN_PROGRESS!).toBe(0);
    expect(end.status).toBe('CANCELED');
    expect(await completedEvents('cancel')).toBe(0);
  });

  // Only PostgreSQL has the window: on SQLite the last transition completes the job in its own transaction.
  it.runIf(dialect === 'postgres')(
    'completes a job left open by a crash after the last commit, at the next tick',
    async () => {
      const things = await fleet('crash');
      await f.jobs.createJob({ jobId: 'crash', targets: [f.groupArn('crash')], document: '{}' });
      for (const thing of things) {
        await f.deviceJobs.startNextPendingJobExecution(thing);
        await f.deviceJobs.updateJobExecution(thing, 'crash', { status: 'SUCCEEDED' });
      }
      expect((await counters('crash')).status).toBe('COMPLETED');
      // Replay the crash: the job as it was before the after-commit check, with a delta unfolded.
      await f.store.db
        .updateTable('jobs')
        .set({ status: 'IN_PROGRESS', completed_at: null })
        .where('job_id', '=', 'crash')
        .execute();
      await f.store.db
        .updateTable('jobs')
        .set({ n_succeeded: N - 1, n_in_progress: 1 })
        .where('job_id', '=', 'crash')
        .execute();
      await f.store.db
        .insertInto('job_counter_deltas')
        .values([
          { job_id: 'crash', counter: 'n_in_progress', delta: -1 },
          { job_id: 'crash', counter: 'n_succeeded', delta: 1 },
        ])
        .execute();
      const before = await counters('crash');
      expect(before.columns).toEqual(before.rows);
      await f.scheduler.tick(f.now());
      const after = await counters('crash');
      expect(after.status).toBe('COMPLETED');
      expect(after.columns).toEqual(after.rows);
      expect(await completedEvents('crash')).toBe(2);
    },
  );
});
