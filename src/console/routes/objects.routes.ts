import type { FastifyInstance, FastifyRequest } from 'fastify';
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { ServiceError } from '../../errors.js';
import type { ObjectMeta } from '../../objects/objects.schemas.js';
import { json, type ConsoleDeps } from '../console-app.js';
import { jsonBody, nonEmpty, optionalInt, query } from '../http.js';

type Params = Record<string, string>;
const params = (request: FastifyRequest): Params => request.params as Params;

/** A job document is at most 32 KB; the console shows no more of a file than this. */
export const MAX_TEXT_PREVIEW_BYTES = 64 * 1024;

const objectShape = (m: ObjectMeta) => ({
  key: m.key,
  size: m.size,
  etag: m.etag,
  lastModified: m.lastModified.toISOString(),
});

const versionShape = (m: ObjectMeta) => ({
  key: m.key,
  versionId: m.versionId,
  isLatest: m.isLatest,
  ...(m.isDeleteMarker ? { deleteMarker: true } : { size: m.size }),
  lastModified: m.lastModified.toISOString(),
});

function requiredKey(request: FastifyRequest): string {
  const key = nonEmpty(query(request).key);
  if (key === undefined) {
    throw new ServiceError(
      'InvalidRequest',
      "1 validation error detected: Value null at 'key' failed to satisfy constraint: Member must not be null",
    );
  }
  return key;
}

async function readText(stream: Readable, limit: number): Promise<{ text: string; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buf = chunk as Buffer;
    chunks.push(buf);
    size += buf.length;
    if (size >= limit) {
      stream.destroy();
      break;
    }
  }
  const all = Buffer.concat(chunks);
  return { text: all.subarray(0, limit).toString('utf8'), truncated: all.length > limit };
}

/** Buckets, files and versions of the object store: each route maps to object service calls. */
export function registerObjectsRoutes(api: FastifyInstance, deps: ConsoleDeps): void {
  const { objects, listing } = deps.services.objects;

  api.get(
    '/buckets',
    json(async () => ({
      buckets: (await objects.listBuckets()).map((b) => ({ name: b.name, createdAt: b.createdAt.toISOString() })),
    })),
  );
  api.post(
    '/buckets',
    json(async (request) => {
      const body = await jsonBody(request);
      const bucket = body.bucket as string;
      await objects.createBucket(bucket);
      if (body.versioning === true) await objects.putVersioning(bucket, 'Enabled');
      return { bucket };
    }),
  );
  api.delete(
    '/buckets/:bucket',
    json(async (request) => {
      await objects.deleteBucket(params(request).bucket!);
      return {};
    }),
  );
  api.get(
    '/buckets/:bucket/objects',
    json(async (request) => {
      const { bucket } = params(request);
      const q = query(request);
      const page = await listing.listObjects(bucket!, {
        prefix: nonEmpty(q.prefix),
        maxKeys: optionalInt(q.maxKeys, 'maxKeys') ?? 100,
        token: nonEmpty(q.continuationToken),
      });
      return {
        objects: page.objects.map(objectShape),
        versioning: await objects.getVersioning(bucket!),
        ...(page.next !== undefined && { nextToken: page.next }),
      };
    }),
  );
  api.get(
    '/buckets/:bucket/versions',
    json(async (request) => {
      const key = requiredKey(request);
      const page = await listing.listVersions(params(request).bucket!, { prefix: key, maxKeys: 1000 });
      return { versions: page.versions.filter((v) => v.key === key).map(versionShape) };
    }),
  );
  /** The raw request body becomes a new version of the file (the page shows upload progress). */
  api.put(
    '/buckets/:bucket/objects',
    json(async (request) => {
      const key = requiredKey(request);
      const length = Number(request.headers['content-length']);
      const contentType = request.headers['content-type'];
      const result = await objects.putObject(
        params(request).bucket!,
        key,
        (request.body as Readable | undefined) ?? request.raw,
        Number.isInteger(length) ? { length } : {},
        { ...(contentType && { contentType }), userMetadata: {}, headers: {} },
      );
      return { key, etag: result.etag, ...(result.versionId !== undefined && { versionId: result.versionId }) };
    }),
  );
  /** A file's text (job documents are small), for previews. */
  api.get(
    '/buckets/:bucket/object',
    json(async (request) => {
      const meta = await objects.resolve(
        params(request).bucket!,
        requiredKey(request),
        nonEmpty(query(request).versionId),
      );
      return {
        key: meta.key,
        versionId: meta.versionId,
        ...(await readText(await objects.openBody(meta), MAX_TEXT_PREVIEW_BYTES)),
      };
    }),
  );
  /** A file itself, as a download (the browser saves it under its own name). */
  api.get('/buckets/:bucket/download', async (request: FastifyRequest, reply) => {
    const meta = await objects.resolve(
      params(request).bucket!,
      requiredKey(request),
      nonEmpty(query(request).versionId),
    );
    const name = meta.key.split('/').pop() || 'download';
    return reply
      .header('content-type', 'application/octet-stream')
      .header('content-length', String(meta.size))
      .header('content-disposition', `attachment; filename*=UTF-8''${encodeURIComponent(name)}`)
      .send(await objects.openBody(meta));
  });
  /** The SHA-256 of a file version (what a job document's `sha256` holds), read through once. */
  api.get(
    '/buckets/:bucket/checksum',
    json(async (request) => {
      const meta = await objects.resolve(
        params(request).bucket!,
        requiredKey(request),
        nonEmpty(query(request).versionId),
      );
      const hash = createHash('sha256');
      for await (const chunk of await objects.openBody(meta)) hash.update(chunk as Buffer);
      return { key: meta.key, versionId: meta.versionId, size: meta.size, sha256: hash.digest('hex') };
    }),
  );
  api.delete(
    '/buckets/:bucket/objects',
    json(async (request) =>
      objects.deleteObject(params(request).bucket!, requiredKey(request), nonEmpty(query(request).versionId)),
    ),
  );
}
