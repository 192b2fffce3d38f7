import { ServiceError } from '../../../errors.js';
import { CHECKSUM_ALGORITHMS, checksumHeader, parseChecksumAlgorithm } from '../../../objects/checksums.js';
import { CHECKSUM_TYPES, type ChecksumType } from '../../../objects/objects.schemas.js';
import { headerValue } from '../sigv4.js';
import { xmlList } from '../xml.js';
import { attributesFrom } from './s3.headers.js';
import { checksumElement, readXmlBody, sendEmpty, sendXml, setChecksumHeader, type S3Request } from './s3.context.js';
import { openPayload } from './s3.payload.js';

const uploadIdOf = (r: S3Request): string => r.req.query.string('uploadId')!;

export async function createMultipartUpload(r: S3Request): Promise<void> {
  const algorithmHeader = headerValue(r.req.headers, 'x-amz-checksum-algorithm');
  const algorithm = parseChecksumAlgorithm(algorithmHeader);
  if (algorithmHeader !== undefined && !algorithm) {
    throw new ServiceError('InvalidRequest', `Checksum algorithm ${algorithmHeader} is not supported.`);
  }
  const type = headerValue(r.req.headers, 'x-amz-checksum-type')?.toUpperCase();
  if (type !== undefined && !(CHECKSUM_TYPES as readonly string[]).includes(type)) {
    throw new ServiceError('InvalidRequest', `Checksum type ${type} is not supported.`);
  }
  const upload = await r.services.multipart.create(
    r.bucket!,
    r.key!,
    attributesFrom(r.req.headers),
    algorithm,
    type as ChecksumType | undefined,
  );
  if (upload.checksumAlgorithm) void r.reply.header('x-amz-checksum-algorithm', upload.checksumAlgorithm);
  if (upload.checksumType) void r.reply.header('x-amz-checksum-type', upload.checksumType);
  sendXml(r.reply, 'InitiateMultipartUploadResult', { Bucket: r.bucket, Key: r.key, UploadId: upload.uploadId });
}

export async function uploadPart(r: S3Request): Promise<void> {
  if (headerValue(r.req.headers, 'x-amz-copy-source') !== undefined) {
    throw new ServiceError('NotImplemented', 'UploadPartCopy is not supported by this server.');
  }
  const payload = openPayload(r.req, r.raw, r.secret);
  const result = await r.services.multipart.uploadPart(
    r.bucket!,
    r.key!,
    uploadIdOf(r),
    r.req.query.int('partNumber')!,
    payload.body,
    payload.expect,
  );
  void r.reply.header('etag', result.etag);
  setChecksumHeader(r.reply, result.checksum);
  sendEmpty(r.reply, 200);
}

export async function completeMultipartUpload(r: S3Request): Promise<void> {
  const body = await readXmlBody(r, 'CompleteMultipartUpload');
  const parts = xmlList(body.Part).map((p) => {
    const part = p as Record<string, unknown>;
    const number = Number(part.PartNumber);
    if (!Number.isInteger(number) || typeof part.ETag !== 'string') {
      throw new ServiceError('MalformedXML', 'Each Part needs a PartNumber and an ETag.');
    }
    const checksum = CHECKSUM_ALGORITHMS.map((a) => part[checksumElement(a)]).find((v) => typeof v === 'string');
    return { partNumber: number, etag: part.ETag, ...(typeof checksum === 'string' && { checksum }) };
  });
  const declaredFull = CHECKSUM_ALGORITHMS.map((a) => headerValue(r.req.headers, checksumHeader(a))).find(
    (v) => v !== undefined,
  );
  const result = await r.services.multipart.complete(r.bucket!, r.key!, uploadIdOf(r), parts, declaredFull);
  if (result.versionId !== undefined) void r.reply.header('x-amz-version-id', result.versionId);
  sendXml(r.reply, 'CompleteMultipartUploadResult', {
    Location: `/${r.bucket}/${r.key}`,
    Bucket: r.bucket,
    Key: r.key,
    ETag: result.etag,
    ...(result.checksum && {
      [checksumElement(result.checksum.algorithm as (typeof CHECKSUM_ALGORITHMS)[number])]: result.checksum.value,
      ChecksumType: result.checksum.type,
    }),
  });
}

export async function abortMultipartUpload(r: S3Request): Promise<void> {
  await r.services.multipart.abort(r.bucket!, r.key!, uploadIdOf(r));
  sendEmpty(r.reply, 204);
}

export async function listParts(r: S3Request): Promise<void> {
  const marker = r.req.query.int('part-number-marker') ?? 0;
  const max = Math.min(r.req.query.int('max-parts') ?? 1000, 1000);
  const listed = await r.services.multipart.listParts(r.bucket!, r.key!, uploadIdOf(r), marker, max);
  const algorithm = listed.upload.checksumAlgorithm;
  sendXml(r.reply, 'ListPartsResult', {
    Bucket: r.bucket,
    Key: r.key,
    UploadId: listed.upload.uploadId,
    PartNumberMarker: marker,
    NextPartNumberMarker: listed.nextMarker,
    MaxParts: max,
    IsTruncated: listed.isTruncated,
    Part: listed.parts.map((p) => ({
      PartNumber: p.partNumber,
      LastModified: p.lastModified,
      ETag: p.etag,
      Size: p.size,
      ...(algorithm && p.checksum && { [checksumElement(algorithm)]: p.checksum }),
    })),
    Initiator: r.owner,
    Owner: r.owner,
    StorageClass: 'STANDARD',
    ...(algorithm && { ChecksumAlgorithm: algorithm, ChecksumType: listed.upload.checksumType }),
  });
}
