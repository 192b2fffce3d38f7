import { sql, type Generated } from 'kysely';
import type { Executor } from './database.js';

/**
 * The outbox (DESIGN.md rule 5): a state change and the notifications it causes commit in one
 * transaction; the notifier publishes from here afterwards, so a crash loses neither.
 */
export const OUTBOX_KINDS = ['thing-jobs-changed', 'publish'] as const;
export type OutboxKind = (typeof OUTBOX_KINDS)[number];

export interface OutboxTable {
  id: Generated<number>;
  kind: OutboxKind;
  thing_name: string | null;
  /** '' for un-namespaced jobs (spec 5.7). */
  namespace_id: string;
  topic: string | null;
  payload: string | null;
  created_at: number;
  /** Epoch ms until which a notifier holds the row; 0 when free. */
  claimed_until: number;
  /** The writing replica's connection name (migration 0092); filled in by the database. */
  origin: Generated<string>;
}

export interface ThingNotifyStateTable {
  thing_name: string;
  namespace_id: string;
  /** Identity of the pending set last announced on notify. */
  pending_key: string;
  /** Identity of the head execution last announced on notify-next. */
  head_key: string;
  updated_at: number;
}

declare module './database.js' {
  interface Database {
    outbox: OutboxTable;
    thing_notify_state: ThingNotifyStateTable;
  }
}

const OUTBOX_INSERT_BATCH = 4000;

/**
 * Records that a thing's pending executions may have changed. The notifier recomputes the
 * thing's notify / notify-next state from the database and publishes what differs (spec 5.6),
 * so writers need not know which message a change causes.
 */
export async function thingJobsChanged(
  db: Executor,
  thingNames: readonly string[],
  namespaceId: string | null | undefined,
  now: number,
): Promise<void> {
  const unique = [...new Set(thingNames)];
  if (unique.length === 1) {
    // Raw SQL: one thing is what every device transition announces (issue 17).
    await sql`INSERT INTO outbox (kind, thing_name, namespace_id, topic, payload, created_at, claimed_until)
      VALUES ('thing-jobs-changed', ${unique[0]}, ${namespaceId ?? ''}, NULL, NULL, ${now}, 0)`.execute(db);
    return;
  }
  // 7 parameters a row: batches keep the statement under SQLite's 32,766 bound parameters.
  for (let i = 0; i < unique.length; i += OUTBOX_INSERT_BATCH) {
    await db
      .insertInto('outbox')
      .values(
        unique.slice(i, i + OUTBOX_INSERT_BATCH).map((thing_name) => ({
          kind: 'thing-jobs-changed' as const,
          thing_name,
          namespace_id: namespaceId ?? '',
          topic: null,
          payload: null,
          created_at: now,
          claimed_until: 0,
        })),
      )
      .execute();
  }
}

/** A message to publish as is, e.g. a $aws/events/... event (spec 5.9). */
export async function enqueuePublish(db: Executor, topic: string, payload: unknown, now: number): Promise<void> {
  await db
    .insertInto('outbox')
    .values({
      kind: 'publish',
      thing_name: null,
      namespace_id: '',
      topic,
      payload: JSON.stringify(payload),
      created_at: now,
      claimed_until: 0,
    })
    .execute();
}
