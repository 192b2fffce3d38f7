import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/postgres.js';
import { groupArn, jobsFixture, thingArn, type JobsFixture } from '../helpers/jobs-fixture.js';

const doc = (n: number) => JSON.stringify({ step: n });
const sec = (f: JobsFixture) => Math.floor(f.clock.now().getTime() / 1000);

describe.each(DIALECTS)('DeviceJobsService on %s', (dialect) => {
  let f: JobsFixture;
  let n = 0;
  const thing = () => `t${n}`;
  beforeAll(async () => {
    f = await jobsFixture(dialect);
  });
  afterAll(async () => {
    await f.close();
  });
  beforeEach(async () => {
    n++;
    await f.things.createThing({ thingName: thing() });
    await f.clearOutbox();
  });
  const job = (id: string, extra: Record<string, unknown> = {}) =>
    f.jobs.createJob({ jobId: `${id}-${n}`, targets: [thingArn(f, thing())], document: doc(n), ...extra });

  it('reads the pending state of a batch of things as it reads each one (the notifier, issue 17)', async () => {
    const names = ['a', 'b', 'c', 'd'].map((x) => `${thing()}-${x}`);
    for (const thingName of names) await f.things.createThing({ thingName });
    const [a, b, c, d] = names as [string, string, string, string];
    await f.jobs.createJob({
      jobId: `B1-${n}`,
      targets: [thingArn(f, a), thingArn(f, b), thingArn(f, c)],
      document: doc(1),
    });
    await f.jobs.createJob({ jobId: `B2-${n}`, targets: [thingArn(f, a), thingArn(f, b)], document: doc(2) });
    await f.jobs.createJob({ jobId: `B3-${n}`, targets: [thingArn(f, b)], document: doc(3), namespaceId: 'ns1' });
    await f.deviceJobs.startNextPendingJobExecution(a);
    await f.deviceJobs.updateJobExecution(c, `B1-${n}`, { status: 'SUCCEEDED' });
    const keys = [
      { thingName: a },
      { thingName: b },
      { thingName: b, namespaceId: 'ns1' },
      { thingName: c },
      { thingName: d },
      { thingName: a },
    ];
    const one = await Promise.all(keys.map((k) => f.deviceJobs.pendingState(k.thingName, k.namespaceId)));
    expect(await f.deviceJobs.pendingStates(keys)).toEqual(one);
    expect(one[0]!.head?.status).toBe('IN_PROGRESS');
    expect(one[2]!.head?.jobId).toBe(`B3-${n}`);
    expect(one[3]).toEqual({ pending: {} });
  });

  it('follows the spec 5.6 example sequence: pending set, head and announcements', async () => {
    const t = thing();
    const j1 = `J1-${n}`;
    const j2 = `J2-${n}`;
    await job('J1');
    expect(await f.announced()).toEqual([[t, '']]);
    let state = await f.deviceJobs.pendingState(t);
    expect(state.pending.QUEUED?.map((s) => s.jobId)).toEqual([j1]);
    expect(state.head).toMatchObject({ jobId: j1, status: 'QUEUED', versionNumber: 1, jobDocument: doc(n) });

    f.clock.advance(1000);
    await job('J2');
    state = await f.deviceJobs.pendingState(t);
    expect(state.pending.QUEUED?.map((s) => s.jobId)).toEqual([j1, j2]);
    expect(state.head?.jobId).toBe(j1);
    await f.clearOutbox();

    // start-next: J1 IN_PROGRESS, version 2, and nothing announced (spec 0.6).
    f.clock.advance(1000);
    const started = await f.deviceJobs.startNextPendingJobExecution(t);
    expect(started.execution).toMatchObject({
      jobId: j1,
      thingName: t,
      status: 'IN_PROGRESS',
      versionNumber: 2,
      executionNumber: 1,
      startedAt: sec(f),
      jobDocument: doc(n),
    });
    expect(await f.announced()).toEqual([]);
    // Calling it again returns the same execution unchanged.
    expect((await f.deviceJobs.startNextPendingJobExecution(t)).execution).toEqual(started.execution);
    state = await f.deviceJobs.pendingState(t);
    expect(state.pending).toEqual({
      IN_PROGRESS: [expect.objectContaining({ jobId: j1, versionNumber: 2 })],
      QUEUED: [expect.objectContaining({ jobId: j2, versionNumber: 1 })],
    });

    await f.deviceJobs.updateJobExecution(t, j1, { status: 'SUCCEEDED' });
    expect(await f.announced()).toEqual([[t, '']]);
    state = await f.deviceJobs.pendingState(t);
    expect(state.pending).toEqual({ QUEUED: [expect.objectContaining({ jobId: j2 })] });
    expect(state.head?.jobId).toBe(j2);

    await f.clearOutbox();
    await f.deviceJobs.startNextPendingJobExecution(t);
    expect(await f.announced()).toEqual([]);
    await f.deviceJobs.updateJobExecution(t, j2, { status: 'FAILED' });
    expect(await f.announced()).toEqual([[t, '']]);
    state = await f.deviceJobs.pendingState(t);
    expect(state).toEqual({ pending: {} });
    expect(await f.deviceJobs.startNextPendingJobExecution(t)).toEqual({});
    expect(await f.deviceJobs.describeJobExecution(t, '$next')).toEqual({});
  });

  it('orders IN_PROGRESS first, then QUEUED by queue time, and lists at most 10', async () => {
    const t = thing();
    for (let i = 0; i < 12; i++) {
      await job(`Q${i}`);
      f.clock.advance(10);
    }
    await f.deviceJobs.updateJobExecution(t, `Q5-${n}`, { status: 'IN_PROGRESS' });
    const pending = await f.deviceJobs.getPendingJobExecutions(t);
    expect(pending.inProgressJobs.map((s) => s.jobId)).toEqual([`Q5-${n}`]);
    expect(pending.queuedJobs.map((s) => s.jobId)).toEqual([0, 1, 2, 3, 4, 6, 7, 8, 9].map((i) => `Q${i}-${n}`));
    const head = await f.deviceJobs.describeJobExecution(t, '$next', { includeJobDocument: false });
    expect(head.execution).toMatchObject({ jobId: `Q5-${n}`, status: 'IN_PROGRESS' });
    expect(head.execution?.jobDocument).toBeUndefined();
    for (const s of [...pending.inProgressJobs, ...pending.queuedJobs]) {
      expect(Number.isInteger(s.queuedAt) && Number.isInteger(s.lastUpdatedAt)).toBe(true);
    }
  });

  it('applies the version rules: expectedVersion as number or string, VersionConflict with state', async () => {
    const t = thing();
    const j = `V-${n}`;
    await job('V');
    await expect(
      f.deviceJobs.updateJobExecution(t, j, { status: 'IN_PROGRESS', expectedVersion: 2 }),
    ).rejects.toMatchObject({
      code: 'VersionConflict',
      extras: { executionState: { status: 'QUEUED', statusDetails: {}, versionNumber: 1 } },
    });
    const r = await f.deviceJobs.updateJobExecution(t, j, {
      status: 'IN_PROGRESS',
      expectedVersion: '1',
      statusDetails: { step: 'download', progress: 10 as unknown as string },
      includeJobExecutionState: true,
      includeJobDocument: true,
    });
    expect(r).toEqual({
      executionState: { status: 'IN_PROGRESS', statusDetails: { step: 'download', progress: '10' }, versionNumber: 2 },
      jobDocument: doc(n),
    });
    // Details are kept when omitted and replaced when given (spec 4.3).
    await f.deviceJobs.updateJobExecution(t, j, { status: 'IN_PROGRESS', expectedVersion: 2 });
    let d = await f.deviceJobs.describeJobExecution(t, j);
    expect(d.execution).toMatchObject({ versionNumber: 3, statusDetails: { step: 'download', progress: '10' } });
    await f.deviceJobs.updateJobExecution(t, j, { status: 'SUCCEEDED', statusDetails: { result: 'ok' } });
    d = await f.deviceJobs.describeJobExecution(t, j);
    expect(d.execution).toMatchObject({ status: 'SUCCEEDED', versionNumber: 4, statusDetails: { result: 'ok' } });
    await expect(f.deviceJobs.updateJobExecution(t, j, { status: 'IN_PROGRESS' })).rejects.toMatchObject({
      code: 'InvalidStateTransition',
      extras: { executionState: { status: 'SUCCEEDED', statusDetails: { result: 'ok' }, versionNumber: 4 } },
    });
    await expect(
      f.deviceJobs.updateJobExecution(t, j, { status: 'IN_PROGRESS', expectedVersion: 'x' }),
    ).rejects.toMatchObject({ code: 'InvalidRequest' });
  });

  it('refuses statuses a device may not set and bad statusDetails', async () => {
    const t = thing();
    const j = `B-${n}`;
    await job('B');
    for (const status of ['QUEUED', 'CANCELED', 'TIMED_OUT', 'REMOVED', 'DONE']) {
      await expect(f.deviceJobs.updateJobExecution(t, j, { status })).rejects.toMatchObject({ code: 'InvalidRequest' });
    }
    const eleven = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, 'v']));
    for (const statusDetails of [eleven, { k: 'x'.repeat(1025) }, { 'bad key': 'v' }, { k: '' }]) {
      await expect(
        f.deviceJobs.updateJobExecution(t, j, { status: 'IN_PROGRESS', statusDetails }),
      ).rejects.toMatchObject({ code: 'InvalidRequest' });
    }
    await expect(f.deviceJobs.updateJobExecution(t, 'nope', { status: 'IN_PROGRESS' })).rejects.toMatchObject({
      code: 'ResourceNotFound',
    });
    await expect(
      f.deviceJobs.updateJobExecution(t, j, { status: 'IN_PROGRESS', stepTimeoutInMinutes: 10081 }),
    ).rejects.toMatchObject({ code: 'InvalidRequest' });
    // Nothing above changed the execution.
    expect((await f.deviceJobs.describeJobExecution(t, j)).execution).toMatchObject({
      status: 'QUEUED',
      versionNumber: 1,
    });
    // Control characters are what device software sends (handler output): taken and kept as sent.
    const output = { stdout: 'a\n\tb\r\n'.repeat(100).slice(0, 1024), stderr: 'bell\u0007 nul\u0000 esc\u001b[0m' };
    await f.deviceJobs.updateJobExecution(t, j, { status: 'IN_PROGRESS', statusDetails: output });
    expect((await f.deviceJobs.describeJobExecution(t, j)).execution?.statusDetails).toEqual(output);
  });

  it('reports the time left before the in-progress or step timer runs out (spec 3.7)', async () => {
    const t = thing();
    const j = `T-${n}`;
    await job('T', { timeoutConfig: { inProgressTimeoutInMinutes: 20 } });
    f.clock.advance(13 * 60_000);
    const s = await f.deviceJobs.startNextPendingJobExecution(t, { stepTimeoutInMinutes: 5 });
    expect(s.execution?.approximateSecondsBeforeTimedOut).toBe(300);
    f.clock.advance(60_000);
    // A 30-minute step cannot outlast the 20-minute in-progress timer: 19 minutes left.
    await f.deviceJobs.updateJobExecution(t, j, { status: 'IN_PROGRESS', stepTimeoutInMinutes: 30 });
    expect((await f.deviceJobs.describeJobExecution(t, j)).execution?.approximateSecondsBeforeTimedOut).toBe(19 * 60);
    await f.deviceJobs.updateJobExecution(t, j, { status: 'IN_PROGRESS', stepTimeoutInMinutes: 2 });
    expect((await f.deviceJobs.describeJobExecution(t, j)).execution?.approximateSecondsBeforeTimedOut).toBe(120);
    await f.deviceJobs.updateJobExecution(t, j, { status: 'IN_PROGRESS', stepTimeoutInMinutes: -1 });
    expect((await f.deviceJobs.describeJobExecution(t, j)).execution?.approximateSecondsBeforeTimedOut).toBe(19 * 60);
    const row = await f.store.db
      .selectFrom('job_executions')
      .select(['in_progress_deadline', 'step_deadline', 'timeout_at', 'started_at'])
      .where('job_id', '=', j)
      .executeTakeFirstOrThrow();
    expect(row.in_progress_deadline).toBe(Number(row.started_at) + 20 * 60_000);
    expect(row.step_deadline).toBeNull();
    await f.deviceJobs.updateJobExecution(t, j, { status: 'SUCCEEDED' });
    expect((await f.deviceJobs.describeJobExecution(t, j)).execution?.approximateSecondsBeforeTimedOut).toBeUndefined();
  });

  it('keeps namespaced jobs apart (spec 5.7)', async () => {
    const t = thing();
    await job('N', { namespaceId: 'aws-gg-deployment' });
    expect(await f.announced()).toEqual([[t, 'aws-gg-deployment']]);
    expect((await f.deviceJobs.getPendingJobExecutions(t)).queuedJobs).toEqual([]);
    const ns = await f.deviceJobs.getPendingJobExecutions(t, 'aws-gg-deployment');
    expect(ns.queuedJobs.map((s) => s.jobId)).toEqual([`N-${n}`]);
    expect((await f.deviceJobs.startNextPendingJobExecution(t, {}, 'aws-gg-deployment')).execution?.jobId).toBe(
      `N-${n}`,
    );
  });

  it('uses the injectable document renderer for every delivery', async () => {
    const t = thing();
    await job('R');
    const saved = f.deviceJobs.renderDocumentForDevice;
    f.deviceJobs.renderDocumentForDevice = async (j, name) => JSON.stringify({ for: name, job: j.job_id });
    try {
      const expected = JSON.stringify({ for: t, job: `R-${n}` });
      expect((await f.deviceJobs.describeJobExecution(t, `R-${n}`)).execution?.jobDocument).toBe(expected);
      expect((await f.deviceJobs.pendingState(t)).head?.jobDocument).toBe(expected);
      expect((await f.deviceJobs.startNextPendingJobExecution(t)).execution?.jobDocument).toBe(expected);
    } finally {
      f.deviceJobs.renderDocumentForDevice = saved;
    }
  });

  it('keeps counters exact and completes once under concurrent device updates', async () => {
    const group = `crowd-${n}`;
    await f.groups.createThingGroup({ thingGroupName: group });
    const names = Array.from({ length: 40 }, (_, i) => `${group}-${i}`);
    for (const name of names) {
      await f.things.createThing({ thingName: name });
      await f.groups.addThingToThingGroup({ thingGroupName: group, thingName: name });
    }
    await f.jobs.createJob({ jobId: group, targets: [groupArn(f, group)], document: doc(1) });
    await Promise.all(names.map((name) => f.deviceJobs.startNextPendingJobExecution(name)));
    await Promise.all(names.map((name) => f.deviceJobs.updateJobExecution(name, group, { status: 'SUCCEEDED' })));
    const { job: j } = await f.jobs.describeJob(group);
    expect(j.status).toBe('COMPLETED');
    expect(j.jobProcessDetails).toMatchObject({
      numberOfSucceededThings: 40,
      numberOfInProgressThings: 0,
      numberOfQueuedThings: 0,
    });
  });
});
