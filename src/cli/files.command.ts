import { createWriteStream, existsSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import type { Command } from 'commander';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  UploadPartCommand,
  type ObjectVersion,
} from '@aws-sdk/client-s3';
import { collect, int, parseS3Url } from './args.js';
import { apiCommand, type ApiOptions, type CliContext, type Session } from './context.js';
import { UsageError } from './exit-codes.js';
import { countingStream, TransferBar } from './transfer.js';

/** Above this size uploads are multipart (S3 allows 5 GB in one PUT; parts keep memory and retries small). */
const MULTIPART_THRESHOLD = 64 * 1024 * 1024;
const PART_SIZE = 16 * 1024 * 1024;

export interface UploadOptions extends ApiOptions {
  contentType?: string;
  partSize?: number;
}

/** The placeholder a job document uses to give devices a presigned URL of the object (spec 6.1). */
export const presignedPlaceholder = (region: string, bucket: string, key: string): string =>
  `\${aws:iot:s3-presigned-url:https://s3.${region}.amazonaws.com/${bucket}/${key}}`;

export async function upload(s: Session, path: string, bucket: string, key: string, o: UploadOptions) {
  const size = statSync(path).size;
  const bar = new TransferBar(s.io.stderr, basename(path), size, s.io.clock);
  let sent = 0;
  const onBytes = (n: number): void => {
    sent += n;
    bar.update(sent);
  };
  bar.update(0);
  const partSize = o.partSize ?? PART_SIZE;
  const threshold = o.partSize ?? MULTIPART_THRESHOLD;
  let result: { VersionId?: string; ETag?: string };
  if (size <= threshold) {
    result = await s.s3().send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: countingStream(path, onBytes),
        ContentLength: size,
        ContentType: o.contentType,
      }),
    );
  } else {
    result = await multipart(s, path, bucket, key, size, partSize, onBytes, o.contentType);
  }
  bar.done();
  return { bucket, key, size, versionId: result.VersionId, eTag: result.ETag };
}

async function multipart(
  s: Session,
  path: string,
  bucket: string,
  key: string,
  size: number,
  partSize: number,
  onBytes: (n: number) => void,
  contentType?: string,
): Promise<{ VersionId?: string; ETag?: string }> {
  const { UploadId } = await s
    .s3()
    .send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: contentType }));
  try {
    const parts: { PartNumber: number; ETag: string }[] = [];
    for (let start = 0, n = 1; start < size; start += partSize, n++) {
      const end = Math.min(size, start + partSize) - 1;
      const r = await s.s3().send(
        new UploadPartCommand({
          Bucket: bucket,
          Key: key,
          UploadId,
          PartNumber: n,
          Body: countingStream(path, onBytes, { start, end }),
          ContentLength: end - start + 1,
        }),
      );
      parts.push({ PartNumber: n, ETag: r.ETag! });
    }
    return await s
      .s3()
      .send(
        new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: parts } }),
      );
  } catch (err) {
    await s
      .s3()
      .send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId }))
      .catch(() => undefined);
    throw err;
  }
}

