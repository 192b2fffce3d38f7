import { describe, expect, it } from 'vitest';
import type { ServiceError } from '../../src/errors.js';
import { objectPath, presignGetUrl } from '../../src/objects/presign.js';
import { parseSignature, verifySignature } from '../../src/protocols/aws/sigv4.js';

const NOW = new Date('2030-03-01T10:00:00Z');
const credentials = { accessKeyId: 'ASIAABCDEFGHIJKLMNOP', secretAccessKey: 'secret/+=', sessionToken: 'tok.en' };

/** What a device's HTTP client sends for a URL: path and query as written, Host from the URL. */
function asReceived(url: string) {
  const u = new URL(url);
  return {
    method: 'GET',
    rawPath: u.pathname,
    rawQuery: u.search.slice(1),
    headers: { host: u.host },
  };
}

function verifyAt(url: string, now: Date, secret = credentials.secretAccessKey): void {
  const req = asReceived(url);
  const info = parseSignature(req)!;
  verifySignature(req, info, secret, undefined, now);
}

const failure = (fn: () => void): ServiceError => {
  try {
    fn();
  } catch (err) {
    return err as ServiceError;
  }
  throw new Error('expected a failure');
};

describe('presigned GET URLs (spec 6.1)', () => {
  const url = presignGetUrl({
    baseUrl: 'https://devices.example.com:8443',
    bucket: 'firmware',
    key: 'dir/fw v1+(2)*.bin',
    versionId: 'v/1+2',
    credentials,
    region: 'us-east-1',
    expiresInSec: 900,
    now: NOW,
  });

  it('has the AWS shape: path style, SignedHeaders=host, the token, the expiry', () => {
    const u = new URL(url);
    expect(`${u.protocol}//${u.host}`).toBe('https://devices.example.com:8443');
    expect(u.pathname).toBe('/firmware/dir/fw%20v1%2B%282%29%2A.bin');
    expect(Object.fromEntries(u.searchParams)).toMatchObject({
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Credential': 'ASIAABCDEFGHIJKLMNOP/20300301/us-east-1/s3/aws4_request',
      'X-Amz-Date': '20300301T100000Z',
      'X-Amz-Expires': '900',
      'X-Amz-SignedHeaders': 'host',
      'X-Amz-Security-Token': 'tok.en',
      versionId: 'v/1+2',
    });
    expect(u.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('verifies until it expires, then AccessDenied', () => {
    verifyAt(url, NOW);
    verifyAt(url, new Date(NOW.getTime() + 900_000));
    const expired = failure(() => verifyAt(url, new Date(NOW.getTime() + 900_001)));
    expect(expired.code).toBe('AccessDenied');
    expect(expired.message).toBe('Request has expired.');
  });

  it('any change to the path, a parameter or the host breaks the signature', () => {
    const tampered = [
      url.replace('/firmware/dir/', '/firmware/other/'),
      url.replace('X-Amz-Expires=900', 'X-Amz-Expires=3600'),
      url.replace('versionId=v%2F1%2B2', 'versionId=v2'),
      url.replace('devices.example.com:8443', 'devices.example.com:9443'),
    ];
    for (const t of tampered) {
      expect(t).not.toBe(url);
      expect(failure(() => verifyAt(t, NOW)).code).toBe('InvalidSignature');
    }
    expect(failure(() => verifyAt(url, NOW, 'other secret')).code).toBe('InvalidSignature');
  });

  it('encodes keys segment by segment as S3 signs them', () => {
    expect(objectPath('b', 'a/b c/ü')).toBe('/b/a/b%20c/%C3%BC');
  });
});
