import type { Kysely } from 'kysely';

/** IAM roles, their inline policies, customer-managed policies and attachments (issue 6). */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('iam_roles')
    .addColumn('name_key', 'text', (c) => c.primaryKey())
    .addColumn('role_name', 'text', (c) => c.notNull())
    .addColumn('role_id', 'text', (c) => c.notNull().unique())
    .addColumn('path', 'text', (c) => c.notNull())
    .addColumn('arn', 'text', (c) => c.notNull())
    .addColumn('assume_role_policy', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('max_session_duration', 'integer', (c) => c.notNull())
    .addColumn('tags', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('iam_role_policies')
    .addColumn('role_key', 'text', (c) => c.notNull().references('iam_roles.name_key').onDelete('cascade'))
    .addColumn('policy_name', 'text', (c) => c.notNull())
    .addColumn('document', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('iam_role_policies_pk', ['role_key', 'policy_name'])
    .execute();
  await db.schema
    .createTable('iam_policies')
    .addColumn('arn', 'text', (c) => c.primaryKey())
    .addColumn('policy_name', 'text', (c) => c.notNull())
    .addColumn('policy_id', 'text', (c) => c.notNull().unique())
    .addColumn('path', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('document', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  // No foreign key to iam_policies: AWS-managed policies (arn:aws:iam::aws:policy/...) live in code.
  await db.schema
    .createTable('iam_role_attachments')
    .addColumn('role_key', 'text', (c) => c.notNull().references('iam_roles.name_key').onDelete('cascade'))
    .addColumn('policy_arn', 'text', (c) => c.notNull())
    .addColumn('attached_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('iam_role_attachments_pk', ['role_key', 'policy_arn'])
    .execute();
  await db.schema
    .createIndex('iam_role_attachments_policy')
    .on('iam_role_attachments')
    .columns(['policy_arn', 'role_key'])
    .execute();
  // Server-wide secrets shared by every replica through the database (role-session signing key).
  await db.schema
    .createTable('iam_server_keys')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('secret', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('iam_server_keys').execute();
  await db.schema.dropTable('iam_role_attachments').execute();
  await db.schema.dropTable('iam_policies').execute();
  await db.schema.dropTable('iam_role_policies').execute();
  await db.schema.dropTable('iam_roles').execute();
}
