import type { ServiceContext } from '../context.js';
import { ServiceError } from '../errors.js';
import { newUuid } from '../ids.js';
import { toPage } from '../store/pagination.js';
import { validate } from '../validation.js';
import * as repo from './certificates.repository.js';
import {
  certificateSummary,
  checkCertificateId,
  decodeMarker,
  DEFAULT_CERTIFICATE_PAGE,
  describeCertificateRow,
  toMarker,
  normalizeId,
  PAGE_SIZE_RULE,
  PEM_RULE,
} from './certificates.schemas.js';
import { CERTIFICATE_STATUSES, SETTABLE_CERTIFICATE_STATUSES, type CertificateStatus } from './certificates.tables.js';
import type { IdentityEvents } from './identity-events.js';
import { newRsaKeyPair, type LocalCaRef } from './local-ca.js';
import { isIssuedBy, parseCertificatePem, type ParsedCertificate } from './x509.js';

export interface RegisterCertificateInput {
  certificatePem: string;
  caCertificatePem?: string;
  setAsActive?: boolean;
  status?: string;
}

export interface ListCertificatesInput {
  pageSize?: number;
  marker?: string;
  ascendingOrder?: boolean;
  caCertificateId?: string;
}

/** Device certificates (spec 2.2): issued by the local CA or by a CA the user registered. */
export class CertificatesService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly ca: LocalCaRef,
    private readonly events: IdentityEvents,
  ) {}

  /** spec 2.7: RSA 2048, keyPair.PublicKey/PrivateKey capitalised; the private key is never stored. */
  async createKeysAndCertificate(input: { setAsActive?: boolean }) {
    validate((v) => v.boolean('setAsActive', input.setAsActive));
    const keys = await newRsaKeyPair();
    const pem = await this.ca.get().issue({ publicKey: keys.publicKey, commonName: 'AWS IoT Certificate' });
    const parsed = parseCertificatePem(pem);
    await this.store(parsed, input.setAsActive ? 'ACTIVE' : 'INACTIVE', null);
    return {
      certificateArn: this.ctx.arns.cert(parsed.id),
      certificateId: parsed.id,
      certificatePem: parsed.pem,
      keyPair: { PublicKey: keys.publicKeyPem, PrivateKey: keys.privateKeyPem },
    };
  }

  async registerCertificate(input: RegisterCertificateInput) {
    validate((v) => {
      if (v.required('certificatePem', input.certificatePem))
        v.string('certificatePem', input.certificatePem, PEM_RULE);
      v.string('caCertificatePem', input.caCertificatePem, PEM_RULE);
      v.boolean('setAsActive', input.setAsActive);
      v.string('status', input.status, { enum: CERTIFICATE_STATUSES });
    });
    const cert = parseCertificatePem(input.certificatePem);
    if (cert.notAfter <= this.ctx.clock.now().getTime()) {
      throw new ServiceError('CertificateValidation', 'The certificate has expired.');
    }
    const caId = await this.issuerOf(cert, input.caCertificatePem);
    const status = (input.status as CertificateStatus | undefined) ?? (input.setAsActive ? 'ACTIVE' : 'INACTIVE');
    await this.store(cert, status, caId);
    return { certificateArn: this.ctx.arns.cert(cert.id), certificateId: cert.id };
  }

  /** The registered CA id that signed `cert`, or null for the local CA; otherwise refused. */
  private async issuerOf(cert: ParsedCertificate, caPem: string | undefined): Promise<string | null> {
    if (caPem !== undefined) {
      const ca = parseCertificatePem(caPem, 'caCertificatePem');
      const row = await repo.findCaCertificate(this.ctx.db, ca.id);
      if (!row) throw new ServiceError('CertificateValidation', 'The CA certificate is not registered.');
      if (!isIssuedBy(cert.x509, ca.x509)) {
        throw new ServiceError('CertificateValidation', 'The certificate is not signed by the given CA certificate.');
      }
      return row.id;
    }
    if (isIssuedBy(cert.x509, this.ca.get().certificate)) return null;
    const cas = await this.ctx.db.selectFrom('ca_certificates').selectAll().execute();
    for (const row of cas) {
      if (isIssuedBy(cert.x509, parseCertificatePem(row.pem).x509)) return row.id;
    }
    throw new ServiceError('CertificateValidation', 'The certificate is not signed by a registered CA certificate.');
  }

  private async store(cert: ParsedCertificate, status: CertificateStatus, caId: string | null): Promise<void> {
    const now = this.ctx.clock.now().getTime();
    const row: repo.CertificateRow = {
      id: cert.id,
      pem: cert.pem,
      status,
      ca_certificate_id: caId,
      not_before: cert.notBefore,
      not_after: cert.notAfter,
      customer_version: 1,
      generation_id: newUuid(),
      created_at: now,
      last_modified_at: now,
    };
    const inserted = await this.ctx.db.transaction().execute(async (trx) => {
      if (await repo.findCertificate(trx, cert.id)) return false;
      await repo.insertCertificate(trx, row);
      return true;
    });
    if (!inserted) {
      throw new ServiceError('ResourceAlreadyExists', 'The certificate is already provisioned or registered', {
        resourceId: cert.id,
        resourceArn: this.ctx.arns.cert(cert.id),
      });
    }
  }

  async requireCertificate(certificateId: string): Promise<repo.CertificateRow> {
    const row = await repo.findCertificate(this.ctx.db, normalizeId(certificateId));
    if (!row) throw new ServiceError('ResourceNotFound', `The certificate ${certificateId} does not exist`);
    return row;
  }

  async describeCertificate(certificateId: string) {
    validate((v) => checkCertificateId(v, 'certificateId', certificateId));
    const row = await this.requireCertificate(certificateId);
    return { certificateDescription: describeCertificateRow(row, this.ctx.arns) };
  }

  /** Idempotent; a REVOKED certificate stays revoked. Connected devices using it are dropped. */
  async updateCertificate(certificateId: string, newStatus: string | undefined): Promise<void> {
    validate((v) => {
      checkCertificateId(v, 'certificateId', certificateId);
      if (v.required('newStatus', newStatus)) v.string('newStatus', newStatus, { enum: CERTIFICATE_STATUSES });
    });
    const status = newStatus as CertificateStatus;
    if (!(SETTABLE_CERTIFICATE_STATUSES as readonly string[]).includes(status)) {
      throw new ServiceError('InvalidRequest', `The status of a certificate cannot be set to ${status}.`);
    }
    const id = normalizeId(certificateId);
    await this.ctx.db.transaction().execute(async (trx) => {
      const row = await repo.findCertificate(trx, id);
      if (!row) throw new ServiceError('ResourceNotFound', `The certificate ${certificateId} does not exist`);
      if (row.status === status) return;
      if (row.status === 'REVOKED') {
        throw new ServiceError('CertificateState', 'The certificate is revoked; its status cannot change.');
      }
      if (!(await repo.setCertificateStatus(trx, row, status, this.ctx.clock.now().getTime()))) {
        throw new ServiceError('Conflict', 'The certificate was changed concurrently; try again.');
      }
    });
    this.events.emit({ certificateId: id });
  }

  async deleteCertificate(certificateId: string, _forceDelete?: boolean): Promise<void> {
    validate((v) => {
      checkCertificateId(v, 'certificateId', certificateId);
      v.boolean('forceDelete', _forceDelete);
    });
    const id = normalizeId(certificateId);
    await this.ctx.db.transaction().execute(async (trx) => {
      const row = await repo.findCertificate(trx, id);
      if (!row) throw new ServiceError('ResourceNotFound', `The certificate ${certificateId} does not exist`);
      if (row.status === 'ACTIVE') {
        throw new ServiceError('CertificateState', 'Certificate must be deactivated (not ACTIVE) before deletion.');
      }
      if (await repo.hasAttachments(trx, { certificateId: id })) {
        throw new ServiceError(
          'DeleteConflict',
          `Things must be detached before deletion (arn: ${this.ctx.arns.cert(id)})`,
        );
      }
      await repo.deleteCertificateRow(trx, id);
    });
    this.events.emit({ certificateId: id });
  }

  async listCertificates(input: ListCertificatesInput) {
    validate((v) => {
      v.number('pageSize', input.pageSize, PAGE_SIZE_RULE);
      v.string('marker', input.marker, { max: 1024, pattern: /^[A-Za-z0-9+/]+={0,2}$/ });
      v.boolean('ascendingOrder', input.ascendingOrder);
      if (input.caCertificateId !== undefined) checkCertificateId(v, 'caCertificateId', input.caCertificateId);
    });
    const limit = input.pageSize ?? DEFAULT_CERTIFICATE_PAGE;
    const rows = await repo.listCertificateRows(this.ctx.db, {
      limit,
      ascending: input.ascendingOrder === true,
      after: decodeMarker(input.marker),
      ...(input.caCertificateId !== undefined && { caCertificateId: normalizeId(input.caCertificateId) }),
    });
    const page = toPage(rows, limit, (r) => [r.created_at, r.id]);
    return {
      certificates: page.items.map((r) => certificateSummary(r, this.ctx.arns)),
      ...(page.nextToken !== undefined && { nextMarker: toMarker(page.nextToken) }),
    };
  }
}