/** `fleetjobs files ...`: firmware and documents in the S3-compatible object store. */
export function registerFilesCommands(program: Command, ctx: CliContext): void {
  const files = program.command('files').description('files in the object store (S3 API): firmware, job documents');

  apiCommand<ApiOptions & { versioning?: boolean }>(
    ctx,
    files,
    'mb <bucket>',
    'make a bucket (versioned, as code signing and version-pinned URLs need)',
    (c) => c.option('--no-versioning', 'leave versioning off'),
    async (s, [bucket], o) => {
      await s.s3().send(new CreateBucketCommand({ Bucket: bucket }));
      if (o.versioning !== false) {
        await s
          .s3()
          .send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
      }
      s.out.object({ bucket, versioning: o.versioning !== false ? 'Enabled' : 'Off' });
    },
  );

  apiCommand(
    ctx,
    files,
    'buckets',
    'list buckets',
    (c) => c,
    async (s) => {
      const r = await s.s3().send(new ListBucketsCommand({}));
      s.out.list('buckets', r.Buckets ?? [], [
        { header: 'bucket', get: (b) => b.Name },
        { header: 'created', get: (b) => b.CreationDate },
      ]);
    },
  );

  apiCommand<UploadOptions>(
    ctx,
    files,
    'upload <file> <s3url>',
    'upload a file with a progress bar (multipart above 64 MB); prints its version and the placeholder for job documents',
    (c) =>
      c
        .option('--content-type <type>', 'Content-Type of the object')
        .option(
          '--part-size <bytes>',
          'upload in parts of this size when the file is larger (default: parts of 16 MB above 64 MB)',
          int('--part-size', 5 * 1024 * 1024),
        ),
    async (s, [file, url], o) => {
      const path = resolve(s.io.cwd, file!);
      if (!existsSync(path) || !statSync(path).isFile()) throw new UsageError(`no such file: ${file}`);
      const target = parseS3Url('s3url', url!, false);
      const key = target.key === '' || target.key.endsWith('/') ? `${target.key}${basename(path)}` : target.key;
      const r = await upload(s, path, target.bucket, key, o);
      s.out.object({
        ...r,
        url: `s3://${r.bucket}/${r.key}`,
        placeholder: presignedPlaceholder(s.conn.region, r.bucket, r.key),
      });
    },
  );

  apiCommand<ApiOptions & { maxItems?: number }>(
    ctx,
    files,
    'list <s3url>',
    'list objects under s3://bucket[/prefix]',
    (c) => c.option('--max-items <n>', 'stop after this many', int('--max-items', 1)),
    async (s, [url], o) => {
      const { bucket, key: prefix } = parseS3Url('s3url', url!, false);
      const { items } = await collect(async (token, size) => {
        const r = await s.s3().send(
          new ListObjectsV2Command({
            Bucket: bucket,
            Prefix: prefix || undefined,
            ContinuationToken: token,
            MaxKeys: size,
          }),
        );
        return { items: r.Contents, nextToken: r.NextContinuationToken };
      }, o.maxItems);
      s.out.list('objects', items, [
        { header: 'key', get: (x) => x.Key },
        { header: 'size', get: (x) => x.Size },
        { header: 'modified', get: (x) => x.LastModified },
        { header: 'etag', get: (x) => x.ETag },
      ]);
    },
  );

  apiCommand(
    ctx,
    files,
    'versions <s3url>',
    'the versions of an object, newest first',
    (c) => c,
    async (s, [url]) => {
      const { bucket, key } = parseS3Url('s3url', url!);
      const { items } = await collect<ObjectVersion>(async (token) => {
        const r = await s.s3().send(new ListObjectVersionsCommand({ Bucket: bucket, Prefix: key, KeyMarker: token }));
        return {
          items: (r.Versions ?? []).filter((v) => v.Key === key),
          nextToken: r.IsTruncated ? r.NextKeyMarker : undefined,
        };
      });
      s.out.list('versions', items, [
        { header: 'version', get: (v) => v.VersionId },
        { header: 'latest', get: (v) => (v.IsLatest ? 'yes' : '') },
        { header: 'size', get: (v) => v.Size },
        { header: 'modified', get: (v) => v.LastModified },
      ]);
    },
  );

  apiCommand<ApiOptions & { versionId?: string }>(
    ctx,
    files,
    'download <s3url> <file>',
    'download an object (or one version of it)',
    (c) => c.option('--version-id <id>', 'a given version'),
    async (s, [url, file], o) => {
      const { bucket, key } = parseS3Url('s3url', url!);
      const r = await s.s3().send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: o.versionId }));
      const path = resolve(s.io.cwd, file!);
      await pipeline(r.Body as Readable, createWriteStream(path));
      s.out.object({ bucket, key, versionId: r.VersionId, size: statSync(path).size, file: path });
    },
  );

  apiCommand<ApiOptions & { versionId?: string }>(
    ctx,
    files,
    'delete <s3url>',
    'delete an object (a delete marker in a versioned bucket) or one version',
    (c) => c.option('--version-id <id>', 'delete this version for good'),
    async (s, [url], o) => {
      const { bucket, key } = parseS3Url('s3url', url!);
      const r = await s.s3().send(new DeleteObjectCommand({ Bucket: bucket, Key: key, VersionId: o.versionId }));
      s.out.object({ bucket, key, versionId: r.VersionId, deleteMarker: r.DeleteMarker });
    },
  );
}
