import { createHash, createHmac } from 'node:crypto';
import http from 'node:http';
import { S3Client } from '@aws-sdk/client-s3';
import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { TEST_REGION, type TestServer } from './server.js';

export function s3Client(t: TestServer, credentials = t.credentials, endpoint = t.endpoint): S3Client {
  return new S3Client({ endpoint, region: TEST_REGION, forcePathStyle: true, credentials, maxAttempts: 1 });
}

export const sha256 = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');
export const md5Base64 = (b: Buffer | string): string => createHash('md5').update(b).digest('base64');

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** Sends exactly these bytes (no client-side framing help), e.g. hand-built aws-chunked bodies. */
export function sendRaw(
  endpoint: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  body: Buffer,
): Promise<RawResponse> {
  const url = new URL(endpoint);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        method,
        path,
        headers: { ...headers, 'content-length': String(body.length) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** SigV4 headers for an S3 request with an explicitly declared x-amz-content-sha256. */
export async function signS3Headers(
  t: TestServer,
  method: string,
  path: string,
  headers: Record<string, string>,
  payloadHash: string,
  credentials = t.credentials,
): Promise<{ headers: Record<string, string>; signature: string; amzDate: string; scope: string }> {
  const url = new URL(t.endpoint);
  const signer = new SignatureV4({
    credentials,
    region: TEST_REGION,
    service: 's3',
    sha256: Sha256,
    uriEscapePath: false,
  });
  const request = new HttpRequest({
    method,
    protocol: 'http:',
    hostname: url.hostname,
    port: Number(url.port),
    path,
    headers: { host: url.host, 'x-amz-content-sha256': payloadHash, ...headers },
  });
  const signed = await signer.sign(request);
  const out = Object.fromEntries(Object.entries(signed.headers).map(([k, v]) => [k.toLowerCase(), String(v)]));
  const signature = /Signature=([0-9a-f]{64})/.exec(out.authorization!)![1]!;
  const amzDate = out['x-amz-date']!;
  return { headers: out, signature, amzDate, scope: `${amzDate.slice(0, 8)}/${TEST_REGION}/s3/aws4_request` };
}

const hmac = (key: Buffer | string, data: string): Buffer => createHmac('sha256', key).update(data).digest();

/** STREAMING-AWS4-HMAC-SHA256-PAYLOAD framing with the chunk signature chain (written independently of src/). */
export function signedChunkedBody(
  data: Buffer,
  chunkSize: number,
  secret: string,
  seed: { signature: string; amzDate: string; scope: string },
  trailer?: { name: string; value: string },
): Buffer {
  const [date, region, service] = seed.scope.split('/');
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date!), region!), service!), 'aws4_request');
  const empty = sha256('');
  let previous = seed.signature;
  const parts: Buffer[] = [];
  const chunk = (payload: Buffer): void => {
    const sts = ['AWS4-HMAC-SHA256-PAYLOAD', seed.amzDate, seed.scope, previous, empty, sha256(payload)].join('\n');
    previous = hmac(key, sts).toString('hex');
    parts.push(
      Buffer.from(`${payload.length.toString(16)};chunk-signature=${previous}\r\n`),
      payload,
      Buffer.from('\r\n'),
    );
  };
  for (let i = 0; i < data.length; i += chunkSize) chunk(data.subarray(i, i + chunkSize));
  chunk(Buffer.alloc(0));
  parts.pop(); // the final chunk's CRLF ends the trailer section instead, added below
  if (trailer) {
    const line = `${trailer.name}:${trailer.value}\n`;
    const sts = ['AWS4-HMAC-SHA256-TRAILER', seed.amzDate, seed.scope, previous, sha256(line)].join('\n');
    const sig = hmac(key, sts).toString('hex');
    parts.push(Buffer.from(`${trailer.name}:${trailer.value}\r\nx-amz-trailer-signature:${sig}\r\n\r\n`));
  } else {
    parts.push(Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}
