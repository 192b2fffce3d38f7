import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateThingCommand,
  CreateThingTypeCommand,
  DeleteThingTypeCommand,
  DeprecateThingTypeCommand,
  DescribeThingCommand,
  DescribeThingTypeCommand,
  ListTagsForResourceCommand,
  ListThingsCommand,
  ListThingTypesCommand,
  UpdateThingCommand,
  UpdateThingTypeCommand,
  type IoTClient,
} from '@aws-sdk/client-iot';
import { awsCli, type CliResult } from '../helpers/aws-cli.js';
import { DIALECTS } from '../helpers/postgres.js';
import { rejection } from '../helpers/rejection.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe.each(DIALECTS)('thing types on %s', (dialect) => {
  let t: TestServer;
  let iot: IoTClient;
  const aws = (...args: string[]): Promise<CliResult> => awsCli(t.endpoint, t.awsEnv(), args);
  beforeAll(async () => {
    t = await startTestServer({ dialect });
    iot = t.iot();
  });
  afterAll(async () => t?.stop());

  it('creates, describes, lists, updates, deprecates and deletes a type with @aws-sdk/client-iot', async () => {
    const created = await iot.send(
      new CreateThingTypeCommand({
        thingTypeName: 'pump',
        thingTypeProperties: { thingTypeDescription: 'water pumps', searchableAttributes: ['model', 'site'] },
        tags: [{ Key: 'team', Value: 'hydro' }],
      }),
    );
    expect(created.thingTypeArn).toBe('arn:aws:iot:us-east-1:000000000000:thingtype/pump');
    expect((await iot.send(new ListTagsForResourceCommand({ resourceArn: created.thingTypeArn! }))).tags).toEqual([
      { Key: 'team', Value: 'hydro' },
    ]);
    // The same type again answers 200 with the same id; another description is a conflict.
    const again = await iot.send(
      new CreateThingTypeCommand({
        thingTypeName: 'pump',
        thingTypeProperties: { thingTypeDescription: 'water pumps', searchableAttributes: ['model', 'site'] },
      }),
    );
    expect(again.thingTypeId).toBe(created.thingTypeId);
    expect(
      await rejection(
        iot.send(
          new CreateThingTypeCommand({ thingTypeName: 'pump', thingTypeProperties: { thingTypeDescription: 'x' } }),
        ),
      ),
    ).toMatchObject({ name: 'ResourceAlreadyExistsException', status: 409 });

    const described = await iot.send(new DescribeThingTypeCommand({ thingTypeName: 'pump' }));
    expect(described).toMatchObject({
      thingTypeName: 'pump',
      thingTypeId: created.thingTypeId,
      thingTypeProperties: { thingTypeDescription: 'water pumps', searchableAttributes: ['model', 'site'] },
      thingTypeMetadata: { deprecated: false },
    });
    expect(described.thingTypeMetadata?.creationDate).toBeInstanceOf(Date);

    await iot.send(new CreateThingTypeCommand({ thingTypeName: 'valve' }));
    const page1 = await iot.send(new ListThingTypesCommand({ maxResults: 1 }));
    expect(page1.thingTypes?.map((x) => x.thingTypeName)).toEqual(['pump']);
    const page2 = await iot.send(new ListThingTypesCommand({ maxResults: 1, nextToken: page1.nextToken }));
    expect(page2.thingTypes?.map((x) => x.thingTypeName)).toEqual(['valve']);
    expect(page2.nextToken).toBeUndefined();
    expect(
      (await iot.send(new ListThingTypesCommand({ thingTypeName: 'valve' }))).thingTypes?.map((x) => x.thingTypeName),
    ).toEqual(['valve']);

    await iot.send(
      new UpdateThingTypeCommand({
        thingTypeName: 'valve',
        thingTypeProperties: { thingTypeDescription: 'valves', searchableAttributes: ['dn'] },
      }),
    );
    expect((await iot.send(new DescribeThingTypeCommand({ thingTypeName: 'valve' }))).thingTypeProperties).toEqual({
      thingTypeDescription: 'valves',
      searchableAttributes: ['dn'],
    });

    // Things: thingTypeName on Create/Update/Describe and the ListThings filter.
    await iot.send(new CreateThingCommand({ thingName: 'p-1', thingTypeName: 'pump' }));
    await iot.send(new CreateThingCommand({ thingName: 'v-1' }));
    await iot.send(new UpdateThingCommand({ thingName: 'v-1', thingTypeName: 'valve' }));
    expect((await iot.send(new DescribeThingCommand({ thingName: 'v-1' }))).thingTypeName).toBe('valve');
    expect(
      (await iot.send(new ListThingsCommand({ thingTypeName: 'pump' }))).things?.map((x) => [
        x.thingName,
        x.thingTypeName,
      ]),
    ).toEqual([['p-1', 'pump']]);

    // A deprecated type takes no new things; things that have it keep it; undo restores it.
    await iot.send(new DeprecateThingTypeCommand({ thingTypeName: 'pump' }));
    const deprecated = await iot.send(new DescribeThingTypeCommand({ thingTypeName: 'pump' }));
    expect(deprecated.thingTypeMetadata?.deprecated).toBe(true);
    expect(deprecated.thingTypeMetadata?.deprecationDate).toBeInstanceOf(Date);
    expect(
      await rejection(iot.send(new CreateThingCommand({ thingName: 'p-2', thingTypeName: 'pump' }))),
    ).toMatchObject({ name: 'InvalidRequestException', status: 400 });
    expect(
      await rejection(iot.send(new UpdateThingCommand({ thingName: 'v-1', thingTypeName: 'pump' }))),
    ).toMatchObject({ name: 'InvalidRequestException' });
    await iot.send(new UpdateThingCommand({ thingName: 'p-1', attributePayload: { attributes: { site: 'north' } } }));
    expect((await iot.send(new DescribeThingCommand({ thingName: 'p-1' }))).thingTypeName).toBe('pump');
    await iot.send(new DeprecateThingTypeCommand({ thingTypeName: 'pump', undoDeprecate: true }));
    expect(
      (await iot.send(new DescribeThingTypeCommand({ thingTypeName: 'pump' }))).thingTypeMetadata?.deprecated,
    ).toBe(false);
    await iot.send(new CreateThingCommand({ thingName: 'p-2', thingTypeName: 'pump' }));

    // A type with things cannot be deleted.
    expect(await rejection(iot.send(new DeleteThingTypeCommand({ thingTypeName: 'valve' })))).toMatchObject({
      name: 'InvalidRequestException',
    });
    await iot.send(new UpdateThingCommand({ thingName: 'v-1', removeThingType: true }));
    expect((await iot.send(new DescribeThingCommand({ thingName: 'v-1' }))).thingTypeName).toBeUndefined();
    await iot.send(new DeleteThingTypeCommand({ thingTypeName: 'valve' }));

    for (const p of [
      () => iot.send(new DescribeThingTypeCommand({ thingTypeName: 'valve' })),
      () => iot.send(new DeleteThingTypeCommand({ thingTypeName: 'valve' })),
      () => iot.send(new DeprecateThingTypeCommand({ thingTypeName: 'valve' })),
      () => iot.send(new CreateThingCommand({ thingName: 'x-1', thingTypeName: 'valve' })),
    ]) {
      expect(await rejection(p())).toMatchObject({ name: 'ResourceNotFoundException', status: 404 });
    }
    expect(
      await rejection(
        iot.send(
          new CreateThingTypeCommand({
            thingTypeName: 'bad',
            thingTypeProperties: { searchableAttributes: ['a', 'b', 'c', 'd'] },
          }),
        ),
      ),
    ).toMatchObject({ name: 'InvalidRequestException' });
  });

  it('runs the thing-type commands of /usr/bin/aws', async () => {
    const ok = async (...args: string[]): Promise<Record<string, unknown>> => {
      const r = await aws(...args);
      expect(r.code, r.stderr).toBe(0);
      return (r.json ?? {}) as Record<string, unknown>;
    };
    await ok(
      'iot',
      'create-thing-type',
      '--thing-type-name',
      'meter',
      '--thing-type-properties',
      'thingTypeDescription=meters,searchableAttributes=serial',
    );
    await ok('iot', 'create-thing', '--thing-name', 'm-1', '--thing-type-name', 'meter');
    expect(await ok('iot', 'describe-thing-type', '--thing-type-name', 'meter')).toMatchObject({
      thingTypeName: 'meter',
      thingTypeProperties: { thingTypeDescription: 'meters', searchableAttributes: ['serial'] },
      thingTypeMetadata: { deprecated: false },
    });
    await ok('iot', 'deprecate-thing-type', '--thing-type-name', 'meter');
    const refused = await aws('iot', 'create-thing', '--thing-name', 'm-2', '--thing-type-name', 'meter');
    expect(refused.code).toBe(254);
    expect(refused.stderr).toContain('(InvalidRequestException)');
    const del = await aws('iot', 'delete-thing-type', '--thing-type-name', 'meter');
    expect(del.stderr).toContain('(InvalidRequestException)');
    const listed = await ok('iot', 'list-thing-types');
    expect((listed.thingTypes as { thingTypeName: string }[]).map((x) => x.thingTypeName)).toContain('meter');
  }, 180_000);
});
