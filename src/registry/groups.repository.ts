import { sql } from 'kysely';
import type { Executor } from '../store/database.js';
import type { ThingGroupsTable } from './registry.tables.js';

export type GroupRow = ThingGroupsTable;

export async function findGroup(db: Executor, name: string): Promise<GroupRow | undefined> {
  return db.selectFrom('thing_groups').selectAll().where('name', '=', name).executeTakeFirst();
}

export async function insertGroup(db: Executor, row: GroupRow): Promise<void> {
  await db.insertInto('thing_groups').values(row).execute();
}

export async function updateGroupRow(
  db: Executor,
  name: string,
  expectedVersion: number,
  changes: Partial<Pick<GroupRow, 'description' | 'attributes' | 'query_string'>>,
): Promise<boolean> {
  const result = await db
    .updateTable('thing_groups')
    .set({ ...changes, version: expectedVersion + 1 })
    .where('name', '=', name)
    .where('version', '=', expectedVersion)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export async function deleteGroupRow(db: Executor, name: string): Promise<void> {
  await db.deleteFrom('thing_group_members').where('group_name', '=', name).execute();
  await db.deleteFrom('thing_groups').where('name', '=', name).execute();
}

export async function hasChildGroups(db: Executor, name: string): Promise<boolean> {
  const row = await db
    .selectFrom('thing_groups')
    .select('name')
    .where('parent_name', '=', name)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

/** The ancestors of a group, root first. Hierarchies are shallow (AWS allows depth 7). */
export async function ancestorsOf(db: Executor, name: string): Promise<GroupRow[]> {
  const chain: GroupRow[] = [];
  let current = await findGroup(db, name);
  const seen = new Set<string>();
  while (current?.parent_name && !seen.has(current.parent_name)) {
    seen.add(current.parent_name);
    current = await findGroup(db, current.parent_name);
    if (current) chain.unshift(current);
  }
  return chain;
}

/** The group and all groups below it (recursive CTE, one query, both dialects). */
export async function selfAndDescendants(db: Executor, names: readonly string[]): Promise<string[]> {
  if (names.length === 0) return [];
  const rows = await db
    .withRecursive('tree(name)', (qb) =>
      qb
        .selectFrom('thing_groups')
        .select('name')
        .where('name', 'in', names)
        .union((qb2) =>
          qb2.selectFrom('thing_groups as g').innerJoin('tree', 'tree.name', 'g.parent_name').select('g.name'),
        ),
    )
    .selectFrom('tree')
    .select('name')
    .execute();
  return rows.map((r) => r.name);
}

export interface GroupListFilter {
  after?: string;
  limit: number;
  parentGroup?: string;
  namePrefix?: string;
  /** When false with a parent, only direct children; when false without, only root groups. */
  recursive: boolean;
  within?: readonly string[];
}

export async function listGroupRows(db: Executor, f: GroupListFilter): Promise<GroupRow[]> {
  let q = db.selectFrom('thing_groups').selectAll();
  if (f.within !== undefined) q = q.where('name', 'in', f.within.length > 0 ? f.within : ['']);
  else if (f.parentGroup !== undefined) q = q.where('parent_name', '=', f.parentGroup);
  if (f.namePrefix !== undefined) {
    q = q.where('name', '>=', f.namePrefix).where('name', '<', `${f.namePrefix}\uffff`);
  }
  if (f.after !== undefined) q = q.where('name', '>', f.after);
  return q
    .orderBy('name')
    .limit(f.limit + 1)
    .execute();
}

export async function addMember(db: Executor, groupName: string, thingName: string, now: number): Promise<boolean> {
  const result = await db
    .insertInto('thing_group_members')
    .values({ group_name: groupName, thing_name: thingName, added_at: now })
    .onConflict((oc) => oc.columns(['group_name', 'thing_name']).doNothing())
    .executeTakeFirst();
  return (result.numInsertedOrUpdatedRows ?? 0n) > 0n;
}

export async function removeMember(db: Executor, groupName: string, thingName: string): Promise<boolean> {
  const result = await db
    .deleteFrom('thing_group_members')
    .where('group_name', '=', groupName)
    .where('thing_name', '=', thingName)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/** Things in any of the groups, keyset by thing name, each thing once. */
export async function listMemberThings(
  db: Executor,
  groups: readonly string[],
  after: string | undefined,
  limit: number,
): Promise<string[]> {
  if (groups.length === 0) return [];
  let q = db.selectFrom('thing_group_members').select('thing_name').distinct().where('group_name', 'in', groups);
  if (after !== undefined) q = q.where('thing_name', '>', after);
  const rows = await q
    .orderBy('thing_name')
    .limit(limit + 1)
    .execute();
  return rows.map((r) => r.thing_name);
}

export async function groupsOfThing(
  db: Executor,
  thingName: string,
  after: string | undefined,
  limit: number,
): Promise<string[]> {
  let q = db.selectFrom('thing_group_members').select('group_name').where('thing_name', '=', thingName);
  if (after !== undefined) q = q.where('group_name', '>', after);
  const rows = await q
    .orderBy('group_name')
    .limit(limit + 1)
    .execute();
  return rows.map((r) => r.group_name);
}

export async function countGroupsOfThing(db: Executor, thingName: string): Promise<number> {
  const row = await db
    .selectFrom('thing_group_members')
    .select(sql<number>`count(*)`.as('n'))
    .where('thing_name', '=', thingName)
    // AWS's limit of 10 counts static groups; dynamic memberships follow queries.
    .where('dynamic', '=', 0)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
