import type { ServiceContext } from '../context.js';
import { ServiceError } from '../errors.js';
import { newUuid } from '../ids.js';
import { toPage } from '../store/pagination.js';
import { TagsService, type Tag } from '../tags/tags.service.js';
import { validate } from '../validation.js';
import * as repo from './certificates.repository.js';
import {
  caCertificateSummary,
  checkCertificateId,
  decodeMarker,
  DEFAULT_CERTIFICATE_PAGE,
  describeCaCertificateRow,
  normalizeId,
  PAGE_SIZE_RULE,
  PEM_RULE,
  toMarker,
} from './certificates.schemas.js';
import { CA_CERTIFICATE_STATUSES, type CaCertificateStatus } from './certificates.tables.js';
import type { IdentityEvents } from './identity-events.js';
import { isCaCertificate, isIssuedBy, parseCertificatePem } from './x509.js';

export interface RegisterCaCertificateInput {
  caCertificate: string;
  verificationCertificate?: string;
  setAsActive?: boolean;
  allowAutoRegistration?: boolean;
  tags?: Tag[];
  certificateMode?: string;
}

const AUTO_REGISTRATION = ['ENABLE', 'DISABLE'] as const;

/**
 * A user's own CA (RegisterCACertificate): once ACTIVE, the TLS listeners trust it, so device
 * certificates it issued can connect after RegisterCertificate.
 */
