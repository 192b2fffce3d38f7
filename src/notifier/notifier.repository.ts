import type { Selectable } from 'kysely';
import type { Db, Dialect, Executor } from '../store/database.js';
import type { OutboxTable } from '../store/outbox.js';

export type OutboxRow = Selectable<OutboxTable>;

/**
 * Claims up to `limit` free rows by compare-and-set on claimed_until: a row is handed to exactly
 * one notifier (another replica's concurrent UPDATE re-checks `claimed_until < now` and skips it).
 * PostgreSQL skips rows another claim is locking instead of waiting for it.
 */
export async function claimRows(
  db: Db,
  dialect: Dialect,
  now: number,
  leaseUntil: number,
  limit: number,
): Promise<OutboxRow[]> {
  return db
    .updateTable('outbox')
    .set({ claimed_until: leaseUntil })
    .where('id', 'in', (eb) => {
      const q = eb.selectFrom('outbox').select('id').where('claimed_until', '<', now).orderBy('id').limit(limit);
      return dialect === 'postgres' ? q.forUpdate().skipLocked() : q;
    })
    .where('claimed_until', '<', now)
    .returningAll()
    .execute();
}

/** Gives rows back (e.g. another replica holds their thing) to be claimed again after `at`. */
export async function releaseRows(db: Executor, ids: number[], at: number): Promise<void> {
  if (ids.length > 0) await db.updateTable('outbox').set({ claimed_until: at }).where('id', 'in', ids).execute();
}

export async function deleteRows(db: Executor, ids: number[]): Promise<void> {
  for (let i = 0; i < ids.length; i += 1000) {
    await db
      .deleteFrom('outbox')
      .where('id', 'in', ids.slice(i, i + 1000))
      .execute();
  }
}

export interface NotifyState {
  pending_key: string;
  head_key: string;
}

/**
 * Takes the per-thing lease (so one thing's notifications are computed and sent by one notifier
 * at a time, in order) and returns the last announced state; undefined if another holds it.
 */
export async function leaseThing(
  db: Db,
  thingName: string,
  namespaceId: string,
  now: number,
  leaseUntil: number,
): Promise<NotifyState | undefined> {
  await db
    .insertInto('thing_notify_state')
    .values({
      thing_name: thingName,
      namespace_id: namespaceId,
      pending_key: '',
      head_key: '',
      updated_at: now,
      lease_until: 0,
    })
    .onConflict((oc) => oc.columns(['thing_name', 'namespace_id']).doNothing())
    .execute();
  const taken = await db
    .updateTable('thing_notify_state')
    .set({ lease_until: leaseUntil })
    .where('thing_name', '=', thingName)
    .where('namespace_id', '=', namespaceId)
    .where('lease_until', '<', now)
    .returning(['pending_key', 'head_key'])
    .executeTakeFirst();
  return taken;
}

/** Records what was announced, frees the thing and removes the rows it answered, in one commit. */
export async function completeThing(
  db: Db,
  thingName: string,
  namespaceId: string,
  state: NotifyState,
  rowIds: number[],
  now: number,
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx
      .updateTable('thing_notify_state')
      .set({ ...state, lease_until: 0, updated_at: now })
      .where('thing_name', '=', thingName)
      .where('namespace_id', '=', namespaceId)
      .execute();
    await deleteRows(trx, rowIds);
  });
}

export async function unleaseThing(db: Db, thingName: string, namespaceId: string): Promise<void> {
  await db
    .updateTable('thing_notify_state')
    .set({ lease_until: 0 })
    .where('thing_name', '=', thingName)
    .where('namespace_id', '=', namespaceId)
    .execute();
}
