/** Device identity tables (migration 0020). Timestamps are epoch ms. */

export const CERTIFICATE_STATUSES = [
  'ACTIVE',
  'INACTIVE',
  'REVOKED',
  'PENDING_TRANSFER',
  'REGISTER_INACTIVE',
  'PENDING_ACTIVATION',
] as const;
export type CertificateStatus = (typeof CERTIFICATE_STATUSES)[number];

/** The statuses UpdateCertificate may set (the others belong to transfer and auto-registration flows). */
export const SETTABLE_CERTIFICATE_STATUSES = ['ACTIVE', 'INACTIVE', 'REVOKED'] as const;

export const CA_CERTIFICATE_STATUSES = ['ACTIVE', 'INACTIVE'] as const;
export type CaCertificateStatus = (typeof CA_CERTIFICATE_STATUSES)[number];

export const THING_PRINCIPAL_TYPES = ['EXCLUSIVE_THING', 'NON_EXCLUSIVE_THING'] as const;
export type ThingPrincipalType = (typeof THING_PRINCIPAL_TYPES)[number];

export interface CertificatesTable {
  /** SHA-256 of the DER, lower-case hex: AWS's certificateId. */
  id: string;
  pem: string;
  status: CertificateStatus;
  /** The registered CA that issued it; null when our local CA did. */
  ca_certificate_id: string | null;
  not_before: number;
  not_after: number;
  customer_version: number;
  generation_id: string;
  created_at: number;
  last_modified_at: number;
}

export interface CaCertificatesTable {
  id: string;
  pem: string;
  status: CaCertificateStatus;
  auto_registration: 'ENABLE' | 'DISABLE';
  not_before: number;
  not_after: number;
  customer_version: number;
  generation_id: string;
  created_at: number;
  last_modified_at: number;
}

export interface ThingPrincipalsTable {
  thing_name: string;
  certificate_id: string;
  principal_type: ThingPrincipalType;
  created_at: number;
}

declare module '../store/database.js' {
  interface Database {
    certificates: CertificatesTable;
    ca_certificates: CaCertificatesTable;
    thing_principals: ThingPrincipalsTable;
  }
}

/** The per-thing lease the notifier takes (migration 0021 adds the column to thing_notify_state). */
declare module '../store/outbox.js' {
  interface ThingNotifyStateTable {
    lease_until: number;
  }
}
