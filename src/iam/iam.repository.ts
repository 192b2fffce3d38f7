import { sql } from 'kysely';
import type { Executor } from '../store/database.js';
import type { IamPoliciesTable, IamRolePoliciesTable, IamRolesTable } from './iam.tables.js';

export type RoleRow = IamRolesTable;
export type PolicyRow = IamPoliciesTable;
export type InlinePolicyRow = IamRolePoliciesTable;

export const roleKey = (name: string): string => name.toLowerCase();

export async function findRole(db: Executor, name: string): Promise<RoleRow | undefined> {
  return db.selectFrom('iam_roles').selectAll().where('name_key', '=', roleKey(name)).executeTakeFirst();
}

export async function insertRole(db: Executor, row: RoleRow): Promise<void> {
  await db.insertInto('iam_roles').values(row).execute();
}

export async function updateTrustPolicy(db: Executor, name: string, document: string): Promise<boolean> {
  const r = await db
    .updateTable('iam_roles')
    .set({ assume_role_policy: document })
    .where('name_key', '=', roleKey(name))
    .executeTakeFirst();
  return r.numUpdatedRows > 0n;
}

export async function deleteRole(db: Executor, name: string): Promise<void> {
  await db.deleteFrom('iam_roles').where('name_key', '=', roleKey(name)).execute();
}

/** Keyset page of roles by name key; `after` is the last name key returned. */
export async function listRoles(
  db: Executor,
  f: { pathPrefix?: string; after?: string; limit: number },
): Promise<RoleRow[]> {
  let q = db.selectFrom('iam_roles').selectAll();
  if (f.after !== undefined) q = q.where('name_key', '>', f.after);
  // substr, not LIKE: path prefixes may hold % and _.
  if (f.pathPrefix !== undefined) q = q.where(sql<string>`substr(path, 1, ${f.pathPrefix.length})`, '=', f.pathPrefix);
  return q
    .orderBy('name_key')
    .limit(f.limit + 1)
    .execute();
}

export async function findInlinePolicy(
  db: Executor,
  role: string,
  policyName: string,
): Promise<InlinePolicyRow | undefined> {
  return db
    .selectFrom('iam_role_policies')
    .selectAll()
    .where('role_key', '=', roleKey(role))
    .where('policy_name', '=', policyName)
    .executeTakeFirst();
}

export async function upsertInlinePolicy(db: Executor, row: InlinePolicyRow): Promise<void> {
  await db
    .insertInto('iam_role_policies')
    .values(row)
    .onConflict((oc) => oc.columns(['role_key', 'policy_name']).doUpdateSet({ document: row.document }))
    .execute();
}

export async function deleteInlinePolicy(db: Executor, role: string, policyName: string): Promise<boolean> {
  const r = await db
    .deleteFrom('iam_role_policies')
    .where('role_key', '=', roleKey(role))
    .where('policy_name', '=', policyName)
    .executeTakeFirst();
  return r.numDeletedRows > 0n;
}

export async function listInlinePolicies(db: Executor, role: string, after?: string, limit?: number) {
  let q = db.selectFrom('iam_role_policies').selectAll().where('role_key', '=', roleKey(role));
  if (after !== undefined) q = q.where('policy_name', '>', after);
  q = q.orderBy('policy_name');
  if (limit !== undefined) q = q.limit(limit + 1);
  return q.execute();
}

export async function findPolicy(db: Executor, arn: string): Promise<PolicyRow | undefined> {
  return db.selectFrom('iam_policies').selectAll().where('arn', '=', arn).executeTakeFirst();
}

export async function insertPolicy(db: Executor, row: PolicyRow): Promise<void> {
  await db.insertInto('iam_policies').values(row).execute();
}

export async function deletePolicy(db: Executor, arn: string): Promise<void> {
  await db.deleteFrom('iam_policies').where('arn', '=', arn).execute();
}

export async function listPolicies(db: Executor, f: { after?: string; limit: number }): Promise<PolicyRow[]> {
  let q = db.selectFrom('iam_policies').selectAll();
  if (f.after !== undefined) q = q.where('arn', '>', f.after);
  return q
    .orderBy('arn')
    .limit(f.limit + 1)
    .execute();
}

export async function attachmentCount(db: Executor, policyArn: string): Promise<number> {
  const r = await db
    .selectFrom('iam_role_attachments')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('policy_arn', '=', policyArn)
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

export async function attach(db: Executor, role: string, policyArn: string, now: number): Promise<void> {
  await db
    .insertInto('iam_role_attachments')
    .values({ role_key: roleKey(role), policy_arn: policyArn, attached_at: now })
    .onConflict((oc) => oc.columns(['role_key', 'policy_arn']).doNothing())
    .execute();
}

export async function detach(db: Executor, role: string, policyArn: string): Promise<boolean> {
  const r = await db
    .deleteFrom('iam_role_attachments')
    .where('role_key', '=', roleKey(role))
    .where('policy_arn', '=', policyArn)
    .executeTakeFirst();
  return r.numDeletedRows > 0n;
}

export async function listAttachments(db: Executor, role: string, after?: string, limit?: number) {
  let q = db.selectFrom('iam_role_attachments').select('policy_arn').where('role_key', '=', roleKey(role));
  if (after !== undefined) q = q.where('policy_arn', '>', after);
  q = q.orderBy('policy_arn');
  if (limit !== undefined) q = q.limit(limit + 1);
  return (await q.execute()).map((r) => r.policy_arn);
}

export async function countRolePolicies(db: Executor, role: string): Promise<{ inline: number; attached: number }> {
  const inline = await listInlinePolicies(db, role);
  const attached = await listAttachments(db, role);
  return { inline: inline.length, attached: attached.length };
}

/**
 * A named server secret, created once (first writer wins) and then shared by all replicas. The
 * caller passes and gets back the stored form (sealed, see role-sessions.ts).
 */
export async function serverKey(db: Executor, name: string, candidate: string, now: number): Promise<string> {
  await db
    .insertInto('iam_server_keys')
    .values({ name, secret: candidate, created_at: now })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  const row = await db
    .selectFrom('iam_server_keys')
    .select('secret')
    .where('name', '=', name)
    .executeTakeFirstOrThrow();
  return row.secret;
}

/** Replaces a secret kept in clear by its sealed form (compare-and-set: another replica may race). */
export async function sealServerKey(db: Executor, name: string, clear: string, sealed: string): Promise<void> {
  await db
    .updateTable('iam_server_keys')
    .set({ secret: sealed })
    .where('name', '=', name)
    .where('secret', '=', clear)
    .execute();
}
