import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIALECTS } from '../helpers/postgres.js';
import { md5Base64, s3Client } from '../helpers/s3.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { rejection } from '../helpers/rejection.js';

describe.each(DIALECTS)('S3 with @aws-sdk/client-s3 (%s)', (dialect) => {
  let t: TestServer;
  let s3: S3Client;
  const text = async (bucket: string, key: string, extra: object = {}): Promise<string> => {
    const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, ...extra }));
    return r.Body!.transformToString();
  };

  beforeAll(async () => {
    t = await startTestServer({ dialect });
    s3 = s3Client(t);
  });
  afterAll(async () => {
    s3?.destroy();
    await t?.stop();
  });

  it('creates, lists, heads and deletes buckets with S3 errors', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'firmware' }));
    await s3.send(new CreateBucketCommand({ Bucket: 'scratch' }));
    expect(await rejection(s3.send(new CreateBucketCommand({ Bucket: 'firmware' })))).toMatchObject({
      name: 'BucketAlreadyOwnedByYou',
      status: 409,
    });
    expect(await rejection(s3.send(new CreateBucketCommand({ Bucket: 'Bad_Name' })))).toMatchObject({
      name: 'InvalidBucketName',
      status: 400,
    });
    const listed = await s3.send(new ListBucketsCommand({}));
    expect(listed.Buckets!.map((b) => b.Name)).toEqual(['firmware', 'scratch']);
    expect(listed.Buckets![0]!.CreationDate).toBeInstanceOf(Date);
    await s3.send(new HeadBucketCommand({ Bucket: 'firmware' }));
    expect(await rejection(s3.send(new HeadBucketCommand({ Bucket: 'nope-bucket' })))).toMatchObject({ status: 404 });
    expect(await rejection(s3.send(new ListObjectsV2Command({ Bucket: 'nope-bucket' })))).toMatchObject({
      name: 'NoSuchBucket',
      status: 404,
    });
    await s3.send(new PutObjectCommand({ Bucket: 'scratch', Key: 'x', Body: 'x' }));
    expect(await rejection(s3.send(new DeleteBucketCommand({ Bucket: 'scratch' })))).toMatchObject({
      name: 'BucketNotEmpty',
      status: 409,
    });
    await s3.send(new DeleteObjectCommand({ Bucket: 'scratch', Key: 'x' }));
    await s3.send(new DeleteBucketCommand({ Bucket: 'scratch' }));
    expect(await rejection(s3.send(new DeleteBucketCommand({ Bucket: 'scratch' })))).toMatchObject({
      name: 'NoSuchBucket',
    });
  });

  it('puts and gets objects with metadata, content type, checksums and MD5 ETags', async () => {
    const put = await s3.send(
      new PutObjectCommand({
        Bucket: 'firmware',
        Key: 'releases/v1.bin',
        Body: 'firmware v1',
        ContentType: 'application/x-firmware',
        Metadata: { build: '42', Channel: 'stable' },
        CacheControl: 'no-cache',
      }),
    );
    expect(put.ETag).toBe(`"${createHash('md5').update('firmware v1').digest('hex')}"`);
    expect(put.ChecksumCRC32).toBeDefined();
    const got = await s3.send(new GetObjectCommand({ Bucket: 'firmware', Key: 'releases/v1.bin' }));
    expect(await got.Body!.transformToString()).toBe('firmware v1');
    expect(got).toMatchObject({
      ContentType: 'application/x-firmware',
      ContentLength: 11,
      ETag: put.ETag,
      Metadata: { build: '42', channel: 'stable' },
      CacheControl: 'no-cache',
      ChecksumCRC32: put.ChecksumCRC32,
    });
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'firmware', Key: 'releases/v1.bin' }));
    expect(head).toMatchObject({ ContentLength: 11, ETag: put.ETag, ContentType: 'application/x-firmware' });

    const crc64 = await s3.send(
      new PutObjectCommand({ Bucket: 'firmware', Key: 'crc64', Body: 'x', ChecksumAlgorithm: 'CRC64NVME' }),
    );
    expect(crc64.ChecksumCRC64NVME).toBe('Lb1nAmRU5LE=');
    const sha = await s3.send(
      new PutObjectCommand({ Bucket: 'firmware', Key: 'sha', Body: 'abc', ChecksumAlgorithm: 'SHA256' }),
    );
    expect(sha.ChecksumSHA256).toBe('ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=');
  });

  it('streams bodies of unknown length (aws-chunked with a CRC32 trailer)', async () => {
    const parts = Array.from({ length: 50 }, (_, i) => Buffer.alloc(64 * 1024, i));
    const whole = Buffer.concat(parts);
    await s3.send(
      new PutObjectCommand({
        Bucket: 'firmware',
        Key: 'streamed.bin',
        Body: Readable.from(parts),
        ContentLength: whole.length,
      }),
    );
    const got = await s3.send(new GetObjectCommand({ Bucket: 'firmware', Key: 'streamed.bin' }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(whole)).toBe(true);
  });

  it('refuses a body whose declared checksum is wrong, and stores nothing', async () => {
    const err = await rejection(
      s3.send(new PutObjectCommand({ Bucket: 'firmware', Key: 'bad-crc', Body: 'payload', ChecksumCRC32: 'AAAAAA==' })),
    );
    expect(err).toMatchObject({ name: 'BadDigest', status: 400 });
    expect(await rejection(s3.send(new HeadObjectCommand({ Bucket: 'firmware', Key: 'bad-crc' })))).toMatchObject({
      status: 404,
    });
    const md5Err = await rejection(
      s3.send(
        new PutObjectCommand({ Bucket: 'firmware', Key: 'bad-md5', Body: 'payload', ContentMD5: md5Base64('other') }),
      ),
    );
    expect(md5Err).toMatchObject({ name: 'BadDigest' });
  });

  it('serves ranges, conditional requests and S3 errors for missing keys', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'firmware', Key: 'digits', Body: '0123456789' }));
    const r = await s3.send(new GetObjectCommand({ Bucket: 'firmware', Key: 'digits', Range: 'bytes=2-5' }));
    expect(await r.Body!.transformToString()).toBe('2345');
    expect(r.ContentRange).toBe('bytes 2-5/10');
    expect(r.$metadata.httpStatusCode).toBe(206);
    expect(await text('firmware', 'digits', { Range: 'bytes=7-' })).toBe('789');
    expect(await text('firmware', 'digits', { Range: 'bytes=-3' })).toBe('789');
    expect(await text('firmware', 'digits', { Range: 'bytes=8-100' })).toBe('89');
    expect(
      await rejection(s3.send(new GetObjectCommand({ Bucket: 'firmware', Key: 'digits', Range: 'bytes=10-' }))),
    ).toMatchObject({ name: 'InvalidRange', status: 416 });
    const etag = r.ETag!;
    expect(
      await rejection(s3.send(new GetObjectCommand({ Bucket: 'firmware', Key: 'digits', IfNoneMatch: etag }))),
    ).toMatchObject({ status: 304 });
    expect(
      await rejection(s3.send(new GetObjectCommand({ Bucket: 'firmware', Key: 'digits', IfMatch: '"nope"' }))),
    ).toMatchObject({ name: 'PreconditionFailed', status: 412 });
    expect(await text('firmware', 'digits', { IfMatch: etag })).toBe('0123456789');
    expect(await rejection(s3.send(new GetObjectCommand({ Bucket: 'firmware', Key: 'nope' })))).toMatchObject({
      name: 'NoSuchKey',
      status: 404,
      message: 'The specified key does not exist.',
    });
  });

  it('keeps versions, delete markers and version reads when versioning is enabled', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'versioned' }));
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: 'versioned' }))).Status).toBeUndefined();
    await s3.send(
      new PutBucketVersioningCommand({ Bucket: 'versioned', VersioningConfiguration: { Status: 'Enabled' } }),
    );
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: 'versioned' }))).Status).toBe('Enabled');
    const v1 = await s3.send(new PutObjectCommand({ Bucket: 'versioned', Key: 'fw.bin', Body: 'one' }));
    const v2 = await s3.send(new PutObjectCommand({ Bucket: 'versioned', Key: 'fw.bin', Body: 'two' }));
    expect(v1.VersionId).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(v2.VersionId).not.toBe(v1.VersionId);
    expect(await text('versioned', 'fw.bin')).toBe('two');
    expect(await text('versioned', 'fw.bin', { VersionId: v1.VersionId })).toBe('one');

    const del = await s3.send(new DeleteObjectCommand({ Bucket: 'versioned', Key: 'fw.bin' }));
    expect(del.DeleteMarker).toBe(true);
    expect(await rejection(s3.send(new GetObjectCommand({ Bucket: 'versioned', Key: 'fw.bin' })))).toMatchObject({
      name: 'NoSuchKey',
    });
    expect(await text('versioned', 'fw.bin', { VersionId: v1.VersionId })).toBe('one');
    expect(
      await rejection(s3.send(new GetObjectCommand({ Bucket: 'versioned', Key: 'fw.bin', VersionId: del.VersionId }))),
    ).toMatchObject({ name: 'MethodNotAllowed', status: 405 });
    expect(
      await rejection(s3.send(new GetObjectCommand({ Bucket: 'versioned', Key: 'fw.bin', VersionId: 'nope' }))),
    ).toMatchObject({ name: 'NoSuchVersion', status: 404 });

    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: 'versioned' }));
    expect(versions.DeleteMarkers).toMatchObject([{ Key: 'fw.bin', VersionId: del.VersionId, IsLatest: true }]);
    expect(versions.Versions!.map((v) => [v.VersionId, v.IsLatest, v.Size])).toEqual([
      [v2.VersionId, false, 3],
      [v1.VersionId, false, 3],
    ]);
    // Removing the delete marker makes v2 current again.
    await s3.send(new DeleteObjectCommand({ Bucket: 'versioned', Key: 'fw.bin', VersionId: del.VersionId }));
    expect(await text('versioned', 'fw.bin')).toBe('two');
    await s3.send(new DeleteObjectCommand({ Bucket: 'versioned', Key: 'fw.bin', VersionId: v2.VersionId }));
    expect(await text('versioned', 'fw.bin')).toBe('one');
    const page = await s3.send(new ListObjectVersionsCommand({ Bucket: 'versioned', MaxKeys: 1 }));
    expect(page.Versions!.map((v) => v.VersionId)).toEqual([v1.VersionId]);
    expect(page.IsTruncated).toBe(false);
  });

  it('suspended versioning overwrites the null version', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'suspended' }));
    await s3.send(
      new PutBucketVersioningCommand({ Bucket: 'suspended', VersioningConfiguration: { Status: 'Enabled' } }),
    );
    const kept = await s3.send(new PutObjectCommand({ Bucket: 'suspended', Key: 'k', Body: 'kept' }));
    await s3.send(
      new PutBucketVersioningCommand({ Bucket: 'suspended', VersioningConfiguration: { Status: 'Suspended' } }),
    );
    const n1 = await s3.send(new PutObjectCommand({ Bucket: 'suspended', Key: 'k', Body: 'null-1' }));
    expect(n1.VersionId).toBe('null');
    await s3.send(new PutObjectCommand({ Bucket: 'suspended', Key: 'k', Body: 'null-2' }));
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: 'suspended' }));
    expect(versions.Versions!.map((v) => [v.VersionId, v.IsLatest])).toEqual([
      ['null', true],
      [kept.VersionId, false],
    ]);
    expect(await text('suspended', 'k')).toBe('null-2');
  });

  it('lists with prefixes, delimiters, pages and unusual keys', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'listing' }));
    const keys = ['a.txt', 'dir/one', 'dir/sub/two', 'dir/three', 'dir2/x', 'plus+and space.bin', 'ünïcode/ключ', 'z'];
    for (const Key of keys) await s3.send(new PutObjectCommand({ Bucket: 'listing', Key, Body: Key }));
    const all = await s3.send(new ListObjectsV2Command({ Bucket: 'listing' }));
    expect(all.Contents!.map((c) => c.Key)).toEqual(
      [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))),
    );
    expect(all.KeyCount).toBe(keys.length);

    const top = await s3.send(new ListObjectsV2Command({ Bucket: 'listing', Delimiter: '/' }));
    expect(top.Contents!.map((c) => c.Key)).toEqual(['a.txt', 'plus+and space.bin', 'z']);
    expect(top.CommonPrefixes!.map((p) => p.Prefix)).toEqual(['dir/', 'dir2/', 'ünïcode/']);

    const dir = await s3.send(new ListObjectsV2Command({ Bucket: 'listing', Prefix: 'dir/', Delimiter: '/' }));
    expect(dir.Contents!.map((c) => c.Key)).toEqual(['dir/one', 'dir/three']);
    expect(dir.CommonPrefixes!.map((p) => p.Prefix)).toEqual(['dir/sub/']);

    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: 'listing', Delimiter: '/', MaxKeys: 2, ContinuationToken: token }),
      );
      seen.push(...(page.Contents ?? []).map((c) => c.Key!), ...(page.CommonPrefixes ?? []).map((p) => p.Prefix!));
      token = page.NextContinuationToken;
      expect(page.IsTruncated).toBe(token !== undefined);
    } while (token);
    expect(seen.sort()).toEqual(['a.txt', 'dir/', 'dir2/', 'plus+and space.bin', 'z', 'ünïcode/'].sort());

    const after = await s3.send(new ListObjectsV2Command({ Bucket: 'listing', StartAfter: 'dir2/x' }));
    expect(after.Contents!.map((c) => c.Key)).toEqual(['plus+and space.bin', 'z', 'ünïcode/ключ']);
    const v1 = await s3.send(new ListObjectsCommand({ Bucket: 'listing', Delimiter: '/', MaxKeys: 2 }));
    expect(v1.IsTruncated).toBe(true);
    const v1next = await s3.send(new ListObjectsCommand({ Bucket: 'listing', Delimiter: '/', Marker: v1.NextMarker }));
    expect([
      ...(v1next.Contents ?? []).map((c) => c.Key),
      ...(v1next.CommonPrefixes ?? []).map((p) => p.Prefix),
    ]).toEqual(['plus+and space.bin', 'z', 'dir2/', 'ünïcode/']);
    expect(await text('listing', 'plus+and space.bin')).toBe('plus+and space.bin');
    expect(await text('listing', 'ünïcode/ключ')).toBe('ünïcode/ключ');
  });

  it('never lets a key reach the file system', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'escape' }));
    const evil = ['../../../../etc/evil', '..', '/abs/path', 'a/../../b', '%2e%2e/x'];
    for (const Key of evil) await s3.send(new PutObjectCommand({ Bucket: 'escape', Key, Body: Key }));
    for (const Key of evil) expect(await text('escape', Key)).toBe(Key);
    const objectsDir = join(t.dataDir, 'objects');
    expect(readdirSync(objectsDir).sort()).toEqual(['blobs', 'tmp']);
    for (const shard of readdirSync(join(objectsDir, 'blobs'))) {
      expect(shard).toMatch(/^[0-9a-f]{2}$/);
      for (const f of readdirSync(join(objectsDir, 'blobs', shard))) expect(f).toMatch(/^[0-9a-f]{32}$/);
    }
    expect(readdirSync(t.dataDir).filter((f) => f === 'evil' || f === 'abs')).toEqual([]);
  });

  it('copies objects, keeping or replacing metadata, from a given version', async () => {
    const src = await s3.send(
      new PutObjectCommand({
        Bucket: 'versioned',
        Key: 'src',
        Body: 'copy me',
        Metadata: { a: '1' },
        ContentType: 'text/x-a',
      }),
    );
    await s3.send(new PutObjectCommand({ Bucket: 'versioned', Key: 'src', Body: 'newer' }));
    const copied = await s3.send(
      new CopyObjectCommand({
        Bucket: 'firmware',
        Key: 'copied',
        CopySource: `versioned/src?versionId=${src.VersionId}`,
      }),
    );
    expect(copied.CopySourceVersionId).toBe(src.VersionId);
    expect(copied.CopyObjectResult!.ETag).toBe(src.ETag);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'firmware', Key: 'copied' }));
    expect(await got.Body!.transformToString()).toBe('copy me');
    expect(got).toMatchObject({ ContentType: 'text/x-a', Metadata: { a: '1' } });

    await s3.send(
      new CopyObjectCommand({
        Bucket: 'firmware',
        Key: 'copied',
        CopySource: 'firmware/copied',
        MetadataDirective: 'REPLACE',
        Metadata: { b: '2' },
        ContentType: 'text/x-b',
      }),
    );
    expect(await s3.send(new HeadObjectCommand({ Bucket: 'firmware', Key: 'copied' }))).toMatchObject({
      ContentType: 'text/x-b',
      Metadata: { b: '2' },
    });
    expect(
      await rejection(
        s3.send(new CopyObjectCommand({ Bucket: 'firmware', Key: 'copied', CopySource: 'firmware/copied' })),
      ),
    ).toMatchObject({ name: 'InvalidRequest', status: 400 });
    expect(
      await rejection(s3.send(new CopyObjectCommand({ Bucket: 'firmware', Key: 'c2', CopySource: 'firmware/none' }))),
    ).toMatchObject({ name: 'NoSuchKey' });
  });

  it('deletes many keys at once', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'bulk' }));
    for (const Key of ['a', 'b', 'c']) await s3.send(new PutObjectCommand({ Bucket: 'bulk', Key, Body: Key }));
    const r = await s3.send(
      new DeleteObjectsCommand({
        Bucket: 'bulk',
        Delete: { Objects: [{ Key: 'a' }, { Key: 'b' }, { Key: 'missing' }] },
      }),
    );
    expect(r.Deleted!.map((d) => d.Key).sort()).toEqual(['a', 'b', 'missing']);
    expect((await s3.send(new ListObjectsV2Command({ Bucket: 'bulk' }))).Contents!.map((c) => c.Key)).toEqual(['c']);
  });

  it('refuses a wrong secret and an unknown access key', async () => {
    const wrong = s3Client(t, { accessKeyId: t.credentials.accessKeyId, secretAccessKey: 'nope' });
    expect(await rejection(wrong.send(new ListBucketsCommand({})))).toMatchObject({
      name: 'SignatureDoesNotMatch',
      status: 403,
    });
    wrong.destroy();
    const unknown = s3Client(t, { accessKeyId: 'AKIAUNKNOWNUNKNOWN00', secretAccessKey: 'nope' });
    expect(await rejection(unknown.send(new ListBucketsCommand({})))).toMatchObject({
      name: 'InvalidAccessKeyId',
      status: 403,
    });
    unknown.destroy();
  });
});
