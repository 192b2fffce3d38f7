import { CreateBucketCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobNotFoundError, type ObjectBackend } from '../../src/objects/backends/backend.js';
import { DiskBackend } from '../../src/objects/backends/disk.backend.js';
import { parseS3BackendUrl, PART_SIZE, S3Backend } from '../../src/objects/backends/s3.backend.js';
import { s3Client } from '../helpers/s3.js';
import { startTestServer, TEST_REGION, type TestServer } from '../helpers/server.js';

const id = (): string => randomBytes(16).toString('hex');
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** A source that yields some bytes and then fails, like a client that hangs up. */
function failing(after: Buffer): Readable {
  return Readable.from(
    (async function* () {
      yield after;
      throw new Error('client went away');
    })(),
  );
}

interface Harness {
  backend: ObjectBackend;
  /** Keys the backend wrote into its store (to check nothing partial is left). */
  storedKeys(): Promise<string[]>;
  close(): Promise<void>;
}

async function diskHarness(): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'fleetjobs-disk-'));
  const backend = await DiskBackend.open(dir);
  return {
    backend,
    storedKeys: async () => {
      const { readdirSync } = await import('node:fs');
      const blobs = readdirSync(join(dir, 'blobs')).flatMap((s) => readdirSync(join(dir, 'blobs', s)));
      return [...blobs, ...readdirSync(join(dir, 'tmp')).map((f) => `tmp/${f}`)];
    },
    close: async () => {
      await backend.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** The S3 backend against a second fleetjobs instance's S3 endpoint. */
async function s3Harness(): Promise<Harness> {
  const store: TestServer = await startTestServer();
  const client: S3Client = s3Client(store);
  await client.send(new CreateBucketCommand({ Bucket: 'blob-store' }));
  const backend = new S3Backend(
    parseS3BackendUrl(
      `s3://blob-store/replica-1?endpoint=${encodeURIComponent(store.endpoint)}`,
      { AWS_ACCESS_KEY_ID: store.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: store.credentials.secretAccessKey },
      TEST_REGION,
    ),
  );
  return {
    backend,
    storedKeys: async () => {
      const listed = await client.send(new ListObjectsV2Command({ Bucket: 'blob-store' }));
      return (listed.Contents ?? []).map((c) => c.Key!);
    },
    close: async () => {
      await backend.close();
      client.destroy();
      await store.stop();
    },
  };
}

describe.each([
  ['disk', diskHarness],
  ['s3 (a second fleetjobs)', s3Harness],
] as const)('object backend contract: %s', (_name, make) => {
  let h: Harness;
  beforeAll(async () => {
    h = await make();
  });
  afterAll(async () => {
    await h?.close();
  });

  it('stores and reads back a small blob, and an empty one', async () => {
    const a = id();
    expect(await h.backend.put(a, Readable.from([Buffer.from('hello '), Buffer.from('blob')]))).toEqual({ size: 10 });
    expect((await readAll(await h.backend.get(a))).toString()).toBe('hello blob');
    const empty = id();
    expect(await h.backend.put(empty, Readable.from([]))).toEqual({ size: 0 });
    expect((await readAll(await h.backend.get(empty))).length).toBe(0);
    expect(await h.backend.exists(a)).toBe(true);
  });

  it('stores a blob larger than one S3 part byte-exact and serves ranges of it', async () => {
    const data = randomBytes(2 * PART_SIZE + 12345);
    const big = id();
    // Odd-sized source chunks, so part boundaries never line up with them.
    const chunks = Array.from({ length: Math.ceil(data.length / 777_777) }, (_, i) =>
      data.subarray(i * 777_777, (i + 1) * 777_777),
    );
    expect(await h.backend.put(big, Readable.from(chunks))).toEqual({ size: data.length });
    expect(sha(await readAll(await h.backend.get(big)))).toBe(sha(data));
    const range = await readAll(await h.backend.get(big, { start: PART_SIZE - 3, end: PART_SIZE + 2 }));
    expect(range.equals(data.subarray(PART_SIZE - 3, PART_SIZE + 3))).toBe(true);
  });

  it('reports a missing blob and deletes idempotently', async () => {
    const gone = id();
    await expect(h.backend.get(gone)).rejects.toBeInstanceOf(BlobNotFoundError);
    expect(await h.backend.exists(gone)).toBe(false);
    await h.backend.put(gone, Readable.from([Buffer.from('x')]));
    await h.backend.delete(gone);
    await h.backend.delete(gone);
    expect(await h.backend.exists(gone)).toBe(false);
  });

  it('leaves nothing behind when the source fails mid-way (small and multipart)', async () => {
    const before = await h.storedKeys();
    const small = id();
    await expect(h.backend.put(small, failing(Buffer.from('partial')))).rejects.toThrow('client went away');
    const large = id();
    await expect(h.backend.put(large, failing(randomBytes(PART_SIZE + 10)))).rejects.toThrow('client went away');
    expect(await h.backend.exists(small)).toBe(false);
    expect(await h.backend.exists(large)).toBe(false);
    expect((await h.storedKeys()).sort()).toEqual(before.sort());
  });

  it('refuses ids that are not content ids', async () => {
    for (const bad of ['../../etc/passwd', 'ABC', '', `${id()}/x`]) {
      await expect(h.backend.put(bad, Readable.from([Buffer.from('x')]))).rejects.toThrow(/invalid blob id/);
      await expect(h.backend.get(bad)).rejects.toThrow(/invalid blob id/);
    }
  });
});
