import { createCertificateServices, type CertificateServices } from './certificates/certificate-services.js';
import { ConsoleAuthService } from './console/auth.service.js';
import type { ServiceContext } from './context.js';
import { deviceHttpsBaseUrl, installDocumentHooks } from './documents/document-hooks.js';
import { createIamServices, type IamServices } from './iam/iam.services.js';
import { createJobServices, type JobServices } from './jobs/job-services.js';
import { createSchedulerServices, type SchedulerServices } from './scheduler/scheduler.services.js';
import type { ObjectBackend } from './objects/backends/backend.js';
import { UnavailableBackend } from './objects/backends/unavailable.backend.js';
import { createObjectServices, type ObjectServices } from './objects/objects.services.js';
import { EndpointService, type DeviceEndpoints } from './registry/endpoint.service.js';
import { GroupsService } from './registry/groups.service.js';
import { RegistryHookList } from './registry/registry.hooks.js';
import { ThingsService } from './registry/things.service.js';
import { ThingTypesService } from './registry/thing-types.service.js';
import { ConnectivityService } from './registry/connectivity.service.js';
import { DynamicGroupsService } from './registry/dynamic-groups.service.js';
import { IndexingService } from './registry/indexing.service.js';
import * as thingsRepo from './registry/things.repository.js';
import * as groupsRepo from './registry/groups.repository.js';
import * as thingTypesRepo from './registry/thing-types.repository.js';
import type { SigningKeyring } from './signing/keyring.js';
import { createSigningServices, type SigningServices } from './signing/signing.services.js';
import { createOtaServices, type OtaServices } from './ota/ota.services.js';
import { TagsService } from './tags/tags.service.js';
import { createStreamServices } from './streams/streams.services.js';
import type { StreamsService } from './streams/streams.service.js';

/** The one service layer every protocol, the console and the CLI call (DESIGN.md rule 1). */
export interface Services extends CertificateServices, JobServices, SchedulerServices {
  ctx: ServiceContext;
  registryHooks: RegistryHookList;
  things: ThingsService;
  thingTypes: ThingTypesService;
  indexing: IndexingService;
  connectivity: ConnectivityService;
  dynamicGroups: DynamicGroupsService;
  groups: GroupsService;
  tags: TagsService;
  endpoints: EndpointService;
  iam: IamServices;
  objects: ObjectServices;
  signing: SigningServices;
  ota: OtaServices;
  consoleAuth: ConsoleAuthService;
  streams: StreamsService;
}

export function createServices(
  ctx: ServiceContext,
  deviceEndpoints: () => DeviceEndpoints,
  options: { objectBackend?: ObjectBackend; signingKeyring?: SigningKeyring } = {},
): Services {
  const iam = createIamServices(ctx, options.signingKeyring);
  const registryHooks = new RegistryHookList();
  const tags = new TagsService(ctx);
  tags.registerResourceType('thing', async (db, id) => (await thingsRepo.findThing(db, id)) !== undefined);
  tags.registerResourceType('thinggroup', async (db, id) => (await groupsRepo.findGroup(db, id)) !== undefined);
  const thingTypes = new ThingTypesService(ctx, tags);
  tags.registerResourceType('thingtype', async (db, id) => (await thingTypesRepo.findThingType(db, id)) !== undefined);
  const groups = new GroupsService(ctx, registryHooks);
  const indexing = new IndexingService(ctx);
  const dynamicGroups = new DynamicGroupsService(ctx, registryHooks, indexing, groups, tags);
  // Dynamic groups follow every change of a thing, in the same transaction.
  registryHooks.add({
    afterThingChanged: (trx, thingName) => dynamicGroups.refreshThing(trx, thingName),
    afterGroupDeleted: (trx) => dynamicGroups.afterGroupDeleted(trx),
  });
  const services: Omit<Services, 'signing' | 'streams' | 'ota' | keyof SchedulerServices> = {
    ctx,
    registryHooks,
    things: new ThingsService(ctx, registryHooks, thingTypes),
    thingTypes,
    groups,
    indexing,
    connectivity: new ConnectivityService(ctx, registryHooks),
    dynamicGroups,
    tags,
    endpoints: new EndpointService(deviceEndpoints),
    iam,
    objects: createObjectServices(ctx, options.objectBackend ?? new UnavailableBackend(), iam),
    consoleAuth: new ConsoleAuthService(ctx),
    ...createCertificateServices(ctx, tags, registryHooks),
    ...createJobServices(ctx, tags, registryHooks),
  };
  const signing = createSigningServices(ctx, {
    objects: services.objects.objects,
    keyring: options.signingKeyring,
    jobs: services,
  });
  installDocumentHooks(ctx, {
    iam,
    objects: services.objects,
    jobs: services.jobs,
    deviceJobs: services.deviceJobs,
    deviceHttpsUrl: () => deviceHttpsBaseUrl(deviceEndpoints().deviceHttps),
  });
  const streams = createStreamServices(ctx, { tags, iam, objects: services.objects.objects });
  const ota = createOtaServices(ctx, {
    iam,
    tags,
    jobs: services,
    objects: services.objects,
    signing: () => signing,
    streams: () => streams,
  });
  return { ...services, signing, streams, ota, ...createSchedulerServices(ctx, services) };
}
