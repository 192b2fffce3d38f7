import type { Kysely } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('ca_certificates')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('pem', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('auto_registration', 'text', (c) => c.notNull())
    .addColumn('not_before', 'bigint', (c) => c.notNull())
    .addColumn('not_after', 'bigint', (c) => c.notNull())
    .addColumn('customer_version', 'bigint', (c) => c.notNull())
    .addColumn('generation_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_modified_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('certificates')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('pem', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('ca_certificate_id', 'text', (c) => c.references('ca_certificates.id'))
    .addColumn('not_before', 'bigint', (c) => c.notNull())
    .addColumn('not_after', 'bigint', (c) => c.notNull())
    .addColumn('customer_version', 'bigint', (c) => c.notNull())
    .addColumn('generation_id', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_modified_at', 'bigint', (c) => c.notNull())
    .execute();
  // ListCertificates pages by creation date in either order.
  await db.schema.createIndex('certificates_created').on('certificates').columns(['created_at', 'id']).execute();
  await db.schema
    .createTable('thing_principals')
    .addColumn('thing_name', 'text', (c) => c.notNull().references('things.name'))
    .addColumn('certificate_id', 'text', (c) => c.notNull().references('certificates.id'))
    .addColumn('principal_type', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('thing_principals_pk', ['thing_name', 'certificate_id'])
    .execute();
  // ListPrincipalThings and the device connect check go from the certificate to its things.
  await db.schema
    .createIndex('thing_principals_certificate')
    .on('thing_principals')
    .columns(['certificate_id', 'thing_name'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['thing_principals', 'certificates', 'ca_certificates']) await db.schema.dropTable(t).execute();
}
