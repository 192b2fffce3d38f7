import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListPartsCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { md5Base64, s3Client, sendRaw, sha256, signedChunkedBody, signS3Headers } from '../helpers/s3.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const MiB = 1024 * 1024;

async function rejection(p: Promise<unknown>): Promise<{ name: string; status?: number }> {
  try {
    await p;
  } catch (err) {
    const e = err as { name: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, status: e.$metadata?.httpStatusCode };
  }
  throw new Error('expected the call to fail');
}

const blobFiles = (dataDir: string): string[] =>
  readdirSync(join(dataDir, 'objects', 'blobs')).flatMap((shard) =>
    readdirSync(join(dataDir, 'objects', 'blobs', shard)),
  );

describe('S3 uploads: multipart, aws-chunked, payload hashes, interrupted bodies', () => {
  let t: TestServer;
  let s3: S3Client;
  beforeAll(async () => {
    t = await startTestServer();
    s3 = s3Client(t);
    await s3.send(new CreateBucketCommand({ Bucket: 'uploads' }));
  });
  afterAll(async () => {
    s3?.destroy();
    await t?.stop();
  });

  const exists = async (Key: string): Promise<boolean> =>
    s3.send(new HeadObjectCommand({ Bucket: 'uploads', Key })).then(
      () => true,
      () => false,
    );

  it('uploads in parts, lists parts, completes with the S3 multipart ETag and a composite checksum', async () => {
    const p1 = Buffer.alloc(5 * MiB, 1);
    const p2 = Buffer.from('tail of the object');
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({
        Bucket: 'uploads',
        Key: 'big.bin',
        ContentType: 'application/x-fw',
        ChecksumAlgorithm: 'CRC32',
      }),
    );
    const r1 = await s3.send(
      new UploadPartCommand({ Bucket: 'uploads', Key: 'big.bin', UploadId, PartNumber: 1, Body: p1 }),
    );
    const r2 = await s3.send(
      new UploadPartCommand({ Bucket: 'uploads', Key: 'big.bin', UploadId, PartNumber: 2, Body: p2 }),
    );
    expect(r1.ChecksumCRC32).toBeDefined();
    const listed = await s3.send(new ListPartsCommand({ Bucket: 'uploads', Key: 'big.bin', UploadId }));
    expect(listed.Parts!.map((p) => [p.PartNumber, p.Size, p.ETag])).toEqual([
      [1, p1.length, r1.ETag],
      [2, p2.length, r2.ETag],
    ]);
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: 'uploads' }));
    expect(uploads.Uploads!.map((u) => u.UploadId)).toContain(UploadId);
    expect(await exists('big.bin')).toBe(false);

    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'uploads',
        Key: 'big.bin',
        UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: r1.ETag, ChecksumCRC32: r1.ChecksumCRC32 },
            { PartNumber: 2, ETag: r2.ETag, ChecksumCRC32: r2.ChecksumCRC32 },
          ],
        },
      }),
    );
    const md5s = Buffer.concat([p1, p2].map((p) => createHash('md5').update(p).digest()));
    expect(done.ETag).toBe(`"${createHash('md5').update(md5s).digest('hex')}-2"`);
    expect(done.ChecksumCRC32).toMatch(/-2$/);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'uploads', Key: 'big.bin' }));
    expect(got.ContentType).toBe('application/x-fw');
    expect(got.PartsCount).toBe(2);
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(Buffer.concat([p1, p2]))).toBe(true);
    // The parts' blobs are gone; only the object's remains of this upload.
    expect(
      await rejection(s3.send(new ListPartsCommand({ Bucket: 'uploads', Key: 'big.bin', UploadId }))),
    ).toMatchObject({ name: 'NoSuchUpload', status: 404 });
  });

  it('refuses wrong part lists: unknown part, wrong ETag, bad order, a small middle part', async () => {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'uploads', Key: 'bad.bin' }));
    const small = await s3.send(
      new UploadPartCommand({ Bucket: 'uploads', Key: 'bad.bin', UploadId, PartNumber: 1, Body: 'small' }),
    );
    const last = await s3.send(
      new UploadPartCommand({ Bucket: 'uploads', Key: 'bad.bin', UploadId, PartNumber: 2, Body: 'last' }),
    );
    const complete = (Parts: { PartNumber: number; ETag: string }[]) =>
      rejection(
        s3.send(
          new CompleteMultipartUploadCommand({
            Bucket: 'uploads',
            Key: 'bad.bin',
            UploadId,
            MultipartUpload: { Parts },
          }),
        ),
      );
    expect(await complete([{ PartNumber: 3, ETag: last.ETag! }])).toMatchObject({ name: 'InvalidPart', status: 400 });
    expect(await complete([{ PartNumber: 1, ETag: '"0000"' }])).toMatchObject({ name: 'InvalidPart' });
    expect(
      await complete([
        { PartNumber: 2, ETag: last.ETag! },
        { PartNumber: 1, ETag: small.ETag! },
      ]),
    ).toMatchObject({ name: 'InvalidPartOrder' });
    expect(
      await complete([
        { PartNumber: 1, ETag: small.ETag! },
        { PartNumber: 2, ETag: last.ETag! },
      ]),
    ).toMatchObject({ name: 'EntityTooSmall', status: 400 });
    expect(
      await rejection(
        s3.send(new UploadPartCommand({ Bucket: 'uploads', Key: 'bad.bin', UploadId, PartNumber: 10001, Body: 'x' })),
      ),
    ).toMatchObject({ name: 'InvalidArgument' });
    const before = blobFiles(t.dataDir).length;
    await s3.send(new AbortMultipartUploadCommand({ Bucket: 'uploads', Key: 'bad.bin', UploadId }));
    expect(blobFiles(t.dataDir).length).toBe(before - 2);
    expect(
      await rejection(
        s3.send(new UploadPartCommand({ Bucket: 'uploads', Key: 'bad.bin', UploadId, PartNumber: 1, Body: 'x' })),
      ),
    ).toMatchObject({ name: 'NoSuchUpload', status: 404 });
    expect(await exists('bad.bin')).toBe(false);
  });

  it('accepts STREAMING-AWS4-HMAC-SHA256-PAYLOAD bodies and checks every chunk signature', async () => {
    const data = Buffer.from('signed chunks '.repeat(10_000));
    const path = '/uploads/signed-chunks.bin';
    const headers = {
      'content-encoding': 'aws-chunked',
      'x-amz-decoded-content-length': String(data.length),
    };
    const signed = await signS3Headers(t, 'PUT', path, headers, 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD');
    const body = signedChunkedBody(data, 65536, t.credentials.secretAccessKey, signed);
    const ok = await sendRaw(t.endpoint, 'PUT', path, signed.headers, body);
    expect(ok.status, ok.body).toBe(200);
    expect(ok.headers.etag).toBe(`"${createHash('md5').update(data).digest('hex')}"`);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'uploads', Key: 'signed-chunks.bin' }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(data)).toBe(true);

    // One flipped byte in the second chunk: its signature no longer matches; nothing is stored.
    const path2 = '/uploads/tampered.bin';
    const signed2 = await signS3Headers(t, 'PUT', path2, headers, 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD');
    const tampered = signedChunkedBody(data, 65536, t.credentials.secretAccessKey, signed2);
    const at = tampered.indexOf('\r\n', tampered.indexOf(';chunk-signature=', 70_000)) + 10;
    tampered[at] = tampered[at]! ^ 0xff;
    const refused = await sendRaw(t.endpoint, 'PUT', path2, signed2.headers, tampered);
    expect(refused.status).toBe(403);
    expect(refused.body).toContain('<Code>SignatureDoesNotMatch</Code>');
    expect(await exists('tampered.bin')).toBe(false);
  });

  it('verifies a signed trailer checksum (STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER)', async () => {
    const data = Buffer.from('trailer checked');
    const { checksumOf } = await import('../../src/objects/checksums.js');
    const path = '/uploads/trailer.bin';
    const headers = {
      'content-encoding': 'aws-chunked',
      'x-amz-decoded-content-length': String(data.length),
      'x-amz-trailer': 'x-amz-checksum-crc32',
    };
    const signed = await signS3Headers(t, 'PUT', path, headers, 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER');
    const good = signedChunkedBody(data, 8, t.credentials.secretAccessKey, signed, {
      name: 'x-amz-checksum-crc32',
      value: checksumOf('CRC32', data),
    });
    const ok = await sendRaw(t.endpoint, 'PUT', path, signed.headers, good);
    expect(ok.status, ok.body).toBe(200);
    expect(ok.headers['x-amz-checksum-crc32']).toBe(checksumOf('CRC32', data));

    const signedBad = await signS3Headers(
      t,
      'PUT',
      '/uploads/trailer-bad.bin',
      headers,
      'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
    );
    const bad = signedChunkedBody(data, 8, t.credentials.secretAccessKey, signedBad, {
      name: 'x-amz-checksum-crc32',
      value: 'AAAAAA==',
    });
    const refused = await sendRaw(t.endpoint, 'PUT', '/uploads/trailer-bad.bin', signedBad.headers, bad);
    expect(refused.status).toBe(400);
    expect(refused.body).toContain('<Code>BadDigest</Code>');
    expect(await exists('trailer-bad.bin')).toBe(false);
  });

  it('refuses a body that does not match its signed x-amz-content-sha256', async () => {
    const path = '/uploads/hash.bin';
    const signed = await signS3Headers(
      t,
      'PUT',
      path,
      { 'content-md5': md5Base64('what was signed') },
      sha256('what was signed'),
    );
    const r = await sendRaw(t.endpoint, 'PUT', path, signed.headers, Buffer.from('something else!'));
    expect(r.status).toBe(400);
    expect(r.body).toMatch(/<Code>(XAmzContentSHA256Mismatch|BadDigest)<\/Code>/);
    expect(await exists('hash.bin')).toBe(false);
  });

  it('leaves no object and no temp file when the client hangs up mid-upload', async () => {
    const path = '/uploads/interrupted.bin';
    const total = 4 * MiB;
    const signed = await signS3Headers(t, 'PUT', path, { 'content-length': String(total) }, 'UNSIGNED-PAYLOAD');
    const url = new URL(t.endpoint);
    const before = blobFiles(t.dataDir).length;
    const tmp = join(t.dataDir, 'objects', 'tmp');
    const waitFor = async (cond: () => boolean): Promise<void> => {
      for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 25));
      expect(cond()).toBe(true);
    };
    const req = http.request({ host: url.hostname, port: url.port, method: 'PUT', path, headers: signed.headers });
    req.on('error', () => undefined);
    req.write(Buffer.alloc(MiB, 7));
    // The upload is under way (a temp file exists) before the client hangs up.
    await waitFor(() => readdirSync(tmp).length > 0);
    req.destroy();
    await waitFor(() => readdirSync(tmp).length === 0);
    expect(readdirSync(join(t.dataDir, 'objects', 'tmp'))).toEqual([]);
    expect(await exists('interrupted.bin')).toBe(false);
    expect(blobFiles(t.dataDir).length).toBe(before);
  });
});
