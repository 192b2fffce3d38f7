import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as groups from '../../src/registry/groups.repository.js';
import * as things from '../../src/registry/things.repository.js';
import { thingJobsChanged } from '../../src/store/outbox.js';
import { runMigrations } from '../../src/store/migrator.js';
import type { Kysely } from 'kysely';
import { DIALECTS } from '../helpers/postgres.js';
import { openTestStore } from '../helpers/store.js';

const thing = (name: string, attributes: Record<string, string> = {}): things.ThingRow => ({
  name,
  id: `id-${name}`,
  thing_type_name: null,
  billing_group_name: null,
  attributes: JSON.stringify(attributes),
  version: 1,
  created_at: 1_700_000_000_000,
});

const group = (name: string, parent: string | null = null): groups.GroupRow => ({
  name,
  id: `gid-${name}`,
  parent_name: parent,
  description: null,
  attributes: '{}',
  version: 1,
  created_at: 1_700_000_000_000,
});

describe.each(DIALECTS)('registry repositories on %s', (dialect) => {
  let store: Awaited<ReturnType<typeof openTestStore>>;
  beforeAll(async () => {
    store = await openTestStore(dialect);
  });
  afterAll(async () => store?.dispose());

  it('runs migrations again without harm', async () => {
    await runMigrations(store.db as unknown as Kysely<unknown>);
  });

  it('stores things with attributes and keeps bigint columns as numbers', async () => {
    await things.insertThing(store.db, thing('a', { k: 'v' }));
    const row = await things.findThing(store.db, 'a');
    expect(row).toEqual(thing('a', { k: 'v' }));
    expect(typeof row!.created_at).toBe('number');
  });

  it('updates by compare-and-set on the version', async () => {
    await things.insertThing(store.db, thing('cas'));
    expect(await things.updateThingRow(store.db, 'cas', 1, { attributes: '{"x":"1"}' })).toBe(true);
    expect(await things.updateThingRow(store.db, 'cas', 1, { attributes: '{"x":"2"}' })).toBe(false);
    expect((await things.findThing(store.db, 'cas'))!.version).toBe(2);
    const filtered = await things.listThingRows(store.db, { limit: 10, attributeName: 'x', attributeValue: '1' });
    expect(filtered.map((r) => r.name)).toEqual(['cas']);
  });

  it('pages by keyset in byte order of names, the same on both dialects', async () => {
    for (const n of ['p-B', 'p-a', 'p-c', 'p-A']) await things.insertThing(store.db, thing(n, { page: 'yes' }));
    const first = await things.listThingRows(store.db, { limit: 2, attributeName: 'page' });
    expect(first.map((r) => r.name)).toEqual(['p-A', 'p-B', 'p-a']);
    const next = await things.listThingRows(store.db, { limit: 2, attributeName: 'page', after: 'p-B' });
    expect(next.map((r) => r.name)).toEqual(['p-a', 'p-c']);
  });

  it('walks group trees and lists members once each', async () => {
    await groups.insertGroup(store.db, group('root'));
    await groups.insertGroup(store.db, group('mid', 'root'));
    await groups.insertGroup(store.db, group('leaf', 'mid'));
    await groups.insertGroup(store.db, group('other'));
    expect((await groups.selfAndDescendants(store.db, ['root'])).sort()).toEqual(['leaf', 'mid', 'root']);
    expect((await groups.ancestorsOf(store.db, 'leaf')).map((g) => g.name)).toEqual(['root', 'mid']);
    for (const n of ['m1', 'm2']) await things.insertThing(store.db, thing(n));
    expect(await groups.addMember(store.db, 'root', 'm1', 1)).toBe(true);
    expect(await groups.addMember(store.db, 'root', 'm1', 1)).toBe(false);
    await groups.addMember(store.db, 'leaf', 'm1', 1);
    await groups.addMember(store.db, 'mid', 'm2', 1);
    expect(await groups.listMemberThings(store.db, ['root', 'mid', 'leaf'], undefined, 10)).toEqual(['m1', 'm2']);
    expect(await groups.countGroupsOfThing(store.db, 'm1')).toBe(2);
    expect(await groups.removeMember(store.db, 'root', 'm1')).toBe(true);
    expect(await groups.removeMember(store.db, 'root', 'm1')).toBe(false);
    await things.deleteThingRow(store.db, 'm1');
    expect(await groups.listMemberThings(store.db, ['leaf'], undefined, 10)).toEqual([]);
  });

  it('writes outbox rows inside a transaction that rolls back with it', async () => {
    const count = async (): Promise<number> =>
      Number(
        (
          await store.db
            .selectFrom('outbox')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const before = await count();
    await expect(
      store.db.transaction().execute(async (trx) => {
        await thingJobsChanged(trx, ['x', 'y', 'x'], null, 1);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    expect(await count()).toBe(before);
    await store.db.transaction().execute((trx) => thingJobsChanged(trx, ['x', 'y', 'x'], 'ns', 1));
    expect(await count()).toBe(before + 2);
    // A 10,000-thing change goes through in batches under SQLite's bound-parameter limit.
    const many = Array.from({ length: 10_000 }, (_, i) => `bulk-${i}`);
    await store.db.transaction().execute((trx) => thingJobsChanged(trx, many, null, 1));
    expect(await count()).toBe(before + 2 + 10_000);
    const ids = (await store.db.selectFrom('outbox').select('id').orderBy('id').execute()).map((r) => r.id);
    expect(ids.every((id, i) => i === 0 || id > ids[i - 1]!)).toBe(true);
  });
});
