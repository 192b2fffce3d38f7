import type { Command } from 'commander';
import {
  CreateThingCommand,
  DeleteThingCommand,
  DescribeThingCommand,
  ListThingGroupsForThingCommand,
  ListThingPrincipalsCommand,
  ListThingsCommand,
  UpdateThingCommand,
  type ThingAttribute,
} from '@aws-sdk/client-iot';
import { collect, int, keyValues } from './args.js';
import { apiCommand, type ApiOptions, type CliContext } from './context.js';

interface ThingOptions extends ApiOptions {
  attributes?: Record<string, string>;
  type?: string;
  merge?: boolean;
  removeType?: boolean;
  expectedVersion?: number;
  attributeName?: string;
  attributeValue?: string;
  prefix?: boolean;
  maxItems?: number;
}

const maxItems = (c: Command): Command => c.option('--max-items <n>', 'stop after this many', int('--max-items', 1));

/** `fleetjobs things ...`: the thing registry (spec 2.2, 2.4). */
export function registerThingsCommands(program: Command, ctx: CliContext): void {
  const things = program.command('things').description('devices in the registry');

  apiCommand<ThingOptions>(
    ctx,
    things,
    'create <name>',
    'create a thing',
    (c) =>
      c
        .option('--attributes <k=v,...>', 'attributes (repeatable)', keyValues('--attributes'))
        .option('--type <thingTypeName>', 'thing type'),
    async (s, [name], o) => {
      const r = await s.iot().send(
        new CreateThingCommand({
          thingName: name,
          thingTypeName: o.type,
          ...(o.attributes && { attributePayload: { attributes: o.attributes } }),
        }),
      );
      s.out.object({ thingName: r.thingName, thingArn: r.thingArn, thingId: r.thingId });
    },
  );

  apiCommand(
    ctx,
    things,
    'describe <name>',
    'show one thing',
    (c) => c,
    async (s, [name]) => {
      const r = await s.iot().send(new DescribeThingCommand({ thingName: name }));
      s.out.object({
        thingName: r.thingName,
        thingArn: r.thingArn,
        thingId: r.thingId,
        thingTypeName: r.thingTypeName,
        version: r.version,
        attributes: r.attributes,
        defaultClientId: r.defaultClientId,
      });
    },
  );

  apiCommand<ThingOptions>(
    ctx,
    things,
    'list',
    'list things',
    (c) =>
      maxItems(
        c
          .option('--attribute-name <name>', 'only things with this attribute')
          .option('--attribute-value <value>', 'and this value')
          .option('--prefix', 'match --attribute-value as a prefix')
          .option('--type <thingTypeName>', 'only things of this type'),
      ),
    async (s, _args, o) => {
      const { items, nextToken } = await collect<ThingAttribute>(async (token, size) => {
        const r = await s.iot().send(
          new ListThingsCommand({
            nextToken: token,
            maxResults: size,
            attributeName: o.attributeName,
            attributeValue: o.attributeValue,
            usePrefixAttributeValue: o.prefix,
            thingTypeName: o.type,
          }),
        );
        return { items: r.things, nextToken: r.nextToken };
      }, o.maxItems);
      s.out.list(
        'things',
        items,
        [
          { header: 'name', get: (t) => t.thingName },
          { header: 'type', get: (t) => t.thingTypeName },
          { header: 'version', get: (t) => t.version },
          { header: 'attributes', get: (t) => formatAttributes(t.attributes) },
        ],
        nextToken ? { nextToken } : {},
      );
    },
  );

  apiCommand<ThingOptions>(
    ctx,
    things,
    'update <name>',
    'change attributes or type',
    (c) =>
      c
        .option(
          '--attributes <k=v,...>',
          'attributes; an empty value removes one (with --merge)',
          keyValues('--attributes'),
        )
        .option('--merge', 'merge with the existing attributes instead of replacing them')
        .option('--type <thingTypeName>', 'set the thing type')
        .option('--remove-type', 'remove the thing type')
        .option('--expected-version <n>', 'fail unless the thing is at this version', int('--expected-version')),
    async (s, [name], o) => {
      await s.iot().send(
        new UpdateThingCommand({
          thingName: name,
          thingTypeName: o.type,
          removeThingType: o.removeType,
          expectedVersion: o.expectedVersion,
          ...(o.attributes && { attributePayload: { attributes: o.attributes, merge: o.merge ?? false } }),
        }),
      );
      const r = await s.iot().send(new DescribeThingCommand({ thingName: name }));
      s.out.object({
        thingName: r.thingName,
        version: r.version,
        thingTypeName: r.thingTypeName,
        attributes: r.attributes,
      });
    },
  );

  apiCommand<ThingOptions>(
    ctx,
    things,
    'delete <name>',
    'delete a thing (its pending job executions become REMOVED)',
    (c) => c.option('--expected-version <n>', 'fail unless the thing is at this version', int('--expected-version')),
    async (s, [name], o) => {
      await s.iot().send(new DeleteThingCommand({ thingName: name, expectedVersion: o.expectedVersion }));
      s.out.object({ thingName: name, deleted: true });
    },
  );

  apiCommand<ThingOptions>(ctx, things, 'groups <name>', 'the groups a thing is in', maxItems, async (s, [name], o) => {
    const { items } = await collect(async (token, size) => {
      const r = await s
        .iot()
        .send(new ListThingGroupsForThingCommand({ thingName: name, nextToken: token, maxResults: size }));
      return { items: r.thingGroups, nextToken: r.nextToken };
    }, o.maxItems);
    s.out.list('thingGroups', items, [
      { header: 'group', get: (g) => g.groupName },
      { header: 'arn', get: (g) => g.groupArn },
    ]);
  });

  apiCommand<ThingOptions>(
    ctx,
    things,
    'principals <name>',
    'certificates attached to a thing',
    maxItems,
    async (s, [name], o) => {
      const { items } = await collect(async (token, size) => {
        const r = await s
          .iot()
          .send(new ListThingPrincipalsCommand({ thingName: name, nextToken: token, maxResults: size }));
        return { items: r.principals, nextToken: r.nextToken };
      }, o.maxItems);
      s.out.list('principals', items, [{ header: 'principal', get: (p) => p }]);
    },
  );
}

export const formatAttributes = (a: Record<string, string> | undefined): string =>
  Object.entries(a ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
