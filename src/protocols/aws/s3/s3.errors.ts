import type { FastifyReply } from 'fastify';
import { errorMapping, type ErrorCode, type ServiceError } from '../../../errors.js';
import { toXml } from '../xml.js';

/** Generic catalogue codes as S3 names them; S3's own codes (NoSuchKey...) pass through. */
const S3_NAMES: Partial<Record<ErrorCode, { http: number; code: string }>> = {
  InvalidSignature: { http: 403, code: 'SignatureDoesNotMatch' },
  RequestTimeTooSkewed: { http: 403, code: 'RequestTimeTooSkewed' },
  PayloadTooLarge: { http: 400, code: 'MaxMessageLengthExceeded' },
  WrongSigningRegion: { http: 400, code: 'AuthorizationHeaderMalformed' },
  AccessDenied: { http: 403, code: 'AccessDenied' },
  MissingAuthenticationToken: { http: 403, code: 'AccessDenied' },
  UnrecognizedClient: { http: 403, code: 'InvalidAccessKeyId' },
  InvalidRequest: { http: 400, code: 'InvalidRequest' },
  Validation: { http: 400, code: 'InvalidArgument' },
  UnknownOperation: { http: 501, code: 'NotImplemented' },
  InternalFailure: { http: 500, code: 'InternalError' },
  ServiceUnavailable: { http: 503, code: 'ServiceUnavailable' },
  Throttling: { http: 503, code: 'SlowDown' },
};

export function s3ErrorName(code: ErrorCode): { http: number; code: string } {
  const m = errorMapping(code);
  return S3_NAMES[code] ?? { http: m.http, code: m.aws };
}

/**
 * S3's XML error body. Capitalized extras (Key, BucketName, VersionId...) become elements;
 * lower-case extras are for headers: a delete marker's id and flag on 404/405.
 */
export function renderS3Error(err: ServiceError, reply: FastifyReply, requestId: string, method: string): void {
  const { http, code } = s3ErrorName(err.code);
  const extras = err.extras as Record<string, unknown>;
  if (extras.deleteMarker === true) void reply.header('x-amz-delete-marker', 'true');
  if (typeof extras.versionId === 'string') void reply.header('x-amz-version-id', extras.versionId);
  if (typeof extras.etag === 'string') void reply.header('etag', extras.etag);
  void reply.code(http).header('x-amz-request-id', requestId).header('x-amz-id-2', requestId);
  // HEAD replies and 304 carry no body; the SDKs then read the code from the status alone.
  if (method === 'HEAD' || http === 304) {
    void reply.send();
    return;
  }
  const elements = Object.entries(extras).filter(([k]) => /^[A-Z]/.test(k));
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n${toXml('Error', {
    Code: code,
    Message: err.message,
    ...Object.fromEntries(elements),
    RequestId: requestId,
    HostId: requestId,
  })}`;
  void reply.header('content-type', 'application/xml').send(body);
}
