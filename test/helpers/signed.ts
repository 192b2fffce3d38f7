import http from 'node:http';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { TEST_REGION, type TestServer } from './server.js';

export interface SignedReply {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** x-amzn-ErrorType without the ':...' suffix (spec 1.7), when the reply has one. */
  errorType?: string;
  text: string;
  json(): Record<string, unknown>;
}

export interface SignedRequest {
  service: string;
  method: string;
  /** Raw path (already percent-encoded) with an optional query string. */
  path: string;
  body?: string | Buffer;
  headers?: Record<string, string>;
  region?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Sign this payload hash (e.g. UNSIGNED-PAYLOAD) instead of the body's SHA-256. */
  payloadHash?: string;
  /** Sign this body, then send `body` (a swapped body). */
  signedBody?: string | Buffer;
  signingDate?: Date;
}

/** A request signed with SigV4 by @smithy/signature-v4 (as the SDKs sign), sent byte for byte. */
export async function signedRequest(t: TestServer | string, r: SignedRequest): Promise<SignedReply> {
  const endpoint = typeof t === 'string' ? t : t.endpoint;
  const credentials = r.credentials ?? (typeof t === 'string' ? undefined : t.credentials);
  if (!credentials) throw new Error('signedRequest needs credentials');
  const url = new URL(endpoint);
  const q = r.path.indexOf('?');
  const path = q === -1 ? r.path : r.path.slice(0, q);
  const query: Record<string, string | string[]> = {};
  if (q !== -1) {
    for (const [k, v] of new URLSearchParams(r.path.slice(q + 1))) {
      const prev = query[k];
      query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
    }
  }
  const body = r.body === undefined ? undefined : Buffer.from(r.body);
  const signer = new SignatureV4({
    credentials,
    region: r.region ?? TEST_REGION,
    service: r.service,
    sha256: Sha256,
    uriEscapePath: r.service !== 's3',
    applyChecksum: r.service === 's3',
  });
  const headers: Record<string, string> = {
    host: url.host,
    ...(body && { 'content-type': 'application/json', 'content-length': String(body.length) }),
    ...(r.payloadHash && { 'x-amz-content-sha256': r.payloadHash }),
    ...r.headers,
  };
  const request = new HttpRequest({
    method: r.method,
    protocol: 'http:',
    hostname: url.hostname,
    port: Number(url.port),
    path: safeDecode(path),
    query,
    headers,
    body: r.signedBody ?? body,
  });
  const signed = await signer.sign(request, r.signingDate ? { signingDate: r.signingDate } : {});
  const sentHeaders = Object.fromEntries(Object.entries(signed.headers).map(([k, v]) => [k.toLowerCase(), String(v)]));
  if (body) sentHeaders['content-length'] = String(body.length);
  return send(endpoint, r.method, r.path, sentHeaders, body);
}

export function send(
  endpoint: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: Buffer,
): Promise<SignedReply> {
  const url = new URL(endpoint);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: url.hostname, port: url.port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const errorType = res.headers['x-amzn-errortype'];
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          ...(typeof errorType === 'string' && { errorType: errorType.split(':')[0] }),
          text,
          json: () => (text === '' ? {} : (JSON.parse(text) as Record<string, unknown>)),
        });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The signer wants a decoded path; a malformed one is signed as it is (the server will refuse it). */
function safeDecode(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}
