import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/logger.js';
import { OutboxSignal } from '../../src/notifier/outbox-signal.js';
import { openStore } from '../../src/store/database.js';
import { thingJobsChanged } from '../../src/store/outbox.js';
import { createPostgresDatabase, DIALECTS } from '../helpers/postgres.js';
import { openTestStore } from '../helpers/store.js';

const nextWake = (signal: OutboxSignal): Promise<void> =>
  new Promise((resolve) => {
    const off = signal.onWake(() => {
      off();
      resolve();
    });
  });

describe.each(DIALECTS)('OutboxSignal on %s', (dialect) => {
  it('wakes on outbox writes made through the plugged-in db, and only on those', async () => {
    const store = await openTestStore(dialect);
    try {
      const signal = new OutboxSignal();
      const db = store.db.withPlugin(signal.plugin);
      let wakes = 0;
      signal.onWake(() => wakes++);
      const woke = nextWake(signal);
      await db.transaction().execute(async (trx) => {
        await thingJobsChanged(trx, ['a', 'b'], null, 0);
        await thingJobsChanged(trx, ['c'], null, 0);
      });
      await woke;
      await new Promise((resolve) => setImmediate(resolve));
      // Writes close together coalesce (on SQLite into one wake-up; PostgreSQL I/O may split them).
      expect(wakes).toBeGreaterThanOrEqual(1);
      expect(wakes).toBeLessThanOrEqual(2);
      const before = wakes;
      // Other statements do not wake it.
      await db.selectFrom('outbox').selectAll().execute();
      await db.updateTable('outbox').set({ claimed_until: 1 }).execute();
      await sql`SELECT * FROM outbox`.execute(db);
      await new Promise((resolve) => setImmediate(resolve));
      expect(wakes).toBe(before);
      // One thing is written as raw SQL (the device plane's hot path): it wakes too.
      const rawWoke = nextWake(signal);
      await thingJobsChanged(db, ['d'], null, 0);
      await rawWoke;
      expect(wakes).toBe(before + 1);
    } finally {
      await store.dispose();
    }
  });
});

describe('OutboxSignal LISTEN on PostgreSQL', () => {
  it('wakes every listener when a transaction writing the outbox commits', async () => {
    const pg = await createPostgresDatabase();
    const store = await openStore({ database: pg.url });
    const listener = new OutboxSignal();
    const ready = nextWake(listener);
    const stop = listener.listenPostgres(pg.url, silentLogger());
    try {
      await ready;
      const woke = nextWake(listener);
      // Written without the plugin: only the commit-time NOTIFY can wake the listener.
      await store.db.transaction().execute((trx) => thingJobsChanged(trx, ['x'], null, 0));
      await woke;
    } finally {
      await stop();
      await store.close();
      await pg.drop();
    }
  });
});
