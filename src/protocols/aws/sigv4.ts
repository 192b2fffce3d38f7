import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { ServiceError } from '../../errors.js';

/**
 * SigV4 verification (spec 1.3). The canonical request is rebuilt from the raw path and query
 * exactly as received, so that what the client signed (including `$next` vs `%24next`) is what
 * we hash.
 */

export const ALGORITHM = 'AWS4-HMAC-SHA256';
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
const MAX_SKEW_MS = 15 * 60 * 1000;
const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

export type Headers = Record<string, string | string[] | undefined>;

export interface IncomingSignedRequest {
  method: string;
  /** Path exactly as on the wire, without the query string. */
  rawPath: string;
  /** Query string exactly as on the wire, without the leading `?`. */
  rawQuery: string;
  headers: Headers;
}

export interface SignatureInfo {
  form: 'header' | 'query';
  accessKeyId: string;
  /** yyyymmdd of the credential scope. */
  scopeDate: string;
  region: string;
  service: string;
  amzDate: string;
  signedHeaders: string[];
  signature: string;
  /** Seconds, query form only. */
  expires?: number;
  securityToken?: string;
  /** The declared payload hash: a hex digest, UNSIGNED-PAYLOAD or STREAMING-*. */
  declaredPayloadHash?: string;
}

export const sha256Hex = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');
const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data, 'utf8').digest();

