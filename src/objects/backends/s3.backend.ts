import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { BlobNotFoundError, checkBlobId, type ByteRange, type ObjectBackend } from './backend.js';

export interface S3BackendOptions {
  bucket: string;
  /** Key prefix inside the bucket, '' or ending in '/'. */
  prefix: string;
  endpoint?: string;
  region: string;
  forcePathStyle: boolean;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

/** Parts are buffered one at a time: memory per upload stays at PART_SIZE whatever the object size. */
export const PART_SIZE = 8 * 1024 * 1024;

/**
 * `--objects s3://bucket[/prefix]?endpoint=https://...&region=...&forcePathStyle=true`; the
 * credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN in `env`,
 * or the SDK's default chain when they are unset.
 */
export function parseS3BackendUrl(url: string, env: NodeJS.ProcessEnv, defaultRegion: string): S3BackendOptions {
  const u = new URL(url);
  if (u.protocol !== 's3:' || u.hostname === '') throw new Error(`--objects '${url}' must be s3://bucket[/prefix]`);
  const prefix = decodeURIComponent(u.pathname.replace(/^\/+/, ''));
  const endpoint = u.searchParams.get('endpoint') ?? undefined;
  const pathStyle = u.searchParams.get('forcePathStyle');
  return {
    bucket: u.hostname,
    prefix: prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`,
    ...(endpoint && { endpoint }),
    region: u.searchParams.get('region') ?? defaultRegion,
    forcePathStyle: pathStyle === null ? endpoint !== undefined : pathStyle === 'true',
    ...(env.AWS_ACCESS_KEY_ID &&
      env.AWS_SECRET_ACCESS_KEY && {
        credentials: {
          accessKeyId: env.AWS_ACCESS_KEY_ID,
          secretAccessKey: env.AWS_SECRET_ACCESS_KEY,
          ...(env.AWS_SESSION_TOKEN && { sessionToken: env.AWS_SESSION_TOKEN }),
        },
      }),
  };
}

const isNotFound = (err: unknown): boolean => {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404;
};

/** Reads a stream as successive buffers of `size` bytes (the last may be shorter). */
async function* chunksOf(source: Readable, size: number): AsyncGenerator<Buffer> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  for await (const chunk of source) {
    let buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    while (pendingBytes + buf.length >= size) {
      const take = size - pendingBytes;
      pending.push(buf.subarray(0, take));
      yield Buffer.concat(pending);
      buf = buf.subarray(take);
      pending = [];
      pendingBytes = 0;
    }
    if (buf.length > 0) {
      pending.push(buf);
      pendingBytes += buf.length;
    }
  }
  if (pendingBytes > 0 || pending.length > 0) yield Buffer.concat(pending);
}

/** Blobs as objects `<prefix>blobs/<id>` in any S3-compatible store (AWS S3, MinIO, Ceph, fleetjobs). */
export class S3Backend implements ObjectBackend {
  readonly kind = 's3';
  private readonly client: S3Client;

  constructor(private readonly options: S3BackendOptions) {
    this.client = new S3Client({
      region: options.region,
      forcePathStyle: options.forcePathStyle,
      ...(options.endpoint && { endpoint: options.endpoint }),
      ...(options.credentials && { credentials: options.credentials }),
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  }

  private key(id: string): string {
    checkBlobId(id);
    return `${this.options.prefix}blobs/${id}`;
  }

  async put(id: string, source: Readable): Promise<{ size: number }> {
    const Key = this.key(id);
    const Bucket = this.options.bucket;
    const parts = chunksOf(source, PART_SIZE);
    const first = await parts.next();
    const firstChunk = first.done ? Buffer.alloc(0) : first.value;
    const second = first.done ? first : await parts.next();
    if (second.done) {
      // Small blob: one PutObject, atomic on every S3-compatible store.
      await this.client.send(new PutObjectCommand({ Bucket, Key, Body: firstChunk }));
      return { size: firstChunk.length };
    }
    const { UploadId } = await this.client.send(new CreateMultipartUploadCommand({ Bucket, Key }));
    try {
      const done: { ETag: string; PartNumber: number }[] = [];
      let size = 0;
      const upload = async (body: Buffer): Promise<void> => {
        const PartNumber = done.length + 1;
        const r = await this.client.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber, Body: body }));
        done.push({ ETag: r.ETag!, PartNumber });
        size += body.length;
      };
      await upload(firstChunk);
      await upload(second.value);
      for await (const chunk of parts) await upload(chunk);
      await this.client.send(
        new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: done } }),
      );
      return { size };
    } catch (err) {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId })).catch(() => undefined);
      throw err;
    }
  }

  async get(id: string, range?: ByteRange): Promise<Readable> {
    try {
      const r = await this.client.send(
        new GetObjectCommand({
          Bucket: this.options.bucket,
          Key: this.key(id),
          ...(range && { Range: `bytes=${range.start}-${range.end}` }),
        }),
      );
      return r.Body as Readable;
    } catch (err) {
      if (isNotFound(err)) throw new BlobNotFoundError(id);
      throw err;
    }
  }

  async delete(id: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.options.bucket, Key: this.key(id) }));
  }

  async exists(id: string): Promise<boolean> {
    try {
      await this.client.send(new HeadObjectCommand({ Bucket: this.options.bucket, Key: this.key(id) }));
      return true;
    } catch (err) {
      if (isNotFound(err)) return false;
      throw err;
    }
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}
