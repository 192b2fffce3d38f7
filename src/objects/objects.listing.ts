import type { ServiceContext } from '../context.js';
import { ServiceError } from '../errors.js';
import { toMeta } from './object-meta.js';
import * as repo from './objects.repository.js';
import type { ObjectMeta } from './objects.schemas.js';
import type { ObjectsService } from './objects.service.js';

/**
 * ListObjects(V2) and ListObjectVersions: keyset scans in UTF-8 binary key order, with prefix and
 * delimiter grouping. After a common prefix the scan jumps past every key that starts with it.
 */

export const MAX_KEYS = 1000;
const BATCH = 1000;
/**
 * The greatest code point: `cp + TOP` sorts after nearly every key under cp; the rare rest is
 * skipped by comparing its roll-up with the prefix just reported.
 */
const TOP = '\u{10FFFF}';

export interface ListInput {
  prefix?: string;
  delimiter?: string;
  maxKeys?: number;
}

export interface ObjectListing {
  objects: ObjectMeta[];
  commonPrefixes: string[];
  isTruncated: boolean;
  /** Opaque cursor for the next page (V2 continuation token / V1 NextMarker). */
  next?: string;
  /** The last key or prefix returned (V1 NextMarker with a delimiter). */
  lastKey?: string;
}

export interface VersionListing {
  versions: ObjectMeta[];
  commonPrefixes: string[];
  isTruncated: boolean;
  nextKeyMarker?: string;
  nextVersionIdMarker?: string;
}

interface Cursor {
  /** Scan keys strictly after this. */
  after?: string;
  /** ...except that keys under this common prefix were already reported. */
  skipPrefix?: string;
}

const encodeCursor = (c: Cursor): string => Buffer.from(JSON.stringify(c), 'utf8').toString('base64url');

function decodeCursor(token: string): Cursor {
  try {
    const c = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Cursor;
    if (typeof c === 'object' && c !== null) return c;
  } catch {
    // fall through
  }
  throw new ServiceError('InvalidArgument', 'The continuation token provided is incorrect');
}

function checkMaxKeys(n: number | undefined): number {
  if (n === undefined) return MAX_KEYS;
  if (!Number.isInteger(n) || n < 0)
    throw new ServiceError('InvalidArgument', 'max-keys must be a non-negative integer');
  return Math.min(n, MAX_KEYS);
}

/** The common prefix a key rolls up into, if any. */
function rollUp(key: string, prefix: string, delimiter: string | undefined): string | undefined {
  if (!delimiter) return undefined;
  const at = key.indexOf(delimiter, prefix.length);
  return at === -1 ? undefined : key.slice(0, at + delimiter.length);
}

/** A marker that is itself a common prefix (a previous page's NextMarker) skips that whole prefix. */
function markerCursor(marker: string | undefined, prefix: string, delimiter: string | undefined): Cursor {
  if (marker === undefined) return {};
  return rollUp(marker, prefix, delimiter) === marker ? { after: marker, skipPrefix: marker } : { after: marker };
}

export class ObjectListingService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly objects: ObjectsService,
  ) {}

  /** Current objects. `start` is a continuation token (V2) or a plain key to start after (V1 marker, StartAfter). */
  async listObjects(
    bucket: string,
    input: ListInput & { token?: string; startAfter?: string },
  ): Promise<ObjectListing> {
    await this.objects.requireBucket(bucket);
    const prefix = input.prefix ?? '';
    const max = checkMaxKeys(input.maxKeys);
    const cursor: Cursor =
      input.token !== undefined ? decodeCursor(input.token) : markerCursor(input.startAfter, prefix, input.delimiter);
    const out: ObjectListing = { objects: [], commonPrefixes: [], isTruncated: false };
    let { after, skipPrefix } = cursor;
    for (;;) {
      const rows = await repo.listLatest(this.ctx.db, bucket, { after, floor: prefix || undefined, limit: BATCH });
      let jumped = false;
      for (const row of rows) {
        if (!row.key.startsWith(prefix)) return out;
        const cp = rollUp(row.key, prefix, input.delimiter);
        if (cp !== undefined && cp === skipPrefix) {
          after = row.key;
          continue;
        }
        if (out.objects.length + out.commonPrefixes.length >= max) {
          out.isTruncated = true;
          out.next = encodeCursor({ after, skipPrefix });
          return out;
        }
        if (cp !== undefined) {
          out.commonPrefixes.push(cp);
          out.lastKey = cp;
          skipPrefix = cp;
          after = cp + TOP;
          jumped = true;
          break;
        }
        out.objects.push(toMeta(row));
        out.lastKey = row.key;
        after = row.key;
      }
      if (!jumped && rows.length < BATCH) return out;
    }
  }

  async listVersions(
    bucket: string,
    input: ListInput & { keyMarker?: string; versionIdMarker?: string },
  ): Promise<VersionListing> {
    await this.objects.requireBucket(bucket);
    const prefix = input.prefix ?? '';
    const max = checkMaxKeys(input.maxKeys);
    let afterKey = input.keyMarker;
    let afterId: number | undefined;
    if (input.versionIdMarker !== undefined) {
      if (afterKey === undefined) {
        throw new ServiceError('InvalidArgument', 'A version-id marker cannot be specified without a key marker.');
      }
      const marker = await repo.findVersion(this.ctx.db, bucket, afterKey, input.versionIdMarker);
      if (!marker) throw new ServiceError('InvalidArgument', 'Invalid version id specified');
      afterId = marker.id;
    }
    const out: VersionListing = { versions: [], commonPrefixes: [], isTruncated: false };
    let skipPrefix = markerCursor(afterKey, prefix, input.delimiter).skipPrefix;
    let last: { key: string; versionId?: string } | undefined;
    for (;;) {
      const rows = await repo.listVersions(this.ctx.db, bucket, {
        afterKey,
        afterId,
        floor: prefix || undefined,
        limit: BATCH,
      });
      let jumped = false;
      for (const row of rows) {
        if (!row.key.startsWith(prefix)) return out;
        const cp = rollUp(row.key, prefix, input.delimiter);
        if (cp !== undefined && cp === skipPrefix) {
          [afterKey, afterId] = [row.key, row.id];
          continue;
        }
        if (out.versions.length + out.commonPrefixes.length >= max) {
          out.isTruncated = true;
          out.nextKeyMarker = last?.key;
          out.nextVersionIdMarker = last?.versionId;
          return out;
        }
        if (cp !== undefined) {
          out.commonPrefixes.push(cp);
          last = { key: cp };
          skipPrefix = cp;
          [afterKey, afterId] = [cp + TOP, undefined];
          jumped = true;
          break;
        }
        out.versions.push(toMeta(row));
        last = { key: row.key, versionId: row.version_id };
        [afterKey, afterId] = [row.key, row.id];
      }
      if (!jumped && rows.length < BATCH) return out;
    }
  }
}
