import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { silentLogger } from '../../src/logger.js';
import { Notifier } from '../../src/notifier/notifier.js';
import { OutboxSignal } from '../../src/notifier/outbox-signal.js';
import { lease } from '../../src/scheduler/rollout.repository.js';
import { schedulerFixture, type Replica, type SchedulerFixture } from '../helpers/scheduler-fixture.js';

const MIN = 60_000;

/**
 * Issue 10, item 2: work claimed once across replicas. Three replicas (each its own connection
 * pool, scheduler and notifier) on one PostgreSQL database do every piece of periodic or
 * API-caused work at the same moment; each is done exactly once, and work a dead replica held
 * is taken over when its lease runs out. (test/contract/scheduler.replicas.test.ts has the
 * two-scheduler cases of releases, timeouts, retries and scheduled starts.)
 */
describe('work claimed once across three replicas on PostgreSQL', () => {
  let f: SchedulerFixture;
  let reps: Replica[];
  beforeAll(async () => {
    f = await schedulerFixture('postgres');
    reps = [f, await f.replica(), await f.replica()];
  });
  afterAll(async () => {
    await f?.close();
  });

  async function fleet(prefix: string, n: number, groups: string[] = [prefix]): Promise<string[]> {
    for (const g of groups) await f.groups.createThingGroup({ thingGroupName: g });
    const names = Array.from({ length: n }, (_, i) => `${prefix}-${String(i).padStart(3, '0')}`);
    for (const thingName of names) {
      await f.things.createThing({ thingName });
      for (const g of groups) await f.groups.addThingToThingGroup({ thingGroupName: g, thingName });
    }
    return names;
  }
  const executions = (jobId: string) =>
    f.store.db
      .selectFrom('job_executions')
      .select(['thing_name', 'status', 'execution_number'])
      .where('job_id', '=', jobId)
      .orderBy('thing_name')
      .orderBy('execution_number')
      .execute();

  it('CONTINUOUS: a thing leaving its two target groups on two replicas at once loses its execution', async () => {
    const things = await fleet('cleave', 12, ['cleave-a', 'cleave-b']);
    await f.jobs.createJob({
      jobId: 'cont-leave',
      targets: [f.groupArn('cleave-a'), f.groupArn('cleave-b')],
      document: '{}',
      targetSelection: 'CONTINUOUS',
    });
    await Promise.all(
      things.flatMap((thingName) => [
        reps[1]!.groups.removeThingFromThingGroup({ thingGroupName: 'cleave-a', thingName }),
        reps[2]!.groups.removeThingFromThingGroup({ thingGroupName: 'cleave-b', thingName }),
      ]),
    );
    const rows = await executions('cont-leave');
    expect(rows.map((x) => x.status)).toEqual(things.map(() => 'REMOVED'));
  });

  it('CONTINUOUS: a thing joining two target groups on two replicas at once gets one execution', async () => {
    const things = await fleet('cjoin', 12, []);
    for (const g of ['cjoin-a', 'cjoin-b']) await f.groups.createThingGroup({ thingGroupName: g });
    await f.jobs.createJob({
      jobId: 'cont-join',
      targets: [f.groupArn('cjoin-a'), f.groupArn('cjoin-b')],
      document: '{}',
      targetSelection: 'CONTINUOUS',
    });
    await f.clearOutbox();
    await Promise.all(
      things.flatMap((thingName) => [
        reps[1]!.groups.addThingToThingGroup({ thingGroupName: 'cjoin-a', thingName }),
        reps[2]!.groups.addThingToThingGroup({ thingGroupName: 'cjoin-b', thingName }),
      ]),
    );
    const rows = await executions('cont-join');
    expect(rows.map((x) => [x.thing_name, x.status, x.execution_number])).toEqual(things.map((t) => [t, 'QUEUED', 1]));
    expect((await f.announced()).sort()).toEqual(things);
    expect((await f.jobs.describeJob('cont-join')).job.jobProcessDetails?.numberOfQueuedThings).toBe(12);
  });

  it('CONTINUOUS: a thing moved between groups on two replicas at once ends with the right execution', async () => {
    const things = await fleet('cmove', 8, ['cmove-in']);
    await f.groups.createThingGroup({ thingGroupName: 'cmove-out' });
    await f.jobs.createJob({
      jobId: 'cont-move',
      targets: [f.groupArn('cmove-in')],
      document: '{}',
      targetSelection: 'CONTINUOUS',
    });
    // Leaves the target group on one replica while joining another group on the next: REMOVED.
    await Promise.all(
      things.flatMap((thingName) => [
        reps[0]!.groups.removeThingFromThingGroup({ thingGroupName: 'cmove-in', thingName }),
        reps[1]!.groups.addThingToThingGroup({ thingGroupName: 'cmove-out', thingName }),
      ]),
    );
    expect((await executions('cont-move')).map((x) => x.status)).toEqual(things.map(() => 'REMOVED'));
  });

  it('CONTINUOUS: a thing leaving one target group while the other is deleted on another replica loses its execution', async () => {
    const things = await fleet('cdel', 10, ['cdel-a', 'cdel-b']);
    await f.jobs.createJob({
      jobId: 'cont-del',
      targets: [f.groupArn('cdel-a'), f.groupArn('cdel-b')],
      document: '{}',
      targetSelection: 'CONTINUOUS',
    });
    await Promise.all([
      reps[1]!.groups.deleteThingGroup('cdel-a'),
      ...things.map((thingName) => reps[2]!.groups.removeThingFromThingGroup({ thingGroupName: 'cdel-b', thingName })),
    ]);
    expect((await executions('cont-del')).map((x) => x.status)).toEqual(things.map(() => 'REMOVED'));
  });

  it('CONTINUOUS: things joining the target group while the job is created on another replica all get an execution', async () => {
    const things = await fleet('cnew', 16, []);
    await f.groups.createThingGroup({ thingGroupName: 'cnew' });
    await Promise.all([
      ...things.map((thingName, i) =>
        reps[1 + (i % 2)]!.groups.addThingToThingGroup({ thingGroupName: 'cnew', thingName }),
      ),
      reps[0]!.jobs.createJob({
        jobId: 'cont-new',
        targets: [f.groupArn('cnew')],
        document: '{}',
        targetSelection: 'CONTINUOUS',
      }),
    ]);
    const rows = await executions('cont-new');
    expect(rows.map((x) => [x.thing_name, x.status, x.execution_number])).toEqual(things.map((t) => [t, 'QUEUED', 1]));
  });

  function notifier(r: Replica, leases: FakeClock, sent: string[], failing = false): Notifier {
    return new Notifier({
      db: r.ctx.db,
      dialect: r.ctx.dialect,
      clock: f.clock,
      logger: silentLogger(),
      jobs: () => r.deviceJobs,
      publish: async (topic) => {
        if (failing) throw new Error('this replica is dying');
        sent.push(topic);
      },
      signal: new OutboxSignal(),
      leaseClock: leases,
      batch: 11,
    });
  }

  it('outbox: three notifiers draining at once publish each announcement once; a dead one is taken over', async () => {
    await f.clearOutbox();
    const things = await fleet('ob', 60);
    await f.jobs.createJob({ jobId: 'ob-1', targets: [f.groupArn('ob')], document: '{}' });
    const leases = new FakeClock(Date.UTC(2031, 0, 1));
    // One replica claims a batch and dies before publishing it (its publish fails, its rows stay claimed).
    const lost: string[] = [];
    expect(await notifier(reps[0]!, leases, lost, true).runOnce()).toBe(11);
    const sent: string[] = [];
    await Promise.all(reps.map((r) => notifier(r, leases, sent).drain()));
    expect(sent).toHaveLength(2 * 49);
    leases.advance(30_001);
    await Promise.all(reps.map((r) => notifier(r, leases, sent).drain()));
    for (const t of things) {
      expect(sent.filter((s) => s === `$aws/things/${t}/jobs/notify-next`)).toHaveLength(1);
      expect(sent.filter((s) => s === `$aws/things/${t}/jobs/notify`)).toHaveLength(1);
    }
    expect(await f.announced()).toEqual([]);
  });

  it('scheduler: three replicas release at the rate together; a dead holder of the job lease is taken over', async () => {
    await fleet('sch', 90);
    await f.jobs.createJob({
      jobId: 'sch-1',
      targets: [f.groupArn('sch')],
      document: '{}',
      jobExecutionsRolloutConfig: { maximumPerMinute: 30 },
    });
    await f.clearOutbox();
    const t0 = f.now();
    const tickAll = async (now: number) =>
      (await Promise.all(reps.flatMap((r) => [r.scheduler.tick(now), r.scheduler.tick(now)]))).reduce(
        (s, x) => s + x.released,
        0,
      );
    expect(await tickAll(t0)).toBe(30);
    // A replica takes the job's lease and dies: nobody releases until the lease (60 s) has run out.
    expect(await lease(f.ctx.db, 'sch-1', 'dead-replica', t0 + MIN, t0 + 2 * MIN)).toBe(true);
    expect(await tickAll(t0 + MIN)).toBe(0);
    expect(await tickAll(t0 + 2 * MIN)).toBe(30);
    expect(await tickAll(t0 + 3 * MIN)).toBe(30);
    expect(await tickAll(t0 + 4 * MIN)).toBe(0);
    const released = await f.store.db
      .selectFrom('job_executions')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('job_id', '=', 'sch-1')
      .where('released_at', 'is not', null)
      .executeTakeFirstOrThrow();
    expect(Number(released.n)).toBe(90);
    expect(await f.announced()).toHaveLength(90);
  });

  it("DeleteJob: three replicas purging one deleted job at once emit each execution's deleted event once", async () => {
    const things = await fleet('del', 30);
    await f.eventConfigurations.updateEventConfigurations({
      eventConfigurations: { JOB_EXECUTION: { Enabled: true }, JOB: { Enabled: true } },
    });
    await f.jobs.createJob({ jobId: 'del-1', targets: [f.groupArn('del')], document: '{}' });
    // Terminal executions are left to the background purge (pending ones go with DeleteJob).
    for (const t of things) {
      await f.deviceJobs.startNextPendingJobExecution(t);
      await f.deviceJobs.updateJobExecution(t, 'del-1', { status: 'SUCCEEDED' });
    }
    for (const r of reps) r.jobDeletions.pause();
    await f.jobLifecycle.deleteJob({ jobId: 'del-1', force: true });
    await f.clearOutbox();
    // As after a restart of every replica (each resumes the deletions it finds), all at once.
    for (const r of reps) r.jobDeletions.resumePurging();
    await Promise.all(reps.map((r) => r.jobDeletions.resume()));
    await Promise.all(reps.map((r) => r.jobDeletions.idle()));
    const events = (await f.published()).filter((p) => p.topic === '$aws/events/jobExecution/del-1/deleted');
    expect(events).toHaveLength(30);
    expect(new Set(events.map((e) => e.payload.thingArn)).size).toBe(30);
    expect((await f.published()).filter((p) => p.topic === '$aws/events/job/del-1/deleted')).toHaveLength(1);
    expect(await executions('del-1')).toEqual([]);
  });
});
