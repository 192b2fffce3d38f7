import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { createHash, randomFillSync } from 'node:crypto';
import { createReadStream, mkdtempSync, openSync, closeSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsCli } from '../helpers/aws-cli.js';
import { s3Client } from '../helpers/s3.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;

async function sha256Of(stream: Readable): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of stream) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Peak growth of this process's RSS while `work` runs (the server runs in this process too). */
async function peakRssGrowth<T>(work: () => Promise<T>): Promise<{ result: T; growth: number }> {
  const start = process.memoryUsage().rss;
  let peak = start;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 100);
  try {
    const result = await work();
    return { result, growth: peak - start };
  } finally {
    clearInterval(timer);
  }
}

/**
 * Issue 6, item 1: a 1 GB file round-trips byte-exact through `aws s3 cp` (multipart) and the JS
 * SDK (a streamed aws-chunked PutObject), and the server streams it rather than holding it.
 */
describe('a 1 GB object through aws s3 cp and the JS SDK', () => {
  let t: TestServer;
  let s3: S3Client;
  let dir: string;
  let file: string;
  let digest: string;

  beforeAll(async () => {
    t = await startTestServer();
    s3 = s3Client(t);
    dir = mkdtempSync(join(tmpdir(), 'fleetjobs-1g-'));
    file = join(dir, 'one-gig.bin');
    const h = createHash('sha256');
    const fd = openSync(file, 'w');
    const block = Buffer.alloc(4 * MiB);
    for (let written = 0; written < GiB; written += block.length) {
      randomFillSync(block);
      h.update(block);
      writeSync(fd, block);
    }
    closeSync(fd);
    digest = h.digest('hex');
    expect((await awsCli(t.endpoint, t.awsEnv(), ['s3', 'mb', 's3://large'])).code).toBe(0);
  }, 120_000);

  afterAll(async () => {
    s3?.destroy();
    await t?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('aws s3 cp up (multipart) and down', async () => {
    const up = await peakRssGrowth(() =>
      awsCli(t.endpoint, t.awsEnv(), ['s3', 'cp', '--no-progress', file, 's3://large/cli.bin'], 600_000),
    );
    expect(up.result.code, up.result.stderr).toBe(0);
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'large', Key: 'cli.bin' }));
    expect(head.ContentLength).toBe(GiB);
    expect(head.ETag).toMatch(/-\d+"$/);
    const out = join(dir, 'cli.out');
    const down = await awsCli(
      t.endpoint,
      t.awsEnv(),
      ['s3', 'cp', '--no-progress', 's3://large/cli.bin', out],
      600_000,
    );
    expect(down.code, down.stderr).toBe(0);
    expect(await sha256Of(createReadStream(out))).toBe(digest);
    rmSync(out);
    expect(up.growth).toBeLessThan(512 * MiB);
  }, 900_000);

  it('the JS SDK streams it up (aws-chunked, CRC32 trailer) and down', async () => {
    const put = await peakRssGrowth(() =>
      s3.send(
        new PutObjectCommand({ Bucket: 'large', Key: 'sdk.bin', Body: createReadStream(file), ContentLength: GiB }),
      ),
    );
    expect(put.result.ChecksumCRC32).toBeDefined();
    expect(put.growth).toBeLessThan(512 * MiB);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'large', Key: 'sdk.bin', ChecksumMode: 'ENABLED' }));
    expect(got.ContentLength).toBe(GiB);
    expect(await sha256Of(got.Body as Readable)).toBe(digest);
  }, 900_000);
});
