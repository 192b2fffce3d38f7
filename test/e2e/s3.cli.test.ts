import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsCli } from '../helpers/aws-cli.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('S3 with the aws CLI (aws s3, aws s3api)', () => {
  let t: TestServer;
  let dir: string;
  const aws = (...args: string[]) => awsCli(t.endpoint, t.awsEnv(), args);
  beforeAll(async () => {
    t = await startTestServer();
    dir = mkdtempSync(join(tmpdir(), 'fleetjobs-s3cli-'));
  });
  afterAll(async () => {
    await t?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('s3api: put-object (Expect: 100-continue and Content-MD5), head, get, versions, delete', async () => {
    expect((await aws('s3api', 'create-bucket', '--bucket', 'cli-bucket')).code).toBe(0);
    const versioning = await aws(
      's3api',
      'put-bucket-versioning',
      '--bucket',
      'cli-bucket',
      '--versioning-configuration',
      'Status=Enabled',
    );
    expect(versioning.code, versioning.stderr).toBe(0);
    expect((await aws('s3api', 'get-bucket-versioning', '--bucket', 'cli-bucket')).json).toEqual({ Status: 'Enabled' });
    const file = join(dir, 'small.bin');
    const content = randomBytes(3000);
    writeFileSync(file, content);
    const md5 = createHash('md5').update(content).digest('base64');
    const put = await aws(
      's3api',
      'put-object',
      '--bucket',
      'cli-bucket',
      '--key',
      'dir/small.bin',
      '--body',
      file,
      '--content-md5',
      md5,
      '--metadata',
      'build=7',
    );
    expect(put.code, put.stderr).toBe(0);
    const putOut = put.json as { ETag: string; VersionId: string };
    expect(putOut.ETag).toBe(`"${createHash('md5').update(content).digest('hex')}"`);
    const head = await aws('s3api', 'head-object', '--bucket', 'cli-bucket', '--key', 'dir/small.bin');
    expect(head.json).toMatchObject({ ContentLength: 3000, Metadata: { build: '7' }, VersionId: putOut.VersionId });
    const out = join(dir, 'small.out');
    const get = await aws('s3api', 'get-object', '--bucket', 'cli-bucket', '--key', 'dir/small.bin', out);
    expect(get.code, get.stderr).toBe(0);
    expect(readFileSync(out).equals(content)).toBe(true);

    const badMd5 = await aws(
      's3api',
      'put-object',
      '--bucket',
      'cli-bucket',
      '--key',
      'bad',
      '--body',
      file,
      '--content-md5',
      createHash('md5').update('other').digest('base64'),
    );
    expect(badMd5.code).not.toBe(0);
    expect(badMd5.stderr).toContain('BadDigest');

    const del = await aws('s3api', 'delete-object', '--bucket', 'cli-bucket', '--key', 'dir/small.bin');
    expect(del.json).toMatchObject({ DeleteMarker: true });
    const versions = await aws('s3api', 'list-object-versions', '--bucket', 'cli-bucket');
    const v = versions.json as { Versions: { VersionId: string }[]; DeleteMarkers: { IsLatest: boolean }[] };
    expect(v.Versions.map((x) => x.VersionId)).toEqual([putOut.VersionId]);
    expect(v.DeleteMarkers).toMatchObject([{ IsLatest: true }]);
    const missing = await aws('s3api', 'get-object', '--bucket', 'cli-bucket', '--key', 'dir/small.bin', out);
    expect(missing.stderr).toContain('NoSuchKey');
    const old = await aws(
      's3api',
      'get-object',
      '--bucket',
      'cli-bucket',
      '--key',
      'dir/small.bin',
      '--version-id',
      putOut.VersionId,
      out,
    );
    expect(old.code, old.stderr).toBe(0);
  });

  it('s3: mb, multipart cp up and down byte-exact, ls, sync, rm, rb', async () => {
    expect((await aws('s3', 'mb', 's3://cli-files')).code).toBe(0);
    const big = randomBytes(20 * 1024 * 1024 + 123);
    writeFileSync(join(dir, 'big.bin'), big);
    const up = await aws('s3', 'cp', join(dir, 'big.bin'), 's3://cli-files/fw/big.bin');
    expect(up.code, up.stderr).toBe(0);
    const head = await aws('s3api', 'head-object', '--bucket', 'cli-files', '--key', 'fw/big.bin');
    expect((head.json as { ETag: string }).ETag).toMatch(/-\d+"$/); // multipart ETag
    const down = await aws('s3', 'cp', 's3://cli-files/fw/big.bin', join(dir, 'big.out'));
    expect(down.code, down.stderr).toBe(0);
    expect(sha(readFileSync(join(dir, 'big.out')))).toBe(sha(big));

    writeFileSync(join(dir, 'name with spaces+plus.txt'), 'odd name');
    expect((await aws('s3', 'cp', join(dir, 'name with spaces+plus.txt'), 's3://cli-files/odd/')).code).toBe(0);
    const ls = await aws('s3', 'ls', 's3://cli-files/', '--recursive');
    expect(ls.stdout).toContain('fw/big.bin');
    expect(ls.stdout).toContain('odd/name with spaces+plus.txt');
    const top = await aws('s3', 'ls', 's3://cli-files/');
    expect(top.stdout).toMatch(/PRE fw\//);
    const got = await aws('s3', 'cp', 's3://cli-files/odd/name with spaces+plus.txt', join(dir, 'odd.out'));
    expect(got.code, got.stderr).toBe(0);
    expect(readFileSync(join(dir, 'odd.out'), 'utf8')).toBe('odd name');

    const syncDir = join(dir, 'sync');
    const sync = await aws('s3', 'sync', 's3://cli-files/odd/', syncDir);
    expect(sync.code, sync.stderr).toBe(0);
    expect(readFileSync(join(syncDir, 'name with spaces+plus.txt'), 'utf8')).toBe('odd name');

    expect((await aws('s3', 'rm', 's3://cli-files/odd/name with spaces+plus.txt')).code).toBe(0);
    const rb = await aws('s3', 'rb', 's3://cli-files', '--force');
    expect(rb.code, rb.stderr).toBe(0);
    const buckets = await aws('s3api', 'list-buckets');
    expect((buckets.json as { Buckets: { Name: string }[] }).Buckets.map((b) => b.Name)).not.toContain('cli-files');
  });
});
