import type { Executor } from '../store/database.js';
import type {
  CaCertificatesTable,
  CertificatesTable,
  CertificateStatus,
  ThingPrincipalsTable,
} from './certificates.tables.js';

export type CertificateRow = CertificatesTable;
export type CaCertificateRow = CaCertificatesTable;
export type ThingPrincipalRow = ThingPrincipalsTable;

export async function findCertificate(db: Executor, id: string): Promise<CertificateRow | undefined> {
  return db.selectFrom('certificates').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function insertCertificate(db: Executor, row: CertificateRow): Promise<void> {
  await db.insertInto('certificates').values(row).execute();
}

/** Compare-and-set on customer_version, so two concurrent updates cannot both win. */
export async function setCertificateStatus(
  db: Executor,
  row: CertificateRow,
  status: CertificateStatus,
  now: number,
): Promise<boolean> {
  const result = await db
    .updateTable('certificates')
    .set({ status, last_modified_at: now, customer_version: row.customer_version + 1 })
    .where('id', '=', row.id)
    .where('customer_version', '=', row.customer_version)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export async function deleteCertificateRow(db: Executor, id: string): Promise<void> {
  await db.deleteFrom('certificates').where('id', '=', id).execute();
}

export async function listCertificateRows(
  db: Executor,
  f: { limit: number; ascending: boolean; after?: [number, string]; caCertificateId?: string },
): Promise<CertificateRow[]> {
  const op = f.ascending ? '>' : '<';
  const dir = f.ascending ? 'asc' : 'desc';
  let q = db.selectFrom('certificates').selectAll();
  if (f.caCertificateId !== undefined) q = q.where('ca_certificate_id', '=', f.caCertificateId);
  if (f.after) {
    const [createdAt, id] = f.after;
    q = q.where((eb) =>
      eb.or([eb('created_at', op, createdAt), eb.and([eb('created_at', '=', createdAt), eb('id', op, id)])]),
    );
  }
  return q
    .orderBy('created_at', dir)
    .orderBy('id', dir)
    .limit(f.limit + 1)
    .execute();
}

export async function findCaCertificate(db: Executor, id: string): Promise<CaCertificateRow | undefined> {
  return db.selectFrom('ca_certificates').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function insertCaCertificate(db: Executor, row: CaCertificateRow): Promise<void> {
  await db.insertInto('ca_certificates').values(row).execute();
}

export async function updateCaCertificate(
  db: Executor,
  row: CaCertificateRow,
  changes: Partial<Pick<CaCertificateRow, 'status' | 'auto_registration'>>,
  now: number,
): Promise<boolean> {
  const result = await db
    .updateTable('ca_certificates')
    .set({ ...changes, last_modified_at: now, customer_version: row.customer_version + 1 })
    .where('id', '=', row.id)
    .where('customer_version', '=', row.customer_version)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

export async function deleteCaCertificateRow(db: Executor, id: string): Promise<void> {
  await db.deleteFrom('ca_certificates').where('id', '=', id).execute();
}

export async function listCaCertificateRows(
  db: Executor,
  f: { limit: number; ascending: boolean; after?: [number, string]; status?: string },
): Promise<CaCertificateRow[]> {
  const op = f.ascending ? '>' : '<';
  const dir = f.ascending ? 'asc' : 'desc';
  let q = db.selectFrom('ca_certificates').selectAll();
  if (f.status !== undefined) q = q.where('status', '=', f.status as CaCertificateRow['status']);
  if (f.after) {
    const [createdAt, id] = f.after;
    q = q.where((eb) =>
      eb.or([eb('created_at', op, createdAt), eb.and([eb('created_at', '=', createdAt), eb('id', op, id)])]),
    );
  }
  return q
    .orderBy('created_at', dir)
    .orderBy('id', dir)
    .limit(f.limit + 1)
    .execute();
}

export async function countCertificatesOfCa(db: Executor, caId: string): Promise<number> {
  const row = await db
    .selectFrom('certificates')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('ca_certificate_id', '=', caId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function findAttachment(
  db: Executor,
  thingName: string,
  certificateId: string,
): Promise<ThingPrincipalRow | undefined> {
  return db
    .selectFrom('thing_principals')
    .selectAll()
    .where('thing_name', '=', thingName)
    .where('certificate_id', '=', certificateId)
    .executeTakeFirst();
}

export async function insertAttachment(db: Executor, row: ThingPrincipalRow): Promise<void> {
  await db
    .insertInto('thing_principals')
    .values(row)
    .onConflict((oc) =>
      oc.columns(['thing_name', 'certificate_id']).doUpdateSet({ principal_type: row.principal_type }),
    )
    .execute();
}

export async function deleteAttachment(db: Executor, thingName: string, certificateId: string): Promise<boolean> {
  const result = await db
    .deleteFrom('thing_principals')
    .where('thing_name', '=', thingName)
    .where('certificate_id', '=', certificateId)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/** Things of a certificate, keyset-paged by name (limit + 1 rows). */
export async function thingsOfCertificate(
  db: Executor,
  certificateId: string,
  page: { limit: number; after?: string },
): Promise<ThingPrincipalRow[]> {
  let q = db.selectFrom('thing_principals').selectAll().where('certificate_id', '=', certificateId);
  if (page.after !== undefined) q = q.where('thing_name', '>', page.after);
  return q
    .orderBy('thing_name')
    .limit(page.limit + 1)
    .execute();
}

/** Certificates of a thing, keyset-paged by certificate id (limit + 1 rows). */
export async function certificatesOfThing(
  db: Executor,
  thingName: string,
  page: { limit: number; after?: string },
): Promise<ThingPrincipalRow[]> {
  let q = db.selectFrom('thing_principals').selectAll().where('thing_name', '=', thingName);
  if (page.after !== undefined) q = q.where('certificate_id', '>', page.after);
  return q
    .orderBy('certificate_id')
    .limit(page.limit + 1)
    .execute();
}

export async function hasAttachments(db: Executor, where: { thingName?: string; certificateId?: string }) {
  let q = db.selectFrom('thing_principals').select('thing_name');
  if (where.thingName !== undefined) q = q.where('thing_name', '=', where.thingName);
  if (where.certificateId !== undefined) q = q.where('certificate_id', '=', where.certificateId);
  return (await q.limit(1).executeTakeFirst()) !== undefined;
}
