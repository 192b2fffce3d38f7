import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../../src/store/database.js';
import { TransactionBatcher } from '../../src/store/transaction-batcher.js';
import { DIALECTS } from '../helpers/postgres.js';
import { openTestStore } from '../helpers/store.js';

/**
 * Group commit (issue 17): units of work that arrive together commit in one transaction on
 * SQLite, each in its own savepoint. These tests hold the guarantees a device relies on: its
 * outcome is its own, and nobody hears "done" before the commit that makes the write durable.
 */
describe.each(DIALECTS)('TransactionBatcher on %s', (dialect) => {
  let store: Awaited<ReturnType<typeof openTestStore>>;
  let db: Db;
  // Test tables are outside the typed schema.
  const raw = (q: ReturnType<typeof sql>) => q.execute(db);

  beforeAll(async () => {
    store = await openTestStore(dialect);
    db = store.db;
    await raw(sql`CREATE TABLE batch_parent (id integer PRIMARY KEY)`);
    await raw(
      sql`CREATE TABLE batch_rows (k text PRIMARY KEY, v integer NOT NULL,
            parent integer REFERENCES batch_parent (id) DEFERRABLE INITIALLY DEFERRED)`,
    );
    await raw(sql`INSERT INTO batch_parent (id) VALUES (1)`);
  });
  afterAll(async () => {
    await store?.dispose();
  });

  const put = (k: string, v: number, parent = 1) =>
    sql`INSERT INTO batch_rows (k, v, parent) VALUES (${k}, ${v}, ${parent})`;
  const rows = async (prefix: string) =>
    (
      await sql<{ k: string; v: number }>`SELECT k, v FROM batch_rows WHERE k LIKE ${prefix + '%'} ORDER BY k`.execute(
        db,
      )
    ).rows.map((r) => `${r.k}=${Number(r.v)}`);

  /** Counts the transactions the batcher opens. */
  function counting(): { batcher: TransactionBatcher; transactions: () => number } {
    let n = 0;
    const counted = new Proxy(db, {
      get: (target, prop, receiver) =>
        prop === 'transaction'
          ? () => {
              n++;
              return target.transaction();
            }
          : (Reflect.get(target, prop, receiver) as unknown),
    });
    return { batcher: new TransactionBatcher(counted, dialect), transactions: () => n };
  }

  it('runs units that arrive together in one transaction on SQLite, each with its own result', async () => {
    const { batcher, transactions } = counting();
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        batcher.run(async (trx) => {
          await put(`a${String(i).padStart(2, '0')}`, i).execute(trx);
          return i * 2;
        }),
      ),
    );
    expect(results).toEqual(Array.from({ length: 50 }, (_, i) => i * 2));
    expect(await rows('a')).toHaveLength(50);
    expect(transactions()).toBe(dialect === 'sqlite' ? 1 : 50);
  });

  it('rolls back a failing unit alone and gives it its own error', async () => {
    const { batcher } = counting();
    await put('b0', 0).execute(db);
    const outcomes = await Promise.allSettled([
      batcher.run((trx) => put('b1', 1).execute(trx)),
      batcher.run(async (trx) => {
        await put('b2', 2).execute(trx);
        throw new Error('unit 2 refuses');
      }),
      // A constraint violation in the middle of a unit: its first write goes too.
      batcher.run(async (trx) => {
        await put('b3', 3).execute(trx);
        await put('b0', 99).execute(trx);
      }),
      batcher.run((trx) => put('b4', 4).execute(trx)),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toEqual(new Error('unit 2 refuses'));
    expect(await rows('b')).toEqual(['b0=0', 'b1=1', 'b4=4']);
  });

  // On PostgreSQL units are transactions of their own, running concurrently: nothing to hold there.
  it.runIf(dialect === 'sqlite')(
    'lets each unit see the writes of the units before it, as if they had committed in turn',
    async () => {
      const { batcher } = counting();
      await batcher.run((trx) => put('c', 0).execute(trx));
      const increments = Array.from({ length: 20 }, () =>
        batcher.run(async (trx) => {
          const { rows: r } = await sql<{ v: number }>`SELECT v FROM batch_rows WHERE k = 'c'`.execute(trx);
          const next = Number(r[0]!.v) + 1;
          await sql`UPDATE batch_rows SET v = ${next} WHERE k = 'c'`.execute(trx);
          return next;
        }),
      );
      const seen = await Promise.all(increments);
      expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      expect(await rows('c')).toEqual(['c=20']);
    },
  );

  it('tells no unit it succeeded when the commit fails, and writes none of them', async () => {
    const { batcher } = counting();
    const outcomes = await Promise.allSettled([
      batcher.run((trx) => put('d1', 1).execute(trx)),
      // The deferred foreign key is checked only at COMMIT.
      batcher.run((trx) => put('d2', 2, 404).execute(trx)),
      batcher.run((trx) => put('d3', 3).execute(trx)),
    ]);
    if (dialect === 'sqlite') {
      expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected', 'rejected']);
      expect(await rows('d')).toEqual([]);
    } else {
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect(await rows('d')).toEqual(['d1=1', 'd3=3']);
    }
  });

  it('does not resolve a unit before its batch has committed', async () => {
    const { batcher } = counting();
    const order: string[] = [];
    let releaseSecond!: () => void;
    const held = new Promise<void>((resolve) => (releaseSecond = resolve));
    const first = batcher.run(async (trx) => {
      await put('e1', 1).execute(trx);
      order.push('first done');
    });
    const second = batcher.run(async (trx) => {
      await held;
      await put('e2', 2).execute(trx);
      order.push('second done');
    });
    void first.then(() => order.push('first resolved'));
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    if (dialect === 'sqlite') expect(order).toEqual(['first done']);
    releaseSecond();
    await Promise.all([first, second]);
    if (dialect === 'sqlite') expect(order).toEqual(['first done', 'second done', 'first resolved']);
    expect(await rows('e')).toEqual(['e1=1', 'e2=2']);
  });
});
