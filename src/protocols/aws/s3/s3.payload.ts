import type { Readable } from 'node:stream';
import { ServiceError } from '../../../errors.js';
import type { BodyExpectations } from '../../../objects/blob-writer.js';
import { checksumHeader, CHECKSUM_ALGORITHMS, parseChecksumAlgorithm } from '../../../objects/checksums.js';
import type { AwsRequest } from '../request.js';
import { credentialScope, headerValue, signingKey, UNSIGNED_PAYLOAD } from '../sigv4.js';
import { AwsChunkedDecoder } from './aws-chunked.js';

/** The STREAMING-* forms of x-amz-content-sha256 (aws-chunked bodies). */
export const STREAMING_FORMS = {
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD': { signed: true },
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER': { signed: true },
  'STREAMING-UNSIGNED-PAYLOAD-TRAILER': { signed: false },
} as const;

export interface Payload {
  body: Readable;
  expect: BodyExpectations;
}

function declaredLength(req: AwsRequest, name: string): number | undefined {
  const raw = headerValue(req.headers, name);
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw)) throw new ServiceError('InvalidArgument', `${name} must be a non-negative integer.`);
  return Number(raw);
}

function contentMd5(req: AwsRequest): string | undefined {
  const md5 = headerValue(req.headers, 'content-md5');
  if (md5 === undefined) return undefined;
  if (Buffer.from(md5, 'base64').length !== 16 || !/^[A-Za-z0-9+/]+=*$/.test(md5)) {
    throw new ServiceError('InvalidDigest', 'The Content-MD5 you specified was invalid.');
  }
  return md5;
}

/** The checksum the client sends (header now, or trailer later) and which algorithm it uses. */
function declaredChecksum(
  req: AwsRequest,
  trailers: () => Map<string, string> | undefined,
): Pick<BodyExpectations, 'checksumAlgorithm' | 'checksumValue'> {
  const inHeaders = CHECKSUM_ALGORITHMS.filter((a) => headerValue(req.headers, checksumHeader(a)) !== undefined);
  if (inHeaders.length > 1) throw new ServiceError('InvalidRequest', 'Expecting a single x-amz-checksum- header.');
  const trailerName = headerValue(req.headers, 'x-amz-trailer')?.trim().toLowerCase();
  const fromTrailer = CHECKSUM_ALGORITHMS.find((a) => checksumHeader(a) === trailerName);
  if (trailerName !== undefined && !fromTrailer) {
    throw new ServiceError('InvalidRequest', `The trailer ${trailerName} is not supported.`);
  }
  const sdkAlgorithm = headerValue(req.headers, 'x-amz-sdk-checksum-algorithm');
  const algorithm = inHeaders[0] ?? fromTrailer ?? parseChecksumAlgorithm(sdkAlgorithm);
  if (sdkAlgorithm !== undefined && !parseChecksumAlgorithm(sdkAlgorithm)) {
    throw new ServiceError('InvalidRequest', `Checksum algorithm ${sdkAlgorithm} is not supported.`);
  }
  if (!algorithm) return {};
  const header = checksumHeader(algorithm);
  const inHeader = headerValue(req.headers, header);
  return {
    checksumAlgorithm: algorithm,
    checksumValue: () => inHeader ?? trailers()?.get(header),
  };
}

/**
 * The body of an S3 request as plain bytes plus everything to verify while it streams: the hex
 * x-amz-content-sha256, the chunk signatures of STREAMING-* bodies, Content-MD5, the length and
 * the x-amz-checksum-* value (header or trailer).
 */
export function openPayload(req: AwsRequest, raw: Readable, secretAccessKey: string): Payload {
  const signature = req.signature!;
  const declared = signature.declaredPayloadHash ?? (signature.form === 'query' ? UNSIGNED_PAYLOAD : undefined);
  if (declared === undefined) {
    throw new ServiceError('InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
  }
  const md5Base64 = contentMd5(req);
  const form = Object.hasOwn(STREAMING_FORMS, declared)
    ? STREAMING_FORMS[declared as keyof typeof STREAMING_FORMS]
    : undefined;
  if (form) {
    const decoder = new AwsChunkedDecoder(
      form.signed
        ? {
            key: signingKey(secretAccessKey, signature.scopeDate, signature.region, signature.service),
            amzDate: signature.amzDate,
            scope: credentialScope(signature),
            seedSignature: signature.signature,
          }
        : undefined,
    );
    raw.on('error', (err) => decoder.destroy(err));
    const length = declaredLength(req, 'x-amz-decoded-content-length');
    return {
      body: raw.pipe(decoder),
      expect: {
        ...(length !== undefined && { length }),
        ...(md5Base64 && { md5Base64 }),
        ...declaredChecksum(req, () => decoder.trailers),
      },
    };
  }
  if (declared !== UNSIGNED_PAYLOAD && !/^[0-9a-fA-F]{64}$/.test(declared)) {
    throw new ServiceError(
      'InvalidArgument',
      'x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD(-TRAILER), STREAMING-UNSIGNED-PAYLOAD-TRAILER, or a valid sha256 value.',
    );
  }
  const length = declaredLength(req, 'content-length');
  return {
    body: raw,
    expect: {
      ...(length !== undefined && { length }),
      ...(md5Base64 && { md5Base64 }),
      ...(declared !== UNSIGNED_PAYLOAD && { sha256Hex: declared }),
      ...declaredChecksum(req, () => undefined),
    },
  };
}
