import { sql, type Kysely } from 'kysely';

/**
 * Fleet indexing and dynamic thing groups (issue 19). The "index" is the registry's own tables
 * with the indexes a query needs, so it is correct in the same commit as every change:
 * - thing_attributes.num: the value as a number when it is one, for range terms;
 * - thing_connectivity: connected state fed by the broker of every replica;
 * - thing_groups.query_*: a dynamic group's query; its members are rows of thing_group_members
 *   with dynamic = 1, kept by the registry when things change.
 * - indexing_config: UpdateIndexingConfiguration's document (one row).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('thing_attributes').addColumn('num', 'double precision').execute();
  await db.schema
    .createIndex('thing_attributes_num')
    .on('thing_attributes')
    .columns(['name', 'num', 'thing_name'])
    .where(sql.ref('num'), 'is not', null)
    .execute();
  await backfillNumbers(db);
  await db.schema
    .createTable('thing_connectivity')
    .addColumn('thing_name', 'text', (c) => c.primaryKey())
    .addColumn('connected', 'integer', (c) => c.notNull())
    .addColumn('timestamp', 'bigint', (c) => c.notNull())
    .addColumn('disconnect_reason', 'text')
    .execute();
  await db.schema
    .createIndex('thing_connectivity_state')
    .on('thing_connectivity')
    .columns(['connected', 'thing_name'])
    .execute();
  await db.schema.alterTable('thing_groups').addColumn('query_string', 'text').execute();
  await db.schema.alterTable('thing_groups').addColumn('index_name', 'text').execute();
  await db.schema.alterTable('thing_groups').addColumn('query_version', 'text').execute();
  await db.schema
    .alterTable('thing_group_members')
    .addColumn('dynamic', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .createTable('indexing_config')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('config', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
}

const NUMBER = /^-?\d+(\.\d+)?$/;

/** Existing attribute rows get their number, a keyset batch at a time. */
async function backfillNumbers(db: Kysely<unknown>): Promise<void> {
  let after: [string, string] = ['', ''];
  for (;;) {
    const { rows } = await sql<{ thing_name: string; name: string; value: string }>`
      select thing_name, name, value from thing_attributes
      where thing_name > ${after[0]} or (thing_name = ${after[0]} and name > ${after[1]})
      order by thing_name, name limit 5000`.execute(db);
    for (const r of rows) {
      if (!NUMBER.test(r.value)) continue;
      await sql`update thing_attributes set num = ${Number(r.value)}
        where thing_name = ${r.thing_name} and name = ${r.name}`.execute(db);
    }
    const last = rows[rows.length - 1];
    if (!last || rows.length < 5000) return;
    after = [last.thing_name, last.name];
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('indexing_config').execute();
  await db.schema.alterTable('thing_group_members').dropColumn('dynamic').execute();
  for (const c of ['query_version', 'index_name', 'query_string']) {
    await db.schema.alterTable('thing_groups').dropColumn(c).execute();
  }
  await db.schema.dropTable('thing_connectivity').execute();
  await db.schema.dropIndex('thing_attributes_num').execute();
  await db.schema.alterTable('thing_attributes').dropColumn('num').execute();
}
