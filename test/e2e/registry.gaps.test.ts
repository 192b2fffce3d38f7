import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateThingCommand,
  CreateThingGroupCommand,
  DescribeThingCommand,
  DescribeThingGroupCommand,
  ListThingGroupsCommand,
  UpdateThingCommand,
  UpdateThingGroupCommand,
  type IoTClient,
  type ListThingGroupsCommandInput,
} from '@aws-sdk/client-iot';
import { awsCli, type CliResult } from '../helpers/aws-cli.js';
import { DIALECTS } from '../helpers/postgres.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** Registry and device-API behaviours the moto suites and the Device Client tutorial showed apart from AWS. */
describe.each(DIALECTS)('registry gaps on %s', (dialect) => {
  let t: TestServer;
  let iot: IoTClient;
  const aws = (...args: string[]): Promise<CliResult> => awsCli(t.endpoint, t.awsEnv(), args);
  beforeAll(async () => {
    t = await startTestServer({ dialect });
    iot = t.iot();
  });
  afterAll(async () => t?.stop());

  const groupNames = async (input: ListThingGroupsCommandInput) =>
    ((await iot.send(new ListThingGroupsCommand(input))).thingGroups ?? []).map((g) => g.groupName).sort();

  it('lists every descendant of parentGroup unless recursive is false', async () => {
    // 1a > (2a > 3a, 3b), (2b > 3c); 1b
    const tree: [string, string | undefined][] = [
      ['g-1a', undefined],
      ['g-1b', undefined],
      ['g-2a', 'g-1a'],
      ['g-2b', 'g-1a'],
      ['g-3a', 'g-2a'],
      ['g-3b', 'g-2a'],
      ['g-3c', 'g-2b'],
    ];
    for (const [name, parent] of tree) {
      await iot.send(new CreateThingGroupCommand({ thingGroupName: name, parentGroupName: parent }));
    }
    expect(await groupNames({ parentGroup: 'g-1a' })).toEqual(['g-2a', 'g-2b', 'g-3a', 'g-3b', 'g-3c']);
    expect(await groupNames({ parentGroup: 'g-1a', recursive: false })).toEqual(['g-2a', 'g-2b']);
    expect(await groupNames({ parentGroup: 'g-2a' })).toEqual(['g-3a', 'g-3b']);
    expect(await groupNames({ parentGroup: 'g-1b' })).toEqual([]);
    expect(await groupNames({ parentGroup: 'g-1a', namePrefixFilter: 'g-3' })).toEqual(['g-3a', 'g-3b', 'g-3c']);
    expect(await groupNames({ namePrefixFilter: 'g-', recursive: false })).toEqual(['g-1a', 'g-1b']);
    // The same through /usr/bin/aws, paged one group at a time.
    const cli = await aws('iot', 'list-thing-groups', '--parent-group', 'g-1a', '--page-size', '1');
    expect(cli.code, cli.stderr).toBe(0);
    expect((cli.json as { thingGroups: { groupName: string }[] }).thingGroups.map((g) => g.groupName)).toEqual([
      'g-2a',
      'g-2b',
      'g-3a',
      'g-3b',
      'g-3c',
    ]);
  });

  it('removes an attribute given an empty value, with and without merge', async () => {
    await iot.send(
      new CreateThingCommand({ thingName: 'attr-1', attributePayload: { attributes: { a: '1', b: '2', c: '3' } } }),
    );
    await iot.send(
      new UpdateThingCommand({
        thingName: 'attr-1',
        attributePayload: { attributes: { a: '9', b: '' }, merge: false },
      }),
    );
    expect((await iot.send(new DescribeThingCommand({ thingName: 'attr-1' }))).attributes).toEqual({ a: '9' });
    await iot.send(
      new UpdateThingCommand({ thingName: 'attr-1', attributePayload: { attributes: { a: '', d: '4' }, merge: true } }),
    );
    expect((await iot.send(new DescribeThingCommand({ thingName: 'attr-1' }))).attributes).toEqual({ d: '4' });
    const cli = await aws(
      'iot',
      'update-thing',
      '--thing-name',
      'attr-1',
      '--attribute-payload',
      '{"attributes":{"d":"","e":"5"}}',
    );
    expect(cli.code, cli.stderr).toBe(0);
    expect((await iot.send(new DescribeThingCommand({ thingName: 'attr-1' }))).attributes).toEqual({ e: '5' });
  });

  it('answers a group without attributes without attributePayload, also after an update to {}', async () => {
    await iot.send(new CreateThingGroupCommand({ thingGroupName: 'bare' }));
    expect((await iot.send(new DescribeThingGroupCommand({ thingGroupName: 'bare' }))).thingGroupProperties).toEqual(
      {},
    );
    await iot.send(
      new UpdateThingGroupCommand({
        thingGroupName: 'bare',
        thingGroupProperties: { attributePayload: { attributes: { k: 'v' }, merge: false } },
      }),
    );
    expect((await iot.send(new DescribeThingGroupCommand({ thingGroupName: 'bare' }))).thingGroupProperties).toEqual({
      attributePayload: { attributes: { k: 'v' } },
    });
    await iot.send(
      new UpdateThingGroupCommand({
        thingGroupName: 'bare',
        thingGroupProperties: { attributePayload: { attributes: {}, merge: false } },
      }),
    );
    const after = await iot.send(new DescribeThingGroupCommand({ thingGroupName: 'bare' }));
    expect(after.thingGroupProperties).toEqual({});
    expect(after.version).toBe(3);
  });

  it('answers an empty job id on the jobs data plane with InvalidRequestException, not the pending list', async () => {
    await iot.send(new CreateThingCommand({ thingName: 'empty-id' }));
    // `aws iot describe-job-execution` refuses an empty id itself; `aws iot-jobs-data` sends it.
    const r = await aws('iot-jobs-data', 'describe-job-execution', '--thing-name', 'empty-id', '--job-id', '');
    expect(r.code, r.stdout).toBe(254);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('(InvalidRequestException)');
    expect(r.stderr).toContain('GET /things/empty-id/jobs/ is empty');
    // The named operations still answer.
    const pending = await aws('iot-jobs-data', 'get-pending-job-executions', '--thing-name', 'empty-id');
    expect(pending.code, pending.stderr).toBe(0);
    expect(pending.json).toMatchObject({ inProgressJobs: [], queuedJobs: [] });
  });
});
