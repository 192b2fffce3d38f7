import { ServiceError } from '../errors.js';
import { compositeChecksum, type ChecksumAlgorithm } from './checksums.js';
import type * as repo from './objects.repository.js';
import type { ChecksumType } from './objects.schemas.js';

export const MIN_PART_BYTES = 5 * 1024 * 1024;

export interface CompletedPart {
  partNumber: number;
  etag: string;
  checksum?: string;
}

const sameEtag = (a: string, b: string): boolean => a.replace(/"/g, '') === b.replace(/"/g, '');

/** CompleteMultipartUpload's part list against the uploaded parts (S3's checks, in S3's order). */
export function checkParts(requested: CompletedPart[], stored: repo.PartRow[]): repo.PartRow[] {
  if (requested.length === 0) {
    throw new ServiceError(
      'MalformedXML',
      'The XML you provided was not well-formed or did not validate against our published schema',
    );
  }
  const byNumber = new Map(stored.map((p) => [p.part_number, p]));
  const parts: repo.PartRow[] = [];
  for (const [i, r] of requested.entries()) {
    if (i > 0 && r.partNumber <= requested[i - 1]!.partNumber) {
      throw new ServiceError(
        'InvalidPartOrder',
        'The list of parts was not in ascending order. The parts list must be specified in order by part number.',
      );
    }
    const part = byNumber.get(r.partNumber);
    if (!part || !sameEtag(part.etag, r.etag)) {
      throw new ServiceError(
        'InvalidPart',
        "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
        { PartNumber: r.partNumber, ETag: r.etag },
      );
    }
    if (r.checksum !== undefined && part.checksum_value !== null && r.checksum !== part.checksum_value) {
      throw new ServiceError('InvalidPart', `The checksum of part ${r.partNumber} does not match the uploaded part.`);
    }
    parts.push(part);
  }
  parts.slice(0, -1).forEach((p) => {
    if (p.size < MIN_PART_BYTES) {
      throw new ServiceError(
        'EntityTooSmall',
        'Your proposed upload is smaller than the minimum allowed object size.',
        {
          ProposedSize: p.size,
          MinSizeAllowed: MIN_PART_BYTES,
          PartNumber: p.part_number,
        },
      );
    }
  });
  return parts;
}

/** FULL_OBJECT: the checksum computed while assembling; COMPOSITE: the checksum of the parts' checksums. */
export function objectChecksum(
  algorithm: ChecksumAlgorithm | null,
  type: ChecksumType | null,
  parts: repo.PartRow[],
  full: string | undefined,
): { algorithm: ChecksumAlgorithm; value: string; type: ChecksumType } | undefined {
  if (algorithm === null) return undefined;
  if (type === 'FULL_OBJECT') return full === undefined ? undefined : { algorithm, value: full, type };
  if (parts.some((p) => p.checksum_value === null)) return undefined;
  return {
    algorithm,
    value: compositeChecksum(
      algorithm,
      parts.map((p) => p.checksum_value!),
    ),
    type: 'COMPOSITE',
  };
}
