import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createPrivateKey, generateKeyPair, webcrypto, X509Certificate, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { systemClock } from '../clock.js';
import { randomHex } from '../ids.js';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

/** @peculiar/x509 is typed with the DOM's CryptoKey; node's webcrypto key is the same object. */
type CryptoKey = x509.X509CertificateCreateWithKeyParams['signingKey'];

const generateRsa = promisify(generateKeyPair);
const RSA = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const;
/** AWS-issued device certificates expire at the end of 2049; ours do too. */
const DEVICE_NOT_AFTER = new Date(Date.UTC(2049, 11, 31, 23, 59, 59));
const CA_NOT_AFTER = new Date(Date.UTC(2049, 11, 31, 23, 59, 59));
/** Room for device clocks that run a little behind. */
const BACKDATE_MS = 5 * 60 * 1000;

export interface RsaKeyPair {
  publicKeyPem: string;
  /** PKCS#1 ("BEGIN RSA PRIVATE KEY"), the form CreateKeysAndCertificate returns. */
  privateKeyPem: string;
  publicKey: KeyObject;
  privateKey: KeyObject;
}

/** A fresh 2048-bit RSA pair, made on libuv's thread pool so the event loop keeps serving. */
export async function newRsaKeyPair(): Promise<RsaKeyPair> {
  const { publicKey, privateKey } = await generateRsa('rsa', { modulusLength: 2048 });
  return {
    publicKey,
    privateKey,
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privateKeyPem: privateKey.export({ type: 'pkcs1', format: 'pem' }).toString(),
  };
}

/** Node 20 has no KeyObject.toCryptoKey; go through DER. */
async function toCryptoKey(key: KeyObject, usage: 'sign' | 'verify'): Promise<CryptoKey> {
  const der =
    usage === 'sign' ? key.export({ type: 'pkcs8', format: 'der' }) : key.export({ type: 'spki', format: 'der' });
  const imported = await webcrypto.subtle.importKey(usage === 'sign' ? 'pkcs8' : 'spki', der, RSA, true, [usage]);
  return imported as unknown as CryptoKey;
}

/**
 * The local CA (DESIGN.md: created on first start in <data-dir>/ca). Its key file is mode 0600.
 * X.509 validity uses the wall clock on purpose: TLS peers check it against real time, whatever
 * clock the service runs on.
 */
export class LocalCa {
  private constructor(
    readonly dir: string,
    readonly certificate: X509Certificate,
    private readonly key: KeyObject,
  ) {}

  get certificatePath(): string {
    return join(this.dir, 'ca-cert.pem');
  }

  get certificatePem(): string {
    return this.certificate.toString();
  }

  static async open(dataDir: string, commonName = 'fleetjobs local CA'): Promise<LocalCa> {
    const dir = join(dataDir, 'ca');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const certPath = join(dir, 'ca-cert.pem');
    const keyPath = join(dir, 'ca-key.pem');
    if (existsSync(certPath) && existsSync(keyPath)) {
      return new LocalCa(dir, new X509Certificate(readFileSync(certPath)), createPrivateKey(readFileSync(keyPath)));
    }
    const keys = await newRsaKeyPair();
    const now = systemClock.now().getTime();
    const publicKey = await toCryptoKey(keys.publicKey, 'verify');
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: `01${randomHex(15)}`,
      subject: `CN=${commonName}, O=fleetjobs`,
      issuer: `CN=${commonName}, O=fleetjobs`,
      notBefore: new Date(now - BACKDATE_MS),
      notAfter: CA_NOT_AFTER,
      signingAlgorithm: RSA,
      publicKey,
      signingKey: await toCryptoKey(keys.privateKey, 'sign'),
      extensions: [
        new x509.BasicConstraintsExtension(true, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(publicKey),
      ],
    });
    // The key first, created 0600, so a crash never leaves a certificate without its key.
    writeFileSync(keyPath, keys.privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    chmodSync(keyPath, 0o600);
    writeFileSync(certPath, cert.toString('pem'));
    return new LocalCa(dir, new X509Certificate(cert.toString('pem')), keys.privateKey);
  }

  /** Signs a certificate for `publicKey`. */
  async issue(params: {
    publicKey: KeyObject;
    commonName: string;
    notAfter?: Date;
    serverNames?: string[];
  }): Promise<string> {
    const now = systemClock.now().getTime();
    const publicKey = await toCryptoKey(params.publicKey, 'verify');
    const server = params.serverNames !== undefined;
    const extensions: x509.Extension[] = [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension(
        [server ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth],
        false,
      ),
      await x509.SubjectKeyIdentifierExtension.create(publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(new x509.X509Certificate(this.certificate.raw), false),
    ];
    if (server) {
      const names = [...new Set(params.serverNames)].map((n) => ({ type: isIP(n) ? 'ip' : 'dns', value: n }) as const);
      extensions.push(new x509.SubjectAlternativeNameExtension(names, false));
    }
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: `01${randomHex(15)}`,
      subject: `CN=${params.commonName}`,
      // The CA's own encoded name, so issuer and subject match byte for byte.
      issuer: new x509.X509Certificate(this.certificate.raw).subjectName,
      notBefore: new Date(now - BACKDATE_MS),
      notAfter: params.notAfter ?? DEVICE_NOT_AFTER,
      signingAlgorithm: RSA,
      publicKey,
      signingKey: await toCryptoKey(this.key, 'sign'),
      extensions,
    });
    return cert.toString('pem');
  }

  /**
   * The listeners' certificate (SAN: 127.0.0.1, localhost and --public-host), kept in the CA
   * dir and made again when the names it must carry change.
   */
  async serverCredentials(hosts: string[]): Promise<{ key: string; cert: string }> {
    const names = [...new Set(['127.0.0.1', 'localhost', ...hosts.filter((h) => h !== '' && h !== '0.0.0.0')])];
    const certPath = join(this.dir, 'server-cert.pem');
    const keyPath = join(this.dir, 'server-key.pem');
    if (existsSync(certPath) && existsSync(keyPath)) {
      const existing = new X509Certificate(readFileSync(certPath));
      const covered = names.every((n) => (isIP(n) ? existing.checkIP(n) : existing.checkHost(n)) !== undefined);
      if (covered && existing.verify(this.certificate.publicKey)) {
        return { key: readFileSync(keyPath, 'utf8'), cert: readFileSync(certPath, 'utf8') };
      }
    }
    const keys = await newRsaKeyPair();
    const cert = await this.issue({ publicKey: keys.publicKey, commonName: names[0]!, serverNames: names });
    const key = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    writeFileSync(keyPath, key, { mode: 0o600 });
    chmodSync(keyPath, 0o600);
    writeFileSync(certPath, cert);
    return { key, cert };
  }
}

/** The CA is opened by the composition root (it needs the data dir); services reach it here. */
export class LocalCaRef {
  private ca: LocalCa | undefined;

  set(ca: LocalCa): void {
    this.ca = ca;
  }

  get(): LocalCa {
    if (!this.ca) throw new Error('the local CA has not been opened');
    return this.ca;
  }
}
