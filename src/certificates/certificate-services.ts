import type { ServiceContext } from '../context.js';
import type { RegistryHookList } from '../registry/registry.hooks.js';
import type { TagsService } from '../tags/tags.service.js';
import * as repo from './certificates.repository.js';
import { CaCertificatesService } from './ca-certificates.service.js';
import { CertificatesService } from './certificates.service.js';
import { DeviceIdentityService } from './device-identity.service.js';
import { IdentityEvents } from './identity-events.js';
import { LocalCaRef } from './local-ca.js';
import { PrincipalsService } from './principals.service.js';

/** The device-identity part of the service layer (one spread in services.ts). */
export interface CertificateServices {
  localCa: LocalCaRef;
  identityEvents: IdentityEvents;
  certificates: CertificatesService;
  caCertificates: CaCertificatesService;
  principals: PrincipalsService;
  deviceIdentity: DeviceIdentityService;
}

export function createCertificateServices(
  ctx: ServiceContext,
  tags: TagsService,
  registryHooks: RegistryHookList,
): CertificateServices {
  const localCa = new LocalCaRef();
  const identityEvents = new IdentityEvents();
  const principals = new PrincipalsService(ctx, identityEvents);
  registryHooks.add(principals.registryHooks);
  tags.registerResourceType('cacert', async (db, id) => (await repo.findCaCertificate(db, id)) !== undefined);
  return {
    localCa,
    identityEvents,
    certificates: new CertificatesService(ctx, localCa, identityEvents),
    caCertificates: new CaCertificatesService(ctx, tags, identityEvents),
    principals,
    deviceIdentity: new DeviceIdentityService(ctx),
  };
}
