import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { silentLogger } from '../../src/logger.js';
import { leaseThings } from '../../src/notifier/notifier.repository.js';
import { Notifier, type Publish } from '../../src/notifier/notifier.js';
import { OutboxSignal } from '../../src/notifier/outbox-signal.js';
import { enqueuePublish } from '../../src/store/outbox.js';
import { jobsFixture, thingArn, type JobsFixture } from '../helpers/jobs-fixture.js';
import { DIALECTS } from '../helpers/postgres.js';

interface Sent {
  topic: string;
  payload: unknown;
}

describe.each(DIALECTS)('Notifier on %s', (dialect) => {
  let f: JobsFixture;
  let leases: FakeClock;
  let n = 0;
  beforeAll(async () => {
    f = await jobsFixture(dialect);
  });
  afterAll(async () => f.close());
  beforeEach(() => {
    n++;
    leases = new FakeClock(Date.UTC(2031, 0, 1));
  });

  const notifier = (publish: Publish, leaseMs = 30_000) =>
    new Notifier({
      db: f.ctx.db,
      dialect: f.ctx.dialect,
      clock: f.clock,
      logger: silentLogger(),
      jobs: () => f.deviceJobs,
      publish,
      signal: new OutboxSignal(),
      leaseMs,
      leaseClock: leases,
      batch: 7,
    });
  const recorder = () => {
    const sent: Sent[] = [];
    const publish: Publish = async (topic, payload) => {
      sent.push({ topic, payload });
    };
    return { sent, publish };
  };
  const outboxCount = async () =>
    Number(
      (
        await f.ctx.db
          .selectFrom('outbox')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  async function fleet(size: number): Promise<string[]> {
    const names = [...Array(size).keys()].map((i) => `n${n}-${i}`);
    for (const thingName of names) await f.things.createThing({ thingName });
    await f.jobs.createJob({ jobId: `job-${n}`, targets: names.map((t) => thingArn(f, t)), document: '{"a":1}' });
    return names;
  }

  it('two notifiers draining together announce each thing exactly once', async () => {
    const things = await fleet(40);
    const a = recorder();
    const b = recorder();
    await Promise.all([notifier(a.publish).drain(), notifier(b.publish).drain(), notifier(a.publish).drain()]);
    const all = [...a.sent, ...b.sent];
    for (const thing of things) {
      expect(all.filter((m) => m.topic === `$aws/things/${thing}/jobs/notify`)).toHaveLength(1);
      expect(all.filter((m) => m.topic === `$aws/things/${thing}/jobs/notify-next`)).toHaveLength(1);
    }
    expect(all).toHaveLength(80);
    expect(await outboxCount()).toBe(0);
  });

  it('keeps the rows when publishing fails and publishes them once the lease has expired', async () => {
    const [thing] = await fleet(1);
    const failing = notifier(async () => {
      throw new Error('broker down');
    });
    await failing.drain();
    expect(await outboxCount()).toBe(1);
    // Another replica cannot take it while the lease holds ...
    const ok = recorder();
    await notifier(ok.publish).drain();
    expect(ok.sent).toEqual([]);
    // ... and does once it has run out: nothing is lost.
    leases.advance(30_001);
    await notifier(ok.publish).drain();
    expect(ok.sent.map((m) => m.topic)).toEqual([
      `$aws/things/${thing}/jobs/notify`,
      `$aws/things/${thing}/jobs/notify-next`,
    ]);
    expect(await outboxCount()).toBe(0);
  });

  it("after a crash, frees the dead process's claims at start on SQLite; PostgreSQL waits for the lease", async () => {
    const [thing] = await fleet(1);
    const now = leases.now().getTime();
    // What a notifier killed mid-batch leaves behind: its rows claimed and its thing leased.
    await leaseThings(f.ctx.db, [{ thingName: thing!, namespaceId: '' }], now, now + 30_000);
    await f.ctx.db
      .updateTable('outbox')
      .set({ claimed_until: now + 30_000 })
      .execute();
    const r = recorder();
    const restarted = notifier(r.publish);
    restarted.start();
    await restarted.drain();
    await restarted.stop();
    if (dialect === 'sqlite') {
      expect(r.sent.map((m) => m.topic)).toEqual([
        `$aws/things/${thing}/jobs/notify`,
        `$aws/things/${thing}/jobs/notify-next`,
      ]);
    } else {
      // Another replica may be alive and holding them: only the lease's end frees them.
      expect(r.sent).toEqual([]);
      leases.advance(30_001);
      await notifier(r.publish).drain();
      expect(r.sent).toHaveLength(2);
    }
    expect(await outboxCount()).toBe(0);
  });

  it('leaves a thing to the notifier holding its lease, and announces only what changed since', async () => {
    const [thing] = await fleet(1);
    const now = leases.now().getTime();
    expect(await leaseThings(f.ctx.db, [{ thingName: thing!, namespaceId: '' }], now, now + 1000)).toHaveLength(1);
    const r = recorder();
    const other = notifier(r.publish);
    await other.drain();
    expect(r.sent).toEqual([]);
    expect(await outboxCount()).toBe(1);
    leases.advance(1001);
    await other.drain();
    expect(r.sent).toHaveLength(2);

    // A change that leaves the pending set and head as announced publishes nothing.
    await f.deviceJobs.startNextPendingJobExecution(thing!);
    await f.deviceJobs.updateJobExecution(thing!, `job-${n}`, { status: 'IN_PROGRESS', statusDetails: { p: '1' } });
    await f.ctx.db
      .insertInto('outbox')
      .values({
        kind: 'thing-jobs-changed',
        thing_name: thing!,
        namespace_id: '',
        topic: null,
        payload: null,
        created_at: 0,
        claimed_until: 0,
      })
      .execute();
    await other.drain();
    expect(r.sent).toHaveLength(2);
    expect(await outboxCount()).toBe(0);
  });

  it('records what it announced for each thing of a batch and frees them', async () => {
    const things = await fleet(3);
    await f.jobs.createJob({ jobId: `job-${n}-b`, targets: things.map((t) => thingArn(f, t)), document: '{}' });
    await notifier(recorder().publish).drain();
    const rows = await f.ctx.db
      .selectFrom('thing_notify_state')
      .select(['thing_name', 'pending_key', 'head_key', 'lease_until'])
      .where('thing_name', 'in', things)
      .orderBy('thing_name')
      .execute();
    expect(rows).toEqual(
      things.map((thing_name) => ({
        thing_name,
        pending_key: `job-${n}#1,job-${n}-b#1`,
        head_key: `job-${n}#1`,
        lease_until: 0,
      })),
    );
  });

  it("publishes 'publish' rows as they are", async () => {
    await enqueuePublish(f.ctx.db, '$aws/events/job/x/completed', { eventType: 'JOB', jobId: 'x' }, 0);
    const r = recorder();
    await notifier(r.publish).drain();
    expect(r.sent).toEqual([{ topic: '$aws/events/job/x/completed', payload: { eventType: 'JOB', jobId: 'x' } }]);
    expect(await outboxCount()).toBe(0);
  });
});
