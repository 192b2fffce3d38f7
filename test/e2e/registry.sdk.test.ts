import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AddThingToThingGroupCommand,
  CreateThingCommand,
  CreateThingGroupCommand,
  DeleteThingCommand,
  DeleteThingGroupCommand,
  DescribeEndpointCommand,
  DescribeThingCommand,
  DescribeThingGroupCommand,
  IoTClient,
  ListTagsForResourceCommand,
  ListThingGroupsCommand,
  ListThingGroupsForThingCommand,
  ListThingsCommand,
  ListThingsInThingGroupCommand,
  RemoveThingFromThingGroupCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateThingCommand,
  UpdateThingGroupCommand,
  UpdateThingGroupsForThingCommand,
} from '@aws-sdk/client-iot';
import { DIALECTS } from '../helpers/postgres.js';
import { startTestServer, TEST_REGION, type TestServer } from '../helpers/server.js';
import { rejection } from '../helpers/rejection.js';

describe.each(DIALECTS)('thing registry with @aws-sdk/client-iot on %s', (dialect) => {
  let t: TestServer;
  let iot: IoTClient;
  beforeAll(async () => {
    t = await startTestServer({ dialect });
    iot = t.iot();
  });
  afterAll(async () => t?.stop());

  it('creates, describes, updates and deletes a thing', async () => {
    const created = await iot.send(
      new CreateThingCommand({ thingName: 'dev-1', attributePayload: { attributes: { model: 'x1', fw: '1.0' } } }),
    );
    expect(created.thingArn).toBe('arn:aws:iot:us-east-1:000000000000:thing/dev-1');
    expect(created.thingId).toMatch(/^[0-9a-f-]{36}$/);
    // Same name and configuration again is idempotent (spec 2.7).
    const again = await iot.send(
      new CreateThingCommand({ thingName: 'dev-1', attributePayload: { attributes: { fw: '1.0', model: 'x1' } } }),
    );
    expect(again.thingId).toBe(created.thingId);
    const d = await iot.send(new DescribeThingCommand({ thingName: 'dev-1' }));
    expect(d).toMatchObject({
      defaultClientId: 'dev-1',
      thingName: 'dev-1',
      version: 1,
      attributes: { model: 'x1', fw: '1.0' },
    });

    await iot.send(
      new UpdateThingCommand({
        thingName: 'dev-1',
        expectedVersion: 1,
        attributePayload: { attributes: { fw: '2.0', model: '' }, merge: true },
      }),
    );
    const d2 = await iot.send(new DescribeThingCommand({ thingName: 'dev-1' }));
    expect(d2.version).toBe(2);
    expect(d2.attributes).toEqual({ fw: '2.0' });

    const stale = await rejection(
      iot.send(
        new UpdateThingCommand({ thingName: 'dev-1', expectedVersion: 1, attributePayload: { attributes: {} } }),
      ),
    );
    expect(stale).toMatchObject({ name: 'VersionConflictException', status: 409 });
    expect(await rejection(iot.send(new DeleteThingCommand({ thingName: 'dev-1', expectedVersion: 7 })))).toMatchObject(
      {
        name: 'VersionConflictException',
      },
    );
    await iot.send(new DeleteThingCommand({ thingName: 'dev-1', expectedVersion: 2 }));
    expect(await rejection(iot.send(new DescribeThingCommand({ thingName: 'dev-1' })))).toMatchObject({
      name: 'ResourceNotFoundException',
      status: 404,
    });
    // Deleting a thing that does not exist succeeds (spec 2.7).
    await iot.send(new DeleteThingCommand({ thingName: 'dev-1' }));
  });

  it('refuses a duplicate thing with another configuration, with resourceId and resourceArn', async () => {
    await iot.send(new CreateThingCommand({ thingName: 'dup', attributePayload: { attributes: { a: '1' } } }));
    const err = (await rejection(
      iot.send(new CreateThingCommand({ thingName: 'dup', attributePayload: { attributes: { a: '2' } } })),
    )) as { name: string; status?: number; resourceArn?: string };
    expect(err).toMatchObject({ name: 'ResourceAlreadyExistsException', status: 409 });
  });

  it('validates names, lengths, attributes and page sizes with InvalidRequestException', async () => {
    for (const bad of [
      () => iot.send(new CreateThingCommand({ thingName: 'has space' })),
      () => iot.send(new CreateThingCommand({ thingName: 'x'.repeat(129) })),
      () =>
        iot.send(new CreateThingCommand({ thingName: 'ok', attributePayload: { attributes: { 'bad key!': 'v' } } })),
      () =>
        iot.send(new CreateThingCommand({ thingName: 'ok', attributePayload: { attributes: { k: 'v'.repeat(801) } } })),
      () => iot.send(new ListThingsCommand({ maxResults: 251 })),
      () => iot.send(new ListThingsCommand({ nextToken: 'garbage' })),
      () => iot.send(new CreateThingGroupCommand({ thingGroupName: 'g', parentGroupName: 'bad parent' })),
    ]) {
      const e = await rejection(bad());
      expect(e.name).toBe('InvalidRequestException');
      expect(e.status).toBe(400);
      expect(e.message.length).toBeGreaterThan(10);
    }
  });

  it('lists things with keyset pagination and attribute filters', async () => {
    for (let i = 0; i < 7; i++) {
      await iot.send(
        new CreateThingCommand({
          thingName: `page-${i}`,
          attributePayload: { attributes: { site: i % 2 === 0 ? 'north' : 'south', serial: `SN${i}00` } },
        }),
      );
    }
    const names: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await iot.send(new ListThingsCommand({ maxResults: 3, nextToken, attributeName: 'site' }));
      expect(page.things!.length).toBeLessThanOrEqual(3);
      names.push(...page.things!.map((x) => x.thingName!));
      nextToken = page.nextToken;
    } while (nextToken);
    expect(names).toEqual(['page-0', 'page-1', 'page-2', 'page-3', 'page-4', 'page-5', 'page-6']);
    const north = await iot.send(new ListThingsCommand({ attributeName: 'site', attributeValue: 'north' }));
    expect(north.things!.map((x) => x.thingName)).toEqual(['page-0', 'page-2', 'page-4', 'page-6']);
    const prefix = await iot.send(
      new ListThingsCommand({ attributeName: 'serial', attributeValue: 'SN1', usePrefixAttributeValue: true }),
    );
    expect(prefix.things!.map((x) => x.thingName)).toEqual(['page-1']);
  });

  it('nests thing groups and lists members recursively', async () => {
    await iot.send(
      new CreateThingGroupCommand({ thingGroupName: 'fleet', thingGroupProperties: { thingGroupDescription: 'all' } }),
    );
    await iot.send(new CreateThingGroupCommand({ thingGroupName: 'fleet-eu', parentGroupName: 'fleet' }));
    await iot.send(new CreateThingGroupCommand({ thingGroupName: 'fleet-eu-de', parentGroupName: 'fleet-eu' }));
    for (const n of ['m1', 'm2', 'm3']) await iot.send(new CreateThingCommand({ thingName: n }));
    await iot.send(new AddThingToThingGroupCommand({ thingGroupName: 'fleet', thingName: 'm1' }));
    await iot.send(new AddThingToThingGroupCommand({ thingGroupName: 'fleet-eu', thingName: 'm2' }));
    await iot.send(
      new AddThingToThingGroupCommand({
        thingGroupArn: 'arn:aws:iot:us-east-1:000000000000:thinggroup/fleet-eu-de',
        thingArn: 'arn:aws:iot:us-east-1:000000000000:thing/m3',
      }),
    );
    const direct = await iot.send(new ListThingsInThingGroupCommand({ thingGroupName: 'fleet' }));
    expect(direct.things).toEqual(['m1']);
    const all = await iot.send(new ListThingsInThingGroupCommand({ thingGroupName: 'fleet', recursive: true }));
    expect(all.things).toEqual(['m1', 'm2', 'm3']);

    const de = await iot.send(new DescribeThingGroupCommand({ thingGroupName: 'fleet-eu-de' }));
    expect(de.thingGroupMetadata?.parentGroupName).toBe('fleet-eu');
    expect(de.thingGroupMetadata?.rootToParentThingGroups?.map((g) => g.groupName)).toEqual(['fleet', 'fleet-eu']);
    expect(de.thingGroupMetadata?.creationDate).toBeInstanceOf(Date);

    const children = await iot.send(new ListThingGroupsCommand({ parentGroup: 'fleet', recursive: false }));
    expect(children.thingGroups?.map((g) => g.groupName)).toEqual(['fleet-eu']);
    const below = await iot.send(new ListThingGroupsCommand({ parentGroup: 'fleet', recursive: true }));
    expect(below.thingGroups?.map((g) => g.groupName)).toEqual(['fleet-eu', 'fleet-eu-de']);
    const prefixed = await iot.send(new ListThingGroupsCommand({ namePrefixFilter: 'fleet-eu' }));
    expect(prefixed.thingGroups?.map((g) => g.groupName)).toEqual(['fleet-eu', 'fleet-eu-de']);

    const groupsOfM3 = await iot.send(new ListThingGroupsForThingCommand({ thingName: 'm3' }));
    expect(groupsOfM3.thingGroups).toEqual([
      { groupName: 'fleet-eu-de', groupArn: 'arn:aws:iot:us-east-1:000000000000:thinggroup/fleet-eu-de' },
    ]);

    await iot.send(
      new UpdateThingGroupsForThingCommand({
        thingName: 'm3',
        thingGroupsToAdd: ['fleet'],
        thingGroupsToRemove: ['fleet-eu-de'],
      }),
    );
    expect(
      (await iot.send(new ListThingGroupsForThingCommand({ thingName: 'm3' }))).thingGroups?.map((g) => g.groupName),
    ).toEqual(['fleet']);
    await iot.send(new RemoveThingFromThingGroupCommand({ thingGroupName: 'fleet', thingName: 'm3' }));
    expect((await iot.send(new ListThingsInThingGroupCommand({ thingGroupName: 'fleet' }))).things).toEqual(['m1']);

    const updated = await iot.send(
      new UpdateThingGroupCommand({
        thingGroupName: 'fleet',
        expectedVersion: 1,
        thingGroupProperties: {
          thingGroupDescription: 'everything',
          attributePayload: { attributes: { tier: 'prod' } },
        },
      }),
    );
    expect(updated.version).toBe(2);
    expect(
      await rejection(
        iot.send(
          new UpdateThingGroupCommand({ thingGroupName: 'fleet', expectedVersion: 1, thingGroupProperties: {} }),
        ),
      ),
    ).toMatchObject({ name: 'VersionConflictException', status: 409 });

    expect(await rejection(iot.send(new DeleteThingGroupCommand({ thingGroupName: 'fleet-eu' })))).toMatchObject({
      name: 'InvalidRequestException',
    });
    await iot.send(new DeleteThingGroupCommand({ thingGroupName: 'fleet-eu-de' }));
    await iot.send(new DeleteThingGroupCommand({ thingGroupName: 'fleet-eu-de' }));
  });

  it('answers unknown things and groups with ResourceNotFoundException', async () => {
    await iot.send(new CreateThingCommand({ thingName: 'lonely' }));
    for (const p of [
      () => iot.send(new AddThingToThingGroupCommand({ thingGroupName: 'no-such-group', thingName: 'lonely' })),
      () => iot.send(new AddThingToThingGroupCommand({ thingGroupName: 'fleet', thingName: 'no-such-thing' })),
      () => iot.send(new DescribeThingGroupCommand({ thingGroupName: 'no-such-group' })),
      () => iot.send(new ListThingsInThingGroupCommand({ thingGroupName: 'no-such-group' })),
      () => iot.send(new ListThingGroupsForThingCommand({ thingName: 'no-such-thing' })),
      () => iot.send(new CreateThingGroupCommand({ thingGroupName: 'orphan', parentGroupName: 'no-such-parent' })),
      () =>
        iot.send(
          new ListTagsForResourceCommand({ resourceArn: 'arn:aws:iot:us-east-1:000000000000:thing/no-such-thing' }),
        ),
    ]) {
      expect(await rejection(p())).toMatchObject({ name: 'ResourceNotFoundException', status: 404 });
    }
  });

  it('tags things and groups', async () => {
    const arn = (await iot.send(new CreateThingCommand({ thingName: 'tagged' }))).thingArn!;
    await iot.send(
      new TagResourceCommand({
        resourceArn: arn,
        tags: [
          { Key: 'env', Value: 'prod' },
          { Key: 'owner', Value: 'ops' },
        ],
      }),
    );
    await iot.send(new UntagResourceCommand({ resourceArn: arn, tagKeys: ['owner'] }));
    expect((await iot.send(new ListTagsForResourceCommand({ resourceArn: arn }))).tags).toEqual([
      { Key: 'env', Value: 'prod' },
    ]);
    const g = await iot.send(
      new CreateThingGroupCommand({ thingGroupName: 'tagged-g', tags: [{ Key: 'k', Value: 'v' }] }),
    );
    expect((await iot.send(new ListTagsForResourceCommand({ resourceArn: g.thingGroupArn! }))).tags).toEqual([
      { Key: 'k', Value: 'v' },
    ]);
  });

  it('refuses a wrong secret key and an unknown access key with 403', async () => {
    const wrongSecret = new IoTClient({
      endpoint: t.endpoint,
      region: TEST_REGION,
      credentials: { accessKeyId: t.credentials.accessKeyId, secretAccessKey: 'not-the-secret' },
      maxAttempts: 1,
    });
    const unknownKey = new IoTClient({
      endpoint: t.endpoint,
      region: TEST_REGION,
      credentials: { accessKeyId: 'AKIAUNKNOWNUNKNOWN00', secretAccessKey: 'x' },
      maxAttempts: 1,
    });
    try {
      expect(await rejection(wrongSecret.send(new ListThingsCommand({})))).toMatchObject({
        name: 'InvalidSignatureException',
        status: 403,
      });
      expect(await rejection(unknownKey.send(new ListThingsCommand({})))).toMatchObject({
        name: 'UnrecognizedClientException',
        status: 403,
      });
    } finally {
      wrongSecret.destroy();
      unknownKey.destroy();
    }
  });

  it('describes the endpoint or refuses an unknown endpoint type', async () => {
    expect(await rejection(iot.send(new DescribeEndpointCommand({ endpointType: 'iot:Nonsense' })))).toMatchObject({
      name: 'InvalidRequestException',
    });
  });
});
