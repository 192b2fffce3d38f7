/** One file of a stream as CreateStream/UpdateStream resolved it (kept as JSON in streams.files). */
export interface StoredStreamFile {
  fileId: number;
  bucket: string;
  key: string;
  /** The version the request named; absent when it named none (the latest at creation is kept below). */
  version?: string;
  /** The object version resolved when the stream was created or updated. */
  resolvedVersionId: string;
  size: number;
  /** ETag of that version: delivery answers ETagMismatch when the object changed since. */
  etag: string;
}

export interface StreamsTable {
  stream_id: string;
  description: string | null;
  role_arn: string;
  /** streamVersion: 1 at CreateStream, +1 on each UpdateStream (AWS model: 0-65535). */
  version: number;
  /** JSON array of StoredStreamFile, ordered by fileId. */
  files: string;
  created_at: number;
  updated_at: number;
}

declare module '../store/database.js' {
  interface Database {
    streams: StreamsTable;
  }
}
