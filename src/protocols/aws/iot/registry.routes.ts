import type { GroupsService } from '../../../registry/groups.service.js';
import type { ThingsService } from '../../../registry/things.service.js';
import type { ThingTypesService } from '../../../registry/thing-types.service.js';
import type { DynamicGroupsService } from '../../../registry/dynamic-groups.service.js';
import type { IndexingService } from '../../../registry/indexing.service.js';
import type { EndpointService } from '../../../registry/endpoint.service.js';
import type { TagsService } from '../../../tags/tags.service.js';
import type { RestJsonAdapter } from '../adapter.js';
import type { AwsRequest } from '../request.js';

// Bodies are passed through as the service's input type: the services check every member's type.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const body = (req: AwsRequest): any => req.body ?? {};

export interface RegistryRouteDeps {
  things: ThingsService;
  thingTypes: ThingTypesService;
  indexing: IndexingService;
  dynamicGroups: DynamicGroupsService;
  groups: GroupsService;
  tags: TagsService;
  endpoints: EndpointService;
}

/** spec 2.2 / 2.4: registry, tags and endpoint routes of the iot control plane. */
export function registerRegistryRoutes(api: RestJsonAdapter, s: RegistryRouteDeps): void {
  api
    .add('POST', '/things/{thingName}', 'CreateThing', (r) =>
      s.things.createThing({ ...body(r), thingName: r.params.thingName! }),
    )
    .add('GET', '/things/{thingName}', 'DescribeThing', (r) => s.things.describeThing(r.params.thingName!))
    .add('GET', '/things', 'ListThings', (r) =>
      s.things.listThings({
        maxResults: r.query.int('maxResults'),
        nextToken: r.query.string('nextToken'),
        attributeName: r.query.string('attributeName'),
        attributeValue: r.query.string('attributeValue'),
        thingTypeName: r.query.string('thingTypeName'),
        usePrefixAttributeValue: r.query.bool('usePrefixAttributeValue'),
      }),
    )
    .add('PATCH', '/things/{thingName}', 'UpdateThing', (r) =>
      s.things.updateThing({ ...body(r), thingName: r.params.thingName! }),
    )
    .add('DELETE', '/things/{thingName}', 'DeleteThing', (r) =>
      s.things.deleteThing(r.params.thingName!, r.query.int('expectedVersion')),
    )
    .add('POST', '/thing-groups/{thingGroupName}', 'CreateThingGroup', async (r) => {
      const { tags, ...rest } = body(r);
      const out = await s.groups.createThingGroup({ ...rest, thingGroupName: r.params.thingGroupName! });
      if (tags !== undefined) await s.tags.tagResource({ resourceArn: out.thingGroupArn, tags });
      return out;
    })
    .add('GET', '/thing-groups/{thingGroupName}', 'DescribeThingGroup', (r) =>
      s.groups.describeThingGroup(r.params.thingGroupName!),
    )
    .add('PATCH', '/thing-groups/{thingGroupName}', 'UpdateThingGroup', (r) =>
      s.groups.updateThingGroup({ ...body(r), thingGroupName: r.params.thingGroupName! }),
    )
    .add('DELETE', '/thing-groups/{thingGroupName}', 'DeleteThingGroup', (r) =>
      s.groups.deleteThingGroup(r.params.thingGroupName!, r.query.int('expectedVersion')),
    )
    .add('GET', '/thing-groups', 'ListThingGroups', (r) =>
      s.groups.listThingGroups({
        maxResults: r.query.int('maxResults'),
        nextToken: r.query.string('nextToken'),
        parentGroup: r.query.string('parentGroup'),
        namePrefixFilter: r.query.string('namePrefixFilter'),
        recursive: r.query.bool('recursive'),
      }),
    )
    .add('PUT', '/thing-groups/addThingToThingGroup', 'AddThingToThingGroup', (r) =>
      s.groups.addThingToThingGroup(body(r)),
    )
    .add('PUT', '/thing-groups/removeThingFromThingGroup', 'RemoveThingFromThingGroup', (r) =>
      s.groups.removeThingFromThingGroup(body(r)),
    )
    .add('PUT', '/thing-groups/updateThingGroupsForThing', 'UpdateThingGroupsForThing', (r) =>
      s.groups.updateThingGroupsForThing(body(r)),
    )
    .add('GET', '/thing-groups/{thingGroupName}/things', 'ListThingsInThingGroup', (r) =>
      s.groups.listThingsInThingGroup({
        thingGroupName: r.params.thingGroupName!,
        recursive: r.query.bool('recursive'),
        maxResults: r.query.int('maxResults'),
        nextToken: r.query.string('nextToken'),
      }),
    )
    .add('GET', '/things/{thingName}/thing-groups', 'ListThingGroupsForThing', (r) =>
      s.groups.listThingGroupsForThing({
        thingName: r.params.thingName!,
        maxResults: r.query.int('maxResults'),
        nextToken: r.query.string('nextToken'),
      }),
    )
    .add('POST', '/thing-types/{thingTypeName}', 'CreateThingType', (r) =>
      s.thingTypes.createThingType({ ...body(r), thingTypeName: r.params.thingTypeName! }),
    )
    .add('GET', '/thing-types/{thingTypeName}', 'DescribeThingType', (r) =>
      s.thingTypes.describeThingType(r.params.thingTypeName!),
    )
    .add('GET', '/thing-types', 'ListThingTypes', (r) =>
      s.thingTypes.listThingTypes({
        maxResults: r.query.int('maxResults'),
        nextToken: r.query.string('nextToken'),
        thingTypeName: r.query.string('thingTypeName'),
      }),
    )
    .add('PATCH', '/thing-types/{thingTypeName}', 'UpdateThingType', (r) =>
      s.thingTypes.updateThingType({ ...body(r), thingTypeName: r.params.thingTypeName! }),
    )
    .add('POST', '/thing-types/{thingTypeName}/deprecate', 'DeprecateThingType', (r) =>
      s.thingTypes.deprecateThingType({ ...body(r), thingTypeName: r.params.thingTypeName! }),
    )
    .add('DELETE', '/thing-types/{thingTypeName}', 'DeleteThingType', (r) =>
      s.thingTypes.deleteThingType(r.params.thingTypeName!),
    )
    .add('POST', '/indexing/config', 'UpdateIndexingConfiguration', (r) =>
      s.indexing.updateIndexingConfiguration(body(r)),
    )
    .add('GET', '/indexing/config', 'GetIndexingConfiguration', () => s.indexing.getIndexingConfiguration())
    .add('POST', '/indices/search', 'SearchIndex', (r) => s.indexing.searchIndex(body(r)))
    .add('POST', '/indices/statistics', 'GetStatistics', (r) => s.indexing.getStatistics(body(r)))
    .add('POST', '/dynamic-thing-groups/{thingGroupName}', 'CreateDynamicThingGroup', (r) =>
      s.dynamicGroups.createDynamicThingGroup({ ...body(r), thingGroupName: r.params.thingGroupName! }),
    )
    .add('PATCH', '/dynamic-thing-groups/{thingGroupName}', 'UpdateDynamicThingGroup', (r) =>
      s.dynamicGroups.updateDynamicThingGroup({ ...body(r), thingGroupName: r.params.thingGroupName! }),
    )
    .add('DELETE', '/dynamic-thing-groups/{thingGroupName}', 'DeleteDynamicThingGroup', (r) =>
      s.dynamicGroups.deleteDynamicThingGroup(r.params.thingGroupName!, r.query.int('expectedVersion')),
    )
    .add('GET', '/endpoint', 'DescribeEndpoint', (r) => s.endpoints.describeEndpoint(r.query.string('endpointType')))
    .add('POST', '/tags', 'TagResource', (r) => s.tags.tagResource(body(r)))
    .add('POST', '/untag', 'UntagResource', (r) => s.tags.untagResource(body(r)))
    .add('GET', '/tags', 'ListTagsForResource', (r) =>
      s.tags.listTagsForResource({
        resourceArn: r.query.string('resourceArn'),
        nextToken: r.query.string('nextToken'),
      }),
    );
}
