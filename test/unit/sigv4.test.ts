import { describe, expect, it } from 'vitest';
import { SignatureV4 } from '@smithy/signature-v4';
import { HttpRequest } from '@smithy/protocol-http';
import { Sha256 } from '@aws-crypto/sha256-js';
import { ServiceError } from '../../src/errors.js';
import {
  parseSignature,
  verifySignature,
  canonicalUri,
  type IncomingSignedRequest,
} from '../../src/protocols/aws/sigv4.js';

const credentials = { accessKeyId: 'AKIATESTTESTTESTTEST', secretAccessKey: 'secret/with+chars=' };
const NOW = new Date('2030-01-01T12:00:00Z');

function signer(service: string): SignatureV4 {
  return new SignatureV4({
    credentials,
    region: 'us-east-1',
    service,
    sha256: Sha256,
    uriEscapePath: service !== 's3',
  });
}

/** What a client sends: the path as it goes on the wire (already percent-encoded once). */
interface WireRequest {
  method: string;
  path: string;
  query?: Record<string, string>;
  body?: string;
  headers?: Record<string, string>;
}

async function signAsClient(
  service: string,
  r: WireRequest,
  at = NOW,
): Promise<IncomingSignedRequest & { body: Buffer }> {
  const body = r.body ?? '';
  const request = new HttpRequest({
    method: r.method,
    protocol: 'http:',
    hostname: '127.0.0.1',
    port: 8080,
    path: r.path,
    query: r.query ?? {},
    headers: { host: '127.0.0.1:8080', ...(body && { 'content-type': 'application/json' }), ...r.headers },
    body,
  });
  const signed = await signer(service).sign(request, { signingDate: at });
  const rawQuery = Object.entries(r.query ?? {})
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join('&');
  const headers = Object.fromEntries(Object.entries(signed.headers).map(([k, v]) => [k.toLowerCase(), v]));
  return { method: r.method, rawPath: r.path, rawQuery, headers, body: Buffer.from(body) };
}

function verify(req: IncomingSignedRequest & { body: Buffer }, secret = credentials.secretAccessKey, now = NOW): void {
  const info = parseSignature(req);
  if (!info) throw new Error('not signed');
  verifySignature(req, info, secret, req.body, now);
}

const codeOf = (fn: () => void): string | undefined => {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof ServiceError ? err.code : 'not-a-service-error';
  }
};

