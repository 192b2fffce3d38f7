import type { ServiceContext } from '../context.js';
import type { IamServices } from '../iam/iam.services.js';
import type { ObjectsService } from '../objects/objects.service.js';
import type { TagsService } from '../tags/tags.service.js';
import { StreamAccess } from './stream-access.js';
import * as repo from './streams.repository.js';
import { StreamsService } from './streams.service.js';

/** The streams feature as the rest of the server sees it (wired in services.ts). */
export function createStreamServices(
  ctx: ServiceContext,
  deps: { tags: TagsService; iam: IamServices; objects: ObjectsService },
): StreamsService {
  deps.tags.registerResourceType('stream', async (db, id) => (await repo.findStream(db, id)) !== undefined);
  const access = new StreamAccess({ iam: deps.iam, objects: deps.objects, arns: ctx.arns });
  return new StreamsService(ctx, deps.tags, access);
}
