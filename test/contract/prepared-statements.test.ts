import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore, type Store } from '../../src/store/database.js';
import { PREPARED } from '../../src/store/prepared-statements.js';
import { createPostgresDatabase, type TestDatabase } from '../helpers/postgres.js';

describe('prepared statements on PostgreSQL (issue 17)', () => {
  let db: TestDatabase;
  let store: Store;
  beforeAll(async () => {
    db = await createPostgresDatabase();
    store = await openStore({ database: db.url, poolSize: 1 });
  });
  afterAll(async () => {
    await store.close();
    await db.drop();
  });

  const preparedTexts = async (): Promise<string[]> =>
    (await sql<{ statement: string }>`SELECT statement FROM pg_prepared_statements`.execute(store.db)).rows.map(
      (r) => r.statement,
    );

  it('prepares a statement ending in the marker once per connection and answers each call', async () => {
    const marked = (n: number) => sql<{ x: number }>`SELECT ${n}::integer + 1 AS x ${sql.raw(PREPARED)}`;
    for (const n of [1, 2, 3]) expect((await marked(n).execute(store.db)).rows).toEqual([{ x: n + 1 }]);
    await sql`SELECT ${5}::integer AS unmarked`.execute(store.db);
    const texts = await preparedTexts();
    // One pool connection: the marked text is there once, the unmarked one not at all.
    expect(texts.filter((t) => t.endsWith(PREPARED))).toHaveLength(1);
    expect(texts.some((t) => t.includes('unmarked'))).toBe(false);
  });

  it('still passes errors and transactions through', async () => {
    await expect(sql`SELECT 1 / ${0}::integer ${sql.raw(PREPARED)}`.execute(store.db)).rejects.toThrow(
      /division by zero/,
    );
    const inTrx = await store.db.transaction().execute(async (trx) => {
      return (await sql<{ x: number }>`SELECT ${7}::integer AS x ${sql.raw(PREPARED)}`.execute(trx)).rows;
    });
    expect(inTrx).toEqual([{ x: 7 }]);
  });
});
