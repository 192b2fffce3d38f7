import { createHmac } from 'node:crypto';
import {
  ALGORITHM,
  awsUriEncode,
  canonicalQuery,
  credentialScope,
  sha256Hex,
  signingKey,
  UNSIGNED_PAYLOAD,
} from '../protocols/aws/sigv4.js';

export interface PresignCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface PresignGetInput {
  /** Scheme, host and port the URL points at, e.g. https://devices.example.com:8443 */
  baseUrl: string;
  bucket: string;
  key: string;
  versionId?: string;
  credentials: PresignCredentials;
  region: string;
  expiresInSec: number;
  now: Date;
}

const amzDate = (d: Date): string =>
  d
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');

/** S3 path-style object path, each segment RFC 3986-encoded as S3 signs it. */
export const objectPath = (bucket: string, key: string): string =>
  `/${awsUriEncode(bucket)}/${key.split('/').map(awsUriEncode).join('/')}`;

/**
 * A SigV4 query-presigned S3 GET (spec 6.1: X-Amz-Expires = expiresInSec, SignedHeaders=host,
 * X-Amz-Security-Token for role credentials), path-style on `baseUrl`.
 */
export function presignGetUrl(input: PresignGetInput): string {
  const base = new URL(input.baseUrl);
  const date = amzDate(input.now);
  const scope = credentialScope({ scopeDate: date.slice(0, 8), region: input.region, service: 's3' });
  const params: [string, string][] = [
    ['X-Amz-Algorithm', ALGORITHM],
    ['X-Amz-Credential', `${input.credentials.accessKeyId}/${scope}`],
    ['X-Amz-Date', date],
    ['X-Amz-Expires', String(input.expiresInSec)],
    ['X-Amz-SignedHeaders', 'host'],
    ...(input.credentials.sessionToken
      ? [['X-Amz-Security-Token', input.credentials.sessionToken] as [string, string]]
      : []),
    ...(input.versionId !== undefined ? [['versionId', input.versionId] as [string, string]] : []),
  ];
  const rawQuery = params.map(([k, v]) => `${awsUriEncode(k)}=${awsUriEncode(v)}`).join('&');
  const path = objectPath(input.bucket, input.key);
  const canonicalRequest = [
    'GET',
    path,
    canonicalQuery(rawQuery, false),
    `host:${base.host}\n`,
    'host',
    UNSIGNED_PAYLOAD,
  ].join('\n');
  const stringToSign = `${ALGORITHM}\n${date}\n${scope}\n${sha256Hex(canonicalRequest)}`;
  const key = signingKey(input.credentials.secretAccessKey, date.slice(0, 8), input.region, 's3');
  const signature = createHmac('sha256', key).update(stringToSign, 'utf8').digest('hex');
  return `${base.protocol}//${base.host}${path}?${rawQuery}&X-Amz-Signature=${signature}`;
}
