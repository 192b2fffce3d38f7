import {
  CreateStreamCommand,
  DeleteStreamCommand,
  DescribeStreamCommand,
  ListStreamsCommand,
  ListTagsForResourceCommand,
  UpdateStreamCommand,
  type IoTClient,
} from '@aws-sdk/client-iot';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsCli, type CliResult } from '../helpers/aws-cli.js';
import { DIALECTS } from '../helpers/postgres.js';
import { rejection } from '../helpers/rejection.js';
import { startTestServer, TEST_REGION, type TestServer } from '../helpers/server.js';
import { signedRequest } from '../helpers/signed.js';
import { ACCOUNT, allowRead, iotTrust, StreamFixture } from '../helpers/streams.js';

const streamArn = (id: string): string => `arn:aws:iot:${TEST_REGION}:${ACCOUNT}:stream/${id}`;

/** CreateStream ... DeleteStream (AWS IoT model, issue 20) with @aws-sdk/client-iot and /usr/bin/aws. */
describe.each(DIALECTS)('streams control plane on %s', (dialect) => {
  let t: TestServer;
  let iot: IoTClient;
  let fx: StreamFixture;
  let readRole: string;
  let noReadRole: string;
  let openTrustRole: string;
  let v1: string;
  let v2: string;
  const fw1 = randomBytes(10_000);
  const fw2 = randomBytes(7_000);
  const file = (fileId: number, key = 'fw.bin', version?: string) => ({
    fileId,
    s3Location: { bucket: 'firmware', key, ...(version && { version }) },
  });
  const aws = (...args: string[]): Promise<CliResult> => awsCli(t.endpoint, t.awsEnv(), args);

  beforeAll(async () => {
    t = await startTestServer({ dialect });
    iot = t.iot();
    fx = new StreamFixture(t);
    await fx.bucket('firmware');
    v1 = await fx.put('firmware', 'fw.bin', fw1);
    v2 = await fx.put('firmware', 'fw.bin', fw2);
    await fx.put('firmware', 'cfg.json', Buffer.from('{"a":1}'));
    readRole = await fx.role('stream-read', iotTrust(), allowRead('arn:aws:s3:::firmware/*'));
    noReadRole = await fx.role('stream-noread', iotTrust(), allowRead('arn:aws:s3:::other/*'));
    openTrustRole = await fx.role('stream-open-trust', iotTrust(false), allowRead('*'));
  });
  afterAll(async () => {
    fx?.destroy();
    await t?.stop();
  });

  it('creates, describes, lists, updates and deletes a stream with the SDK', async () => {
    const created = await iot.send(
      new CreateStreamCommand({
        streamId: `fw-${dialect}`,
        description: 'firmware 1.0',
        files: [file(0, 'fw.bin', v1), file(7, 'cfg.json')],
        roleArn: readRole,
        tags: [{ Key: 'team', Value: 'ota' }],
      }),
    );
    expect(created).toMatchObject({
      streamId: `fw-${dialect}`,
      streamArn: streamArn(`fw-${dialect}`),
      description: 'firmware 1.0',
      streamVersion: 1,
    });
    const { streamInfo } = await iot.send(new DescribeStreamCommand({ streamId: `fw-${dialect}` }));
    expect(streamInfo).toMatchObject({
      streamId: `fw-${dialect}`,
      streamArn: streamArn(`fw-${dialect}`),
      streamVersion: 1,
      description: 'firmware 1.0',
      roleArn: readRole,
      files: [file(0, 'fw.bin', v1), file(7, 'cfg.json')],
    });
    expect(streamInfo!.createdAt).toBeInstanceOf(Date);
    expect(streamInfo!.lastUpdatedAt).toBeInstanceOf(Date);
    const tags = await iot.send(new ListTagsForResourceCommand({ resourceArn: streamArn(`fw-${dialect}`) }));
    expect(tags.tags).toEqual([{ Key: 'team', Value: 'ota' }]);

    const updated = await iot.send(
      new UpdateStreamCommand({
        streamId: `fw-${dialect}`,
        description: 'firmware 2.0',
        files: [file(0, 'fw.bin', v2)],
      }),
    );
    expect(updated).toMatchObject({ streamVersion: 2, description: 'firmware 2.0' });
    const after = await iot.send(new DescribeStreamCommand({ streamId: `fw-${dialect}` }));
    expect(after.streamInfo).toMatchObject({ streamVersion: 2, files: [file(0, 'fw.bin', v2)], roleArn: readRole });

    await iot.send(new DeleteStreamCommand({ streamId: `fw-${dialect}` }));
    expect(await rejection(iot.send(new DescribeStreamCommand({ streamId: `fw-${dialect}` })))).toMatchObject({
      name: 'ResourceNotFoundException',
      status: 404,
    });
    expect(await rejection(iot.send(new DeleteStreamCommand({ streamId: `fw-${dialect}` })))).toMatchObject({
      name: 'ResourceNotFoundException',
    });
    expect(
      await rejection(iot.send(new ListTagsForResourceCommand({ resourceArn: streamArn(`fw-${dialect}`) }))),
    ).toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('pages ListStreams newest first, or oldest first with ascendingOrder', async () => {
    for (const id of ['list-a', 'list-b', 'list-c']) {
      await iot.send(new CreateStreamCommand({ streamId: id, files: [file(0)], roleArn: readRole }));
    }
    const collect = async (ascendingOrder?: boolean): Promise<string[]> => {
      const ids: string[] = [];
      let nextToken: string | undefined;
      do {
        const page = await iot.send(new ListStreamsCommand({ maxResults: 1, nextToken, ascendingOrder }));
        expect(page.streams!.length).toBeLessThanOrEqual(1);
        for (const s of page.streams!) {
          expect(s).toMatchObject({ streamArn: streamArn(s.streamId!), streamVersion: 1 });
          ids.push(s.streamId!);
        }
        nextToken = page.nextToken;
      } while (nextToken);
      return ids.filter((id) => id.startsWith('list-'));
    };
    // Same-millisecond creations tie on created_at and fall back to the id order.
    expect(await collect(true)).toEqual(['list-a', 'list-b', 'list-c']);
    expect(await collect()).toEqual(['list-c', 'list-b', 'list-a']);
    expect(await rejection(iot.send(new ListStreamsCommand({ nextToken: 'garbage' })))).toMatchObject({
      name: 'InvalidRequestException',
    });
    expect(await rejection(iot.send(new ListStreamsCommand({ maxResults: 251 })))).toMatchObject({
      name: 'InvalidRequestException',
    });
  });

  it('refuses what AWS refuses, with AWS error names', async () => {
    const create = (streamId: string, over: object = {}) =>
      rejection(iot.send(new CreateStreamCommand({ streamId, files: [file(0)], roleArn: readRole, ...over })));
    await iot.send(new CreateStreamCommand({ streamId: 'dup', files: [file(0)], roleArn: readRole }));
    expect(await create('dup')).toMatchObject({ name: 'ResourceAlreadyExistsException', status: 409 });
    expect(await create('bad-file-id', { files: [file(256)] })).toMatchObject({ name: 'InvalidRequestException' });
    expect((await create('neg-file-id', { files: [file(-1)] })).message).toContain('fileId');
    expect((await create('twice', { files: [file(1), file(1, 'cfg.json')] })).message).toContain('unique');
    expect(await create('no-files', { files: [] })).toMatchObject({ name: 'InvalidRequestException' });
    const tooMany = Array.from({ length: 51 }, (_, i) => file(i));
    expect((await create('too-many', { files: tooMany })).message).toContain('less than or equal to 50');
    expect((await create('no-object', { files: [file(0, 'missing.bin')] })).message).toMatch(
      /Unable to access file 0 at s3:\/\/firmware\/missing.bin/,
    );
    expect((await create('no-version', { files: [file(0, 'fw.bin', 'nope')] })).message).toContain(
      'version does not exist',
    );
    expect(
      await create('no-bucket', { files: [{ fileId: 0, s3Location: { bucket: 'nobucket', key: 'k' } }] }),
    ).toMatchObject({ name: 'InvalidRequestException' });
    expect((await create('no-read', { roleArn: noReadRole })).message).toContain('does not allow s3:GetObject');
    expect((await create('no-role', { roleArn: 'arn:aws:iam::000000000000:role/absent' })).message).toContain(
      'does not exist',
    );
    expect((await create('open-trust', { roleArn: openTrustRole })).message).toContain('confused-deputy');
    expect(await create('bad.id')).toMatchObject({ name: 'InvalidRequestException' });
    expect(await rejection(iot.send(new UpdateStreamCommand({ streamId: 'absent', description: 'x' })))).toMatchObject({
      name: 'ResourceNotFoundException',
    });
    expect(
      (await rejection(iot.send(new UpdateStreamCommand({ streamId: 'dup', roleArn: noReadRole })))).message,
    ).toContain('does not allow');
    // Nothing was created by the refused calls.
    const all = await iot.send(new ListStreamsCommand({ maxResults: 250 }));
    expect(all.streams!.map((s) => s.streamId).filter((id) => id !== 'dup' && !id!.startsWith('list-'))).toEqual([]);
  });

  it('refuses members of the wrong type (what an SDK would never send)', async () => {
    const post = (body: object) =>
      signedRequest(t, {
        service: 'iot',
        method: 'POST',
        path: '/streams/typed',
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json' },
      });
    for (const body of [
      { files: 'fw.bin', roleArn: readRole },
      { files: [{ fileId: '0', s3Location: { bucket: 'firmware', key: 'fw.bin' } }], roleArn: readRole },
      { files: [{ fileId: 0.5, s3Location: { bucket: 'firmware', key: 'fw.bin' } }], roleArn: readRole },
      { files: [{ fileId: 0, s3Location: { bucket: 7, key: 'fw.bin' } }], roleArn: readRole },
      { files: [file(0)], roleArn: 42 },
      { files: [file(0)] },
      { files: [file(0)], roleArn: readRole, description: ['x'] },
    ]) {
      const reply = await post(body);
      expect(reply.status, JSON.stringify(body)).toBe(400);
      expect(reply.errorType).toBe('InvalidRequestException');
    }
  });

  it('works with /usr/bin/aws', async () => {
    const ok = async (...args: string[]): Promise<Record<string, unknown>> => {
      const r = await aws(...args);
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      return (r.json ?? {}) as Record<string, unknown>;
    };
    const files = JSON.stringify([file(0, 'fw.bin', v1)]);
    expect(
      await ok('iot', 'create-stream', '--stream-id', 'cli-fw', '--files', files, '--role-arn', readRole),
    ).toMatchObject({ streamId: 'cli-fw', streamVersion: 1, streamArn: streamArn('cli-fw') });
    expect(await ok('iot', 'describe-stream', '--stream-id', 'cli-fw')).toMatchObject({
      streamInfo: { streamId: 'cli-fw', files: [file(0, 'fw.bin', v1)], roleArn: readRole },
    });
    expect(
      await ok('iot', 'update-stream', '--stream-id', 'cli-fw', '--description', 'second', '--files', files),
    ).toMatchObject({ streamVersion: 2, description: 'second' });
    const listed = await ok('iot', 'list-streams', '--ascending-order');
    expect((listed.streams as { streamId: string }[]).map((s) => s.streamId)).toContain('cli-fw');
    await ok('iot', 'delete-stream', '--stream-id', 'cli-fw');
    const missing = await aws('iot', 'describe-stream', '--stream-id', 'cli-fw');
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('(ResourceNotFoundException)');
    const refused = await aws(
      'iot',
      'create-stream',
      '--stream-id',
      'cli-bad',
      '--files',
      JSON.stringify([file(0, 'missing.bin')]),
      '--role-arn',
      readRole,
    );
    expect(refused.stderr).toContain('(InvalidRequestException)');
  });
});
