import { createHash, X509Certificate } from 'node:crypto';
import { ServiceError } from '../errors.js';

/** Parsing and checking of PEM certificates with node:crypto (creation lives in local-ca.ts). */

export interface ParsedCertificate {
  /** AWS's certificateId: SHA-256 of the DER, lower-case hex. */
  id: string;
  pem: string;
  x509: X509Certificate;
  notBefore: number;
  notAfter: number;
}

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

export const certificateIdOfDer = (der: Buffer): string => createHash('sha256').update(der).digest('hex');

/** The certificate blocks of a PEM text (a chain may hold several). */
export function pemBlocks(text: string): string[] {
  return text.match(PEM_BLOCK) ?? [];
}

/** Parses exactly one certificate; anything else is CertificateValidation as AWS answers. */
export function parseCertificatePem(text: string, field = 'certificatePem'): ParsedCertificate {
  const blocks = pemBlocks(text);
  if (blocks.length !== 1) {
    throw new ServiceError('CertificateValidation', `The ${field} must hold exactly one PEM certificate.`);
  }
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(blocks[0]!);
  } catch {
    throw new ServiceError('CertificateValidation', `The ${field} is not a valid X.509 certificate.`);
  }
  return fromX509(x509);
}

export function fromX509(x509: X509Certificate): ParsedCertificate {
  return {
    id: certificateIdOfDer(x509.raw),
    pem: x509.toString(),
    x509,
    notBefore: Date.parse(x509.validFrom),
    notAfter: Date.parse(x509.validTo),
  };
}

/** True when `issuer` signed `cert` (names match and the signature verifies). */
export function isIssuedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
}

export const isCaCertificate = (cert: X509Certificate): boolean => cert.ca;
