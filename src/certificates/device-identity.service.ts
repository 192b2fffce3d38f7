import type { ServiceContext } from '../context.js';
import { ServiceError } from '../errors.js';
import * as repo from './certificates.repository.js';
import { certificateIdOfDer } from './x509.js';

export interface DeviceIdentity {
  certificateId: string;
  thingName: string;
}

/**
 * Who a device is, decided from the client certificate its TLS connection presented (the TLS
 * layer has already checked the chain against the local CA and the ACTIVE registered CAs). Both
 * the MQTT broker and the device HTTPS listener ask here.
 */
export class DeviceIdentityService {
  constructor(private readonly ctx: ServiceContext) {}

  /**
   * The certificate must be known and ACTIVE, its CA (if registered) ACTIVE, and it must be
   * attached to `thingName`. Refusals are CertificateValidation (the certificate itself is not
   * usable) or AccessDenied (it is, but not for that thing).
   */
  async authorize(certificateDer: Buffer, thingName: string): Promise<DeviceIdentity> {
    const certificateId = certificateIdOfDer(certificateDer);
    const cert = await repo.findCertificate(this.ctx.db, certificateId);
    if (!cert) throw new ServiceError('CertificateValidation', 'The certificate is not registered.');
    if (cert.status !== 'ACTIVE') {
      throw new ServiceError('CertificateValidation', `The certificate is ${cert.status}, not ACTIVE.`);
    }
    if (cert.not_after <= this.ctx.clock.now().getTime()) {
      throw new ServiceError('CertificateValidation', 'The certificate has expired.');
    }
    if (cert.ca_certificate_id !== null) {
      const ca = await repo.findCaCertificate(this.ctx.db, cert.ca_certificate_id);
      if (ca?.status !== 'ACTIVE') {
        throw new ServiceError(
          'CertificateValidation',
          'The CA certificate that issued this certificate is not ACTIVE.',
        );
      }
    }
    if (!(await repo.findAttachment(this.ctx.db, thingName, certificateId))) {
      throw new ServiceError('AccessDenied', `The certificate is not attached to thing ${thingName}.`);
    }
    return { certificateId, thingName };
  }

  /**
   * Of the given connections, those whose certificate is still ACTIVE and attached to the thing
   * (keys `certificateId/thingName`): the broker's periodic sweep drops the rest, so a change made
   * on another replica reaches the devices connected here.
   */
  async stillValid(identities: readonly DeviceIdentity[]): Promise<Set<string>> {
    const valid = new Set<string>();
    for (let i = 0; i < identities.length; i += 500) {
      const batch = identities.slice(i, i + 500);
      const rows = await this.ctx.db
        .selectFrom('thing_principals')
        .innerJoin('certificates', 'certificates.id', 'thing_principals.certificate_id')
        .leftJoin('ca_certificates', 'ca_certificates.id', 'certificates.ca_certificate_id')
        .select(['thing_principals.certificate_id', 'thing_principals.thing_name'])
        .where('thing_principals.certificate_id', 'in', [...new Set(batch.map((b) => b.certificateId))])
        .where('certificates.status', '=', 'ACTIVE')
        .where((eb) =>
          eb.or([eb('certificates.ca_certificate_id', 'is', null), eb('ca_certificates.status', '=', 'ACTIVE')]),
        )
        .execute();
      for (const r of rows) valid.add(`${r.certificate_id}/${r.thing_name}`);
    }
    return valid;
  }
}
