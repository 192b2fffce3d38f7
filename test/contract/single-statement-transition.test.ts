import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findExecution, pendingOfThing } from '../../src/jobs/executions.repository.js';
import { pendingThingsOf } from '../../src/jobs/job-counters.js';
import { jobRowWithoutCounters, lockJob } from '../../src/jobs/jobs.repository.js';
import {
  fitsOneStatement,
  readHeads,
  readUpdateTargets,
  transitionsInOneStatement,
  type StatementTransition,
} from '../../src/jobs/single-statement-transition.js';
import { schedulerFixture, type SchedulerFixture } from '../helpers/scheduler-fixture.js';

/**
 * Issue 17: on PostgreSQL device transitions are one read and one write statement, each batched
 * over the requests of one event-loop turn, instead of a transaction of seven to nine round trips.
 * These tests pin what those statements must keep of applyTransition: each compare-and-set on its
 * own, the counter deltas and the outbox row only for the ones that win, nothing written for a
 * deleted job, and reads returning rows exactly as Kysely reads them. (The same path under
 * concurrency: job-concurrency.test.ts; through MQTT: the e2e device tests.)
 */
describe('device transitions in single statements on postgres', () => {
  let f: SchedulerFixture;
  const things = ['t1', 't2', 't3', 't4'];
  beforeAll(async () => {
    f = await schedulerFixture('postgres');
    for (const thingName of things) await f.things.createThing({ thingName });
    await f.jobs.createJob({
      jobId: 'j1',
      targets: things.map((t) => f.thingArn(t)),
      document: '{"n":1}',
      timeoutConfig: { inProgressTimeoutInMinutes: 5 },
      jobExecutionsRetryConfig: { criteriaList: [{ failureType: 'FAILED', numberOfRetries: 2 }] },
    });
  });
  afterAll(async () => {
    await f?.close();
  });

  const exec = async (thing: string) => (await findExecution(f.store.db, 'j1', thing))!;
  const deltasOf = async (jobId: string) =>
    f.store.db
      .selectFrom('job_counter_deltas')
      .select(['counter', 'delta'])
      .where('job_id', '=', jobId)
      .orderBy('id')
      .execute();
  const outboxOf = async (thing: string) =>
    f.store.db.selectFrom('outbox').select('id').where('thing_name', '=', thing).execute();
  const write = (items: StatementTransition[]) => transitionsInOneStatement(f.store.db, items);

  it('reads the job settings, the execution and the event switch of many requests at once', async () => {
    const job = (await jobRowWithoutCounters(f.store.db, 'j1'))!;
    const settings = { status: job.status, retry_config: job.retry_config, timeout_config: job.timeout_config };
    const keys = [
      { jobId: 'j1', thingName: 't1', executionNumber: undefined },
      { jobId: 'j1', thingName: 't2', executionNumber: 1 },
      { jobId: 'j1', thingName: 't1', executionNumber: 7 },
      { jobId: 'nope', thingName: 't1', executionNumber: undefined },
    ];
    expect(await readUpdateTargets(f.store.db, keys)).toEqual([
      { job: settings, execution: await exec('t1'), eventsEnabled: false },
      { job: settings, execution: await exec('t2'), eventsEnabled: false },
      { job: settings, execution: undefined, eventsEnabled: false },
      { job: undefined, execution: undefined, eventsEnabled: false },
    ]);
    await f.eventConfigurations.updateEventConfigurations({
      eventConfigurations: { JOB_EXECUTION: { Enabled: true } },
    });
    expect((await readUpdateTargets(f.store.db, keys.slice(0, 1)))[0]!.eventsEnabled).toBe(true);
    await f.eventConfigurations.updateEventConfigurations({
      eventConfigurations: { JOB_EXECUTION: { Enabled: false } },
    });
  });

  it("reads each thing's head and its job as pendingOfThing and Kysely do", async () => {
    const heads = await readHeads(f.store.db, [
      { thingName: 't1', namespaceId: '' },
      { thingName: 'nobody', namespaceId: '' },
      { thingName: 't1', namespaceId: 'other' },
    ]);
    expect(heads).toEqual([
      { head: (await pendingOfThing(f.store.db, 't1', '', 1))[0], job: await jobRowWithoutCounters(f.store.db, 'j1') },
      { head: undefined, job: undefined },
      { head: undefined, job: undefined },
    ]);
  });

  it('sends terminal updates with events or a possible retry down the transactional path', () => {
    const job = { status: 'IN_PROGRESS' as const, retry_config: '{}' };
    expect(fitsOneStatement('IN_PROGRESS', job, true)).toBe(true);
    expect(fitsOneStatement('SUCCEEDED', job, false)).toBe(true);
    expect(fitsOneStatement('SUCCEEDED', job, true)).toBe(false);
    expect(fitsOneStatement('FAILED', job, false)).toBe(false);
    expect(fitsOneStatement('FAILED', { ...job, retry_config: null }, false)).toBe(true);
    expect(fitsOneStatement('FAILED', { ...job, status: 'CANCELED' }, false)).toBe(true);
  });

  it('lets exactly one of several racing transitions of an execution win, in one batch or across batches', async () => {
    const before = await exec('t2');
    await f.clearOutbox();
    const deltas = (await deltasOf('j1')).length;
    const now = f.now();
    const item: StatementTransition = { exec: before, req: { cause: 'device-update', to: 'IN_PROGRESS', now } };
    const results = [...(await Promise.all([write([item, item, item]), write([item]), write([item, item])])).flat()];
    expect(results.filter((r) => r !== undefined)).toHaveLength(1);
    const stored = await exec('t2');
    expect(stored).toMatchObject({ status: 'IN_PROGRESS', version_number: before.version_number + 1 });
    expect(stored.last_updated_at).toBe(now);
    expect(results.find((r) => r)).toEqual(stored);
    expect((await deltasOf('j1')).slice(deltas)).toEqual([
      { counter: 'n_queued', delta: -1 },
      { counter: 'n_in_progress', delta: 1 },
    ]);
    expect(await outboxOf('t2')).toHaveLength(1);
  });

  it('applies each transition of a mixed batch on its own: columns, counters, outbox', async () => {
    await f.clearOutbox();
    const deltas = (await deltasOf('j1')).length;
    const t2 = await exec('t2');
    const t3 = await exec('t3');
    const t4 = await exec('t4');
    const now = f.now();
    const stale = { ...t4, version_number: t4.version_number + 5 };
    const [done, started, lost] = await write([
      // A terminal status clears the timers, as applyTransition does (spec 2.7).
      { exec: t2, req: { cause: 'device-update', to: 'SUCCEEDED', now, changes: { status_details: '{"a":"1"}' } } },
      // StartNext: its own columns, and no announcement (spec 5.6).
      {
        exec: t3,
        req: {
          cause: 'start-next',
          to: 'IN_PROGRESS',
          now,
          announce: false,
          changes: { started_at: now, step_deadline: now + 60_000, timeout_at: now + 60_000 },
        },
      },
      // A stale version loses its compare-and-set and writes nothing.
      { exec: stale, req: { cause: 'device-update', to: 'REJECTED', now } },
    ]);
    expect(done).toEqual(await exec('t2'));
    expect(done).toMatchObject({
      status: 'SUCCEEDED',
      status_details: '{"a":"1"}',
      timeout_at: null,
      step_deadline: null,
    });
    expect(started).toEqual(await exec('t3'));
    expect(started).toMatchObject({
      status: 'IN_PROGRESS',
      started_at: now,
      step_deadline: now + 60_000,
      status_details: null,
    });
    expect(lost).toBeUndefined();
    expect(await exec('t4')).toEqual(t4);
    expect((await deltasOf('j1')).slice(deltas)).toEqual(
      expect.arrayContaining([
        { counter: 'n_in_progress', delta: -1 },
        { counter: 'n_succeeded', delta: 1 },
        { counter: 'n_queued', delta: -1 },
        { counter: 'n_in_progress', delta: 1 },
      ]),
    );
    expect((await deltasOf('j1')).length).toBe(deltas + 4);
    expect(await outboxOf('t2')).toHaveLength(1);
    expect(await outboxOf('t3')).toHaveLength(0);
    expect(await outboxOf('t4')).toHaveLength(0);
    // t1 and t4 QUEUED, t3 IN_PROGRESS, t2 SUCCEEDED: three pending, counted from the row and the deltas.
    expect(await pendingThingsOf(f.store.db, 'j1')).toEqual({
      status: 'IN_PROGRESS',
      target_selection: 'SNAPSHOT',
      pending: 3,
    });
  });

  it('writes nothing for a job that is gone', async () => {
    const orphan = await exec('t1');
    await f.store.db.updateTable('jobs').set({ job_id: 'j1-moved' }).where('job_id', '=', 'j1').execute();
    const deltas = (await deltasOf('j1')).length;
    await f.clearOutbox();
    expect(await write([{ exec: orphan, req: { cause: 'device-update', to: 'SUCCEEDED', now: f.now() } }])).toEqual([
      undefined,
    ]);
    expect((await exec('t1')).status).toBe('QUEUED');
    expect((await deltasOf('j1')).length).toBe(deltas);
    expect(await outboxOf('t1')).toHaveLength(0);
    await f.store.db.updateTable('jobs').set({ job_id: 'j1' }).where('job_id', '=', 'j1-moved').execute();
  });

  it("lets one job's devices report while another job is locked exclusively, then the waiting one", async () => {
    for (const thingName of ['a1', 'b1']) await f.things.createThing({ thingName });
    await f.jobs.createJob({ jobId: 'ja', targets: [f.thingArn('a1')], document: '{}' });
    await f.jobs.createJob({ jobId: 'jb', targets: [f.thingArn('b1')], document: '{}' });
    let release!: () => void;
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    // What CancelJob or DeleteJob hold while they work through a big job.
    const holder = f.store.db.transaction().execute(async (trx) => {
      await lockJob(trx, 'postgres', 'ja');
      locked();
      await new Promise<void>((resolve) => (release = resolve));
    });
    await isLocked;
    let aDone = false;
    const a = f.deviceJobs.updateJobExecution('a1', 'ja', { status: 'IN_PROGRESS' }).then(() => (aDone = true));
    await f.deviceJobs.updateJobExecution('b1', 'jb', { status: 'IN_PROGRESS' });
    expect((await findExecution(f.store.db, 'jb', 'b1'))!.status).toBe('IN_PROGRESS');
    expect(aDone).toBe(false);
    release();
    await holder;
    await a;
    expect((await findExecution(f.store.db, 'ja', 'a1'))!.status).toBe('IN_PROGRESS');
  });
});
