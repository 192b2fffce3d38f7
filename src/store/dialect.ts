import { SqliteAdapter, type ColumnDefinitionBuilder, type Kysely } from 'kysely';

export const isSqlite = (db: Kysely<unknown>): boolean => db.getExecutor().adapter instanceof SqliteAdapter;

/**
 * An auto-increment primary key: SQLite only aliases the rowid for exactly `integer primary key`,
 * PostgreSQL needs bigserial.
 */
export function autoIncrementColumn(db: Kysely<unknown>): {
  type: 'integer' | 'bigserial';
  build: (c: ColumnDefinitionBuilder) => ColumnDefinitionBuilder;
} {
  return isSqlite(db)
    ? { type: 'integer', build: (c) => c.primaryKey().autoIncrement() }
    : { type: 'bigserial', build: (c) => c.primaryKey() };
}
