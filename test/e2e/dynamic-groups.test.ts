import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AddThingToThingGroupCommand,
  CreateDynamicThingGroupCommand,
  CreateJobCommand,
  CreateThingCommand,
  CreateThingGroupCommand,
  DeleteDynamicThingGroupCommand,
  DeleteThingGroupCommand,
  DescribeThingGroupCommand,
  ListJobExecutionsForJobCommand,
  ListThingGroupsForThingCommand,
  ListThingsInThingGroupCommand,
  UpdateDynamicThingGroupCommand,
  UpdateIndexingConfigurationCommand,
  UpdateThingCommand,
  type IoTClient,
} from '@aws-sdk/client-iot';
import { awsCli } from '../helpers/aws-cli.js';
import { DIALECTS } from '../helpers/postgres.js';
import { rejection } from '../helpers/rejection.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe.each(DIALECTS)('dynamic thing groups on %s', (dialect) => {
  let t: TestServer;
  let iot: IoTClient;
  beforeAll(async () => {
    t = await startTestServer({ dialect });
    iot = t.iot();
  });
  afterAll(async () => t?.stop());

  const members = async (thingGroupName: string): Promise<string[]> =>
    (await iot.send(new ListThingsInThingGroupCommand({ thingGroupName }))).things ?? [];
  const executions = async (jobId: string): Promise<Record<string, string>> =>
    Object.fromEntries(
      ((await iot.send(new ListJobExecutionsForJobCommand({ jobId }))).executionSummaries ?? []).map((e) => [
        e.thingArn!.split('/').pop()!,
        e.jobExecutionSummary!.status!,
      ]),
    );
  const setFw = (thingName: string, fw: string) =>
    iot.send(new UpdateThingCommand({ thingName, attributePayload: { attributes: { fw }, merge: true } }));

  it('needs fleet indexing on', async () => {
    expect(
      await rejection(
        iot.send(new CreateDynamicThingGroupCommand({ thingGroupName: 'early', queryString: 'thingName:*' })),
      ),
    ).toMatchObject({ name: 'IndexNotReadyException' });
    await iot.send(
      new UpdateIndexingConfigurationCommand({ thingIndexingConfiguration: { thingIndexingMode: 'REGISTRY' } }),
    );
  });

  it('follows its query; CONTINUOUS jobs follow the members, SNAPSHOT jobs keep theirs', async () => {
    for (const [name, fw] of [
      ['d-1', '2.1'],
      ['d-2', '2.9'],
      ['d-3', '3.5'],
    ] as const) {
      await iot.send(
        new CreateThingCommand({ thingName: name, attributePayload: { attributes: { fw, model: 'x2' } } }),
      );
    }
    const created = await iot.send(
      new CreateDynamicThingGroupCommand({
        thingGroupName: 'old-fw',
        queryString: 'attributes.model:x2 AND attributes.fw<3.0',
        thingGroupProperties: { thingGroupDescription: 'below 3.0' },
      }),
    );
    expect(created).toMatchObject({
      indexName: 'AWS_Things',
      queryString: 'attributes.model:x2 AND attributes.fw<3.0',
    });
    const described = await iot.send(new DescribeThingGroupCommand({ thingGroupName: 'old-fw' }));
    expect(described).toMatchObject({
      queryString: 'attributes.model:x2 AND attributes.fw<3.0',
      indexName: 'AWS_Things',
      status: 'ACTIVE',
      thingGroupProperties: { thingGroupDescription: 'below 3.0' },
    });
    expect(await members('old-fw')).toEqual(['d-1', 'd-2']);
    expect(
      (await iot.send(new ListThingGroupsForThingCommand({ thingName: 'd-1' }))).thingGroups?.map((g) => g.groupName),
    ).toEqual(['old-fw']);

    const target = [created.thingGroupArn!];
    const document = JSON.stringify({ operation: 'install', version: '3.0' });
    await iot.send(new CreateJobCommand({ jobId: 'dyn-snap', targets: target, document, targetSelection: 'SNAPSHOT' }));
    await iot.send(
      new CreateJobCommand({ jobId: 'dyn-cont', targets: target, document, targetSelection: 'CONTINUOUS' }),
    );
    expect(await executions('dyn-cont')).toEqual({ 'd-1': 'QUEUED', 'd-2': 'QUEUED' });

    // d-3 starts to match: it gets the CONTINUOUS job at once (and not the SNAPSHOT one).
    await setFw('d-3', '2.5');
    expect(await members('old-fw')).toEqual(['d-1', 'd-2', 'd-3']);
    expect(await executions('dyn-cont')).toEqual({ 'd-1': 'QUEUED', 'd-2': 'QUEUED', 'd-3': 'QUEUED' });
    expect(await executions('dyn-snap')).toEqual({ 'd-1': 'QUEUED', 'd-2': 'QUEUED' });
    // d-1 stops matching: its pending CONTINUOUS execution is REMOVED; SNAPSHOT keeps it.
    await setFw('d-1', '3.0');
    expect(await members('old-fw')).toEqual(['d-2', 'd-3']);
    expect(await executions('dyn-cont')).toEqual({ 'd-1': 'REMOVED', 'd-2': 'QUEUED', 'd-3': 'QUEUED' });
    expect(await executions('dyn-snap')).toEqual({ 'd-1': 'QUEUED', 'd-2': 'QUEUED' });
    // A new thing that matches joins as it is created.
    await iot.send(
      new CreateThingCommand({ thingName: 'd-4', attributePayload: { attributes: { fw: '1.0', model: 'x2' } } }),
    );
    expect((await executions('dyn-cont'))['d-4']).toBe('QUEUED');

    // A new query moves the members, through the same rules.
    const updated = await iot.send(
      new UpdateDynamicThingGroupCommand({
        thingGroupName: 'old-fw',
        thingGroupProperties: {},
        queryString: 'attributes.fw<2.6',
      }),
    );
    expect(updated.version).toBe(2);
    expect(await members('old-fw')).toEqual(['d-3', 'd-4']);
    expect(await executions('dyn-cont')).toMatchObject({ 'd-2': 'REMOVED', 'd-3': 'QUEUED', 'd-4': 'QUEUED' });
  });

  it('follows static group membership terms and refuses manual membership', async () => {
    await iot.send(new CreateThingGroupCommand({ thingGroupName: 'eu' }));
    await iot.send(new CreateDynamicThingGroupCommand({ thingGroupName: 'eu-x2', queryString: 'thingGroupNames:eu' }));
    expect(await members('eu-x2')).toEqual([]);
    await iot.send(new AddThingToThingGroupCommand({ thingGroupName: 'eu', thingName: 'd-2' }));
    expect(await members('eu-x2')).toEqual(['d-2']);
    // Deleting the static group takes its members out of the dynamic group too.
    await iot.send(new CreateThingGroupCommand({ thingGroupName: 'eu-old' }));
    await iot.send(
      new CreateDynamicThingGroupCommand({ thingGroupName: 'in-eu-old', queryString: 'thingGroupNames:eu-old' }),
    );
    await iot.send(new AddThingToThingGroupCommand({ thingGroupName: 'eu-old', thingName: 'd-4' }));
    expect(await members('in-eu-old')).toEqual(['d-4']);
    await iot.send(new DeleteThingGroupCommand({ thingGroupName: 'eu-old' }));
    expect(await members('in-eu-old')).toEqual([]);
    expect(
      await rejection(iot.send(new AddThingToThingGroupCommand({ thingGroupName: 'eu-x2', thingName: 'd-3' }))),
    ).toMatchObject({ name: 'InvalidRequestException' });
    expect(
      await rejection(
        iot.send(new CreateDynamicThingGroupCommand({ thingGroupName: 'bad-q', queryString: 'firmware:1' })),
      ),
    ).toMatchObject({ name: 'InvalidQueryException' });
    expect(await rejection(iot.send(new DeleteDynamicThingGroupCommand({ thingGroupName: 'eu' })))).toMatchObject({
      name: 'InvalidRequestException',
    });
    await iot.send(new DeleteDynamicThingGroupCommand({ thingGroupName: 'eu-x2' }));
    expect(await rejection(iot.send(new DescribeThingGroupCommand({ thingGroupName: 'eu-x2' })))).toMatchObject({
      name: 'ResourceNotFoundException',
    });
  });

  it('is managed by /usr/bin/aws', async () => {
    const env = t.awsEnv();
    const made = await awsCli(t.endpoint, env, [
      'iot',
      'create-dynamic-thing-group',
      '--thing-group-name',
      'cli-dyn',
      '--query-string',
      'attributes.model:x2',
    ]);
    expect(made.code, made.stderr).toBe(0);
    expect(made.json).toMatchObject({ thingGroupName: 'cli-dyn', queryString: 'attributes.model:x2' });
    const listed = await awsCli(t.endpoint, env, [
      'iot',
      'list-things-in-thing-group',
      '--thing-group-name',
      'cli-dyn',
    ]);
    expect((listed.json as { things: string[] }).things).toEqual(['d-1', 'd-2', 'd-3', 'd-4']);
    const gone = await awsCli(t.endpoint, env, ['iot', 'delete-dynamic-thing-group', '--thing-group-name', 'cli-dyn']);
    expect(gone.code, gone.stderr).toBe(0);
  }, 120_000);
});
