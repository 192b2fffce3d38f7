import type { Dialect } from '../store/database.js';
import type { Executor } from '../store/database.js';
import type { ThingTypesTable } from './registry.tables.js';

export type ThingTypeRow = ThingTypesTable;

/**
 * Reads a type; `lock` takes a row lock on PostgreSQL (share: a thing is being given the type;
 * update: the type is being deprecated or deleted), so "a type with things cannot be deleted"
 * and "a deprecated type takes no new things" hold under concurrency. SQLite serializes writers.
 */
export async function findThingType(
  db: Executor,
  name: string,
  lock?: { dialect: Dialect; mode: 'share' | 'update' },
): Promise<ThingTypeRow | undefined> {
  return db
    .selectFrom('thing_types')
    .selectAll()
    .where('name', '=', name)
    .$if(lock?.dialect === 'postgres' && lock.mode === 'share', (q) => q.forShare())
    .$if(lock?.dialect === 'postgres' && lock.mode === 'update', (q) => q.forUpdate())
    .executeTakeFirst();
}

export async function insertThingType(db: Executor, row: ThingTypeRow): Promise<void> {
  await db.insertInto('thing_types').values(row).execute();
}

export async function updateThingTypeRow(
  db: Executor,
  name: string,
  changes: Partial<Pick<ThingTypeRow, 'description' | 'searchable_attributes' | 'deprecated_at'>>,
): Promise<void> {
  await db.updateTable('thing_types').set(changes).where('name', '=', name).execute();
}

export async function deleteThingTypeRow(db: Executor, name: string): Promise<void> {
  await db.deleteFrom('thing_types').where('name', '=', name).execute();
}

export async function typeHasThings(db: Executor, name: string): Promise<boolean> {
  const row = await db
    .selectFrom('things')
    .select('name')
    .where('thing_type_name', '=', name)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

export async function listThingTypeRows(
  db: Executor,
  f: { after?: string; limit: number; name?: string },
): Promise<ThingTypeRow[]> {
  let q = db.selectFrom('thing_types').selectAll();
  if (f.name !== undefined) q = q.where('name', '=', f.name);
  if (f.after !== undefined) q = q.where('name', '>', f.after);
  return q
    .orderBy('name')
    .limit(f.limit + 1)
    .execute();
}
