import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findExecution } from '../../src/jobs/executions.repository.js';
import { pendingThingsOf } from '../../src/jobs/job-counters.js';
import { jobRowWithoutCounters } from '../../src/jobs/jobs.repository.js';
import {
  fitsOneStatement,
  readUpdateTarget,
  transitionInOneStatement,
} from '../../src/jobs/single-statement-transition.js';
import { schedulerFixture, type SchedulerFixture } from '../helpers/scheduler-fixture.js';

/**
 * Issue 17: on PostgreSQL a device transition is one read and one write statement instead of a
 * transaction of seven to nine round trips. These tests pin what that statement must keep of
 * applyTransition: the compare-and-set, the counter deltas and the outbox row only when it wins,
 * nothing written for a deleted job, and the read returning the rows exactly as Kysely reads them.
 * (The same path under concurrency: job-concurrency.test.ts; through MQTT: the e2e device tests.)
 */
describe('device transitions in one statement on postgres', () => {
  let f: SchedulerFixture;
  beforeAll(async () => {
    f = await schedulerFixture('postgres');
    for (const thingName of ['t1', 't2', 't3']) await f.things.createThing({ thingName });
    await f.jobs.createJob({
      jobId: 'j1',
      targets: ['t1', 't2', 't3'].map((t) => f.thingArn(t)),
      document: '{"n":1}',
      timeoutConfig: { inProgressTimeoutInMinutes: 5 },
      jobExecutionsRetryConfig: { criteriaList: [{ failureType: 'FAILED', numberOfRetries: 2 }] },
    });
  });
  afterAll(async () => {
    await f?.close();
  });

  const deltasOf = async (jobId: string) =>
    f.store.db.selectFrom('job_counter_deltas').select(['counter', 'delta']).where('job_id', '=', jobId).execute();
  const outboxOf = async (thing: string) =>
    f.store.db.selectFrom('outbox').select('id').where('thing_name', '=', thing).execute();

  it('reads the job, the execution and the event switch as Kysely reads them', async () => {
    const target = await readUpdateTarget(f.store.db, 'j1', 't1', undefined);
    expect(target.job).toEqual(await jobRowWithoutCounters(f.store.db, 'j1'));
    expect(target.execution).toEqual(await findExecution(f.store.db, 'j1', 't1'));
    expect(target.eventsEnabled).toBe(false);
    expect((await readUpdateTarget(f.store.db, 'j1', 't1', 1)).execution).toEqual(target.execution);
    expect((await readUpdateTarget(f.store.db, 'j1', 't1', 7)).execution).toBeUndefined();
    expect(await readUpdateTarget(f.store.db, 'nope', 't1', undefined)).toEqual({
      job: undefined,
      execution: undefined,
      eventsEnabled: false,
    });
    await f.eventConfigurations.updateEventConfigurations({
      eventConfigurations: { JOB_EXECUTION: { Enabled: true } },
    });
    expect((await readUpdateTarget(f.store.db, 'j1', 't1', undefined)).eventsEnabled).toBe(true);
    await f.eventConfigurations.updateEventConfigurations({
      eventConfigurations: { JOB_EXECUTION: { Enabled: false } },
    });
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

  it('writes the deltas and the outbox row once, for the one compare-and-set that wins', async () => {
    const exec = (await findExecution(f.store.db, 'j1', 't2'))!;
    await f.clearOutbox();
    const before = (await deltasOf('j1')).length;
    const now = f.now();
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        transitionInOneStatement(f.store.db, exec, { cause: 'device-update', to: 'IN_PROGRESS', now }),
      ),
    );
    expect(results.filter((r) => r !== undefined)).toHaveLength(1);
    const stored = (await findExecution(f.store.db, 'j1', 't2'))!;
    expect(stored).toMatchObject({
      status: 'IN_PROGRESS',
      version_number: exec.version_number + 1,
      last_updated_at: now,
    });
    expect(results.find((r) => r)).toEqual(stored);
    expect((await deltasOf('j1')).slice(before)).toEqual([
      { counter: 'n_queued', delta: -1 },
      { counter: 'n_in_progress', delta: 1 },
    ]);
    expect(await outboxOf('t2')).toHaveLength(1);
    // The same status again (a details update): no counter moves, and nothing to announce.
    const again = await transitionInOneStatement(f.store.db, stored, {
      cause: 'device-update',
      to: 'IN_PROGRESS',
      now,
      changes: { status_details: '{"step":"2"}' },
    });
    expect(again?.version_number).toBe(stored.version_number + 1);
    expect((await deltasOf('j1')).length).toBe(before + 2);
    expect(await outboxOf('t2')).toHaveLength(1);
    // A terminal status clears the timers, as applyTransition does (spec 2.7).
    const done = await transitionInOneStatement(f.store.db, again!, { cause: 'device-update', to: 'SUCCEEDED', now });
    expect(done).toMatchObject({ in_progress_deadline: null, step_deadline: null, timeout_at: null });
    expect((await findExecution(f.store.db, 'j1', 't2'))!.timeout_at).toBeNull();
  });

  it('writes nothing when announce is off, or for a job that is gone', async () => {
    const exec = (await findExecution(f.store.db, 'j1', 't3'))!;
    await f.clearOutbox();
    const started = await transitionInOneStatement(f.store.db, exec, {
      cause: 'start-next',
      to: 'IN_PROGRESS',
      now: f.now(),
      announce: false,
    });
    expect(started?.status).toBe('IN_PROGRESS');
    expect(await outboxOf('t3')).toHaveLength(0);
    // t1 QUEUED, t3 IN_PROGRESS, t2 SUCCEEDED: two pending, counted from the row and the deltas.
    expect(await pendingThingsOf(f.store.db, 'j1')).toEqual({
      status: 'IN_PROGRESS',
      target_selection: 'SNAPSHOT',
      pending: 2,
    });
    // The job row is gone (as after DeleteJob's purge): the statement finds no job, so it writes nothing.
    const orphan = (await findExecution(f.store.db, 'j1', 't1'))!;
    await f.store.db.updateTable('jobs').set({ job_id: 'j1-moved' }).where('job_id', '=', 'j1').execute();
    const before = (await deltasOf('j1')).length;
    expect(
      await transitionInOneStatement(f.store.db, orphan, { cause: 'device-update', to: 'SUCCEEDED', now: f.now() }),
    ).toBeUndefined();
    expect((await findExecution(f.store.db, 'j1', 't1'))!.status).toBe('QUEUED');
    expect((await deltasOf('j1')).length).toBe(before);
    expect(await outboxOf('t1')).toHaveLength(0);
  });
});
