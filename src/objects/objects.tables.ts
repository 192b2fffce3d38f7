import type { Generated } from 'kysely';

export interface S3BucketsTable {
  name: string;
  created_at: number;
  /** '' (never enabled), 'Enabled' or 'Suspended'. */
  versioning: string;
}

/** Every version of every key; the current one has is_latest = 1. */
export interface S3ObjectVersionsTable {
  /** Insertion order: newer versions of a key have larger ids. */
  id: Generated<number>;
  bucket: string;
  key: string;
  /** 'null' for the null version of an unversioned or suspended bucket, as S3 names it. */
  version_id: string;
  is_latest: number;
  is_delete_marker: number;
  /** The content in the object backend; null for delete markers. */
  blob_id: string | null;
  size: number;
  etag: string;
  content_type: string | null;
  /** JSON: {user: {name: value}, headers: {content-encoding: ...}}. */
  metadata: string;
  checksum_algorithm: string | null;
  checksum_value: string | null;
  checksum_type: string | null;
  parts_count: number | null;
  last_modified: number;
}

export interface S3UploadsTable {
  upload_id: string;
  bucket: string;
  key: string;
  content_type: string | null;
  metadata: string;
  checksum_algorithm: string | null;
  checksum_type: string | null;
  created_at: number;
}

export interface S3UploadPartsTable {
  upload_id: string;
  part_number: number;
  blob_id: string;
  size: number;
  etag: string;
  checksum_value: string | null;
  last_modified: number;
}

/**
 * Blobs no row refers to any more, written in the same transaction that dropped the reference;
 * they are deleted from the backend after the commit, and swept again on start after a crash.
 */
export interface S3OrphanBlobsTable {
  blob_id: string;
  created_at: number;
}

declare module '../store/database.js' {
  interface Database {
    s3_buckets: S3BucketsTable;
    s3_object_versions: S3ObjectVersionsTable;
    s3_uploads: S3UploadsTable;
    s3_upload_parts: S3UploadPartsTable;
    s3_orphan_blobs: S3OrphanBlobsTable;
  }
}
