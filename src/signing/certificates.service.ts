import { createPrivateKey, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import type { ServiceContext } from '../context.js';
import { ServiceError } from '../errors.js';
import { newUuid } from '../ids.js';
import { decodeToken, toPage } from '../store/pagination.js';
import { generateCodeSigningMaterial } from './generated-material.js';
import type { SigningKeyring } from './keyring.js';
import type { EncryptionAlgorithm } from './platforms.js';
import { encryptionOf, keyAlgorithmName } from './signing-crypto.js';
import * as repo from './signing.repository.js';
import type { CertificateRow } from './signing.repository.js';

export const CERTIFICATE_ORIGINS = ['IMPORTED', 'GENERATED'] as const;
export type CertificateOrigin = (typeof CERTIFICATE_ORIGINS)[number];

export interface ImportCertificateInput {
  /** PEM of the code-signing certificate. */
  certificate: string;
  /** PEM of its private key (PKCS#8, PKCS#1 or SEC1; not passphrase-protected). */
  privateKey: string;
  /** PEM of the issuing chain, when there is one. */
  certificateChain?: string;
  /** Re-import over an existing certificate (ACM semantics). */
  certificateArn?: string;
}

/** What a signing job needs; the key never leaves the signing path. */
export interface SigningMaterial {
  arn: string;
  certificatePem: string;
  key: KeyObject;
  encryption: EncryptionAlgorithm;
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;
const invalid = (message: string): ServiceError => new ServiceError('InvalidParameter', message);

/**
 * Certificates and private keys for code signing, addressed by ACM-style ARNs (Signer's
 * signingMaterial.certificateArn). Imported over the ACM API (ImportCertificate) or generated for a
 * profile that names none. Private keys are sealed with the keyring and never returned or logged.
 */
export class SigningCertificatesService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly keyring: () => SigningKeyring,
  ) {}

  private now(): number {
    return this.ctx.clock.now().getTime();
  }

  newArn(): string {
    const { region, account } = this.ctx.arns.partition;
    return `arn:aws:acm:${region}:${account}:certificate/${newUuid()}`;
  }

  /** The id part of an ACM ARN of this account and region; InvalidArn / ResourceNotFound otherwise. */
  checkArn(arn: unknown, field = 'CertificateArn'): string {
    if (typeof arn !== 'string' || arn === '') throw new ServiceError('InvalidArn', `${field} is required.`);
    const m = /^arn:aws:acm:([^:]*):(\d{12}):certificate\/([\w-]+)$/.exec(arn);
    if (!m) throw new ServiceError('InvalidArn', `${field} '${arn}' is not an ACM certificate ARN.`);
    const { region, account } = this.ctx.arns.partition;
    if (m[1] !== region || m[2] !== account) {
      throw new ServiceError(
        'ResourceNotFound',
        `Could not find certificate ${arn} in account ${account}, region ${region}.`,
      );
    }
    return arn;
  }

  async importCertificate(input: ImportCertificateInput): Promise<{ CertificateArn: string }> {
    const cert = parseCertificate(input.certificate);
    const key = parsePrivateKey(input.privateKey);
    checkKeyMatches(cert, key);
    if (input.certificateChain !== undefined && (input.certificateChain.match(PEM_CERT) ?? []).length === 0) {
      throw invalid('The certificate chain holds no PEM certificate.');
    }
    const now = this.now();
    if (input.certificateArn !== undefined) {
      const arn = this.checkArn(input.certificateArn);
      const existing = await this.require(arn);
      const oldKey = new X509Certificate(existing.certificate_pem).publicKey;
      const users = await repo.profilesUsing(this.ctx.db, arn);
      if (users.length > 0 && encryptionOf(oldKey) !== encryptionOf(key)) {
        throw invalid(
          `Certificate ${arn} is used by signing profiles; a re-import must keep its ${encryptionOf(oldKey)} key type.`,
        );
      }
      await repo.replaceCertificate(
        this.ctx.db,
        arn,
        this.row(arn, cert, key, input.certificateChain, 'IMPORTED', now),
      );
      return { CertificateArn: arn };
    }
    const arn = this.newArn();
    await repo.insertCertificate(this.ctx.db, this.row(arn, cert, key, input.certificateChain, 'IMPORTED', now));
    return { CertificateArn: arn };
  }

  /** A new key pair and self-signed code-signing certificate (generated-material.ts). */
  async generate(encryption: EncryptionAlgorithm, commonName: string): Promise<string> {
    const material = await generateCodeSigningMaterial(encryption, commonName, this.ctx.clock.now());
    const arn = this.newArn();
    const cert = parseCertificate(material.certificatePem);
    const key = parsePrivateKey(material.privateKeyPem);
    await repo.insertCertificate(this.ctx.db, this.row(arn, cert, key, undefined, 'GENERATED', this.now()));
    return arn;
  }

  private row(
    arn: string,
    cert: X509Certificate,
    key: KeyObject,
    chain: string | undefined,
    origin: CertificateOrigin,
    now: number,
  ) {
    const pkcs8 = key.export({ type: 'pkcs8', format: 'pem' }).toString();
    return {
      arn,
      certificate_pem: cert.toString(),
      chain_pem: chain === undefined ? null : (chain.match(PEM_CERT) ?? []).join('\n'),
      private_key_sealed: this.keyring().encrypt(pkcs8, arn),
      key_algorithm: keyAlgorithmName(key),
      subject: cert.subject,
      issuer: cert.issuer,
      serial: cert.serialNumber,
      not_before: Date.parse(cert.validFrom),
      not_after: Date.parse(cert.validTo),
      origin,
      created_at: now,
    };
  }

  async require(arn: string): Promise<CertificateRow> {
    const row = await repo.findCertificate(this.ctx.db, arn);
    if (!row) throw new ServiceError('ResourceNotFound', `Could not find certificate ${arn}.`);
    return row;
  }

  /** ACM GetCertificate: the certificate and chain, never the key. */
  async getCertificate(arn: unknown): Promise<{ Certificate: string; CertificateChain?: string }> {
    const row = await this.require(this.checkArn(arn));
    return { Certificate: row.certificate_pem, ...(row.chain_pem !== null && { CertificateChain: row.chain_pem }) };
  }

  async describeCertificate(arn: unknown) {
    const row = await this.require(this.checkArn(arn));
    const users = await repo.profilesUsing(this.ctx.db, row.arn);
    return {
      Certificate: {
        ...summaryShape(row, users.length > 0),
        Serial: row.serial,
        Subject: row.subject,
        Issuer: row.issuer,
        InUseBy: users.map((p) => this.profileArn(p.name)),
        ExtendedKeyUsages: [{ Name: 'CODE_SIGNING' }],
      },
    };
  }

  async listCertificates(input: { NextToken?: string; MaxItems?: number }) {
    const limit = Math.min(Math.max(input.MaxItems ?? 100, 1), 1000);
    const after = decodeToken(input.NextToken, 1)?.[0];
    const rows = await repo.listCertificates(this.ctx.db, after === undefined ? undefined : String(after), limit);
    const page = toPage(rows, limit, (r) => [r.arn]);
    const out = [];
    for (const r of page.items) out.push(summaryShape(r, (await repo.profilesUsing(this.ctx.db, r.arn)).length > 0));
    return { CertificateSummaryList: out, ...(page.nextToken !== undefined && { NextToken: page.nextToken }) };
  }

  async deleteCertificate(arn: unknown): Promise<void> {
    const row = await this.require(this.checkArn(arn));
    const users = await repo.profilesUsing(this.ctx.db, row.arn);
    if (users.length > 0) {
      throw new ServiceError(
        'ResourceInUse',
        `Certificate ${row.arn} is in use by signing profile${users.length === 1 ? '' : 's'} ${users.map((u) => u.name).join(', ')}.`,
      );
    }
    await repo.deleteCertificate(this.ctx.db, row.arn);
  }

  /** The decrypted key for a signing job. */
  async material(arn: string): Promise<SigningMaterial> {
    const row = await this.require(arn);
    const key = createPrivateKey(this.keyring().decrypt(row.private_key_sealed, row.arn));
    return { arn, certificatePem: row.certificate_pem, key, encryption: encryptionOf(key)! };
  }

  /** The key type of a held certificate (profiles check it against the platform). */
  async encryptionOf(arn: string): Promise<EncryptionAlgorithm | undefined> {
    const row = await this.require(arn);
    return encryptionOf(new X509Certificate(row.certificate_pem).publicKey);
  }

  private profileArn(name: string): string {
    const { region, account } = this.ctx.arns.partition;
    return `arn:aws:signer:${region}:${account}:/signing-profiles/${name}`;
  }
}

