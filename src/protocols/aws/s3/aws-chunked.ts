import { createHash, createHmac, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { ServiceError } from '../../../errors.js';
import { EMPTY_SHA256, sha256Hex, signaturesEqual } from '../sigv4.js';

/**
 * Decoder for `Content-Encoding: aws-chunked` bodies (the STREAMING-* payload forms):
 *
 *   <hex size>[;chunk-signature=<sig>]\r\n<data>\r\n ... 0[;chunk-signature=<sig>]\r\n
 *   [<trailer name>:<value>\r\n ...][x-amz-trailer-signature:<sig>\r\n]\r\n
 *
 * With signing, every chunk signature is checked in a chain seeded by the request signature, and
 * the trailer signature after the last chunk. Data flows on as it arrives; the upload it feeds
 * is committed only if the whole body decodes and verifies.
 */

export interface ChunkSigning {
  key: Buffer;
  amzDate: string;
  scope: string;
  /** The signature of the request headers, which seeds the chain. */
  seedSignature: string;
}

const MAX_LINE = 8192;
const CRLF = Buffer.from('\r\n');

const malformed = (what: string): ServiceError =>
  new ServiceError('IncompleteBody', `The aws-chunked request body is malformed: ${what}.`);

const mismatch = (): ServiceError =>
  new ServiceError(
    'InvalidSignature',
    'The request signature we calculated does not match the signature you provided (chunk signature).',
  );

export class AwsChunkedDecoder extends Transform {
  /** Trailer headers (lower-case names), available once the stream has ended. */
  readonly trailers = new Map<string, string>();
  decodedBytes = 0;
  private pending = Buffer.alloc(0);
  private state: 'size' | 'data' | 'data-end' | 'trailer' | 'done' = 'size';
  private remaining = 0;
  private chunkSignature: string | undefined;
  private previous: string;
  private hash: Hash | undefined;
  private trailerSignature: string | undefined;
  private readonly trailerLines: string[] = [];

  constructor(private readonly signing: ChunkSigning | undefined) {
    super();
    this.previous = signing?.seedSignature ?? '';
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      this.consume(chunk);
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  override _flush(done: TransformCallback): void {
    done(this.state === 'done' ? null : malformed('the body ended before the final chunk and trailer'));
  }

  private consume(input: Buffer): void {
    let buf = this.pending.length > 0 ? Buffer.concat([this.pending, input]) : input;
    this.pending = Buffer.alloc(0);
    while (buf.length > 0) {
      if (this.state === 'data') {
        const n = Math.min(this.remaining, buf.length);
        const data = buf.subarray(0, n);
        this.hash?.update(data);
        this.push(data);
        this.decodedBytes += n;
        this.remaining -= n;
        buf = buf.subarray(n);
        if (this.remaining === 0) this.state = 'data-end';
        continue;
      }
      if (this.state === 'data-end') {
        if (buf.length < 2) break;
        if (!buf.subarray(0, 2).equals(CRLF)) throw malformed('a chunk is not followed by CRLF');
        buf = buf.subarray(2);
        this.verifyChunk(this.hash ? this.hash.digest('hex') : EMPTY_SHA256);
        this.state = 'size';
        continue;
      }
      const eol = buf.indexOf(CRLF);
      if (eol === -1) {
        if (buf.length > MAX_LINE) throw malformed('a chunk header or trailer line is too long');
        break;
      }
      const line = buf.subarray(0, eol).toString('latin1');
      buf = buf.subarray(eol + 2);
      if (this.state === 'size') this.onSizeLine(line);
      else if (this.state === 'trailer') this.onTrailerLine(line);
      else if (line !== '') throw malformed('data after the end of the body');
    }
    this.pending = Buffer.from(buf);
  }

  private onSizeLine(line: string): void {
    const [sizeText, ...extensions] = line.split(';');
    if (!/^[0-9a-fA-F]{1,16}$/.test(sizeText ?? '')) throw malformed(`bad chunk size '${sizeText}'`);
    const size = parseInt(sizeText!, 16);
    this.chunkSignature = undefined;
    for (const ext of extensions) {
      const [k, v] = ext.split('=');
      if (k?.trim() === 'chunk-signature') this.chunkSignature = v?.trim();
    }
    if (this.signing && this.chunkSignature === undefined) throw malformed('a chunk has no chunk-signature');
    if (size === 0) {
      this.verifyChunk(EMPTY_SHA256);
      this.state = 'trailer';
      return;
    }
    this.remaining = size;
    this.hash = this.signing ? createHash('sha256') : undefined;
    this.state = 'data';
  }

  private onTrailerLine(line: string): void {
    if (line === '') {
      this.verifyTrailer();
      this.state = 'done';
      return;
    }
    const colon = line.indexOf(':');
    if (colon < 1) throw malformed(`bad trailer line '${line}'`);
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'x-amz-trailer-signature') {
      this.trailerSignature = value;
      return;
    }
    this.trailers.set(name, value);
    this.trailerLines.push(`${name}:${value}\n`);
  }

  private sign(stringToSign: string): string {
    return createHmac('sha256', this.signing!.key).update(stringToSign, 'utf8').digest('hex');
  }

  private verifyChunk(dataHash: string): void {
    if (!this.signing) return;
    const expected = this.sign(
      [
        'AWS4-HMAC-SHA256-PAYLOAD',
        this.signing.amzDate,
        this.signing.scope,
        this.previous,
        EMPTY_SHA256,
        dataHash,
      ].join('\n'),
    );
    if (!signaturesEqual(expected, this.chunkSignature ?? '')) throw mismatch();
    this.previous = expected;
  }

  private verifyTrailer(): void {
    if (!this.signing || this.trailerLines.length === 0) return;
    if (this.trailerSignature === undefined) throw malformed('signed trailers need x-amz-trailer-signature');
    const expected = this.sign(
      [
        'AWS4-HMAC-SHA256-TRAILER',
        this.signing.amzDate,
        this.signing.scope,
        this.previous,
        sha256Hex(this.trailerLines.join('')),
      ].join('\n'),
    );
    if (!signaturesEqual(expected, this.trailerSignature)) throw mismatch();
  }
}
