import type { Readable } from 'node:stream';
import { ServiceError } from '../../../errors.js';
import { copyObject } from '../../../objects/objects.copy.js';
import { headerValue } from '../sigv4.js';
import { xmlList } from '../xml.js';
import { attributesFrom, conditionsFrom, parseRange, setObjectHeaders } from './s3.headers.js';
import { checksumElement, readXmlBody, sendEmpty, sendXml, setChecksumHeader, type S3Request } from './s3.context.js';
import { openPayload } from './s3.payload.js';
import { s3ErrorName } from './s3.errors.js';
import type { ChecksumAlgorithm } from '../../../objects/checksums.js';

const target = (r: S3Request): [string, string] => [r.bucket!, r.key!];

export async function putObject(r: S3Request): Promise<void> {
  const payload = openPayload(r.req, r.raw, r.secret);
  const result = await r.services.objects.putObject(
    ...target(r),
    payload.body,
    payload.expect,
    attributesFrom(r.req.headers),
  );
  void r.reply.header('etag', result.etag);
  if (result.versionId !== undefined) void r.reply.header('x-amz-version-id', result.versionId);
  setChecksumHeader(r.reply, result.checksum);
  sendEmpty(r.reply, 200);
}

/** GetObject and HeadObject: Range, versionId, conditional headers, checksum mode. */
export async function getObject(r: S3Request): Promise<void> {
  const versionId = r.req.query.string('versionId');
  const meta = await r.services.objects.resolve(...target(r), versionId);
  r.services.objects.checkConditions(meta, conditionsFrom(r.req.headers));
  const partNumber = r.req.query.int('partNumber');
  if (partNumber !== undefined && partNumber !== 1) {
    throw new ServiceError('InvalidArgument', 'Only partNumber=1 is supported for reads.');
  }
  const range = parseRange(headerValue(r.req.headers, 'range'), meta.size);
  setObjectHeaders(r.reply, meta, {
    query: r.req.query,
    checksumMode: headerValue(r.req.headers, 'x-amz-checksum-mode')?.toUpperCase() === 'ENABLED',
    whole: range === undefined,
  });
  const length = range ? range.end - range.start + 1 : meta.size;
  void r.reply.header('content-length', String(length));
  if (range) void r.reply.header('content-range', `bytes ${range.start}-${range.end}/${meta.size}`);
  const status = range ? 206 : 200;
  if (r.req.method === 'HEAD' || length === 0) {
    void r.reply.code(status).send();
    return;
  }
  const body = await r.services.objects.openBody(meta, range);
  await sendStream(r, status, body);
}

/**
 * Streams a body and resolves only when the response is over: the dispatcher's async route
 * handler must not finish first, or Fastify would answer a second time with an empty body.
 */
async function sendStream(r: S3Request, status: number, body: Readable): Promise<void> {
  const closed = new Promise<void>((resolve) => r.reply.raw.once('close', resolve));
  void r.reply.code(status).send(body);
  await closed;
}

export async function deleteObject(r: S3Request): Promise<void> {
  const result = await r.services.objects.deleteObject(...target(r), r.req.query.string('versionId'));
  if (result.deleteMarker) void r.reply.header('x-amz-delete-marker', 'true');
  if (result.versionId !== undefined) void r.reply.header('x-amz-version-id', result.versionId);
  sendEmpty(r.reply, 204);
}

/** x-amz-copy-source: `[/]bucket/key[?versionId=...]`, URL-encoded. */
export function parseCopySource(value: string): { bucket: string; key: string; versionId?: string } {
  const q = value.indexOf('?');
  let path: string;
  try {
    path = decodeURIComponent((q === -1 ? value : value.slice(0, q)).replace(/^\//, ''));
  } catch {
    throw new ServiceError('InvalidArgument', 'x-amz-copy-source is not valid percent-encoding.');
  }
  const slash = path.indexOf('/');
  if (slash < 1 || slash === path.length - 1) {
    throw new ServiceError(
      'InvalidArgument',
      'Copy Source must mention the source bucket and key: sourcebucket/sourcekey',
    );
  }
  const versionId = q === -1 ? undefined : (new URLSearchParams(value.slice(q + 1)).get('versionId') ?? undefined);
  return { bucket: path.slice(0, slash), key: path.slice(slash + 1), ...(versionId && { versionId }) };
}

export async function copy(r: S3Request): Promise<void> {
  const source = parseCopySource(headerValue(r.req.headers, 'x-amz-copy-source')!);
  await r.services.access.authorize(
    r.caller,
    source.versionId ? 's3:GetObjectVersion' : 's3:GetObject',
    source.bucket,
    source.key,
  );
  const directive = headerValue(r.req.headers, 'x-amz-metadata-directive') ?? 'COPY';
  if (directive !== 'COPY' && directive !== 'REPLACE') {
    throw new ServiceError('InvalidArgument', 'Unknown metadata directive.');
  }
  const result = await copyObject(r.services.objects, r.services.blobs, {
    source,
    target: { bucket: r.bucket!, key: r.key! },
    metadataDirective: directive,
    attributes: attributesFrom(r.req.headers),
    conditions: conditionsFrom(r.req.headers, 'x-amz-copy-source-'),
  });
  if (result.versionId !== undefined) void r.reply.header('x-amz-version-id', result.versionId);
  if (result.sourceVersionId !== undefined) void r.reply.header('x-amz-copy-source-version-id', result.sourceVersionId);
  sendXml(r.reply, 'CopyObjectResult', {
    ETag: result.etag,
    LastModified: result.lastModified,
    ...(result.checksum && {
      ChecksumType: result.checksum.type,
      [checksumElement(result.checksum.algorithm as ChecksumAlgorithm)]: result.checksum.value,
    }),
  });
}

/** DeleteObjects (POST ?delete): each key is authorized and deleted on its own. */
export async function deleteObjects(r: S3Request): Promise<void> {
  const body = await readXmlBody(r, 'Delete');
  const objects = xmlList(body.Object) as { Key?: string; VersionId?: string }[];
  if (objects.length > 1000)
    throw new ServiceError('MalformedXML', 'A DeleteObjects request may name at most 1000 keys.');
  const quiet = body.Quiet === 'true';
  const deleted: object[] = [];
  const errors: object[] = [];
  for (const o of objects) {
    const key = typeof o.Key === 'string' ? o.Key : '';
    const versionId = typeof o.VersionId === 'string' ? o.VersionId : undefined;
    try {
      await r.services.access.authorize(
        r.caller,
        versionId ? 's3:DeleteObjectVersion' : 's3:DeleteObject',
        r.bucket,
        key,
      );
      const result = await r.services.objects.deleteObject(r.bucket!, key, versionId);
      if (!quiet) {
        deleted.push({
          Key: key,
          ...(versionId !== undefined && { VersionId: versionId }),
          ...(result.deleteMarker && { DeleteMarker: true }),
          ...(result.deleteMarker && versionId === undefined && { DeleteMarkerVersionId: result.versionId }),
        });
      }
    } catch (err) {
      if (!(err instanceof ServiceError)) throw err;
      errors.push({
        Key: key,
        ...(versionId && { VersionId: versionId }),
        Code: s3ErrorName(err.code).code,
        Message: err.message,
      });
    }
  }
  sendXml(r.reply, 'DeleteResult', { Deleted: deleted, Error: errors });
}
