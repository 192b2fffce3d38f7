import { createHash, createHmac } from 'node:crypto';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { ServiceError } from '../../src/errors.js';
import { AwsChunkedDecoder, type ChunkSigning } from '../../src/protocols/aws/s3/aws-chunked.js';

const sha = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');
const SEED = 'a'.repeat(64);
const AMZ_DATE = '20300101T000000Z';
const SCOPE = '20300101/us-east-1/s3/aws4_request';
const KEY = Buffer.alloc(32, 9);
const signing: ChunkSigning = { key: KEY, amzDate: AMZ_DATE, scope: SCOPE, seedSignature: SEED };

/** The AWS framing, built here from the documented string-to-sign (independently of the decoder). */
function frame(chunks: Buffer[], signed: boolean, trailers: [string, string][] = []): Buffer {
  let previous = SEED;
  const sig = (data: Buffer): string => {
    const sts = ['AWS4-HMAC-SHA256-PAYLOAD', AMZ_DATE, SCOPE, previous, sha(''), sha(data)].join('\n');
    previous = createHmac('sha256', KEY).update(sts).digest('hex');
    return previous;
  };
  const out: Buffer[] = [];
  for (const c of [...chunks, Buffer.alloc(0)]) {
    out.push(Buffer.from(`${c.length.toString(16)}${signed ? `;chunk-signature=${sig(c)}` : ''}\r\n`));
    if (c.length > 0) out.push(c, Buffer.from('\r\n'));
  }
  const lines = trailers.map(([k, v]) => `${k}:${v}\n`).join('');
  for (const [k, v] of trailers) out.push(Buffer.from(`${k}:${v}\r\n`));
  if (signed && trailers.length > 0) {
    const sts = ['AWS4-HMAC-SHA256-TRAILER', AMZ_DATE, SCOPE, previous, sha(lines)].join('\n');
    out.push(Buffer.from(`x-amz-trailer-signature:${createHmac('sha256', KEY).update(sts).digest('hex')}\r\n`));
  }
  out.push(Buffer.from('\r\n'));
  return Buffer.concat(out);
}

/** Feeds the body in pieces of `size` bytes (1 = every header split across writes). */
async function decode(body: Buffer, s: ChunkSigning | undefined, size: number) {
  const pieces: Buffer[] = [];
  for (let i = 0; i < body.length; i += size) pieces.push(body.subarray(i, i + size));
  const decoder = new AwsChunkedDecoder(s);
  const out: Buffer[] = [];
  for await (const c of Readable.from(pieces).pipe(decoder)) out.push(c as Buffer);
  return { data: Buffer.concat(out), trailers: decoder.trailers };
}

async function failure(body: Buffer, s: ChunkSigning | undefined): Promise<ServiceError> {
  try {
    await decode(body, s, 7);
  } catch (err) {
    return err as ServiceError;
  }
  throw new Error('expected the body to be refused');
}

describe('aws-chunked decoding', () => {
  const chunks = [Buffer.from('hello, '), Buffer.alloc(70_000, 1), Buffer.from('!')];
  const whole = Buffer.concat(chunks);

  it.each([1, 3, 64, 65536, 1 << 20])('unsigned with a trailer, fed %i bytes at a time', async (size) => {
    const r = await decode(frame(chunks, false, [['x-amz-checksum-crc32', 'AbCd==']]), undefined, size);
    expect(r.data.equals(whole)).toBe(true);
    expect(r.trailers.get('x-amz-checksum-crc32')).toBe('AbCd==');
  });

  it.each([1, 5, 4096])('signed chunks and a signed trailer, fed %i bytes at a time', async (size) => {
    const r = await decode(frame(chunks, true, [['x-amz-checksum-sha256', 'xyz']]), signing, size);
    expect(r.data.equals(whole)).toBe(true);
    expect(r.trailers.get('x-amz-checksum-sha256')).toBe('xyz');
  });

  it('signed chunks without a trailer', async () => {
    expect((await decode(frame(chunks, true), signing, 100)).data.equals(whole)).toBe(true);
  });

  it('refuses a changed byte, a wrong seed, a missing signature and a bad trailer signature', async () => {
    const body = frame(chunks, true);
    const flipped = Buffer.from(body);
    flipped[body.indexOf('hello')] = 'j'.charCodeAt(0);
    expect((await failure(flipped, signing)).code).toBe('InvalidSignature');
    expect((await failure(body, { ...signing, seedSignature: 'b'.repeat(64) })).code).toBe('InvalidSignature');
    expect((await failure(frame(chunks, false), signing)).code).toBe('IncompleteBody');
    const withTrailer = frame(chunks, true, [['x-amz-checksum-crc32', 'AAAA']]).toString('latin1');
    const forged = Buffer.from(withTrailer.replace('x-amz-checksum-crc32:AAAA', 'x-amz-checksum-crc32:BBBB'), 'latin1');
    expect((await failure(forged, signing)).code).toBe('InvalidSignature');
  });

  it('refuses truncated bodies, bad sizes and data after the end', async () => {
    const body = frame(chunks, false);
    expect((await failure(body.subarray(0, body.length - 10), undefined)).code).toBe('IncompleteBody');
    expect((await failure(Buffer.from('zz\r\nab\r\n0\r\n\r\n'), undefined)).message).toMatch(/bad chunk size/);
    expect((await failure(Buffer.from('2\r\nabXX0\r\n\r\n'), undefined)).message).toMatch(/not followed by CRLF/);
    expect((await failure(Buffer.concat([body, Buffer.from('junk\r\n')]), undefined)).message).toMatch(/after the end/);
  });
});