describe('SigV4 header form, as signed by @smithy/signature-v4', () => {
  const cases: [string, WireRequest][] = [
    ['iot', { method: 'POST', path: '/things/t1', body: '{}' }],
    ['iot', { method: 'GET', path: '/things', query: { maxResults: '2', nextToken: 'a b+c/=' } }],
    ['iot', { method: 'GET', path: '/tags', query: { resourceArn: 'arn:aws:iot:us-east-1:000000000000:thing/t1' } }],
    ['iot-jobs-data', { method: 'PUT', path: '/things/t1/jobs/$next', body: '{}' }],
    ['iot-jobs-data', { method: 'GET', path: '/things/t1/jobs/%24next', query: { includeJobDocument: 'true' } }],
    ['iot', { method: 'PUT', path: '/things/a%3Ab/principals', headers: { 'x-amzn-principal': 'arn:aws:iot:x' } }],
    ['s3', { method: 'PUT', path: '/bucket/dir/a%20key%2Bplus', body: 'hello' }],
  ];
  it.each(cases)('verifies %s %j', async (service, r) => {
    const req = await signAsClient(service, r);
    expect(() => verify(req)).not.toThrow();
    expect(parseSignature(req)?.service).toBe(service);
  });

  it('refuses a wrong secret, a changed body, path, query or header', async () => {
    const base: WireRequest = { method: 'POST', path: '/things/t1', body: '{"a":1}', query: { x: '1' } };
    const req = await signAsClient('iot', base);
    expect(codeOf(() => verify(req, 'other-secret'))).toBe('InvalidSignature');
    expect(codeOf(() => verify({ ...req, body: Buffer.from('{"a":2}') }))).toBe('InvalidSignature');
    expect(codeOf(() => verify({ ...req, rawPath: '/things/t2' }))).toBe('InvalidSignature');
    expect(codeOf(() => verify({ ...req, rawQuery: 'x=2' }))).toBe('InvalidSignature');
    expect(codeOf(() => verify({ ...req, headers: { ...req.headers, host: 'evil:8080' } }))).toBe('InvalidSignature');
  });

  it('refuses a body that does not match a signed x-amz-content-sha256', async () => {
    const req = await signAsClient('s3', {
      method: 'PUT',
      path: '/b/k',
      body: 'abc',
      headers: { 'x-amz-content-sha256': 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad' },
    });
    expect(() => verify(req)).not.toThrow();
    expect(codeOf(() => verify({ ...req, body: Buffer.from('abd') }))).toBe('InvalidSignature');
  });

  it('accepts 15 minutes of clock skew and refuses more, both ways', async () => {
    const req = await signAsClient('iot', { method: 'GET', path: '/things' });
    expect(() => verify(req, undefined, new Date(NOW.getTime() + 15 * 60_000))).not.toThrow();
    expect(() => verify(req, undefined, new Date(NOW.getTime() - 15 * 60_000))).not.toThrow();
    expect(codeOf(() => verify(req, undefined, new Date(NOW.getTime() + 15 * 60_000 + 1000)))).toBe(
      'RequestTimeTooSkewed',
    );
    expect(codeOf(() => verify(req, undefined, new Date(NOW.getTime() - 15 * 60_000 - 1000)))).toBe(
      'RequestTimeTooSkewed',
    );
  });

  it('treats an unsigned request as unsigned and a malformed header as a signature error', () => {
    expect(parseSignature({ method: 'GET', rawPath: '/', rawQuery: '', headers: {} })).toBeUndefined();
    expect(
      codeOf(() =>
        parseSignature({ method: 'GET', rawPath: '/', rawQuery: '', headers: { authorization: 'Basic abc' } }),
      ),
    ).toBe('InvalidSignature');
    expect(
      codeOf(() =>
        parseSignature({
          method: 'GET',
          rawPath: '/',
          rawQuery: '',
          headers: { authorization: 'AWS4-HMAC-SHA256 Credential=AKIA/20300101/us-east-1/iot/aws4_request' },
        }),
      ),
    ).toBe('InvalidSignature');
  });
});

describe('SigV4 query (presigned) form', () => {
  async function presign(expiresIn: number): Promise<IncomingSignedRequest & { body: Buffer }> {
    const request = new HttpRequest({
      method: 'GET',
      protocol: 'http:',
      hostname: '127.0.0.1',
      port: 8080,
      path: '/things',
      query: { maxResults: '5' },
      headers: { host: '127.0.0.1:8080' },
    });
    const signed = await signer('iot').presign(request, { signingDate: NOW, expiresIn });
    const rawQuery = Object.entries(signed.query ?? {})
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`)
      .join('&');
    return { method: 'GET', rawPath: '/things', rawQuery, headers: { host: '127.0.0.1:8080' }, body: Buffer.alloc(0) };
  }

  it('verifies until it expires, then refuses', async () => {
    const req = await presign(300);
    expect(parseSignature(req)?.form).toBe('query');
    expect(() => verify(req, undefined, new Date(NOW.getTime() + 299_000))).not.toThrow();
    expect(codeOf(() => verify(req, undefined, new Date(NOW.getTime() + 301_000)))).toBe('AccessDenied');
  });

  it('refuses a tampered query', async () => {
    const req = await presign(300);
    expect(codeOf(() => verify({ ...req, rawQuery: req.rawQuery.replace('maxResults=5', 'maxResults=6') }))).toBe(
      'InvalidSignature',
    );
  });
});

describe('canonical URI', () => {
  it('double-encodes for non-S3 services and keeps S3 paths as sent (spec 1.3)', () => {
    expect(canonicalUri('/things/t/jobs/$next', 'iot-jobs-data')).toBe('/things/t/jobs/%24next');
    expect(canonicalUri('/things/t/jobs/%24next', 'iot-jobs-data')).toBe('/things/t/jobs/%2524next');
    expect(canonicalUri('/a/./b/../c//d/', 'iot')).toBe('/a/c/d/');
    expect(canonicalUri('/b/a%20b', 's3')).toBe('/b/a%20b');
  });
});
