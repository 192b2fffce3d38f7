import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { silentLogger } from '../../src/logger.js';
import { Notifier } from '../../src/notifier/notifier.js';
import { OutboxSignal, wakesReplica } from '../../src/notifier/outbox-signal.js';
import { openStore, type Database, type Store } from '../../src/store/database.js';
import { enqueuePublish } from '../../src/store/outbox.js';
import { createPostgresDatabase, type TestDatabase } from '../helpers/postgres.js';

/**
 * Issue 17 item 3: on PostgreSQL each replica's notifier announces the outbox rows its own
 * connections wrote (migration 0092), is woken only by its own commits, and takes another
 * replica's rows once they have waited a whole poll (that replica stopped or fell behind).
 */
describe('Notifier affinity between replicas on PostgreSQL', () => {
  let db: TestDatabase;
  let a: Store;
  let b: Store;
  let anonymous: Kysely<Database>;
  beforeAll(async () => {
    db = await createPostgresDatabase();
    a = await openStore({ database: db.url });
    b = await openStore({ database: db.url });
    // A writer without a name (psql, a script): its rows are anyone's.
    anonymous = new Kysely<Database>({
      dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: db.url }) }),
    });
  });
  afterAll(async () => {
    await anonymous.destroy();
    await a.close();
    await b.close();
    await db.drop();
  });

  const notifierOf = (store: Store, leases: FakeClock, sent: string[]) =>
    new Notifier({
      db: store.db,
      dialect: 'postgres',
      clock: leases,
      logger: silentLogger(),
      jobs: () => undefined,
      publish: async (topic) => {
        sent.push(topic);
      },
      signal: new OutboxSignal(),
      leaseClock: leases,
      pollMs: 1000,
      origin: store.origin,
    });

  it('stamps each row with the writing replica and announces it there; another replica takes it after a poll', async () => {
    expect(a.origin).not.toBe(b.origin);
    await enqueuePublish(a.db, 'from/a', {}, 0);
    await enqueuePublish(b.db, 'from/b', {}, 0);
    await enqueuePublish(anonymous, 'from/anyone', {}, 0);
    const origins = await sql<{ topic: string; origin: string }>`SELECT topic, origin FROM outbox ORDER BY id`.execute(
      a.db,
    );
    expect(origins.rows).toEqual([
      { topic: 'from/a', origin: a.origin },
      { topic: 'from/b', origin: b.origin },
      { topic: 'from/anyone', origin: '' },
    ]);

    const leases = new FakeClock(Date.UTC(2031, 0, 1));
    const sentByB: string[] = [];
    const replicaB = notifierOf(b, leases, sentByB);
    await replicaB.drain();
    expect(sentByB).toEqual(['from/b', 'from/anyone']);

    // A's row has waited less than a poll: still A's to announce.
    leases.advance(999);
    await replicaB.drain();
    expect(sentByB).toEqual(['from/b', 'from/anyone']);
    // A whole poll later A has not taken it (A stopped): B does.
    leases.advance(1);
    await replicaB.drain();
    expect(sentByB).toEqual(['from/b', 'from/anyone', 'from/a']);

    // A live replica announces its own row at once, whatever the other's marks say.
    await enqueuePublish(a.db, 'from/a/2', {}, 0);
    await replicaB.drain();
    const sentByA: string[] = [];
    await notifierOf(a, leases, sentByA).drain();
    expect(sentByA).toEqual(['from/a/2']);
    expect(sentByB).toHaveLength(3);
  });

  it('NOTIFYs name the writing replica; a replica wakes on its own and on nameless writers only', async () => {
    expect(wakesReplica(a.origin, a.origin)).toBe(true);
    expect(wakesReplica('', a.origin)).toBe(true);
    expect(wakesReplica(undefined, a.origin)).toBe(true);
    expect(wakesReplica(b.origin, a.origin)).toBe(false);
    expect(wakesReplica(b.origin, undefined)).toBe(true);

    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const payloads: string[] = [];
    client.on('notification', (msg) => payloads.push(msg.payload ?? ''));
    await client.query('LISTEN fleetjobs_outbox');
    const signal = new OutboxSignal();
    let wakes = 0;
    signal.wake = () => void wakes++;
    const stop = signal.listenPostgres(db.url, silentLogger(), a.origin);
    try {
      await until(() => wakes === 1); // once when LISTEN is in place
      await b.db.transaction().execute((trx) => enqueuePublish(trx, 'b/1', {}, 0));
      await enqueuePublish(anonymous, 'anyone/1', {}, 0);
      await a.db.transaction().execute((trx) => enqueuePublish(trx, 'a/1', {}, 0));
      await until(() => payloads.length === 3);
      expect(payloads).toEqual([b.origin, '', a.origin]);
      await until(() => wakes >= 3);
    } finally {
      await stop();
      await client.end();
    }
  });
});

/** Polls a condition the test cannot await otherwise (a NOTIFY on another connection). */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(done()).toBe(true);
}
