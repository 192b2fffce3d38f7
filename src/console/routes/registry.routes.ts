import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { CreateThingGroupInput } from '../../registry/groups.service.js';
import type { CreateThingInput } from '../../registry/things.service.js';
import { connectivityOf } from '../console.repository.js';
import { json, type ConsoleDeps } from '../console-app.js';
import { jsonBody, nonEmpty, optionalBool, optionalInt, query } from '../http.js';

type Params = Record<string, string>;
const params = (request: FastifyRequest): Params => request.params as Params;

const connectivityShape = (r: Awaited<ReturnType<typeof connectivityOf>>[number]) => ({
  connected: r.connected === 1,
  /** ms since the epoch of the last connect or disconnect. */
  timestamp: r.timestamp,
  ...(r.disconnect_reason !== null && { disconnectReason: r.disconnect_reason }),
});

const paging = (request: FastifyRequest) => {
  const q = query(request);
  return { maxResults: optionalInt(q.maxResults, 'maxResults'), nextToken: nonEmpty(q.nextToken) };
};

/** Things and thing groups: each route maps to one registry service call. */
export function registerRegistryRoutes(api: FastifyInstance, { services }: ConsoleDeps): void {
  const { things, groups } = services;

  /** The things, each with its connection (connected, since / last seen, why it left). */
  api.get(
    '/things',
    json(async (request) => {
      const page = await things.listThings({ ...paging(request), namePrefix: nonEmpty(query(request).prefix) });
      const rows = await connectivityOf(
        services.ctx.db,
        page.things.map((t) => t.thingName),
      );
      const byName = new Map(rows.map((r) => [r.thing_name, connectivityShape(r)]));
      return { ...page, things: page.things.map((t) => ({ ...t, connectivity: byName.get(t.thingName) })) };
    }),
  );
  /** A thing's connection and the status of each certificate attached to it. */
  api.get(
    '/things/:thingName/status',
    json(async (request) => {
      const { thingName } = params(request);
      const { principals } = await services.principals.listThingPrincipals({ thingName: thingName!, maxResults: 50 });
      const certificates = await Promise.all(
        principals
          .filter((p) => p.includes(':cert/'))
          .map(async (arn) => {
            const id = arn.slice(arn.lastIndexOf('/') + 1);
            const { certificateDescription: c } = await services.certificates.describeCertificate(id);
            return { certificateId: id, status: c.status, validity: c.validity };
          }),
      );
      const [row] = await connectivityOf(services.ctx.db, [thingName!]);
      return { connectivity: row && connectivityShape(row), certificates };
    }),
  );
  api.post(
    '/things',
    json(async (request) => things.createThing((await jsonBody(request)) as unknown as CreateThingInput)),
  );
  api.get(
    '/things/:thingName',
    json(async (request) => {
      const { thingName } = params(request);
      const thing = await things.describeThing(thingName!);
      const memberOf = await groups.listThingGroupsForThing({ thingName: thingName!, maxResults: 250 });
      return { thing, thingGroups: memberOf.thingGroups };
    }),
  );
  api.delete(
    '/things/:thingName',
    json(async (request) => things.deleteThing(params(request).thingName!)),
  );
  api.put(
    '/things/:thingName/groups',
    json(async (request) => {
      const body = await jsonBody(request);
      await groups.updateThingGroupsForThing({
        thingName: params(request).thingName,
        thingGroupsToAdd: body.thingGroupsToAdd as string[] | undefined,
        thingGroupsToRemove: body.thingGroupsToRemove as string[] | undefined,
      });
      return {};
    }),
  );

  api.get(
    '/groups',
    json(async (request) =>
      groups.listThingGroups({ ...paging(request), namePrefixFilter: nonEmpty(query(request).prefix) }),
    ),
  );
  api.post(
    '/groups',
    json(async (request) => groups.createThingGroup((await jsonBody(request)) as unknown as CreateThingGroupInput)),
  );
  api.get(
    '/groups/:thingGroupName',
    json(async (request) => groups.describeThingGroup(params(request).thingGroupName!)),
  );
  api.delete(
    '/groups/:thingGroupName',
    json(async (request) => groups.deleteThingGroup(params(request).thingGroupName!)),
  );
  api.get(
    '/groups/:thingGroupName/things',
    json(async (request) =>
      groups.listThingsInThingGroup({
        thingGroupName: params(request).thingGroupName!,
        recursive: optionalBool(query(request).recursive),
        ...paging(request),
      }),
    ),
  );
  api.post(
    '/groups/:thingGroupName/things',
    json(async (request) => {
      const body = await jsonBody(request);
      await groups.addThingToThingGroup({
        thingGroupName: params(request).thingGroupName,
        thingName: body.thingName as string | undefined,
      });
      return {};
    }),
  );
  api.delete(
    '/groups/:thingGroupName/things/:thingName',
    json(async (request) => {
      const { thingGroupName, thingName } = params(request);
      await groups.removeThingFromThingGroup({ thingGroupName, thingName });
      return {};
    }),
  );
}
