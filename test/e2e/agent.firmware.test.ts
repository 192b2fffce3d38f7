import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeJobExecutionCommand } from '@aws-sdk/client-iot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handlerDir } from '../helpers/agent.js';
import { cli, cliEnv } from '../helpers/cli.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * The whole path of a signed firmware update, every step through the fleetjobs CLI and the
 * reference agent: upload, presign role, signing profile, device, job with --sign-with and
 * --presign-role, the agent downloading over HTTPS from a presigned URL and verifying the signature.
 */
describe('a signed firmware job, end to end', () => {
  let t: TestServer;
  let env: NodeJS.ProcessEnv;
  let work: string;
  let roleArn: string;
  const firmware = randomBytes(300_000);
  const run = (...args: string[]) => cli([...args, '--output', 'json'], { env, cwd: work });
  const execution = async (jobId: string, thingName: string) =>
    (await t.iot().send(new DescribeJobExecutionCommand({ jobId, thingName }))).execution!;

  beforeAll(async () => {
    t = await startTestServer();
    env = cliEnv(t);
    work = mkdtempSync(join(tmpdir(), 'fj-fw-'));
    writeFileSync(join(work, 'fw.bin'), firmware);
    expect((await run('files', 'mb', 'firmware')).code).toBe(0);
    expect((await run('files', 'upload', 'fw.bin', 's3://firmware/releases/fw-2.0.bin')).code).toBe(0);
    const role = await run('roles', 'create', 'jobs-presign', '--allow-get', 's3://firmware/releases/');
    roleArn = role.json.arn;
    expect((await run('signing', 'profiles', 'create', 'fw_release')).code).toBe(0);
    expect((await run('signing', 'profiles', 'certificate', 'fw_release', '--out', 'signer.pem')).code).toBe(0);
    expect(
      (await run('device', 'provision', 'gw-1', '--out', 'gw-1', '--ca', t.server.endpoints.caCertificate!)).code,
    ).toBe(0);
  });
  afterAll(() => t.stop());

  const handlers = () =>
    handlerDir({
      'install.sh': `cp "$2" "${join(work, 'installed.bin')}" && echo "installed $(wc -c < "$2") bytes"`,
    });

  it('signs at creation, presigns at delivery, and the device verifies and installs the exact bytes', async () => {
    writeFileSync(
      join(work, 'job.json'),
      JSON.stringify({
        version: '1.0',
        includeStdOut: true,
        files: [
          {
            name: 'fw.bin',
            url: '${aws:iot:s3-presigned-url:https://s3.us-east-1.amazonaws.com/firmware/releases/fw-2.0.bin}',
          },
        ],
        steps: [
          {
            action: { name: 'install', type: 'runHandler', input: { handler: 'install.sh', args: ['${file:fw.bin}'] } },
          },
        ],
      }),
    );
    const made = await run(
      'jobs',
      'create',
      'fw-2-0',
      '--document',
      'job.json',
      '--thing',
      'gw-1',
      '--presign-role',
      roleArn,
      '--presign-expiry',
      '300',
      '--sign-with',
      'fw_release',
    );
    expect(made.stderr).toMatch(
      /will sign s3:\/\/firmware\/releases\/fw-2\.0\.bin \(version .+\) with profile fw_release/,
    );
    expect(made.code).toBe(0);

    // The stored document carries the signature block and a URL pinned to the signed version.
    const doc = JSON.parse((await run('jobs', 'document', 'fw-2-0')).json.document);
    expect(doc.files[0].codesign).toMatchObject({
      rawPayloadSize: firmware.length,
      signatureAlgorithm: 'SHA256withECDSA',
    });
    expect(doc.files[0].url).toMatch(
      /^\$\{aws:iot:s3-presigned-url-v2:https:\/\/s3\.us-east-1\.amazonaws\.com\/firmware\/releases\/fw-2\.0\.bin%3FversionId%3D.+\}$/,
    );

    const r = await cli(
      [
        'agent',
        '--device-dir',
        'gw-1',
        '--handler-dir',
        handlers(),
        '--signer-cert',
        'signer.pem',
        '--require-signature',
        '--once',
      ],
      {
        env: {},
        cwd: work,
      },
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/downloaded fw\.bin \(300000 bytes\)/);
    expect(r.stderr).toMatch(/fw\.bin: code signature verified \(CN=fw_release code signing/);
    const e = await execution('fw-2-0', 'gw-1');
    expect(e.status).toBe('SUCCEEDED');
    expect(e.statusDetails?.detailsMap).toEqual({ reason: '1 step succeeded', stdout: 'installed 300000 bytes' });
    expect(readFileSync(join(work, 'installed.bin')).equals(firmware)).toBe(true);
  });

  it('REJECTS firmware whose bytes are not the signed ones, and installs nothing', async () => {
    // (The agent's own check of a tampered download is in agent.test.ts; here the server's guard
    // acts first.)
    // Someone replaces the release in the bucket; the job still carries the signature of the original.
    const signedVersion = (await run('files', 'versions', 's3://firmware/releases/fw-2.0.bin')).json.versions[0]
      .VersionId;
    const tampered = Buffer.from(firmware);
    tampered[1234] = tampered[1234]! ^ 0xff;
    writeFileSync(join(work, 'evil.bin'), tampered);
    const evil = await run('files', 'upload', 'evil.bin', 's3://firmware/releases/fw-2.0.bin');
    writeFileSync(join(work, 'installed.bin'), 'nothing yet');
    writeFileSync(
      join(work, 'evil.json'),
      JSON.stringify({
        version: '1.0',
        files: [
          {
            name: 'fw.bin',
            url: `\${aws:iot:s3-presigned-url-v2:https://s3.us-east-1.amazonaws.com/firmware/releases/fw-2.0.bin%3FversionId%3D${evil.json.versionId}}`,
            codesign: `\${aws:iot:code-sign-signature:s3://us-east-1.firmware/releases/fw-2.0.bin@${signedVersion}}`,
          },
        ],
        steps: [
          {
            action: { name: 'install', type: 'runHandler', input: { handler: 'install.sh', args: ['${file:fw.bin}'] } },
          },
        ],
      }),
    );
    const made = await run(
      'jobs',
      'create',
      'fw-evil',
      '--document',
      'evil.json',
      '--thing',
      'gw-1',
      '--presign-role',
      roleArn,
      '--sign-with',
      'fw_release',
    );
    expect(made.code).toBe(0);
    const r = await cli(
      ['agent', '--device-dir', 'gw-1', '--handler-dir', handlers(), '--signer-cert', 'signer.pem', '--once'],
      {
        env: {},
        cwd: work,
      },
    );
    expect(r.code).toBe(0);
    // The server withholds a document whose file no longer matches its signature; the device
    // rejects the job it cannot get, with the service's reason, and the queue moves on.
    const e = await execution('fw-evil', 'gw-1');
    expect(e.status).toBe('REJECTED');
    expect(e.statusDetails?.detailsMap?.reason).toMatch(
      /^the service refused the job document: Job fw-evil: the document is withheld because s3:\/\/firmware\/releases\/fw-2\.0\.bin\?versionId=.+ no longer matches its code signature/,
    );
    expect(readFileSync(join(work, 'installed.bin'), 'utf8')).toBe('nothing yet');
  });
});
