import type { Kysely } from 'kysely';

/** Code signing (issue 7): certificates with sealed keys, Signer profiles and signing jobs. */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('signing_certificates')
    .addColumn('arn', 'text', (c) => c.primaryKey())
    .addColumn('certificate_pem', 'text', (c) => c.notNull())
    .addColumn('chain_pem', 'text')
    .addColumn('private_key_sealed', 'text', (c) => c.notNull())
    .addColumn('key_algorithm', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('issuer', 'text', (c) => c.notNull())
    .addColumn('serial', 'text', (c) => c.notNull())
    .addColumn('not_before', 'bigint', (c) => c.notNull())
    .addColumn('not_after', 'bigint', (c) => c.notNull())
    .addColumn('origin', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('signing_profiles')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('version', 'text', (c) => c.notNull())
    .addColumn('platform_id', 'text', (c) => c.notNull())
    .addColumn('certificate_arn', 'text', (c) => c.notNull().references('signing_certificates.arn'))
    .addColumn('signing_parameters', 'text')
    .addColumn('overrides', 'text')
    .addColumn('validity_value', 'integer', (c) => c.notNull())
    .addColumn('validity_type', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('tags', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('status_changed_at', 'bigint')
    .execute();
  await db.schema
    .createIndex('signing_profiles_certificate')
    .on('signing_profiles')
    .columns(['certificate_arn'])
    .execute();
  await db.schema
    .createTable('signing_jobs')
    .addColumn('job_id', 'text', (c) => c.primaryKey())
    .addColumn('client_request_token', 'text', (c) => c.notNull().unique())
    .addColumn('profile_name', 'text', (c) => c.notNull())
    .addColumn('profile_version', 'text', (c) => c.notNull())
    .addColumn('platform_id', 'text', (c) => c.notNull())
    .addColumn('certificate_arn', 'text', (c) => c.notNull())
    .addColumn('signing_parameters', 'text')
    .addColumn('overrides', 'text')
    .addColumn('source_bucket', 'text', (c) => c.notNull())
    .addColumn('source_key', 'text', (c) => c.notNull())
    .addColumn('source_version', 'text', (c) => c.notNull())
    .addColumn('dest_bucket', 'text', (c) => c.notNull())
    .addColumn('dest_prefix', 'text', (c) => c.notNull())
    .addColumn('signed_key', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('status_reason', 'text')
    .addColumn('requested_by', 'text', (c) => c.notNull())
    .addColumn('payload_size', 'bigint')
    .addColumn('payload_sha256', 'text')
    .addColumn('signature', 'text')
    .addColumn('signature_algorithm', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('completed_at', 'bigint')
    .addColumn('signature_expires_at', 'bigint')
    .execute();
  // ListSigningJobs walks newest first.
  await db.schema.createIndex('signing_jobs_created').on('signing_jobs').columns(['created_at', 'job_id']).execute();
  // The delivery-time check finds the signing job behind a signature in a job document.
  await db.schema.createIndex('signing_jobs_signature').on('signing_jobs').columns(['signature']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('signing_jobs').execute();
  await db.schema.dropTable('signing_profiles').execute();
  await db.schema.dropTable('signing_certificates').execute();
}
