import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, cliEnv } from '../helpers/cli.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe('fleetjobs CLI: files (S3), roles (IAM) and signing (Signer) against a real server', () => {
  let t: TestServer;
  let env: NodeJS.ProcessEnv;
  const run = (...args: string[]) => cli([...args, '--output', 'json'], { env, cwd: t.dataDir });

  beforeAll(async () => {
    t = await startTestServer();
    env = cliEnv(t);
  });
  afterAll(() => t.stop());

  it('makes a versioned bucket, uploads with a progress bar, lists objects and versions, downloads', async () => {
    expect((await run('files', 'mb', 'firmware')).json).toEqual({ bucket: 'firmware', versioning: 'Enabled' });
    expect((await run('files', 'buckets')).json.buckets.map((b: { Name: string }) => b.Name)).toContain('firmware');
    writeFileSync(join(t.dataDir, 'app.bin'), 'version one');
    const first = await run('files', 'upload', 'app.bin', 's3://firmware/apps/');
    expect(first.code).toBe(0);
    expect(first.json).toMatchObject({
      bucket: 'firmware',
      key: 'apps/app.bin',
      size: 11,
      url: 's3://firmware/apps/app.bin',
      placeholder: '${aws:iot:s3-presigned-url:https://s3.us-east-1.amazonaws.com/firmware/apps/app.bin}',
    });
    expect(first.stderr).toMatch(/^app\.bin \[░+\] 0% 0 B\/11 B .*\napp\.bin \[█+\] 100% 11 B\/11 B .*\n$/);
    writeFileSync(join(t.dataDir, 'app.bin'), 'version two!');
    const second = await run('files', 'upload', 'app.bin', 's3://firmware/apps/app.bin');
    expect(second.json.versionId).not.toBe(first.json.versionId);

    const listed = await run('files', 'list', 's3://firmware/apps');
    expect(listed.json.objects).toMatchObject([{ Key: 'apps/app.bin', Size: 12 }]);
    const versions = await run('files', 'versions', 's3://firmware/apps/app.bin');
    expect(versions.json.versions.map((v: { VersionId: string }) => v.VersionId)).toEqual([
      second.json.versionId,
      first.json.versionId,
    ]);
    const old = await run(
      'files',
      'download',
      's3://firmware/apps/app.bin',
      'old.bin',
      '--version-id',
      first.json.versionId,
    );
    expect(old.code).toBe(0);
    expect(readFileSync(join(t.dataDir, 'old.bin'), 'utf8')).toBe('version one');
    expect((await run('files', 'download', 's3://firmware/nope', 'x.bin')).code).toBe(3);
    expect((await run('files', 'upload', 'missing.bin', 's3://firmware/x')).code).toBe(2);
  });

  it('uploads big files in parts', async () => {
    const data = randomBytes(11 * 1024 * 1024 + 123);
    writeFileSync(join(t.dataDir, 'big.bin'), data);
    const r = await run('files', 'upload', 'big.bin', 's3://firmware/big.bin', '--part-size', String(5 * 1024 * 1024));
    expect(r.code).toBe(0);
    expect(r.json.eTag).toMatch(/-3"$/); // a multipart ETag names its part count
    expect(r.stderr.trim().split('\n').length).toBeGreaterThanOrEqual(4);
    await run('files', 'download', 's3://firmware/big.bin', 'big.out');
    expect(readFileSync(join(t.dataDir, 'big.out')).equals(data)).toBe(true);
  });

  it('creates the presign role with the trust conditions and the GetObject policy', async () => {
    const r = await run(
      'roles',
      'create',
      'presign',
      '--allow-get',
      's3://firmware/apps',
      '--description',
      'downloads',
    );
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({
      roleName: 'presign',
      arn: 'arn:aws:iam::000000000000:role/presign',
      inlinePolicies: ['fleetjobs-presigned-downloads'],
    });
    expect(r.json.trustPolicy.Statement[0]).toEqual({
      Effect: 'Allow',
      Principal: { Service: 'iot.amazonaws.com' },
      Action: 'sts:AssumeRole',
      Condition: {
        StringEquals: { 'aws:SourceAccount': '000000000000' },
        ArnLike: { 'aws:SourceArn': 'arn:aws:iot:us-east-1:000000000000:job/*' },
      },
    });
    expect((await run('roles', 'list')).json.roles.map((x: { RoleName: string }) => x.RoleName)).toContain('presign');
    expect((await run('roles', 'create', 'presign')).code).toBe(4);
    expect((await run('roles', 'delete', 'presign')).code).toBe(0);
    expect((await run('roles', 'describe', 'presign')).code).toBe(3);
  });

  it('manages signing profiles, signs an object version and verifies it offline', async () => {
    const platforms = await run('signing', 'platforms');
    expect(platforms.json.platforms.map((p: { platformId: string }) => p.platformId)).toContain(
      'AWSIoTDeviceManagement-SHA256-ECDSA',
    );
    const made = await run('signing', 'profiles', 'create', 'fw_signer');
    expect(made.code).toBe(0);
    expect(made.json.profileVersion).toMatch(/^[A-Za-z0-9]{10}$/);
    expect((await run('signing', 'profiles', 'list')).json.profiles).toMatchObject([
      { profileName: 'fw_signer', status: 'Active' },
    ]);
    const cert = await run('signing', 'profiles', 'certificate', 'fw_signer', '--out', 'signer.pem');
    expect(cert.code).toBe(0);
    expect(readFileSync(join(t.dataDir, 'signer.pem'), 'utf8')).toMatch(/^-----BEGIN CERTIFICATE-----/);

    const signed = await run(
      'signing',
      'sign',
      's3://firmware/apps/app.bin',
      '--signing-profile',
      'fw_signer',
      '--out',
      'app.sig.json',
    );
    expect(signed.code).toBe(0);
    expect(signed.json.block).toMatchObject({ rawPayloadSize: 12, signatureAlgorithm: 'SHA256withECDSA' });
    expect((await run('signing', 'jobs', 'list')).json.jobs[0]).toMatchObject({
      jobId: signed.json.jobId,
      status: 'Succeeded',
    });

    await run('files', 'download', 's3://firmware/apps/app.bin', 'app.now');
    const ok = await cli(
      ['verify', 'app.now', '--signature', 'app.sig.json', '--certificate', 'signer.pem', '-o', 'json'],
      {
        cwd: t.dataDir,
        env: {},
      },
    );
    expect(ok.code).toBe(0);
    expect(ok.json).toMatchObject({ file: 'app.now', ok: true, algorithm: 'SHA256withECDSA', size: 12 });
    writeFileSync(join(t.dataDir, 'app.now'), 'version two?');
    const bad = await cli(['verify', 'app.now', '--signature', 'app.sig.json', '--certificate', 'signer.pem'], {
      cwd: t.dataDir,
      env: {},
    });
    expect(bad.code).toBe(9);
    expect((await run('signing', 'profiles', 'certificate', 'nope')).code).toBe(3);
  });

  it('creates jobs from a document in S3, and signs the files of one with --sign-with', async () => {
    await run('things', 'create', 'obj-thing');
    const role = await run('roles', 'create', 'jobs-role', '--allow-get', 's3://firmware/');
    writeFileSync(join(t.dataDir, 'plain.json'), JSON.stringify({ version: '1.0', steps: [] }));
    await run('files', 'upload', 'plain.json', 's3://firmware/docs/plain.json');
    const plainJob = await run(
      'jobs',
      'create',
      'from-s3',
      '--document-source',
      's3://firmware/docs/plain.json',
      '--thing',
      'obj-thing',
    );
    expect(plainJob.code).toBe(0);
    const d = await run('jobs', 'describe', 'from-s3', '--document');
    expect(d.json.documentSource).toBe('https://s3.us-east-1.amazonaws.com/firmware/docs/plain.json');
    expect(JSON.parse(d.json.document)).toEqual({ version: '1.0', steps: [] });

    const doc = {
      version: '1.0',
      files: [
        {
          name: 'app.bin',
          url: '${aws:iot:s3-presigned-url:https://s3.us-east-1.amazonaws.com/firmware/apps/app.bin}',
        },
      ],
      steps: [],
    };
    writeFileSync(join(t.dataDir, 'signed.json'), JSON.stringify(doc));
    await run('files', 'upload', 'signed.json', 's3://firmware/docs/signed.json');
    const signed = await run(
      'jobs', 'create', 'signed-s3', '--document-source', 's3://firmware/docs/signed.json', '--thing', 'obj-thing',
      '--presign-role', role.json.arn, '--sign-with', 'fw_signer',
    ); // prettier-ignore
    expect(signed.code).toBe(0);
    const stored = JSON.parse((await run('jobs', 'document', 'signed-s3')).json.document);
    expect(stored.files[0].codesign).toMatchObject({ rawPayloadSize: 12, signatureAlgorithm: 'SHA256withECDSA' });
    const version = (await run('files', 'versions', 's3://firmware/apps/app.bin')).json.versions[0].VersionId;
    expect(stored.files[0].url).toBe(
      `\${aws:iot:s3-presigned-url-v2:https://s3.us-east-1.amazonaws.com/firmware/apps/app.bin%3FversionId%3D${version}}`,
    );
    const nothing = await run(
      'jobs',
      'create',
      'x',
      '--document-source',
      's3://firmware/docs/plain.json',
      '--thing',
      'obj-thing',
      '--sign-with',
      'fw_signer',
    );
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toMatch(/--sign-with: the document has no .* placeholder and no presigned-URL file to sign/);
  });
});
