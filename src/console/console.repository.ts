import type { Executor } from '../store/database.js';
import type { ConsoleSessionsTable, ConsoleUsersTable } from './console.tables.js';

export type UserRow = ConsoleUsersTable;
export type SessionRow = ConsoleSessionsTable;

export async function findUser(db: Executor, username: string): Promise<UserRow | undefined> {
  return db.selectFrom('console_users').selectAll().where('username', '=', username).executeTakeFirst();
}

export async function countUsers(db: Executor): Promise<number> {
  const row = await db
    .selectFrom('console_users')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function insertUser(db: Executor, row: UserRow): Promise<void> {
  await db.insertInto('console_users').values(row).execute();
}

/** False when the user exists already (e.g. another replica starting at the same time made it). */
export async function insertUserIfAbsent(db: Executor, row: UserRow): Promise<boolean> {
  const r = await db
    .insertInto('console_users')
    .values(row)
    .onConflict((oc) => oc.column('username').doNothing())
    .executeTakeFirst();
  return (r.numInsertedOrUpdatedRows ?? 0n) > 0n;
}

export async function setPasswordHash(db: Executor, username: string, hash: string, nowMs: number): Promise<void> {
  await db
    .updateTable('console_users')
    .set({ password_hash: hash, updated_at: nowMs })
    .where('username', '=', username)
    .execute();
}

export async function insertSession(db: Executor, row: SessionRow): Promise<void> {
  await db.insertInto('console_sessions').values(row).execute();
}

export async function findSession(db: Executor, idHash: string): Promise<SessionRow | undefined> {
  return db.selectFrom('console_sessions').selectAll().where('id_hash', '=', idHash).executeTakeFirst();
}

export async function touchSession(db: Executor, idHash: string, nowMs: number): Promise<void> {
  await db.updateTable('console_sessions').set({ last_seen_at: nowMs }).where('id_hash', '=', idHash).execute();
}

export async function deleteSession(db: Executor, idHash: string): Promise<void> {
  await db.deleteFrom('console_sessions').where('id_hash', '=', idHash).execute();
}

export async function deleteSessionsOf(db: Executor, username: string): Promise<void> {
  await db.deleteFrom('console_sessions').where('username', '=', username).execute();
}

export async function deleteExpiredSessions(db: Executor, nowMs: number): Promise<void> {
  await db.deleteFrom('console_sessions').where('expires_at', '<=', nowMs).execute();
}

/** The registry's connectivity records of these things (written by the broker of any replica). */
export async function connectivityOf(
  db: Executor,
  thingNames: string[],
): Promise<{ thing_name: string; connected: number; timestamp: number; disconnect_reason: string | null }[]> {
  if (thingNames.length === 0) return [];
  return db.selectFrom('thing_connectivity').selectAll().where('thing_name', 'in', thingNames).execute();
}
