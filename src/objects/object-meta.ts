import type { ChecksumAlgorithm } from './checksums.js';
import type { VersionRow } from './objects.repository.js';
import type { ChecksumType, ObjectAttributes, ObjectMeta } from './objects.schemas.js';

export function toMeta(row: VersionRow): ObjectMeta {
  const attrs = JSON.parse(row.metadata) as Omit<ObjectAttributes, 'contentType'>;
  return {
    bucket: row.bucket,
    key: row.key,
    versionId: row.version_id,
    isLatest: row.is_latest === 1,
    isDeleteMarker: row.is_delete_marker === 1,
    size: row.size,
    etag: row.etag,
    lastModified: new Date(row.last_modified),
    attributes: { ...attrs, ...(row.content_type !== null && { contentType: row.content_type }) },
    ...(row.checksum_algorithm !== null &&
      row.checksum_value !== null && {
        checksum: {
          algorithm: row.checksum_algorithm as ChecksumAlgorithm,
          value: row.checksum_value,
          type: (row.checksum_type ?? 'FULL_OBJECT') as ChecksumType,
        },
      }),
    ...(row.parts_count !== null && { partsCount: row.parts_count }),
    blobId: row.blob_id,
  };
}

export const attributesJson = (a: ObjectAttributes): string =>
  JSON.stringify({ userMetadata: a.userMetadata, headers: a.headers });
