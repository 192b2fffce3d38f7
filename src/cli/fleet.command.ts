import type { Command } from 'commander';
import {
  CreateThingTypeCommand,
  DeleteThingTypeCommand,
  DeprecateThingTypeCommand,
  DescribeThingTypeCommand,
  GetIndexingConfigurationCommand,
  ListThingTypesCommand,
  SearchIndexCommand,
  UpdateIndexingConfigurationCommand,
  type ThingDocument,
} from '@aws-sdk/client-iot';
import { collect, int } from './args.js';
import { apiCommand, type ApiOptions, type CliContext } from './context.js';
import { formatAttributes } from './things.command.js';

interface FleetOptions extends ApiOptions {
  description?: string;
  searchable?: string;
  undo?: boolean;
  connectivity?: boolean;
  maxItems?: number;
}

const maxItems = (c: Command): Command => c.option('--max-items <n>', 'stop after this many', int('--max-items', 1));

/** `fleetjobs types ...`: thing types (CreateThingType and friends). */
export function registerTypesCommands(program: Command, ctx: CliContext): void {
  const types = program.command('types').description('thing types: what a device is');
  apiCommand<FleetOptions>(
    ctx,
    types,
    'create <name>',
    'create a thing type',
    (c) =>
      c
        .option('--description <text>', 'what the type is')
        .option('--searchable <a,b,c>', 'up to 3 searchable attribute names'),
    async (s, [name], o) => {
      const r = await s.iot().send(
        new CreateThingTypeCommand({
          thingTypeName: name,
          thingTypeProperties: {
            thingTypeDescription: o.description,
            ...(o.searchable && { searchableAttributes: o.searchable.split(',') }),
          },
        }),
      );
      s.out.object({ thingTypeName: r.thingTypeName, thingTypeArn: r.thingTypeArn, thingTypeId: r.thingTypeId });
    },
  );
  apiCommand(
    ctx,
    types,
    'describe <name>',
    'show one thing type',
    (c) => c,
    async (s, [name]) => {
      const r = await s.iot().send(new DescribeThingTypeCommand({ thingTypeName: name }));
      s.out.object({
        thingTypeName: r.thingTypeName,
        thingTypeArn: r.thingTypeArn,
        description: r.thingTypeProperties?.thingTypeDescription,
        searchableAttributes: r.thingTypeProperties?.searchableAttributes,
        deprecated: r.thingTypeMetadata?.deprecated,
        deprecationDate: r.thingTypeMetadata?.deprecationDate,
        createdAt: r.thingTypeMetadata?.creationDate,
      });
    },
  );
  apiCommand<FleetOptions>(ctx, types, 'list', 'list thing types', maxItems, async (s, _args, o) => {
    const { items, nextToken } = await collect(async (token, size) => {
      const r = await s.iot().send(new ListThingTypesCommand({ nextToken: token, maxResults: size }));
      return { items: r.thingTypes, nextToken: r.nextToken };
    }, o.maxItems);
    s.out.list(
      'thingTypes',
      items,
      [
        { header: 'type', get: (x) => x.thingTypeName },
        { header: 'deprecated', get: (x) => x.thingTypeMetadata?.deprecated },
        { header: 'description', get: (x) => x.thingTypeProperties?.thingTypeDescription },
      ],
      nextToken ? { nextToken } : {},
    );
  });
  apiCommand<FleetOptions>(
    ctx,
    types,
    'deprecate <name>',
    'deprecate a type: no new things may take it',
    (c) => c.option('--undo', 'undo the deprecation'),
    async (s, [name], o) => {
      await s.iot().send(new DeprecateThingTypeCommand({ thingTypeName: name, undoDeprecate: o.undo }));
      s.out.object({ thingTypeName: name, deprecated: !o.undo });
    },
  );
  apiCommand(
    ctx,
    types,
    'delete <name>',
    'delete a thing type that no thing has',
    (c) => c,
    async (s, [name]) => {
      await s.iot().send(new DeleteThingTypeCommand({ thingTypeName: name }));
      s.out.object({ thingTypeName: name, deleted: true });
    },
  );
}

const connected = (d: ThingDocument): string =>
  d.connectivity === undefined ? '' : d.connectivity.connected ? 'connected' : 'disconnected';

/** `fleetjobs index ...`: fleet indexing (UpdateIndexingConfiguration, SearchIndex). */
export function registerIndexCommands(program: Command, ctx: CliContext): void {
  const index = program.command('index').description('fleet indexing: search things by what they are');
  apiCommand(
    ctx,
    index,
    'status',
    'show the indexing configuration',
    (c) => c,
    async (s) => {
      const r = await s.iot().send(new GetIndexingConfigurationCommand({}));
      s.out.object({
        thingIndexingMode: r.thingIndexingConfiguration?.thingIndexingMode,
        thingConnectivityIndexingMode: r.thingIndexingConfiguration?.thingConnectivityIndexingMode,
      });
    },
  );
  apiCommand<FleetOptions>(
    ctx,
    index,
    'enable',
    'turn the thing index on',
    (c) => c.option('--connectivity', 'index connectivity (connected / disconnected) too'),
    async (s, _args, o) => {
      await s.iot().send(
        new UpdateIndexingConfigurationCommand({
          thingIndexingConfiguration: {
            thingIndexingMode: 'REGISTRY',
            thingConnectivityIndexingMode: o.connectivity ? 'STATUS' : 'OFF',
          },
        }),
      );
      s.out.object({ thingIndexingMode: 'REGISTRY', thingConnectivityIndexingMode: o.connectivity ? 'STATUS' : 'OFF' });
    },
  );
  apiCommand<FleetOptions>(
    ctx,
    index,
    'search <query>',
    'things matching a query, e.g. "thingTypeName:pump AND attributes.fw<3.0"',
    maxItems,
    async (s, [query], o) => {
      const { items, nextToken } = await collect(async (token, size) => {
        const r = await s
          .iot()
          .send(new SearchIndexCommand({ queryString: query, nextToken: token, maxResults: Math.min(size, 100) }));
        return { items: r.things, nextToken: r.nextToken };
      }, o.maxItems);
      s.out.list(
        'things',
        items,
        [
          { header: 'name', get: (d) => d.thingName },
          { header: 'type', get: (d) => d.thingTypeName },
          { header: 'connectivity', get: connected },
          { header: 'groups', get: (d) => (d.thingGroupNames ?? []).join(',') },
          { header: 'attributes', get: (d) => formatAttributes(d.attributes) },
        ],
        nextToken ? { nextToken } : {},
      );
    },
  );
}
