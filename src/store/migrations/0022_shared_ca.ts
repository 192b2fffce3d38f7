import type { Kysely } from 'kysely';

/**
 * Scaled out (issue 10): the local CA that signs device and server certificates lives in the
 * database every replica shares, its private key sealed with the server key (FLEETJOBS_SIGNING_KEY,
 * src/signing/keyring.ts). One row; the first replica to start writes it, the others read it.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('shared_ca')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('certificate_pem', 'text', (c) => c.notNull())
    .addColumn('sealed_key', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('shared_ca').execute();
}
