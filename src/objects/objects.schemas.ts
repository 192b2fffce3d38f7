import { ServiceError } from '../errors.js';
import { randomBytes } from 'node:crypto';
import type { ChecksumAlgorithm } from './checksums.js';

export const VERSIONING_STATUSES = ['Enabled', 'Suspended'] as const;
export type VersioningStatus = (typeof VERSIONING_STATUSES)[number];

export const CHECKSUM_TYPES = ['COMPOSITE', 'FULL_OBJECT'] as const;
export type ChecksumType = (typeof CHECKSUM_TYPES)[number];

/** The version id S3 gives objects written while versioning was never enabled or is suspended. */
export const NULL_VERSION = 'null';

/** System headers S3 stores with an object and returns on GET/HEAD. */
export const STORED_HEADERS = [
  'cache-control',
  'content-disposition',
  'content-encoding',
  'content-language',
  'expires',
] as const;

export interface ObjectAttributes {
  contentType?: string;
  /** x-amz-meta-* without the prefix, names lower-cased. */
  userMetadata: Record<string, string>;
  headers: Partial<Record<(typeof STORED_HEADERS)[number], string>>;
}

/** One version of an object (or a delete marker) as the protocol adapters see it. */
export interface ObjectMeta {
  bucket: string;
  key: string;
  versionId: string;
  isLatest: boolean;
  isDeleteMarker: boolean;
  size: number;
  /** Quoted, as S3 sends it. */
  etag: string;
  lastModified: Date;
  attributes: ObjectAttributes;
  checksum?: { algorithm: ChecksumAlgorithm; value: string; type: ChecksumType };
  partsCount?: number;
  blobId: string | null;
}

const BUCKET_RE = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** S3 bucket naming rules (general purpose buckets). */
export function checkBucketName(name: string): void {
  const bad =
    !BUCKET_RE.test(name) ||
    name.includes('..') ||
    /^\d+\.\d+\.\d+\.\d+$/.test(name) ||
    name.startsWith('xn--') ||
    name.startsWith('sthree-') ||
    name.endsWith('-s3alias') ||
    name.endsWith('--ol-s3');
  if (bad) throw new ServiceError('InvalidBucketName', 'The specified bucket is not valid.', { BucketName: name });
}

export function checkKey(key: string): void {
  if (key === '') throw new ServiceError('InvalidArgument', 'Object keys must not be empty.');
  if (Buffer.byteLength(key, 'utf8') > 1024) {
    throw new ServiceError('InvalidArgument', 'Your key is too long; keys are at most 1024 bytes.');
  }
}

/** 32 URL-safe characters, like S3's opaque version ids. */
export const newVersionId = (): string => randomBytes(24).toString('base64url');

export const noSuchBucket = (bucket: string): ServiceError =>
  new ServiceError('NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucket });

export const noSuchKey = (key: string, extras: Record<string, unknown> = {}): ServiceError =>
  new ServiceError('NoSuchKey', 'The specified key does not exist.', { Key: key, ...extras });

export const quoteEtag = (hex: string): string => `"${hex}"`;
