import type { ServiceContext } from '../context.js';
import type { IamServices } from '../iam/iam.services.js';
import type { JobServices } from '../jobs/job-services.js';
import type { ObjectServices } from '../objects/objects.services.js';
import type { SigningServices } from '../signing/signing.services.js';
import type { TagsService } from '../tags/tags.service.js';
import { OtaSigner, type OtaStreams } from './ota-files.js';
import { OtaWorker } from './ota-worker.js';
import { findUpdate, updateUsingStream } from './ota.repository.js';
import type { StreamDeleteGuard } from '../streams/streams.service.js';
import { ServiceError } from '../errors.js';
import { OtaUpdatesService } from './ota.service.js';

/** The OTA updates feature as the rest of the server sees it (the iot adapter, the CLI, tests). */
export interface OtaServices {
  updates: OtaUpdatesService;
  worker: OtaWorker;
  /** Another worker on the same database, as another replica runs (tests of the claiming). */
  newWorker(): OtaWorker;
}

export interface OtaDeps {
  iam: IamServices;
  tags: TagsService;
  jobs: Pick<JobServices, 'jobs' | 'jobLifecycle'>;
  objects: ObjectServices;
  signing: () => SigningServices;
  /** The streams feature (CreateStream & co.), when the server has it. */
  streams: () => (OtaStreams & { deleteGuards?: StreamDeleteGuard[] }) | undefined;
}

export function createOtaServices(ctx: ServiceContext, deps: OtaDeps): OtaServices {
  deps.tags.registerResourceType('otaupdate', async (db, id) => (await findUpdate(db, id)) !== undefined);
  const newWorker = (): OtaWorker =>
    new OtaWorker(ctx, {
      iam: deps.iam,
      jobs: deps.jobs.jobs,
      objects: () => deps.objects.objects,
      signer: new OtaSigner(ctx, deps.signing),
      streams: deps.streams,
    });
  const worker = newWorker();
  const updates = new OtaUpdatesService(ctx, {
    tags: deps.tags,
    jobLifecycle: deps.jobs.jobLifecycle,
    worker: () => worker,
    streams: deps.streams,
  });
  // A stream an OTA update delivers from stays while the update does (DeleteOTAUpdate deleteStream
  // removes the update first). A failed update's stream is not held.
  deps.streams()?.deleteGuards?.push(async (trx, streamId) => {
    const using = await updateUsingStream(trx, streamId);
    if (using) {
      throw new ServiceError(
        'DeleteConflict',
        `Stream ${streamId} is used by OTA update ${using}; delete the OTA update (with deleteStream) instead.`,
      );
    }
  });
  return { updates, worker, newWorker };
}
