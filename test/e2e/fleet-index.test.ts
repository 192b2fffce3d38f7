import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  AddThingToThingGroupCommand,
  CreateThingCommand,
  CreateThingGroupCommand,
  CreateThingTypeCommand,
  DeleteThingCommand,
  GetIndexingConfigurationCommand,
  GetStatisticsCommand,
  RemoveThingFromThingGroupCommand,
  SearchIndexCommand,
  UpdateIndexingConfigurationCommand,
  UpdateThingCommand,
  type IoTClient,
} from '@aws-sdk/client-iot';
import { awsCli } from '../helpers/aws-cli.js';
import { connectDevice, provisionDevice } from '../helpers/devices.js';
import { DIALECTS } from '../helpers/postgres.js';
import { rejection } from '../helpers/rejection.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe.each(DIALECTS)('fleet indexing on %s', (dialect) => {
  let t: TestServer;
  let iot: IoTClient;
  beforeAll(async () => {
    t = await startTestServer({ dialect });
    iot = t.iot();
  });
  afterAll(async () => t?.stop());

  /** Every page of a search, following nextToken. */
  const search = async (queryString: string, maxResults = 2): Promise<string[]> => {
    const names: string[] = [];
    let nextToken: string | undefined;
    do {
      const page = await iot.send(new SearchIndexCommand({ queryString, maxResults, nextToken }));
      names.push(...(page.things ?? []).map((x) => x.thingName!));
      nextToken = page.nextToken;
    } while (nextToken);
    return names;
  };

  it('is off until UpdateIndexingConfiguration turns it on', async () => {
    expect(await iot.send(new GetIndexingConfigurationCommand({}))).toMatchObject({
      thingIndexingConfiguration: { thingIndexingMode: 'OFF' },
      thingGroupIndexingConfiguration: { thingGroupIndexingMode: 'OFF' },
    });
    expect(await rejection(iot.send(new SearchIndexCommand({ queryString: 'thingName:*' })))).toMatchObject({
      name: 'IndexNotReadyException',
    });
    await iot.send(
      new UpdateIndexingConfigurationCommand({
        thingIndexingConfiguration: { thingIndexingMode: 'REGISTRY', thingConnectivityIndexingMode: 'STATUS' },
      }),
    );
    expect((await iot.send(new GetIndexingConfigurationCommand({}))).thingIndexingConfiguration).toMatchObject({
      thingIndexingMode: 'REGISTRY',
      thingConnectivityIndexingMode: 'STATUS',
    });
    expect(
      await rejection(
        iot.send(
          new UpdateIndexingConfigurationCommand({
            thingIndexingConfiguration: { thingIndexingMode: 'SOMETIMES' as 'OFF' },
          }),
        ),
      ),
    ).toMatchObject({ name: 'InvalidRequestException' });
  });

  it('answers the query subset operators use, paged, and follows changes', async () => {
    await iot.send(new CreateThingTypeCommand({ thingTypeName: 'pump' }));
    await iot.send(new CreateThingGroupCommand({ thingGroupName: 'eu' }));
    const fleet: [string, string | undefined, Record<string, string>][] = [
      ['pump-1', 'pump', { model: 'x2', fw: '2.9', site: 'north' }],
      ['pump-2', 'pump', { model: 'x2', fw: '3.1', site: 'south' }],
      ['pump-3', 'pump', { model: 'x1', fw: '2.0' }],
      ['pump-4', 'pump', { model: 'x2', fw: '10' }],
      ['valve-1', undefined, { model: 'x2', fw: '1.5' }],
    ];
    for (const [thingName, thingTypeName, attributes] of fleet) {
      await iot.send(new CreateThingCommand({ thingName, thingTypeName, attributePayload: { attributes } }));
    }
    await iot.send(new AddThingToThingGroupCommand({ thingGroupName: 'eu', thingName: 'pump-1' }));
    await iot.send(new AddThingToThingGroupCommand({ thingGroupName: 'eu', thingName: 'valve-1' }));

    expect(await search('thingName:pump-*')).toEqual(['pump-1', 'pump-2', 'pump-3', 'pump-4']);
    expect(await search('thingName:p?mp-?')).toEqual(['pump-1', 'pump-2', 'pump-3', 'pump-4']);
    expect(await search('thingName:*-1')).toEqual(['pump-1', 'valve-1']);
    // "Every pump of model x2 on firmware below 3.0" (numbers compare as numbers: 10 > 3).
    expect(await search('thingTypeName:pump AND attributes.model:x2 AND attributes.fw<3.0')).toEqual(['pump-1']);
    expect(await search('thingTypeName:pump attributes.fw>=3')).toEqual(['pump-2', 'pump-4']);
    expect(await search('attributes.fw:[2 TO 3]')).toEqual(['pump-1', 'pump-3']);
    expect(await search('attributes.fw:{2 TO 3]')).toEqual(['pump-1']);
    expect(await search('attributes.site:*')).toEqual(['pump-1', 'pump-2']);
    expect(await search('thingGroupNames:eu')).toEqual(['pump-1', 'valve-1']);
    expect(await search('thingGroupNames:eu OR attributes.model:x1')).toEqual(['pump-1', 'pump-3', 'valve-1']);
    expect(await search('attributes.model:x2 AND NOT thingGroupNames:eu')).toEqual(['pump-2', 'pump-4']);
    expect(await search('NOT thingTypeName:pump')).toEqual(['valve-1']);
    expect(await search('(thingName:valve-* OR attributes.site:south) AND NOT attributes.fw>3')).toEqual(['valve-1']);

    const doc = (await iot.send(new SearchIndexCommand({ queryString: 'thingName:pump-1' }))).things?.[0];
    expect(doc).toMatchObject({
      thingName: 'pump-1',
      thingTypeName: 'pump',
      thingGroupNames: ['eu'],
      attributes: { model: 'x2', fw: '2.9', site: 'north' },
      connectivity: { connected: false },
    });

    // The index follows every change, in the same commit.
    await iot.send(
      new UpdateThingCommand({ thingName: 'pump-2', attributePayload: { attributes: { fw: '2.5' }, merge: true } }),
    );
    await iot.send(new RemoveThingFromThingGroupCommand({ thingGroupName: 'eu', thingName: 'pump-1' }));
    await iot.send(new DeleteThingCommand({ thingName: 'pump-3' }));
    expect(await search('attributes.fw<3.0')).toEqual(['pump-1', 'pump-2', 'valve-1']);
    expect(await search('thingGroupNames:eu')).toEqual(['valve-1']);

    expect((await iot.send(new GetStatisticsCommand({ queryString: 'thingTypeName:pump' }))).statistics).toEqual({
      count: 3,
    });
    expect(
      (
        await iot.send(
          new GetStatisticsCommand({ queryString: 'attributes.model:x2', aggregationField: 'attributes.fw' }),
        )
      ).statistics,
    ).toMatchObject({ count: 4, minimum: 1.5, maximum: 10, sum: 16.9 });

    for (const bad of ['pump', 'shadow.reported.fw:1', 'thingName:(a', 'attributes.fw:[1 TO']) {
      expect(await rejection(iot.send(new SearchIndexCommand({ queryString: bad }))), bad).toMatchObject({
        name: 'InvalidQueryException',
        status: 400,
      });
    }
  });

  it('knows which things are connected, fed by the broker', async () => {
    const device = await provisionDevice(t, iot, 'online-1');
    expect(await search('connectivity.connected:true')).toEqual([]);
    const client = await connectDevice(t, device, 'online-1');
    // The broker records the connect before CONNACK.
    expect(await search('connectivity.connected:true')).toEqual(['online-1']);
    const doc = (await iot.send(new SearchIndexCommand({ queryString: 'thingName:online-1' }))).things?.[0];
    expect(doc?.connectivity?.connected).toBe(true);
    expect(doc?.connectivity?.timestamp).toBeGreaterThan(0);
    await client.endAsync();
    await vi.waitFor(
      async () => expect(await search('connectivity.connected:false thingName:online-*')).toEqual(['online-1']),
      {
        timeout: 10_000,
        interval: 50,
      },
    );
    const after = (await iot.send(new SearchIndexCommand({ queryString: 'thingName:online-1' }))).things?.[0];
    expect(after?.connectivity).toMatchObject({ connected: false, disconnectReason: 'CONNECTION_LOST' });
  });

  it('serves search-index and the indexing configuration to /usr/bin/aws', async () => {
    const env = t.awsEnv();
    const conf = await awsCli(t.endpoint, env, ['iot', 'get-indexing-configuration']);
    expect(conf.code, conf.stderr).toBe(0);
    expect(conf.json).toMatchObject({ thingIndexingConfiguration: { thingIndexingMode: 'REGISTRY' } });
    const found = await awsCli(t.endpoint, env, [
      'iot',
      'search-index',
      '--query-string',
      'attributes.model:x2 AND attributes.fw<3',
      '--max-results',
      '1',
    ]);
    expect(found.code, found.stderr).toBe(0);
    const first = found.json as { things: { thingName: string }[]; nextToken: string };
    expect(first.things.map((x) => x.thingName)).toEqual(['pump-1']);
    const rest = await awsCli(t.endpoint, env, [
      'iot',
      'search-index',
      '--query-string',
      'attributes.model:x2 AND attributes.fw<3',
      '--next-token',
      first.nextToken,
    ]);
    expect((rest.json as { things: { thingName: string }[] }).things.map((x) => x.thingName)).toEqual([
      'pump-2',
      'valve-1',
    ]);
    const bad = await awsCli(t.endpoint, env, ['iot', 'search-index', '--query-string', 'nonsense']);
    expect(bad.code).toBe(254);
    expect(bad.stderr).toContain('(InvalidQueryException)');
  }, 120_000);
});