/** RFC 3986 encoding as AWS uses it: everything but A-Z a-z 0-9 - _ . ~ */
export function awsUriEncode(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

export function headerValue(headers: Headers, name: string): string | undefined {
  const v = headers[name.toLowerCase()];
  return Array.isArray(v) ? v.join(',') : v;
}

export function parseQuery(rawQuery: string): [string, string][] {
  if (rawQuery === '') return [];
  return rawQuery
    .split('&')
    .filter((p) => p !== '')
    .map((pair) => {
      const eq = pair.indexOf('=');
      return eq === -1 ? [safeDecode(pair), ''] : [safeDecode(pair.slice(0, eq)), safeDecode(pair.slice(eq + 1))];
    });
}

const CREDENTIAL_RE = /^([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request$/;

function parseCredential(credential: string): Pick<SignatureInfo, 'accessKeyId' | 'scopeDate' | 'region' | 'service'> {
  const m = CREDENTIAL_RE.exec(credential);
  if (!m) throw new ServiceError('InvalidSignature', `Invalid credential scope '${credential}'.`);
  return { accessKeyId: m[1]!, scopeDate: m[2]!, region: m[3]!, service: m[4]! };
}

/** Reads the signature from the Authorization header or the query string; undefined if unsigned. */
export function parseSignature(req: IncomingSignedRequest): SignatureInfo | undefined {
  const auth = headerValue(req.headers, 'authorization');
  if (auth !== undefined) {
    if (!auth.startsWith(`${ALGORITHM} `)) {
      throw new ServiceError('InvalidSignature', 'Only AWS4-HMAC-SHA256 signatures are supported.');
    }
    const fields = new Map<string, string>();
    for (const part of auth.slice(ALGORITHM.length + 1).split(',')) {
      const eq = part.indexOf('=');
      if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
    }
    const credential = fields.get('Credential');
    const signedHeaders = fields.get('SignedHeaders');
    const signature = fields.get('Signature');
    const amzDate = headerValue(req.headers, 'x-amz-date');
    if (!credential || !signedHeaders || !signature) {
      throw new ServiceError(
        'InvalidSignature',
        "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters.",
      );
    }
    if (!amzDate) throw new ServiceError('InvalidSignature', 'Authorization header requires the X-Amz-Date header.');
    return {
      form: 'header',
      ...parseCredential(credential),
      amzDate,
      signedHeaders: signedHeaders.split(';'),
      signature,
      securityToken: headerValue(req.headers, 'x-amz-security-token'),
      declaredPayloadHash: headerValue(req.headers, 'x-amz-content-sha256'),
    };
  }
  const query = new Map(parseQuery(req.rawQuery));
  if (!query.has('X-Amz-Signature') && !query.has('X-Amz-Credential')) return undefined;
  const algorithm = query.get('X-Amz-Algorithm');
  const credential = query.get('X-Amz-Credential');
  const amzDate = query.get('X-Amz-Date');
  const signedHeaders = query.get('X-Amz-SignedHeaders');
  const signature = query.get('X-Amz-Signature');
  const expires = Number(query.get('X-Amz-Expires'));
  if (algorithm !== ALGORITHM || !credential || !amzDate || !signedHeaders || !signature) {
    throw new ServiceError(
      'InvalidSignature',
      'Presigned requests require X-Amz-Algorithm=AWS4-HMAC-SHA256, X-Amz-Credential, X-Amz-Date, X-Amz-SignedHeaders and X-Amz-Signature.',
    );
  }
  if (!Number.isInteger(expires) || expires < 1 || expires > MAX_PRESIGN_SECONDS) {
    throw new ServiceError('InvalidSignature', 'X-Amz-Expires must be an integer between 1 and 604800.');
  }
  return {
    form: 'query',
    ...parseCredential(credential),
    amzDate,
    signedHeaders: signedHeaders.split(';'),
    signature,
    expires,
    securityToken: query.get('X-Amz-Security-Token'),
    declaredPayloadHash: query.get('X-Amz-Content-Sha256'),
  };
}

export function parseAmzDate(amzDate: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s] = m.map(Number) as number[];
  return new Date(Date.UTC(y!, mo! - 1, d!, h!, mi!, s!));
}

/** Checks the request time against the clock (15-minute skew; presigned expiry). */
export function checkRequestTime(info: SignatureInfo, now: Date): void {
  const signedAt = parseAmzDate(info.amzDate);
  if (!signedAt)
    throw new ServiceError('InvalidSignature', `X-Amz-Date '${info.amzDate}' is not in the form YYYYMMDDTHHMMSSZ.`);
  if (info.amzDate.slice(0, 8) !== info.scopeDate) {
    throw new ServiceError('InvalidSignature', 'The date of the credential scope does not match X-Amz-Date.');
  }
  const skew = signedAt.getTime() - now.getTime();
  if (info.form === 'header' && Math.abs(skew) > MAX_SKEW_MS) {
    throw new ServiceError(
      'RequestTimeTooSkewed',
      `Signature expired: ${info.amzDate} is now earlier or later than the server time by more than 15 minutes.`,
    );
  }
  if (info.form === 'query') {
    if (skew > MAX_SKEW_MS)
      throw new ServiceError('InvalidSignature', 'Request is not yet valid (X-Amz-Date is in the future).');
    if (now.getTime() > signedAt.getTime() + (info.expires ?? 0) * 1000) {
      throw new ServiceError('AccessDenied', 'Request has expired.');
    }
  }
}

export function canonicalUri(rawPath: string, service: string): string {
  const path = rawPath === '' ? '/' : rawPath;
  // S3 signs the path as sent; every other service normalizes it and encodes it a second time.
  if (service === 's3') return path;
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const normalized = `/${segments.join('/')}${segments.length > 0 && path.endsWith('/') ? '/' : ''}`;
  return awsUriEncode(normalized).replace(/%2F/g, '/');
}

export function canonicalQuery(rawQuery: string, dropSignature: boolean): string {
  return parseQuery(rawQuery)
    .filter(([k]) => !(dropSignature && k === 'X-Amz-Signature'))
    .map(([k, v]) => [awsUriEncode(k), awsUriEncode(v)] as const)
    .sort(([ak, av], [bk, bv]) => (ak < bk ? -1 : ak > bk ? 1 : av < bv ? -1 : av > bv ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
}

export function canonicalHeaders(headers: Headers, signedHeaders: string[]): string {
  return signedHeaders
    .map((name) => {
      const value = headerValue(headers, name);
      if (value === undefined)
        throw new ServiceError('InvalidSignature', `Signed header '${name}' is missing from the request.`);
      return `${name}:${value.trim().replace(/\s+/g, ' ')}\n`;
    })
    .join('');
}

export function signingKey(secret: string, scopeDate: string, region: string, service: string): Buffer {
  return hmac(hmac(hmac(hmac(`AWS4${secret}`, scopeDate), region), service), 'aws4_request');
}

export function credentialScope(info: Pick<SignatureInfo, 'scopeDate' | 'region' | 'service'>): string {
  return `${info.scopeDate}/${info.region}/${info.service}/aws4_request`;
}

export function stringToSign(amzDate: string, scope: string, canonicalRequest: string): string {
  return `${ALGORITHM}\n${amzDate}\n${scope}\n${sha256Hex(canonicalRequest)}`;
}

/**
 * The payload hash that goes into the canonical request. Hex digests declared by the client are
 * checked against the body separately (checkPayloadHash) so a body swapped in transit is refused.
 */
export function payloadHashFor(info: SignatureInfo, body: Buffer | undefined): string {
  if (info.declaredPayloadHash !== undefined) return info.declaredPayloadHash;
  if (info.form === 'query' && info.service === 's3') return UNSIGNED_PAYLOAD;
  return body === undefined || body.length === 0 ? EMPTY_SHA256 : sha256Hex(body);
}

/**
 * Only S3 may leave the body out of the signature (UNSIGNED-PAYLOAD, STREAMING-*, which its
 * adapter verifies chunk by chunk); every other service reads the whole body, and a signature
 * that does not cover it would let a body swapped in transit through (issue 14 item 4).
 */
export function checkPayloadCovered(info: SignatureInfo): void {
  const declared = info.declaredPayloadHash;
  if (info.service === 's3' || declared === undefined || /^[0-9a-f]{64}$/i.test(declared)) return;
  throw new ServiceError(
    'InvalidSignature',
    `x-amz-content-sha256 '${declared.slice(0, 64)}' is accepted by S3 only; sign the SHA-256 of the payload.`,
  );
}

/**
 * The credential scope must name this server's region (AWS refuses a request signed for another
 * region). IAM is global: AWS signs it for us-east-1, so that is accepted as well.
 */
export function checkRegion(info: SignatureInfo, region: string): void {
  if (info.region === region || (info.service === 'iam' && info.region === 'us-east-1')) return;
  throw new ServiceError(
    'WrongSigningRegion',
    `Credential should be scoped to a valid region: the region '${info.region}' is wrong; expecting '${region}'.`,
    { Region: region },
  );
}

export function checkPayloadHash(info: SignatureInfo, body: Buffer | undefined): void {
  const declared = info.declaredPayloadHash;
  if (declared === undefined || !/^[0-9a-f]{64}$/i.test(declared) || body === undefined) return;
  const actual = body.length === 0 ? EMPTY_SHA256 : sha256Hex(body);
  if (actual !== declared.toLowerCase()) {
    throw new ServiceError('InvalidSignature', 'The provided x-amz-content-sha256 does not match the request body.');
  }
}

export function expectedSignature(
  req: IncomingSignedRequest,
  info: SignatureInfo,
  secret: string,
  body: Buffer | undefined,
): string {
  const canonicalRequest = [
    req.method.toUpperCase(),
    canonicalUri(req.rawPath, info.service),
    canonicalQuery(req.rawQuery, info.form === 'query'),
    canonicalHeaders(req.headers, info.signedHeaders),
    info.signedHeaders.join(';'),
    payloadHashFor(info, body),
  ].join('\n');
  const key = signingKey(secret, info.scopeDate, info.region, info.service);
  return hmac(key, stringToSign(info.amzDate, credentialScope(info), canonicalRequest)).toString('hex');
}

export function signaturesEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

/** Full verification: time window, host signed, signature, and the body against its declared hash. */
export function verifySignature(
  req: IncomingSignedRequest,
  info: SignatureInfo,
  secret: string,
  body: Buffer | undefined,
  now: Date,
): void {
  checkRequestTime(info, now);
  checkPayloadCovered(info);
  if (!info.signedHeaders.includes('host')) {
    throw new ServiceError('InvalidSignature', "The 'host' header must be signed.");
  }
  const expected = expectedSignature(req, info, secret, body);
  if (!signaturesEqual(expected, info.signature)) {
    throw new ServiceError(
      'InvalidSignature',
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
    );
  }
  checkPayloadHash(info, body);
}
