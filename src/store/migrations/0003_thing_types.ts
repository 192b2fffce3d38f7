import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';

/**
 * Thing types (issue 19). Things already named a type before types existed as resources; each
 * such name becomes a type here, so every thing's type exists afterwards.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('thing_types')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('id', 'text', (c) => c.notNull().unique())
    .addColumn('description', 'text')
    // JSON array of at most 3 attribute names.
    .addColumn('searchable_attributes', 'text', (c) => c.notNull())
    .addColumn('deprecated_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  // ListThings by type, the "type has things" check on delete and the index's thingTypeName term.
  await db.schema.createIndex('things_type').on('things').columns(['thing_type_name', 'name']).execute();
  // Such a type was "created" with its first thing.
  const { rows } = await sql<{ name: string; created_at: number }>`
    select thing_type_name as name, min(created_at) as created_at from things
    where thing_type_name is not null group by thing_type_name`.execute(db);
  for (const r of rows) {
    await sql`insert into thing_types (name, id, description, searchable_attributes, deprecated_at, created_at)
      values (${r.name}, ${randomUUID()}, null, '[]', null, ${Number(r.created_at)})`.execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('things_type').execute();
  await db.schema.dropTable('thing_types').execute();
}
