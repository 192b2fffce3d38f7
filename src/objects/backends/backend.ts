import type { Readable } from 'node:stream';

/** Inclusive byte range, as in an HTTP Range header. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Where object bytes live (DESIGN.md: disk | S3). Blobs are named by content ids the objects
 * service makes (never by S3 key), are written once and never modified.
 */
export interface ObjectBackend {
  readonly kind: 'disk' | 's3';
  /**
   * Stores the stream as `id`. Atomic: until it resolves nobody can read a partial blob, and on
   * failure nothing is left behind. Resolves with the number of bytes stored.
   */
  put(id: string, source: Readable): Promise<{ size: number }>;
  /** The blob, or the inclusive range of it. Rejects with BlobNotFoundError when it is missing. */
  get(id: string, range?: ByteRange): Promise<Readable>;
  /** Removes the blob; a missing blob is not an error. */
  delete(id: string): Promise<void>;
  exists(id: string): Promise<boolean>;
  close(): Promise<void>;
}

export class BlobNotFoundError extends Error {
  constructor(readonly id: string) {
    super(`blob ${id} is missing from the object backend`);
  }
}

/** Content ids are 32 lower-case hex digits; anything else is refused before touching storage. */
export const BLOB_ID_RE = /^[0-9a-f]{32}$/;

export function checkBlobId(id: string): void {
  if (!BLOB_ID_RE.test(id)) throw new Error(`invalid blob id '${id}'`);
}
