import { epochSecondsFractional } from '../clock.js';
import type { Arns } from '../arns.js';
import { ServiceError } from '../errors.js';
import { decodeToken } from '../store/pagination.js';
import type { StringRule, Validator } from '../validation.js';
import type { CaCertificateRow, CertificateRow } from './certificates.repository.js';

/** Shapes and rules shared by the certificate operations (botocore model, iot 2015-05-28). */

export const CERTIFICATE_ID_RULE: StringRule = { min: 64, max: 64, pattern: /^(0x)?[a-fA-F0-9]+$/ };
export const PEM_RULE: StringRule = { min: 1, max: 65536 };
export const PAGE_SIZE_RULE = { min: 1, max: 250, integer: true } as const;
/** ListCertificates: "paginated with a default page size of 25". */
export const DEFAULT_CERTIFICATE_PAGE = 25;

export function checkCertificateId(v: Validator, field: string, value: unknown): void {
  if (v.required(field, value)) v.string(field, value, CERTIFICATE_ID_RULE);
}

/** Ids are hex; AWS answers lower case. */
export const normalizeId = (id: string): string => id.toLowerCase();

/**
 * The marker of ListCertificates must match `[A-Za-z0-9+/]+={0,2}` (plain base64), unlike the
 * base64url nextToken of other lists.
 */
export function toMarker(nextToken: string): string {
  return Buffer.from(nextToken, 'base64url').toString('base64');
}

export function decodeMarker(marker: string | undefined): [number, string] | undefined {
  const key = decodeToken(marker === undefined ? undefined : Buffer.from(marker, 'base64').toString('base64url'), 2);
  if (key === undefined) return undefined;
  if (typeof key[0] !== 'number' || typeof key[1] !== 'string') {
    throw new ServiceError('InvalidRequest', 'The marker is not valid.');
  }
  return [key[0], key[1]];
}

const seconds = epochSecondsFractional;

export function describeCertificateRow(row: CertificateRow, arns: Arns) {
  return {
    certificateArn: arns.cert(row.id),
    certificateId: row.id,
    ...(row.ca_certificate_id !== null && { caCertificateId: row.ca_certificate_id }),
    status: row.status,
    certificatePem: row.pem,
    ownedBy: arns.partition.account,
    creationDate: seconds(row.created_at),
    lastModifiedDate: seconds(row.last_modified_at),
    customerVersion: row.customer_version,
    transferData: {},
    generationId: row.generation_id,
    validity: { notBefore: seconds(row.not_before), notAfter: seconds(row.not_after) },
    certificateMode: 'DEFAULT',
  };
}

export function certificateSummary(row: CertificateRow, arns: Arns) {
  return {
    certificateArn: arns.cert(row.id),
    certificateId: row.id,
    status: row.status,
    certificateMode: 'DEFAULT',
    creationDate: seconds(row.created_at),
  };
}

export function describeCaCertificateRow(row: CaCertificateRow, arns: Arns) {
  return {
    certificateArn: arns.iot('cacert', row.id),
    certificateId: row.id,
    status: row.status,
    certificatePem: row.pem,
    ownedBy: arns.partition.account,
    creationDate: seconds(row.created_at),
    autoRegistrationStatus: row.auto_registration,
    lastModifiedDate: seconds(row.last_modified_at),
    customerVersion: row.customer_version,
    generationId: row.generation_id,
    validity: { notBefore: seconds(row.not_before), notAfter: seconds(row.not_after) },
    certificateMode: 'DEFAULT',
  };
}

export function caCertificateSummary(row: CaCertificateRow, arns: Arns) {
  return {
    certificateArn: arns.iot('cacert', row.id),
    certificateId: row.id,
    status: row.status,
    creationDate: seconds(row.created_at),
  };
}
