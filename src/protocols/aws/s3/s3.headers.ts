import type { FastifyReply } from 'fastify';
import { ServiceError } from '../../../errors.js';
import type { ByteRange } from '../../../objects/backends/backend.js';
import { checksumHeader } from '../../../objects/checksums.js';
import { STORED_HEADERS, type ObjectAttributes, type ObjectMeta } from '../../../objects/objects.schemas.js';
import type { Conditions } from '../../../objects/objects.service.js';
import type { QueryParams } from '../request.js';
import { headerValue, type Headers } from '../sigv4.js';

export const DEFAULT_CONTENT_TYPE = 'binary/octet-stream';
const META_PREFIX = 'x-amz-meta-';
/** S3's limit on user metadata (names and values together). */
const MAX_METADATA_BYTES = 2048;

/** Content-Type, x-amz-meta-* and the stored system headers of a PUT/copy/multipart create. */
export function attributesFrom(headers: Headers): ObjectAttributes {
  const userMetadata: Record<string, string> = {};
  let bytes = 0;
  for (const [name, value] of Object.entries(headers)) {
    if (!name.startsWith(META_PREFIX) || value === undefined) continue;
    const text = Array.isArray(value) ? value.join(',') : value;
    userMetadata[name.slice(META_PREFIX.length)] = text;
    bytes += Buffer.byteLength(name.slice(META_PREFIX.length)) + Buffer.byteLength(text);
  }
  if (bytes > MAX_METADATA_BYTES) {
    throw new ServiceError('InvalidArgument', 'Your metadata headers exceed the maximum allowed metadata size.');
  }
  const stored: ObjectAttributes['headers'] = {};
  for (const h of STORED_HEADERS) {
    const v = headerValue(headers, h);
    // aws-chunked is transport framing, not an encoding of the stored object.
    const cleaned =
      h === 'content-encoding'
        ? v
            ?.split(',')
            .map((s) => s.trim())
            .filter((s) => s !== 'aws-chunked')
            .join(',')
        : v;
    if (cleaned) stored[h] = cleaned;
  }
  const contentType = headerValue(headers, 'content-type');
  return { userMetadata, headers: stored, ...(contentType && { contentType }) };
}

/** The response-* query overrides of GetObject (used by presigned URLs). */
const RESPONSE_OVERRIDES = {
  'response-content-type': 'content-type',
  'response-content-language': 'content-language',
  'response-expires': 'expires',
  'response-cache-control': 'cache-control',
  'response-content-disposition': 'content-disposition',
  'response-content-encoding': 'content-encoding',
} as const;

/** Headers of GetObject/HeadObject for one version. */
export function setObjectHeaders(
  reply: FastifyReply,
  meta: ObjectMeta,
  options: { query?: QueryParams; checksumMode: boolean; whole: boolean },
): void {
  void reply
    .header('etag', meta.etag)
    .header('last-modified', meta.lastModified.toUTCString())
    .header('accept-ranges', 'bytes')
    .header('content-type', meta.attributes.contentType ?? DEFAULT_CONTENT_TYPE);
  if (meta.versionId !== 'null') void reply.header('x-amz-version-id', meta.versionId);
  for (const [name, value] of Object.entries(meta.attributes.headers)) void reply.header(name, value);
  for (const [name, value] of Object.entries(meta.attributes.userMetadata))
    void reply.header(`${META_PREFIX}${name}`, value);
  if (meta.partsCount !== undefined) void reply.header('x-amz-mp-parts-count', String(meta.partsCount));
  if (options.checksumMode && options.whole && meta.checksum) {
    void reply.header(checksumHeader(meta.checksum.algorithm), meta.checksum.value);
    void reply.header('x-amz-checksum-type', meta.checksum.type);
  }
  for (const [param, header] of Object.entries(RESPONSE_OVERRIDES)) {
    const v = options.query?.string(param);
    if (v !== undefined) void reply.header(header, v);
  }
  // Objects are served from the console's origin (main listener) and the device listener: an
  // uploaded text/html or SVG file opened in a browser must not run script with the admin's
  // session. `sandbox` gives the document an opaque origin with scripts off; nosniff stops a
  // browser from guessing an executable type. Set last, so no stored header or override wins.
  void reply.header('content-security-policy', 'sandbox').header('x-content-type-options', 'nosniff');
}

/**
 * `Range: bytes=a-b | a- | -n` against an object of `size` bytes. Syntax S3 does not understand
 * is ignored (whole object); an unsatisfiable range is 416 InvalidRange.
 */
export function parseRange(header: string | undefined, size: number): ByteRange | undefined {
  if (header === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) throw invalidRange(size);
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (m[2] !== '' && Number(m[2]) < start) return undefined;
  }
  if (start >= size || size === 0) throw invalidRange(size);
  return { start, end };
}

const invalidRange = (size: number): ServiceError =>
  new ServiceError('InvalidRange', 'The requested range is not satisfiable', { ActualObjectSize: size });

function httpDate(headers: Headers, name: string): Date | undefined {
  const v = headerValue(headers, name);
  if (v === undefined) return undefined;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? undefined : new Date(ms);
}

export function conditionsFrom(headers: Headers, prefix = ''): Conditions {
  const ifMatch = headerValue(headers, `${prefix}if-match`);
  const ifNoneMatch = headerValue(headers, `${prefix}if-none-match`);
  const ifModifiedSince = httpDate(headers, `${prefix}if-modified-since`);
  const ifUnmodifiedSince = httpDate(headers, `${prefix}if-unmodified-since`);
  return {
    ...(ifMatch !== undefined && { ifMatch }),
    ...(ifNoneMatch !== undefined && { ifNoneMatch }),
    ...(ifModifiedSince && { ifModifiedSince }),
    ...(ifUnmodifiedSince && { ifUnmodifiedSince }),
  };
}
