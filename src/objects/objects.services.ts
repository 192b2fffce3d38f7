import type { ServiceContext } from '../context.js';
import type { IamServices } from '../iam/iam.services.js';
import type { ObjectBackend } from './backends/backend.js';
import { BlobStore } from './blob-store.js';
import { ObjectListingService } from './objects.listing.js';
import { ObjectsService } from './objects.service.js';
import { MultipartService } from './multipart.service.js';
import { S3Access } from './s3-access.js';

/** The object store feature as the rest of the server sees it. */
export interface ObjectServices {
  blobs: BlobStore;
  objects: ObjectsService;
  listing: ObjectListingService;
  multipart: MultipartService;
  access: S3Access;
}

export function createObjectServices(ctx: ServiceContext, backend: ObjectBackend, iam: IamServices): ObjectServices {
  const blobs = new BlobStore(ctx.db, backend, ctx.clock, ctx.logger);
  const objects = new ObjectsService(ctx, blobs);
  return {
    blobs,
    objects,
    listing: new ObjectListingService(ctx, objects),
    multipart: new MultipartService(ctx, objects, blobs),
    access: new S3Access({ roles: iam.access, sessions: iam.sessions }),
  };
}
