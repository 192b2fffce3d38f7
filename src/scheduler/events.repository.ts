import { sql } from 'kysely';
import type { Executor } from '../store/database.js';

/** spec 5.9: the event types whose messages this server publishes (others are stored only). */
export const EVENT_TYPES = [
  'THING',
  'THING_GROUP',
  'THING_TYPE',
  'THING_GROUP_MEMBERSHIP',
  'THING_GROUP_HIERARCHY',
  'THING_TYPE_ASSOCIATION',
  'JOB',
  'JOB_EXECUTION',
  'POLICY',
  'CERTIFICATE',
  'CA_CERTIFICATE',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface EventConfigRow {
  event_type: string;
  enabled: number;
  created_at: number;
  updated_at: number;
}

/** spec 5.9: events are disabled until UpdateEventConfigurations enables them. */
export async function isEnabled(db: Executor, type: EventType): Promise<boolean> {
  // Raw SQL: every terminal device transition asks (issue 17).
  const r = await sql<{ enabled: number }>`SELECT enabled FROM event_configurations WHERE event_type = ${type}`.execute(
    db,
  );
  return r.rows[0]?.enabled === 1;
}

export async function listConfigs(db: Executor): Promise<EventConfigRow[]> {
  return db.selectFrom('event_configurations').selectAll().orderBy('event_type').execute();
}

export async function setConfig(db: Executor, type: EventType, enabled: boolean, now: number): Promise<void> {
  await db
    .insertInto('event_configurations')
    .values({ event_type: type, enabled: enabled ? 1 : 0, created_at: now, updated_at: now })
    .onConflict((oc) => oc.column('event_type').doUpdateSet({ enabled: enabled ? 1 : 0, updated_at: now }))
    .execute();
}
