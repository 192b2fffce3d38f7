import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3Client } from '../helpers/s3.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * fleetjobs with `--objects s3://...`: its object bytes live in another S3-compatible store,
 * here a second fleetjobs instance (issue 6, item 2).
 */
describe('a server whose object backend is a second fleetjobs S3 endpoint', () => {
  let store: TestServer;
  let server: TestServer;
  let storeS3: S3Client;
  let s3: S3Client;
  const blobsInStore = async (): Promise<string[]> =>
    ((await storeS3.send(new ListObjectsV2Command({ Bucket: 'backing' }))).Contents ?? []).map((c) => c.Key!);

  beforeAll(async () => {
    store = await startTestServer();
    storeS3 = s3Client(store);
    await storeS3.send(new CreateBucketCommand({ Bucket: 'backing' }));
    // The backend's credentials come from the environment, as in production.
    process.env.AWS_ACCESS_KEY_ID = store.credentials.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = store.credentials.secretAccessKey;
    server = await startTestServer({
      flags: { objects: `s3://backing/node-a?endpoint=${encodeURIComponent(store.endpoint)}` },
    });
    s3 = s3Client(server);
  });
  afterAll(async () => {
    s3?.destroy();
    storeS3?.destroy();
    await server?.stop();
    await store?.stop();
  });

  it('stores, reads, completes multipart uploads and deletes through the remote store', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'firmware' }));
    await s3.send(new PutObjectCommand({ Bucket: 'firmware', Key: 'small.txt', Body: 'kept remotely' }));
    expect(await blobsInStore()).toHaveLength(1);
    expect((await blobsInStore())[0]).toMatch(/^node-a\/blobs\/[0-9a-f]{32}$/);

    const p1 = randomBytes(5 * 1024 * 1024);
    const p2 = randomBytes(1000);
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'firmware', Key: 'fw.bin' }));
    const e1 = await s3.send(
      new UploadPartCommand({ Bucket: 'firmware', Key: 'fw.bin', UploadId, PartNumber: 1, Body: p1 }),
    );
    const e2 = await s3.send(
      new UploadPartCommand({ Bucket: 'firmware', Key: 'fw.bin', UploadId, PartNumber: 2, Body: p2 }),
    );
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'firmware',
        Key: 'fw.bin',
        UploadId,
        MultipartUpload: {
          Parts: [
            { PartNumber: 1, ETag: e1.ETag },
            { PartNumber: 2, ETag: e2.ETag },
          ],
        },
      }),
    );
    // The parts were removed from the remote store once the object was assembled.
    expect(await blobsInStore()).toHaveLength(2);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'firmware', Key: 'fw.bin' }));
    expect(Buffer.from(await got.Body!.transformToByteArray()).equals(Buffer.concat([p1, p2]))).toBe(true);
    const range = await s3.send(
      new GetObjectCommand({ Bucket: 'firmware', Key: 'fw.bin', Range: `bytes=${p1.length - 2}-${p1.length + 1}` }),
    );
    expect(
      Buffer.from(await range.Body!.transformToByteArray()).equals(
        Buffer.concat([p1, p2]).subarray(p1.length - 2, p1.length + 2),
      ),
    ).toBe(true);

    await s3.send(new DeleteObjectCommand({ Bucket: 'firmware', Key: 'small.txt' }));
    expect(await blobsInStore()).toHaveLength(1);
    expect(
      await (await s3.send(new GetObjectCommand({ Bucket: 'firmware', Key: 'fw.bin' }))).Body!.transformToByteArray(),
    ).toHaveLength(p1.length + p2.length);
  });
});
