import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsCli, type CliResult } from '../helpers/aws-cli.js';
import { DIALECTS } from '../helpers/postgres.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** Debian's aws CLI v2 signs `aws iot` as execute-api (STACK.md); every registry operation goes through it. */
describe.each(DIALECTS)('thing registry with /usr/bin/aws on %s', (dialect) => {
  let t: TestServer;
  const aws = (...args: string[]): Promise<CliResult> => awsCli(t.endpoint, t.awsEnv(), args);
  const ok = async (...args: string[]): Promise<Record<string, unknown>> => {
    const r = await aws(...args);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return (r.json ?? {}) as Record<string, unknown>;
  };
  const fails = async (errorName: string, ...args: string[]): Promise<string> => {
    const r = await aws(...args);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(`(${errorName})`);
    return r.stderr;
  };

  beforeAll(async () => {
    t = await startTestServer({ dialect });
  });
  afterAll(async () => t?.stop());

  it('runs the thing lifecycle', async () => {
    const created = await ok(
      'iot',
      'create-thing',
      '--thing-name',
      'cli-1',
      '--attribute-payload',
      '{"attributes":{"fw":"1"}}',
    );
    expect(created.thingArn).toBe('arn:aws:iot:us-east-1:000000000000:thing/cli-1');
    expect(await ok('iot', 'describe-thing', '--thing-name', 'cli-1')).toMatchObject({
      version: 1,
      attributes: { fw: '1' },
    });
    await ok(
      'iot',
      'update-thing',
      '--thing-name',
      'cli-1',
      '--expected-version',
      '1',
      '--attribute-payload',
      '{"attributes":{"fw":"2"},"merge":true}',
    );
    expect(await ok('iot', 'describe-thing', '--thing-name', 'cli-1')).toMatchObject({
      version: 2,
      attributes: { fw: '2' },
    });
    await fails('VersionConflictException', 'iot', 'update-thing', '--thing-name', 'cli-1', '--expected-version', '1');
    await ok('iot', 'create-thing', '--thing-name', 'cli-2');
    const listed = await ok('iot', 'list-things', '--attribute-name', 'fw', '--attribute-value', '2');
    expect((listed.things as { thingName: string }[]).map((x) => x.thingName)).toEqual(['cli-1']);
    await fails('VersionConflictException', 'iot', 'delete-thing', '--thing-name', 'cli-1', '--expected-version', '9');
    await ok('iot', 'delete-thing', '--thing-name', 'cli-1', '--expected-version', '2');
    await fails('ResourceNotFoundException', 'iot', 'describe-thing', '--thing-name', 'cli-1');
  });

  it('pages through list-things with --max-items, following nextToken', async () => {
    for (let i = 0; i < 5; i++) await ok('iot', 'create-thing', '--thing-name', `pg-${i}`);
    // --page-size makes the CLI itself follow nextToken across several requests.
    const all = await ok('iot', 'list-things', '--page-size', '2');
    const names = (all.things as { thingName: string }[]).map((x) => x.thingName).filter((n) => n.startsWith('pg-'));
    expect(names).toEqual(['pg-0', 'pg-1', 'pg-2', 'pg-3', 'pg-4']);
    const first = await ok('iot', 'list-things', '--max-items', '2');
    expect((first.things as unknown[]).length).toBe(2);
    expect(typeof first.NextToken).toBe('string');
  });

  it('runs the thing-group operations', async () => {
    await ok('iot', 'create-thing-group', '--thing-group-name', 'root');
    await ok('iot', 'create-thing-group', '--thing-group-name', 'child', '--parent-group-name', 'root');
    await ok('iot', 'create-thing', '--thing-name', 'gm-1');
    await ok('iot', 'add-thing-to-thing-group', '--thing-group-name', 'child', '--thing-name', 'gm-1');
    expect(await ok('iot', 'list-things-in-thing-group', '--thing-group-name', 'root', '--recursive')).toMatchObject({
      things: ['gm-1'],
    });
    expect(await ok('iot', 'list-things-in-thing-group', '--thing-group-name', 'root', '--no-recursive')).toMatchObject(
      {
        things: [],
      },
    );
    expect(await ok('iot', 'list-thing-groups-for-thing', '--thing-name', 'gm-1')).toMatchObject({
      thingGroups: [{ groupName: 'child' }],
    });
    expect(await ok('iot', 'list-thing-groups', '--parent-group', 'root')).toMatchObject({
      thingGroups: [{ groupName: 'child' }],
    });
    const described = await ok('iot', 'describe-thing-group', '--thing-group-name', 'child');
    expect(described).toMatchObject({ version: 1, thingGroupMetadata: { parentGroupName: 'root' } });
    expect(
      await ok(
        'iot',
        'update-thing-group',
        '--thing-group-name',
        'child',
        '--thing-group-properties',
        '{"thingGroupDescription":"c"}',
      ),
    ).toMatchObject({ version: 2 });
    await ok(
      'iot',
      'update-thing-groups-for-thing',
      '--thing-name',
      'gm-1',
      '--thing-groups-to-add',
      'root',
      '--thing-groups-to-remove',
      'child',
    );
    await ok('iot', 'remove-thing-from-thing-group', '--thing-group-name', 'root', '--thing-name', 'gm-1');
    await fails('InvalidRequestException', 'iot', 'delete-thing-group', '--thing-group-name', 'root');
    await ok('iot', 'delete-thing-group', '--thing-group-name', 'child');
    await ok('iot', 'delete-thing-group', '--thing-group-name', 'root');
    await fails('ResourceNotFoundException', 'iot', 'describe-thing-group', '--thing-group-name', 'root');
  });

  it('tags a thing', async () => {
    await ok('iot', 'create-thing', '--thing-name', 'tag-me');
    const arn = 'arn:aws:iot:us-east-1:000000000000:thing/tag-me';
    await ok('iot', 'tag-resource', '--resource-arn', arn, '--tags', 'Key=env,Value=prod', 'Key=team,Value=ops');
    await ok('iot', 'untag-resource', '--resource-arn', arn, '--tag-keys', 'team');
    expect(await ok('iot', 'list-tags-for-resource', '--resource-arn', arn)).toEqual({
      tags: [{ Key: 'env', Value: 'prod' }],
    });
  });

  it('reports bad input, unknown names and a wrong secret with AWS error names', async () => {
    const msg = await fails('InvalidRequestException', 'iot', 'create-thing', '--thing-name', 'bad name');
    expect(msg).toContain("at 'thingName' failed to satisfy constraint");
    await fails('InvalidRequestException', 'iot', 'list-things', '--max-results', '500');
    await fails(
      'ResourceNotFoundException',
      'iot',
      'add-thing-to-thing-group',
      '--thing-group-name',
      'nope',
      '--thing-name',
      'nope',
    );
    await fails('InvalidRequestException', 'iot', 'describe-endpoint', '--endpoint-type', 'iot:Bogus');
    const r = await awsCli(t.endpoint, { ...t.awsEnv(), AWS_SECRET_ACCESS_KEY: 'wrong' }, ['iot', 'list-things']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('(InvalidSignatureException)');
    const unknown = await awsCli(t.endpoint, { ...t.awsEnv(), AWS_ACCESS_KEY_ID: 'AKIAUNKNOWN000000000' }, [
      'iot',
      'list-things',
    ]);
    expect(unknown.stderr).toContain('(UnrecognizedClientException)');
  });
});
