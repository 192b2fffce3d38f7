import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, cliEnv } from '../helpers/cli.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe('fleetjobs streams (CLI) against a real server', () => {
  let t: TestServer;
  let env: NodeJS.ProcessEnv;
  const run = (...args: string[]) => cli([...args, '--output', 'json'], { env, cwd: t.dataDir });

  beforeAll(async () => {
    t = await startTestServer();
    env = cliEnv(t);
  });
  afterAll(() => t.stop());

  it('creates a role for streams, a stream of uploaded files, and describes, lists, updates and deletes it', async () => {
    expect((await run('files', 'mb', 'firmware')).code).toBe(0);
    writeFileSync(join(t.dataDir, 'fw.bin'), 'firmware one');
    const up = await run('files', 'upload', 'fw.bin', 's3://firmware/fw.bin');
    expect(up.code).toBe(0);
    const role = await run('roles', 'create', 'stream-reader', '--allow-get', 's3://firmware', '--for', 'stream');
    expect(role.json.trustPolicy.Statement[0].Condition.ArnLike['aws:SourceArn']).toBe(
      'arn:aws:iot:us-east-1:000000000000:stream/*',
    );
    const roleArn = role.json.arn as string;

    const created = await run(
      'streams',
      'create',
      'fw-1',
      '--file',
      `0=s3://firmware/fw.bin?versionId=${up.json.versionId as string}`,
      '--file',
      '5=s3://firmware/fw.bin',
      '--role-arn',
      roleArn,
      '--description',
      'firmware one',
      '--tags',
      'team=ota',
    );
    expect(created.code).toBe(0);
    expect(created.json).toEqual({
      streamId: 'fw-1',
      streamArn: 'arn:aws:iot:us-east-1:000000000000:stream/fw-1',
      streamVersion: 1,
      description: 'firmware one',
    });
    const described = await run('streams', 'describe', 'fw-1');
    expect(described.json).toMatchObject({
      streamId: 'fw-1',
      streamVersion: 1,
      roleArn,
      files: [
        { fileId: 0, s3Location: { bucket: 'firmware', key: 'fw.bin', version: up.json.versionId } },
        { fileId: 5, s3Location: { bucket: 'firmware', key: 'fw.bin' } },
      ],
    });
    await run('streams', 'create', 'fw-2', '--file', '0=s3://firmware/fw.bin', '--role-arn', roleArn);
    expect((await run('streams', 'list')).json.streams.map((s: { streamId: string }) => s.streamId)).toEqual([
      'fw-2',
      'fw-1',
    ]);
    expect(
      (await run('streams', 'list', '--ascending', '--max-items', '1')).json.streams.map(
        (s: { streamId: string }) => s.streamId,
      ),
    ).toEqual(['fw-1']);
    const table = await cli(['streams', 'list'], { env, cwd: t.dataDir });
    expect(table.stdout).toMatch(/STREAM\s+VERSION\s+DESCRIPTION/);
    expect(table.stdout).toMatch(/fw-1\s+1\s+firmware one/);

    expect((await run('streams', 'update', 'fw-1', '--description', 'firmware one, again')).json).toMatchObject({
      streamVersion: 2,
      description: 'firmware one, again',
    });
    expect((await run('streams', 'delete', 'fw-1')).json).toEqual({ streamId: 'fw-1', deleted: true });
  });

  it('exits non-zero with the AWS error on refusals and usage errors', async () => {
    const missing = await run('streams', 'describe', 'absent');
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('ResourceNotFoundException');
    const noObject = await run(
      'streams',
      'create',
      'bad',
      '--file',
      '0=s3://firmware/missing.bin',
      '--role-arn',
      'arn:aws:iam::000000000000:role/stream-reader',
    );
    expect(noObject.code).not.toBe(0);
    expect(noObject.stderr).toContain('Unable to access file 0');
    expect((await run('streams', 'create', 'bad', '--file', 'x', '--role-arn', 'r')).code).toBe(2);
    expect((await run('streams', 'create', 'bad', '--file', '300=s3://b/k', '--role-arn', 'r')).code).toBe(2);
    expect((await run('streams', 'update', 'fw-2')).code).toBe(2);
    expect((await run('roles', 'create', 'r2', '--for', 'thing')).code).toBe(2);
  });
});
