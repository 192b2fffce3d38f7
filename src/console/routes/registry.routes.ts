import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { CreateThingGroupInput } from '../../registry/groups.service.js';
import type { CreateThingInput } from '../../registry/things.service.js';
import { json, type ConsoleDeps } from '../console-app.js';
import { jsonBody, nonEmpty, optionalBool, optionalInt, query } from '../http.js';

type Params = Record<string, string>;
const params = (request: FastifyRequest): Params => request.params as Params;

const paging = (request: FastifyRequest) => {
  const q = query(request);
  return { maxResults: optionalInt(q.maxResults, 'maxResults'), nextToken: nonEmpty(q.nextToken) };
};

/** Things and thing groups: each route maps to one registry service call. */
export function registerRegistryRoutes(api: FastifyInstance, { services }: ConsoleDeps): void {
  const { things, groups } = services;

  api.get(
    '/things',
    json(async (request) => things.listThings({ ...paging(request), namePrefix: nonEmpty(query(request).prefix) })),
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