export class CaCertificatesService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly tags: TagsService,
    private readonly events: IdentityEvents,
  ) {}

  async registerCaCertificate(input: RegisterCaCertificateInput) {
    validate((v) => {
      if (v.required('caCertificate', input.caCertificate)) v.string('caCertificate', input.caCertificate, PEM_RULE);
      v.string('verificationCertificate', input.verificationCertificate, PEM_RULE);
      v.boolean('setAsActive', input.setAsActive);
      v.boolean('allowAutoRegistration', input.allowAutoRegistration);
      v.string('certificateMode', input.certificateMode, { enum: ['DEFAULT', 'SNI_ONLY'] });
    });
    if (input.tags !== undefined) TagsService.checkTags(input.tags);
    const ca = parseCertificatePem(input.caCertificate, 'caCertificate');
    if (!isCaCertificate(ca.x509)) {
      throw new ServiceError(
        'CertificateValidation',
        'The caCertificate is not a CA certificate (basicConstraints CA:TRUE).',
      );
    }
    if (ca.notAfter <= this.ctx.clock.now().getTime()) {
      throw new ServiceError('CertificateValidation', 'The CA certificate has expired.');
    }
    if (input.verificationCertificate !== undefined) {
      const proof = parseCertificatePem(input.verificationCertificate, 'verificationCertificate');
      if (!isIssuedBy(proof.x509, ca.x509)) {
        throw new ServiceError(
          'CertificateValidation',
          'The verification certificate is not signed by the CA certificate.',
        );
      }
    }
    const now = this.ctx.clock.now().getTime();
    const arn = this.ctx.arns.iot('cacert', ca.id);
    const inserted = await this.ctx.db.transaction().execute(async (trx) => {
      if (await repo.findCaCertificate(trx, ca.id)) return false;
      await repo.insertCaCertificate(trx, {
        id: ca.id,
        pem: ca.pem,
        status: input.setAsActive ? 'ACTIVE' : 'INACTIVE',
        auto_registration: input.allowAutoRegistration ? 'ENABLE' : 'DISABLE',
        not_before: ca.notBefore,
        not_after: ca.notAfter,
        customer_version: 1,
        generation_id: newUuid(),
        created_at: now,
        last_modified_at: now,
      });
      if (input.tags !== undefined) await this.tags.putTags(trx, arn, input.tags);
      return true;
    });
    if (!inserted) {
      throw new ServiceError('ResourceAlreadyExists', 'The CA certificate is already registered', {
        resourceId: ca.id,
        resourceArn: arn,
      });
    }
    this.events.emit({ caChanged: true });
    return { certificateArn: arn, certificateId: ca.id };
  }

  private async requireCa(certificateId: string): Promise<repo.CaCertificateRow> {
    const row = await repo.findCaCertificate(this.ctx.db, normalizeId(certificateId));
    if (!row) throw new ServiceError('ResourceNotFound', `The CA certificate ${certificateId} does not exist`);
    return row;
  }

  async describeCaCertificate(certificateId: string) {
    validate((v) => checkCertificateId(v, 'certificateId', certificateId));
    return { certificateDescription: describeCaCertificateRow(await this.requireCa(certificateId), this.ctx.arns) };
  }

  async updateCaCertificate(input: { certificateId: string; newStatus?: string; newAutoRegistrationStatus?: string }) {
    validate((v) => {
      checkCertificateId(v, 'certificateId', input.certificateId);
      v.string('newStatus', input.newStatus, { enum: CA_CERTIFICATE_STATUSES });
      v.string('newAutoRegistrationStatus', input.newAutoRegistrationStatus, { enum: AUTO_REGISTRATION });
    });
    const row = await this.requireCa(input.certificateId);
    const changes: Partial<Pick<repo.CaCertificateRow, 'status' | 'auto_registration'>> = {};
    if (input.newStatus !== undefined) changes.status = input.newStatus as CaCertificateStatus;
    if (input.newAutoRegistrationStatus !== undefined) {
      changes.auto_registration = input.newAutoRegistrationStatus as 'ENABLE' | 'DISABLE';
    }
    if (!(await repo.updateCaCertificate(this.ctx.db, row, changes, this.ctx.clock.now().getTime()))) {
      throw new ServiceError('Conflict', 'The CA certificate was changed concurrently; try again.');
    }
    this.events.emit({ caChanged: true });
  }

  async deleteCaCertificate(certificateId: string): Promise<void> {
    validate((v) => checkCertificateId(v, 'certificateId', certificateId));
    await this.ctx.db.transaction().execute(async (trx) => {
      const row = await repo.findCaCertificate(trx, normalizeId(certificateId));
      if (!row) throw new ServiceError('ResourceNotFound', `The CA certificate ${certificateId} does not exist`);
      if (row.status === 'ACTIVE') {
        throw new ServiceError(
          'CertificateState',
          'The CA certificate must be deactivated (not ACTIVE) before deletion.',
        );
      }
      if ((await repo.countCertificatesOfCa(trx, row.id)) > 0) {
        throw new ServiceError('CertificateState', 'Certificates registered with this CA must be deleted first.');
      }
      await repo.deleteCaCertificateRow(trx, row.id);
    });
    this.events.emit({ caChanged: true });
  }

  async listCaCertificates(input: { pageSize?: number; marker?: string; ascendingOrder?: boolean }) {
    validate((v) => {
      v.number('pageSize', input.pageSize, PAGE_SIZE_RULE);
      v.string('marker', input.marker, { max: 1024, pattern: /^[A-Za-z0-9+/]+={0,2}$/ });
      v.boolean('ascendingOrder', input.ascendingOrder);
    });
    const limit = input.pageSize ?? DEFAULT_CERTIFICATE_PAGE;
    const rows = await repo.listCaCertificateRows(this.ctx.db, {
      limit,
      ascending: input.ascendingOrder === true,
      after: decodeMarker(input.marker),
    });
    const page = toPage(rows, limit, (r) => [r.created_at, r.id]);
    return {
      certificates: page.items.map((r) => caCertificateSummary(r, this.ctx.arns)),
      ...(page.nextToken !== undefined && { nextMarker: toMarker(page.nextToken) }),
    };
  }

  /** PEMs of the ACTIVE registered CAs: what the TLS listeners trust next to the local CA. */
  async activeCaPems(): Promise<string[]> {
    const rows = await this.ctx.db.selectFrom('ca_certificates').select('pem').where('status', '=', 'ACTIVE').execute();
    return rows.map((r) => r.pem);
  }
}
