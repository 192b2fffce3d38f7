import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('things')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('id', 'text', (c) => c.notNull().unique())
    .addColumn('thing_type_name', 'text')
    .addColumn('billing_group_name', 'text')
    .addColumn('attributes', 'text', (c) => c.notNull())
    .addColumn('version', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  // One row per attribute so ListThings can filter by attribute on a million things by index.
  await db.schema
    .createTable('thing_attributes')
    .addColumn('thing_name', 'text', (c) => c.notNull().references('things.name').onDelete('cascade'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('thing_attributes_pk', ['thing_name', 'name'])
    .execute();
  await db.schema
    .createIndex('thing_attributes_lookup')
    .on('thing_attributes')
    .columns(['name', 'value', 'thing_name'])
    .execute();
  await db.schema
    .createTable('thing_groups')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('id', 'text', (c) => c.notNull().unique())
    .addColumn('parent_name', 'text', (c) => c.references('thing_groups.name'))
    .addColumn('description', 'text')
    .addColumn('attributes', 'text', (c) => c.notNull())
    .addColumn('version', 'bigint', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('thing_groups_parent').on('thing_groups').columns(['parent_name', 'name']).execute();
  await db.schema
    .createTable('thing_group_members')
    .addColumn('group_name', 'text', (c) => c.notNull().references('thing_groups.name').onDelete('cascade'))
    .addColumn('thing_name', 'text', (c) => c.notNull().references('things.name').onDelete('cascade'))
    .addColumn('added_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('thing_group_members_pk', ['group_name', 'thing_name'])
    .execute();
  await db.schema
    .createIndex('thing_group_members_thing')
    .on('thing_group_members')
    .columns(['thing_name', 'group_name'])
    .execute();
  await db.schema
    .createTable('tags')
    .addColumn('resource_arn', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('tags_pk', ['resource_arn', 'key'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['tags', 'thing_group_members', 'thing_groups', 'thing_attributes', 'things']) {
    await db.schema.dropTable(t).execute();
  }
}
