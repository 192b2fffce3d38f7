/** Tables of the signing feature (migration 0040_signing). */

export interface SigningCertificatesTable {
  /** arn:aws:acm:<region>:<account>:certificate/<uuid>, the signingMaterial.certificateArn of profiles. */
  arn: string;
  certificate_pem: string;
  chain_pem: string | null;
  /** AES-256-GCM, see keyring.ts; never leaves the server. */
  private_key_sealed: string;
  /** ACM's KeyAlgorithm: EC_prime256v1, RSA_2048, ... */
  key_algorithm: string;
  subject: string;
  issuer: string;
  serial: string;
  not_before: number;
  not_after: number;
  /** IMPORTED (ImportCertificate) or GENERATED (made for a profile with no signingMaterial). */
  origin: string;
  created_at: number;
}

export interface SigningProfilesTable {
  name: string;
  /** 10 alphanumerics (Signer's profileVersion). */
  version: string;
  platform_id: string;
  certificate_arn: string;
  /** JSON object of strings. */
  signing_parameters: string | null;
  /** JSON SigningPlatformOverrides. */
  overrides: string | null;
  validity_value: number;
  validity_type: string;
  /** Active | Canceled | Revoked */
  status: string;
  /** JSON object of strings. */
  tags: string | null;
  created_at: number;
  status_changed_at: number | null;
}

export interface SigningJobsTable {
  job_id: string;
  client_request_token: string;
  profile_name: string;
  profile_version: string;
  platform_id: string;
  certificate_arn: string;
  signing_parameters: string | null;
  overrides: string | null;
  source_bucket: string;
  source_key: string;
  source_version: string;
  dest_bucket: string;
  dest_prefix: string;
  signed_key: string | null;
  /** InProgress | Failed | Succeeded */
  status: string;
  status_reason: string | null;
  requested_by: string;
  payload_size: number | null;
  /** Hex SHA-256 of the signed bytes: the delivery-time check compares the object against it. */
  payload_sha256: string | null;
  signature: string | null;
  signature_algorithm: string | null;
  created_at: number;
  completed_at: number | null;
  signature_expires_at: number | null;
}

declare module '../store/database.js' {
  interface Database {
    signing_certificates: SigningCertificatesTable;
    signing_profiles: SigningProfilesTable;
    signing_jobs: SigningJobsTable;
  }
}