function summaryShape(row: CertificateRow, inUse: boolean) {
  const seconds = (ms: number): number => ms / 1000;
  return {
    CertificateArn: row.arn,
    DomainName: cnOf(row.subject),
    Status: 'ISSUED',
    Type: row.origin === 'IMPORTED' ? 'IMPORTED' : 'PRIVATE',
    KeyAlgorithm: row.key_algorithm,
    InUse: inUse,
    NotBefore: seconds(row.not_before),
    NotAfter: seconds(row.not_after),
    CreatedAt: seconds(row.created_at),
    ...(row.origin === 'IMPORTED' && { ImportedAt: seconds(row.created_at) }),
  };
}

const cnOf = (subject: string): string => /(?:^|\n)CN=([^\n]+)/.exec(subject)?.[1] ?? subject;

function parseCertificate(pem: string): X509Certificate {
  const blocks = typeof pem === 'string' ? (pem.match(PEM_CERT) ?? []) : [];
  if (blocks.length !== 1) throw invalid('The certificate must be exactly one PEM certificate.');
  try {
    return new X509Certificate(blocks[0]!);
  } catch {
    throw invalid('The certificate is not a valid X.509 certificate.');
  }
}

function parsePrivateKey(pem: string): KeyObject {
  if (typeof pem !== 'string' || !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
    throw invalid('The private key must be a PEM private key.');
  }
  if (/ENCRYPTED/.test(pem)) throw invalid('The private key must not be protected by a passphrase.');
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw invalid('The private key could not be read.');
  }
  const encryption = encryptionOf(key);
  if (!encryption) throw invalid(`A ${key.asymmetricKeyType} key cannot sign code; use an EC (P-256) or RSA key.`);
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (encryption === 'ECDSA' && curve !== 'prime256v1' && curve !== 'secp384r1') {
    throw invalid(`EC keys must be on P-256 or P-384, not ${curve ?? 'an unknown curve'}.`);
  }
  if (encryption === 'RSA' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) {
    throw invalid('RSA keys must have at least 2048 bits.');
  }
  return key;
}

function checkKeyMatches(cert: X509Certificate, key: KeyObject): void {
  const fromKey = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const fromCert = cert.publicKey.export({ type: 'spki', format: 'der' });
  if (!fromKey.equals(fromCert)) throw invalid('The private key does not match the certificate.');
}
