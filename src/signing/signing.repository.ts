import type { Insertable, Selectable, Updateable } from 'kysely';
import type { Executor } from '../store/database.js';
import type { SigningCertificatesTable, SigningJobsTable, SigningProfilesTable } from './signing.tables.js';
import './signing.tables.js';

export type CertificateRow = Selectable<SigningCertificatesTable>;
export type ProfileRow = Selectable<SigningProfilesTable>;
export type SigningJobRow = Selectable<SigningJobsTable>;

// Certificates

export async function insertCertificate(db: Executor, row: Insertable<SigningCertificatesTable>): Promise<void> {
  await db.insertInto('signing_certificates').values(row).execute();
}

export async function replaceCertificate(
  db: Executor,
  arn: string,
  row: Updateable<SigningCertificatesTable>,
): Promise<void> {
  await db.updateTable('signing_certificates').set(row).where('arn', '=', arn).execute();
}

export function findCertificate(db: Executor, arn: string): Promise<CertificateRow | undefined> {
  return db.selectFrom('signing_certificates').selectAll().where('arn', '=', arn).executeTakeFirst();
}

export function listCertificates(db: Executor, after: string | undefined, limit: number): Promise<CertificateRow[]> {
  let q = db
    .selectFrom('signing_certificates')
    .selectAll()
    .orderBy('arn')
    .limit(limit + 1);
  if (after !== undefined) q = q.where('arn', '>', after);
  return q.execute();
}

export async function deleteCertificate(db: Executor, arn: string): Promise<void> {
  await db.deleteFrom('signing_certificates').where('arn', '=', arn).execute();
}

/** Profiles that use a certificate (every status: a canceled profile still names it). */
export async function profilesUsing(db: Executor, arn: string): Promise<ProfileRow[]> {
  return db.selectFrom('signing_profiles').selectAll().where('certificate_arn', '=', arn).execute();
}

// Profiles

export async function insertProfile(db: Executor, row: Insertable<SigningProfilesTable>): Promise<void> {
  await db.insertInto('signing_profiles').values(row).execute();
}

export function findProfile(db: Executor, name: string): Promise<ProfileRow | undefined> {
  return db.selectFrom('signing_profiles').selectAll().where('name', '=', name).executeTakeFirst();
}

export async function setProfileStatus(
  db: Executor,
  name: string,
  from: string,
  to: string,
  now: number,
): Promise<boolean> {
  const r = await db
    .updateTable('signing_profiles')
    .set({ status: to, status_changed_at: now })
    .where('name', '=', name)
    .where('status', '=', from)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function setProfileTags(db: Executor, name: string, tags: string | null): Promise<void> {
  await db.updateTable('signing_profiles').set({ tags }).where('name', '=', name).execute();
}

export function listProfiles(
  db: Executor,
  filter: { statuses: readonly string[]; platformId?: string; after?: string; limit: number },
): Promise<ProfileRow[]> {
  let q = db
    .selectFrom('signing_profiles')
    .selectAll()
    .where('status', 'in', filter.statuses)
    .orderBy('name')
    .limit(filter.limit + 1);
  if (filter.platformId !== undefined) q = q.where('platform_id', '=', filter.platformId);
  if (filter.after !== undefined) q = q.where('name', '>', filter.after);
  return q.execute();
}

// Signing jobs

export async function insertJob(db: Executor, row: Insertable<SigningJobsTable>): Promise<void> {
  await db.insertInto('signing_jobs').values(row).execute();
}

export async function updateJob(db: Executor, jobId: string, changes: Updateable<SigningJobsTable>): Promise<void> {
  await db.updateTable('signing_jobs').set(changes).where('job_id', '=', jobId).execute();
}

/** InProgress jobs started before `before`: a signing runs within its request, so these were interrupted. */
export async function failStale(db: Executor, before: number, now: number, reason: string): Promise<number> {
  const r = await db
    .updateTable('signing_jobs')
    .set({ status: 'Failed', status_reason: reason, completed_at: now })
    .where('status', '=', 'InProgress')
    .where('created_at', '<', before)
    .executeTakeFirst();
  return Number(r.numUpdatedRows);
}

export function findJob(db: Executor, jobId: string): Promise<SigningJobRow | undefined> {
  return db.selectFrom('signing_jobs').selectAll().where('job_id', '=', jobId).executeTakeFirst();
}

export function findJobByToken(db: Executor, token: string): Promise<SigningJobRow | undefined> {
  return db.selectFrom('signing_jobs').selectAll().where('client_request_token', '=', token).executeTakeFirst();
}

/** Succeeded signing jobs that produced one of these signatures. */
export function jobsBySignature(db: Executor, signatures: readonly string[]): Promise<SigningJobRow[]> {
  if (signatures.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('signing_jobs')
    .selectAll()
    .where('signature', 'in', signatures)
    .where('status', '=', 'Succeeded')
    .execute();
}

export interface JobFilter {
  status?: string;
  platformId?: string;
  requestedBy?: string;
  expiresBefore?: number;
  expiresAfter?: number;
  after?: [number, string];
  limit: number;
}

/** Newest first, keyset on (created_at, job_id). */
export function listJobs(db: Executor, f: JobFilter): Promise<SigningJobRow[]> {
  let q = db
    .selectFrom('signing_jobs')
    .selectAll()
    .orderBy('created_at', 'desc')
    .orderBy('job_id', 'desc')
    .limit(f.limit + 1);
  if (f.status !== undefined) q = q.where('status', '=', f.status);
  if (f.platformId !== undefined) q = q.where('platform_id', '=', f.platformId);
  if (f.requestedBy !== undefined) q = q.where('requested_by', '=', f.requestedBy);
  if (f.expiresBefore !== undefined) q = q.where('signature_expires_at', '<', f.expiresBefore);
  if (f.expiresAfter !== undefined) q = q.where('signature_expires_at', '>', f.expiresAfter);
  if (f.after) {
    const [createdAt, jobId] = f.after;
    q = q.where((eb) =>
      eb.or([eb('created_at', '<', createdAt), eb.and([eb('created_at', '=', createdAt), eb('job_id', '<', jobId)])]),
    );
  }
  return q.execute();
}
