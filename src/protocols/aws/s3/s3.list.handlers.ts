import { ServiceError } from '../../../errors.js';
import type { ObjectMeta } from '../../../objects/objects.schemas.js';
import { toXml } from '../xml.js';
import { checkEncodingType, S3_XMLNS, sendXml, urlEncoder, type S3Request } from './s3.context.js';

const maxKeys = (r: S3Request): number | undefined => {
  const raw = r.req.query.string('max-keys');
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw))
    throw new ServiceError('InvalidArgument', 'Provided max-keys not an integer or within integer range');
  return Number(raw);
};

/** The query members every listing shares: encoding, prefix and delimiter. */
function listingQuery(r: S3Request) {
  const q = r.req.query;
  const encodingType = q.string('encoding-type');
  checkEncodingType(encodingType);
  return {
    encodingType,
    encode: urlEncoder(encodingType) as (s: string) => string,
    prefix: q.string('prefix'),
    delimiter: q.string('delimiter'),
  };
}

function contents(m: ObjectMeta, encode: (s: string) => string | undefined, owner?: object) {
  return {
    Key: encode(m.key),
    LastModified: m.lastModified,
    ETag: m.etag,
    ...(m.checksum && { ChecksumAlgorithm: m.checksum.algorithm, ChecksumType: m.checksum.type }),
    Size: m.size,
    ...(owner && { Owner: owner }),
    StorageClass: 'STANDARD',
  };
}

export async function listObjectsV2(r: S3Request): Promise<void> {
  const q = r.req.query;
  const { encodingType, encode, prefix, delimiter } = listingQuery(r);
  const token = q.string('continuation-token');
  const startAfter = q.string('start-after');
  const max = maxKeys(r);
  const listing = await r.services.listing.listObjects(r.bucket!, {
    prefix,
    delimiter,
    maxKeys: max,
    token,
    startAfter,
  });
  sendXml(r.reply, 'ListBucketResult', {
    Name: r.bucket,
    Prefix: encode(prefix ?? ''),
    ...(delimiter !== undefined && { Delimiter: encode(delimiter) }),
    MaxKeys: Math.min(max ?? 1000, 1000),
    ...(encodingType && { EncodingType: encodingType }),
    KeyCount: listing.objects.length + listing.commonPrefixes.length,
    IsTruncated: listing.isTruncated,
    ...(token !== undefined && { ContinuationToken: token }),
    ...(listing.next !== undefined && { NextContinuationToken: listing.next }),
    ...(startAfter !== undefined && { StartAfter: encode(startAfter) }),
    Contents: listing.objects.map((m) => contents(m, encode, q.bool('fetch-owner') ? r.owner : undefined)),
    CommonPrefixes: listing.commonPrefixes.map((p) => ({ Prefix: encode(p) })),
  });
}

/** ListObjects (V1): marker paging; NextMarker is sent when a delimiter is used, as S3 does. */
export async function listObjectsV1(r: S3Request): Promise<void> {
  const q = r.req.query;
  const { encodingType, encode, prefix, delimiter } = listingQuery(r);
  const marker = q.string('marker');
  const max = maxKeys(r);
  const listing = await r.services.listing.listObjects(r.bucket!, {
    prefix,
    delimiter,
    maxKeys: max,
    startAfter: marker,
  });
  sendXml(r.reply, 'ListBucketResult', {
    Name: r.bucket,
    Prefix: encode(prefix ?? ''),
    Marker: encode(marker ?? ''),
    ...(listing.isTruncated && delimiter !== undefined && { NextMarker: encode(listing.lastKey ?? '') }),
    MaxKeys: Math.min(max ?? 1000, 1000),
    ...(delimiter !== undefined && { Delimiter: encode(delimiter) }),
    ...(encodingType && { EncodingType: encodingType }),
    IsTruncated: listing.isTruncated,
    Contents: listing.objects.map((m) => contents(m, encode, r.owner)),
    CommonPrefixes: listing.commonPrefixes.map((p) => ({ Prefix: encode(p) })),
  });
}

export async function listObjectVersions(r: S3Request): Promise<void> {
  const q = r.req.query;
  const { encodingType, encode, prefix, delimiter } = listingQuery(r);
  const keyMarker = q.string('key-marker');
  const versionIdMarker = q.string('version-id-marker');
  const max = maxKeys(r);
  const listing = await r.services.listing.listVersions(r.bucket!, {
    prefix,
    delimiter,
    maxKeys: max,
    keyMarker,
    versionIdMarker,
  });
  const head = {
    Name: r.bucket,
    Prefix: encode(prefix ?? ''),
    KeyMarker: encode(keyMarker ?? ''),
    VersionIdMarker: versionIdMarker ?? '',
    ...(listing.nextKeyMarker !== undefined && { NextKeyMarker: encode(listing.nextKeyMarker) }),
    ...(listing.nextVersionIdMarker !== undefined && { NextVersionIdMarker: listing.nextVersionIdMarker }),
    MaxKeys: Math.min(max ?? 1000, 1000),
    ...(delimiter !== undefined && { Delimiter: encode(delimiter) }),
    ...(encodingType && { EncodingType: encodingType }),
    IsTruncated: listing.isTruncated,
  };
  // Versions and delete markers stay interleaved in listing order, as S3 sends them.
  const entries = listing.versions
    .map((m) =>
      m.isDeleteMarker
        ? toXml('DeleteMarker', {
            Key: encode(m.key),
            VersionId: m.versionId,
            IsLatest: m.isLatest,
            LastModified: m.lastModified,
            Owner: r.owner,
          })
        : toXml('Version', {
            Key: encode(m.key),
            VersionId: m.versionId,
            IsLatest: m.isLatest,
            LastModified: m.lastModified,
            ETag: m.etag,
            ...(m.checksum && { ChecksumAlgorithm: m.checksum.algorithm, ChecksumType: m.checksum.type }),
            Size: m.size,
            StorageClass: 'STANDARD',
            Owner: r.owner,
          }),
    )
    .join('');
  const prefixes = toXml(
    'CommonPrefixes',
    listing.commonPrefixes.map((p) => ({ Prefix: encode(p) })),
  );
  const inner = Object.entries(head)
    .map(([k, v]) => toXml(k, v))
    .join('');
  void r.reply
    .code(200)
    .header('content-type', 'application/xml')
    .send(
      `<?xml version="1.0" encoding="UTF-8"?>\n<ListVersionsResult xmlns="${S3_XMLNS}">${inner}${entries}${prefixes}</ListVersionsResult>`,
    );
}

export async function listMultipartUploads(r: S3Request): Promise<void> {
  const uploads = await r.services.multipart.listUploads(r.bucket!);
  sendXml(r.reply, 'ListMultipartUploadsResult', {
    Bucket: r.bucket,
    KeyMarker: '',
    UploadIdMarker: '',
    MaxUploads: 1000,
    IsTruncated: false,
    Upload: uploads.map((u) => ({
      Key: u.key,
      UploadId: u.uploadId,
      Initiator: r.owner,
      Owner: r.owner,
      StorageClass: 'STANDARD',
      Initiated: u.initiated,
      ...(u.checksumAlgorithm && { ChecksumAlgorithm: u.checksumAlgorithm }),
    })),
  });
}
