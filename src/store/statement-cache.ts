import type BetterSqlite3 from 'better-sqlite3';
import type { SqliteDatabase, SqliteStatement } from 'kysely';

/**
 * Kysely's SQLite driver prepares every statement on every call; compiling the same SQL again
 * was about 8% of the server's busy time under device load (issue 17). The repositories' SQL
 * is a small, fixed set, so keep the last `max` prepared statements by their text. Sharing one
 * is safe: the driver runs one statement at a time on the one connection, and SQLite re-prepares
 * a statement itself when a migration changes the schema under it.
 */
export function cachedStatements(db: BetterSqlite3.Database, max = 1000): SqliteDatabase & { prepared: number } {
  const cache = new Map<string, SqliteStatement>();
  const wrapper = {
    prepared: 0,
    close: () => db.close(),
    prepare: (sql: string): SqliteStatement => {
      const hit = cache.get(sql);
      if (hit) {
        // Most recently used last, so the first key is the one to evict.
        cache.delete(sql);
        cache.set(sql, hit);
        return hit;
      }
      const stmt = db.prepare(sql) as unknown as SqliteStatement;
      wrapper.prepared++;
      cache.set(sql, stmt);
      if (cache.size > max) cache.delete(cache.keys().next().value!);
      return stmt;
    },
  };
  return wrapper;
}
