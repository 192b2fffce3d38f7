import { sql, type ExpressionBuilder, type Selectable } from 'kysely';
import type { Database, Db, Dialect, Executor } from '../store/database.js';
import type { OutboxTable } from '../store/outbox.js';

export type OutboxRow = Selectable<OutboxTable>;

/**
 * Claims up to `limit` free rows by compare-and-set on claimed_until: a row is handed to exactly
 * one notifier (another replica's concurrent UPDATE re-checks `claimed_until < now` and skips it).
 * PostgreSQL skips rows another claim is locking instead of waiting for it.
 */
/**
 * Which rows a replica's notifier takes (migration 0092): those its own connections wrote, those
 * of writers without a name, and another replica's only up to `foreignUpTo` (rows that were
 * already there a poll ago, so their own replica has stopped or fallen behind).
 */
export interface ClaimAffinity {
  origin: string;
  foreignUpTo: number;
}

export async function claimRows(
  db: Db,
  dialect: Dialect,
  now: number,
  leaseUntil: number,
  limit: number,
  affinity?: ClaimAffinity,
): Promise<OutboxRow[]> {
  return db
    .updateTable('outbox')
    .set({ claimed_until: leaseUntil })
    .where('id', 'in', (eb) => {
      let q = eb.selectFrom('outbox').select('id').where('claimed_until', '<', now);
      if (affinity) {
        q = q.where((w) => w.or([w('origin', 'in', [affinity.origin, '']), w('id', '<=', affinity.foreignUpTo)]));
      }
      const ordered = q.orderBy('id').limit(limit);
      return dialect === 'postgres' ? ordered.forUpdate().skipLocked() : ordered;
    })
    .where('claimed_until', '<', now)
    .returningAll()
    .execute();
}

/** The newest outbox row's id (0 when empty): the notifier's mark of what is already there. */
export async function newestRowId(db: Db): Promise<number> {
  const row = await db
    .selectFrom('outbox')
    .select((eb) => eb.fn.max('id').as('id'))
    .executeTakeFirst();
  return Number(row?.id ?? 0);
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

export interface ThingKey {
  thingName: string;
  namespaceId: string;
}

export interface LeasedThing extends ThingKey, NotifyState {}

const sameThing = (keys: readonly ThingKey[]) => (eb: ExpressionBuilder<Database, 'thing_notify_state'>) =>
  eb.or(keys.map((k) => eb.and([eb('thing_name', '=', k.thingName), eb('namespace_id', '=', k.namespaceId)])));

/**
 * Takes the per-thing leases (so one thing's notifications are computed and sent by one notifier
 * at a time, in order) in one commit, and returns the things taken with their last announced
 * state; things another notifier holds are left out.
 */
export async function leaseThings(
  db: Db,
  keys: readonly ThingKey[],
  now: number,
  leaseUntil: number,
): Promise<LeasedThing[]> {
  if (keys.length === 0) return [];
  return db.transaction().execute(async (trx) => {
    await trx
      .insertInto('thing_notify_state')
      .values(
        keys.map((k) => ({
          thing_name: k.thingName,
          namespace_id: k.namespaceId,
          pending_key: '',
          head_key: '',
          updated_at: now,
          lease_until: 0,
        })),
      )
      .onConflict((oc) => oc.columns(['thing_name', 'namespace_id']).doNothing())
      .execute();
    const rows = await trx
      .updateTable('thing_notify_state')
      .set({ lease_until: leaseUntil })
      .where(sameThing(keys))
      .where('lease_until', '<', now)
      .returning(['thing_name', 'namespace_id', 'pending_key', 'head_key'])
      .execute();
    return rows.map((r) => ({
      thingName: r.thing_name,
      namespaceId: r.namespace_id,
      pending_key: r.pending_key,
      head_key: r.head_key,
    }));
  });
}

export interface Announced extends ThingKey {
  state: NotifyState;
  rowIds: number[];
}

const ANNOUNCED_CHUNK = 1000;

/** Records what was announced, frees the things and removes the rows they answered, in one commit. */
export async function completeThings(db: Db, done: readonly Announced[], now: number): Promise<void> {
  if (done.length === 0) return;
  await db.transaction().execute(async (trx) => {
    // One statement per chunk rather than one per thing (issue 17: it was one statement for each
    // notification sent). 4 parameters a row keeps a chunk far under SQLite's 32,766.
    for (let i = 0; i < done.length; i += ANNOUNCED_CHUNK) {
      const rows = done
        .slice(i, i + ANNOUNCED_CHUNK)
        .map((d) => sql`(${d.thingName}, ${d.namespaceId}, ${d.state.pending_key}, ${d.state.head_key})`);
      await sql`WITH v(thing_name, namespace_id, pending_key, head_key) AS (VALUES ${sql.join(rows)})
        UPDATE thing_notify_state SET pending_key = v.pending_key, head_key = v.head_key, lease_until = 0,
          updated_at = ${now}
        FROM v WHERE thing_notify_state.thing_name = v.thing_name AND thing_notify_state.namespace_id = v.namespace_id`.execute(
        trx,
      );
    }
    await deleteRows(
      trx,
      done.flatMap((d) => d.rowIds),
    );
  });
}

export async function unleaseThings(db: Db, keys: readonly ThingKey[]): Promise<void> {
  if (keys.length === 0) return;
  await db.updateTable('thing_notify_state').set({ lease_until: 0 }).where(sameThing(keys)).execute();
}

/** Frees every outbox claim and thing lease (SQLite at start: the process that held them is gone). */
export async function freeAllClaims(db: Db): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await trx.updateTable('outbox').set({ claimed_until: 0 }).where('claimed_until', '>', 0).execute();
    await trx.updateTable('thing_notify_state').set({ lease_until: 0 }).where('lease_until', '>', 0).execute();
  });
}
