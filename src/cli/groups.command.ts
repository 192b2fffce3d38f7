import type { Command } from 'commander';
import {
  CreateDynamicThingGroupCommand,
  UpdateDynamicThingGroupCommand,
  AddThingToThingGroupCommand,
  CreateThingGroupCommand,
  DeleteThingGroupCommand,
  DescribeThingGroupCommand,
  ListThingGroupsCommand,
  ListThingsInThingGroupCommand,
  RemoveThingFromThingGroupCommand,
} from '@aws-sdk/client-iot';
import { collect, int, keyValues } from './args.js';
import { apiCommand, type ApiOptions, type CliContext } from './context.js';

interface GroupOptions extends ApiOptions {
  parent?: string;
  description?: string;
  attributes?: Record<string, string>;
  prefix?: string;
  recursive?: boolean;
  direct?: boolean;
  maxItems?: number;
  expectedVersion?: number;
}

const maxItems = (c: Command): Command => c.option('--max-items <n>', 'stop after this many', int('--max-items', 1));

/** `fleetjobs groups ...`: static thing groups (spec 2.2, 2.4). */
export function registerGroupsCommands(program: Command, ctx: CliContext): void {
  const groups = program
    .command('groups')
    .description('thing groups (jobs that target a group reach its subgroups too)');

  apiCommand<GroupOptions>(
    ctx,
    groups,
    'create <name>',
    'create a thing group',
    (c) =>
      c
        .option('--parent <group>', 'parent group')
        .option('--description <text>', 'description')
        .option('--attributes <k=v,...>', 'attributes (repeatable)', keyValues('--attributes')),
    async (s, [name], o) => {
      const properties =
        o.description !== undefined || o.attributes
          ? {
              thingGroupDescription: o.description,
              ...(o.attributes && { attributePayload: { attributes: o.attributes } }),
            }
          : undefined;
      const r = await s.iot().send(
        new CreateThingGroupCommand({
          thingGroupName: name,
          parentGroupName: o.parent,
          thingGroupProperties: properties,
        }),
      );
      s.out.object({ thingGroupName: r.thingGroupName, thingGroupArn: r.thingGroupArn, thingGroupId: r.thingGroupId });
    },
  );

  apiCommand(
    ctx,
    groups,
    'describe <name>',
    'show one group',
    (c) => c,
    async (s, [name]) => {
      const r = await s.iot().send(new DescribeThingGroupCommand({ thingGroupName: name }));
      s.out.object({
        thingGroupName: r.thingGroupName,
        thingGroupArn: r.thingGroupArn,
        thingGroupId: r.thingGroupId,
        version: r.version,
        parentGroupName: r.thingGroupMetadata?.parentGroupName,
        description: r.thingGroupProperties?.thingGroupDescription,
        attributes: r.thingGroupProperties?.attributePayload?.attributes,
        createdAt: r.thingGroupMetadata?.creationDate,
        ...(r.queryString !== undefined && { queryString: r.queryString, indexName: r.indexName }),
      });
    },
  );

  apiCommand<GroupOptions>(
    ctx,
    groups,
    'create-dynamic <name> <query>',
    'create a dynamic group: its members are the things the fleet-index query matches',
    (c) => c,
    async (s, [name, query]) => {
      const r = await s.iot().send(new CreateDynamicThingGroupCommand({ thingGroupName: name, queryString: query }));
      s.out.object({ thingGroupName: r.thingGroupName, thingGroupArn: r.thingGroupArn, queryString: r.queryString });
    },
  );

  apiCommand<GroupOptions>(
    ctx,
    groups,
    'update-dynamic <name> <query>',
    "change a dynamic group's query (members and CONTINUOUS jobs follow)",
    (c) => c,
    async (s, [name, query]) => {
      const r = await s
        .iot()
        .send(
          new UpdateDynamicThingGroupCommand({ thingGroupName: name, queryString: query, thingGroupProperties: {} }),
        );
      s.out.object({ thingGroupName: name, queryString: query, version: r.version });
    },
  );

  apiCommand<GroupOptions>(
    ctx,
    groups,
    'list',
    'list thing groups',
    (c) =>
      maxItems(
        c
          .option('--parent <group>', 'only the groups below this group (all descendants)')
          .option('--prefix <text>', 'only names starting with this')
          .option('--direct', 'with --parent: its children only; without: root groups only'),
      ),
    async (s, _args, o) => {
      const { items, nextToken } = await collect(async (token, size) => {
        const r = await s.iot().send(
          new ListThingGroupsCommand({
            nextToken: token,
            maxResults: size,
            parentGroup: o.parent,
            namePrefixFilter: o.prefix,
            ...(o.direct && { recursive: false }),
          }),
        );
        return { items: r.thingGroups, nextToken: r.nextToken };
      }, o.maxItems);
      s.out.list(
        'thingGroups',
        items,
        [
          { header: 'group', get: (g) => g.groupName },
          { header: 'arn', get: (g) => g.groupArn },
        ],
        nextToken ? { nextToken } : {},
      );
    },
  );

  apiCommand<GroupOptions>(
    ctx,
    groups,
    'delete <name>',
    'delete a thing group',
    (c) => c.option('--expected-version <n>', 'fail unless the group is at this version', int('--expected-version')),
    async (s, [name], o) => {
      await s.iot().send(new DeleteThingGroupCommand({ thingGroupName: name, expectedVersion: o.expectedVersion }));
      s.out.object({ thingGroupName: name, deleted: true });
    },
  );

  apiCommand(
    ctx,
    groups,
    'add-thing <group> <thing>',
    'put a thing into a group',
    (c) => c,
    async (s, [group, thing]) => {
      await s.iot().send(new AddThingToThingGroupCommand({ thingGroupName: group, thingName: thing }));
      s.out.object({ thingGroupName: group, thingName: thing, added: true });
    },
  );

  apiCommand(
    ctx,
    groups,
    'remove-thing <group> <thing>',
    'take a thing out of a group',
    (c) => c,
    async (s, [group, thing]) => {
      await s.iot().send(new RemoveThingFromThingGroupCommand({ thingGroupName: group, thingName: thing }));
      s.out.object({ thingGroupName: group, thingName: thing, removed: true });
    },
  );

  apiCommand<GroupOptions>(
    ctx,
    groups,
    'list-things <group>',
    'the things in a group',
    (c) => maxItems(c.option('--recursive', 'include the things of subgroups')),
    async (s, [group], o) => {
      const { items, nextToken } = await collect(async (token, size) => {
        const r = await s.iot().send(
          new ListThingsInThingGroupCommand({
            thingGroupName: group,
            recursive: o.recursive,
            nextToken: token,
            maxResults: size,
          }),
        );
        return { items: r.things, nextToken: r.nextToken };
      }, o.maxItems);
      s.out.list('things', items, [{ header: 'thing', get: (x) => x }], nextToken ? { nextToken } : {});
    },
  );
}
