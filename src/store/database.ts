import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { ensurePrivateFile, PRIVATE_DIR_MODE } from './data-dir.js';
import { Kysely, PostgresDialect, SqliteDialect, type Transaction } from 'kysely';
import { runMigrations } from './migrator.js';
import { cachedStatements } from './statement-cache.js';
import { PreparingClient } from './prepared-statements.js';

/**
 * The table interfaces. Each feature adds its tables by declaration merging
 * (`declare module '../store/database.js' { interface Database { ... } }`), so features stay
 * in their own folders.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface Database {}

export type Db = Kysely<Database>;
/** Repositories take either the database or a transaction; services own transactions. */
export type Executor = Kysely<Database> | Transaction<Database>;
export type Dialect = 'sqlite' | 'postgres';

export interface Store {
  readonly db: Db;
  readonly dialect: Dialect;
  /**
   * This process's name on its database connections (PostgreSQL's application_name; '' on
   * SQLite): the outbox rows it writes carry it (migration 0092), so its notifier can tell them
   * from another replica's.
   */
  readonly origin: string;
  close(): Promise<void>;
}

export function isPostgresUrl(url: string): boolean {
  return /^postgres(ql)?:\/\//.test(url);
}

function openSqlite(file: string): Db {
  mkdirSync(dirname(file), { recursive: true, mode: PRIVATE_DIR_MODE });
  if (file !== ':memory:') ensurePrivateFile(file, [`${file}-wal`, `${file}-shm`]);
  const sqlite = new BetterSqlite3(file);
  sqlite.pragma('journal_mode = WAL');
  // FULL: an update acknowledged to a device must survive a power cut, not only a crash.
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  return new Kysely<Database>({ dialect: new SqliteDialect({ database: cachedStatements(sqlite) }) });
}

const INT8_OID = 20;

function openPostgres(url: string, poolSize: number, origin: string): Db {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    application_name: origin,
    Client: PreparingClient,
    // Epoch-millisecond timestamps and counters are bigint; they fit a JS number exactly.
    types: {
      getTypeParser: (oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text'),
    },
  });
  pool.on('error', () => {
    // An idle client lost its connection; the pool replaces it on the next checkout.
  });
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

export interface OpenStoreOptions {
  /** `postgres://...` or a path of an SQLite file. */
  database: string;
  poolSize?: number;
  migrate?: boolean;
}

export async function openStore(options: OpenStoreOptions): Promise<Store> {
  const dialect: Dialect = isPostgresUrl(options.database) ? 'postgres' : 'sqlite';
  // application_name is at most 63 bytes; unique per process so replicas tell their rows apart.
  const origin = dialect === 'postgres' ? `fleetjobs-${randomUUID().slice(0, 13)}` : '';
  const db =
    dialect === 'postgres'
      ? openPostgres(options.database, options.poolSize ?? 10, origin)
      : openSqlite(options.database);
  try {
    if (options.migrate !== false) await runMigrations(db as unknown as Kysely<unknown>);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return { db, dialect, origin, close: () => db.destroy() };
}
