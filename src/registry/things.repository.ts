import type { Executor } from '../store/database.js';
import type { ThingsTable } from './registry.tables.js';

export type ThingRow = ThingsTable;

export async function findThing(db: Executor, name: string): Promise<ThingRow | undefined> {
  return db.selectFrom('things').selectAll().where('name', '=', name).executeTakeFirst();
}

export async function insertThing(db: Executor, row: ThingRow): Promise<void> {
  await db.insertInto('things').values(row).execute();
  await replaceAttributes(db, row.name, JSON.parse(row.attributes) as Record<string, string>);
}

export async function updateThingRow(
  db: Executor,
  name: string,
  expectedVersion: number,
  changes: Partial<Pick<ThingRow, 'thing_type_name' | 'attributes'>>,
): Promise<boolean> {
  // Compare-and-set on the version so two concurrent updates cannot both win.
  const result = await db
    .updateTable('things')
    .set({ ...changes, version: expectedVersion + 1 })
    .where('name', '=', name)
    .where('version', '=', expectedVersion)
    .executeTakeFirst();
  if (result.numUpdatedRows === 0n) return false;
  if (changes.attributes !== undefined) {
    await replaceAttributes(db, name, JSON.parse(changes.attributes) as Record<string, string>);
  }
  return true;
}

async function replaceAttributes(db: Executor, thingName: string, attributes: Record<string, string>): Promise<void> {
  await db.deleteFrom('thing_attributes').where('thing_name', '=', thingName).execute();
  const rows = Object.entries(attributes).map(([name, value]) => ({
    thing_name: thingName,
    name,
    value,
    num: NUMBER.test(value) ? Number(value) : null,
  }));
  if (rows.length > 0) await db.insertInto('thing_attributes').values(rows).execute();
}

/** Values the fleet index compares as numbers (ranges); others compare as text. */
const NUMBER = /^-?\d+(\.\d+)?$/;

export async function deleteThingRow(db: Executor, name: string): Promise<void> {
  await db.deleteFrom('thing_connectivity').where('thing_name', '=', name).execute();
  await db.deleteFrom('thing_attributes').where('thing_name', '=', name).execute();
  await db.deleteFrom('thing_group_members').where('thing_name', '=', name).execute();
  await db.deleteFrom('things').where('name', '=', name).execute();
}

export interface ThingListFilter {
  after?: string;
  limit: number;
  attributeName?: string;
  attributeValue?: string;
  usePrefixAttributeValue?: boolean;
  thingTypeName?: string;
  /** Console search (not an AWS parameter): names starting with this. */
  namePrefix?: string;
}

/** Keyset page ordered by name; attribute filters go through the (name, value, thing) index. */
export async function listThingRows(db: Executor, f: ThingListFilter): Promise<ThingRow[]> {
  let q = db.selectFrom('things').selectAll('things');
  if (f.attributeName !== undefined) {
    const attrName = f.attributeName;
    const value = f.attributeValue;
    q = q.where((eb) =>
      eb.exists(
        eb
          .selectFrom('thing_attributes')
          .select('thing_attributes.thing_name')
          .whereRef('thing_attributes.thing_name', '=', 'things.name')
          .where('thing_attributes.name', '=', attrName)
          .$if(value !== undefined && !f.usePrefixAttributeValue, (sq) =>
            sq.where('thing_attributes.value', '=', value!),
          )
          .$if(value !== undefined && f.usePrefixAttributeValue === true, (sq) =>
            sq.where('thing_attributes.value', '>=', value!).where('thing_attributes.value', '<', `${value!}\uffff`),
          ),
      ),
    );
  }
  if (f.thingTypeName !== undefined) q = q.where('things.thing_type_name', '=', f.thingTypeName);
  if (f.namePrefix !== undefined) {
    q = q.where('things.name', '>=', f.namePrefix).where('things.name', '<', `${f.namePrefix}\uffff`);
  }
  if (f.after !== undefined) q = q.where('things.name', '>', f.after);
  return q
    .orderBy('things.name')
    .limit(f.limit + 1)
    .execute();
}

export async function countThings(db: Executor): Promise<number> {
  const row = await db
    .selectFrom('things')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
