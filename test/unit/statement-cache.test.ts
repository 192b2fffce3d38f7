import BetterSqlite3 from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { cachedStatements } from '../../src/store/statement-cache.js';

describe('SQLite statement cache', () => {
  it('prepares a statement once, however often it runs, and evicts the least recently used', async () => {
    const database = cachedStatements(new BetterSqlite3(':memory:'), 2);
    const db = new Kysely<{ t: { id: number; v: string } }>({ dialect: new SqliteDialect({ database }) });
    await sql`CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)`.execute(db);
    const before = database.prepared;
    for (let i = 0; i < 50; i++)
      await db
        .insertInto('t')
        .values({ id: i, v: `v${i}` })
        .execute();
    for (let i = 0; i < 50; i++) {
      expect(await db.selectFrom('t').select('v').where('id', '=', i).executeTakeFirst()).toEqual({ v: `v${i}` });
    }
    // One insert and one select, each prepared once.
    expect(database.prepared - before).toBe(2);
    // A third statement evicts the least recently used (the insert), which is prepared again.
    await db.deleteFrom('t').where('id', '=', 0).execute();
    await db.insertInto('t').values({ id: 0, v: 'again' }).execute();
    expect(database.prepared - before).toBe(4);
    await db.destroy();
  });

  it('sees a schema change made after a statement was cached', async () => {
    const database = cachedStatements(new BetterSqlite3(':memory:'));
    const db = new Kysely<{ t: { id: number } }>({ dialect: new SqliteDialect({ database }) });
    await sql`CREATE TABLE t (id INTEGER PRIMARY KEY)`.execute(db);
    await sql`INSERT INTO t (id) VALUES (1)`.execute(db);
    const all = () => sql<Record<string, unknown>>`SELECT * FROM t`.execute(db);
    expect((await all()).rows).toEqual([{ id: 1 }]);
    await sql`ALTER TABLE t ADD COLUMN note TEXT DEFAULT 'x'`.execute(db);
    expect((await all()).rows).toEqual([{ id: 1, note: 'x' }]);
    await db.destroy();
  });
});
