import type { Insertable, Selectable, Updateable } from 'kysely';
import type { Executor } from '../store/database.js';
import { OTA_BUILDING } from './ota.schemas.js';
import type { OtaUpdatesTable } from './ota.tables.js';

export type OtaUpdateRow = Selectable<OtaUpdatesTable>;

export async function insertUpdate(db: Executor, row: Insertable<OtaUpdatesTable>): Promise<void> {
  await db.insertInto('ota_updates').values(row).execute();
}

export async function findUpdate(db: Executor, id: string): Promise<OtaUpdateRow | undefined> {
  return db.selectFrom('ota_updates').selectAll().where('ota_update_id', '=', id).executeTakeFirst();
}

export async function listUpdates(
  db: Executor,
  q: { status?: string; after?: [number, string]; limit: number },
): Promise<OtaUpdateRow[]> {
  let query = db.selectFrom('ota_updates').selectAll();
  if (q.status !== undefined) query = query.where('status', '=', q.status);
  if (q.after) {
    const [at, id] = q.after;
    query = query.where((eb) =>
      eb.or([eb('created_at', '>', at), eb.and([eb('created_at', '=', at), eb('ota_update_id', '>', id)])]),
    );
  }
  return query
    .orderBy('created_at')
    .orderBy('ota_update_id')
    .limit(q.limit + 1)
    .execute();
}

/** Updates a worker may take now: still building, and no other replica holds them. */
export async function claimable(db: Executor, now: number, limit: number): Promise<string[]> {
  const rows = await db
    .selectFrom('ota_updates')
    .select('ota_update_id')
    .where('status', 'in', OTA_BUILDING)
    .where('lease_until', '<=', now)
    .orderBy('created_at')
    .limit(limit)
    .execute();
  return rows.map((r) => r.ota_update_id);
}

/**
 * Claims one update for a worker replica (DESIGN.md: periodic work is claimed through the
 * database): a compare-and-set that wins only when no other replica holds an unexpired lease.
 */
export async function lease(db: Executor, id: string, owner: string, now: number, until: number): Promise<boolean> {
  const r = await db
    .updateTable('ota_updates')
    .set((eb) => ({ lease_owner: owner, lease_until: until, attempts: eb('attempts', '+', 1) }))
    .where('ota_update_id', '=', id)
    .where('status', 'in', OTA_BUILDING)
    .where('lease_until', '<=', now)
    .executeTakeFirst();
  return r.numUpdatedRows > 0n;
}

/** Changes an update the caller holds the lease of; false when the lease was lost (or the row deleted). */
export async function updateLeased(
  db: Executor,
  id: string,
  owner: string,
  changes: Updateable<OtaUpdatesTable>,
): Promise<boolean> {
  const r = await db
    .updateTable('ota_updates')
    .set(changes)
    .where('ota_update_id', '=', id)
    .where('lease_owner', '=', owner)
    .executeTakeFirst();
  return r.numUpdatedRows > 0n;
}

export async function deleteUpdate(db: Executor, id: string): Promise<void> {
  await db.deleteFrom('ota_updates').where('ota_update_id', '=', id).execute();
}

/** An update (not failed) that delivers from the stream, if any. */
export async function updateUsingStream(db: Executor, streamId: string): Promise<string | undefined> {
  const row = await db
    .selectFrom('ota_updates')
    .select('ota_update_id')
    .where('stream_id', '=', streamId)
    .where('status', '!=', 'CREATE_FAILED')
    .executeTakeFirst();
  return row?.ota_update_id;
}
