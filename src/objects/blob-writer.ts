import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { ServiceError } from '../errors.js';
import { randomHex } from '../ids.js';
import type { ObjectBackend } from './backends/backend.js';
import { checksumHeader, createHasher, type ChecksumAlgorithm, type Hasher } from './checksums.js';

/** What the client declared about a body; each is checked while the bytes stream to the backend. */
export interface BodyExpectations {
  /** Exact byte count (Content-Length or x-amz-decoded-content-length). */
  length?: number;
  /** Content-MD5, base64. */
  md5Base64?: string;
  /** x-amz-content-sha256 when it is a hex digest. */
  sha256Hex?: string;
  checksumAlgorithm?: ChecksumAlgorithm;
  /** The declared checksum; a function because aws-chunked bodies send it in a trailer, after the data. */
  checksumValue?: () => string | undefined;
}

export interface StoredBlob {
  blobId: string;
  size: number;
  md5Hex: string;
  checksum?: { algorithm: ChecksumAlgorithm; value: string };
}

/** S3's single-request limit. */
export const MAX_SINGLE_UPLOAD_BYTES = 5 * 1024 ** 3;

export const newBlobId = (): string => randomHex(16);

/** Counts and hashes the bytes on their way through. */
class Digest extends Transform {
  size = 0;
  readonly md5 = createHasher('MD5');
  readonly sha256: Hasher | undefined;
  readonly checksum: Hasher | undefined;

  constructor(
    private readonly expect: BodyExpectations,
    private readonly maxBytes: number,
  ) {
    super();
    this.sha256 = expect.sha256Hex ? createHasher('SHA256') : undefined;
    this.checksum = expect.checksumAlgorithm ? createHasher(expect.checksumAlgorithm) : undefined;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.size += chunk.length;
    if (this.size > this.maxBytes) {
      done(new ServiceError('EntityTooLarge', 'Your proposed upload exceeds the maximum allowed object size.'));
      return;
    }
    if (this.expect.length !== undefined && this.size > this.expect.length) {
      done(new ServiceError('InvalidRequest', 'The request body is longer than its declared length.'));
      return;
    }
    this.md5.update(chunk);
    this.sha256?.update(chunk);
    this.checksum?.update(chunk);
    done(null, chunk);
  }
}

function verify(
  expect: BodyExpectations,
  d: Digest,
  md5: Buffer,
): { algorithm: ChecksumAlgorithm; value: string } | undefined {
  if (expect.length !== undefined && d.size !== expect.length) {
    throw new ServiceError(
      'IncompleteBody',
      'You did not provide the number of bytes specified by the Content-Length HTTP header.',
    );
  }
  if (expect.md5Base64 !== undefined && md5.toString('base64') !== expect.md5Base64) {
    throw new ServiceError('BadDigest', 'The Content-MD5 you specified did not match what we received.');
  }
  if (d.sha256 && d.sha256.digest().toString('hex') !== expect.sha256Hex!.toLowerCase()) {
    throw new ServiceError(
      'XAmzContentSHA256Mismatch',
      "The provided 'x-amz-content-sha256' header does not match what was computed.",
    );
  }
  if (!d.checksum || !expect.checksumAlgorithm) return undefined;
  const value = d.checksum.digest().toString('base64');
  const declared = expect.checksumValue?.();
  if (declared !== undefined && declared !== value) {
    throw new ServiceError(
      'BadDigest',
      `The ${expect.checksumAlgorithm} you specified did not match the calculated checksum (${checksumHeader(expect.checksumAlgorithm)}).`,
    );
  }
  return { algorithm: expect.checksumAlgorithm, value };
}

/**
 * Streams a body into a new blob, verifying length and digests; on any mismatch or failure the
 * blob is removed, so nothing half-written or unverified is ever referenced.
 */
export async function writeBlob(
  backend: ObjectBackend,
  source: Readable,
  expect: BodyExpectations,
  maxBytes = MAX_SINGLE_UPLOAD_BYTES,
  blobId = newBlobId(),
): Promise<StoredBlob> {
  const digest = new Digest(expect, maxBytes);
  source.on('error', (err) => digest.destroy(err));
  let stored = false;
  try {
    await backend.put(blobId, source.pipe(digest));
    stored = true;
    const md5 = digest.md5.digest();
    const checksum = verify(expect, digest, md5);
    return { blobId, size: digest.size, md5Hex: md5.toString('hex'), ...(checksum && { checksum }) };
  } catch (err) {
    if (stored) await backend.delete(blobId).catch(() => undefined);
    throw err;
  }
}
