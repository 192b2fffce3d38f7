import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createPrivateKey, generateKeyPairSync, randomBytes, webcrypto, type KeyObject } from 'node:crypto';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

/** @peculiar/x509 is typed with the DOM's CryptoKey; node's webcrypto key is the same object. */
type CryptoKey = x509.X509CertificateCreateWithKeyParams['signingKey'];

/**
 * The simulator's own certificate authority (AWS "bring your own CA": RegisterCACertificate, then
 * RegisterCertificate per device). Device keys are P-256 and made locally in a millisecond, so a
 * 1,000-device fleet gets one CA-signed certificate per device without 1,000 RSA key
 * generations on the server.
 */
const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const YEAR_MS = 365 * 24 * 3600_000;

export interface FleetCa {
  certificatePem: string;
  /** PKCS#8 PEM. */
  keyPem: string;
}

export interface IssuedCertificate {
  cert: string;
  key: string;
}

async function cryptoKeys(
  privateKey: KeyObject,
  publicKey: KeyObject,
): Promise<{ privateKey: CryptoKey; publicKey: CryptoKey }> {
  const priv = await webcrypto.subtle.importKey(
    'pkcs8',
    privateKey.export({ type: 'pkcs8', format: 'der' }),
    EC,
    true,
    ['sign'],
  );
  const pub = await webcrypto.subtle.importKey('spki', publicKey.export({ type: 'spki', format: 'der' }), EC, true, [
    'verify',
  ]);
  return { privateKey: priv as unknown as CryptoKey, publicKey: pub as unknown as CryptoKey };
}

const serial = (): string => `01${randomBytes(15).toString('hex')}`;

export async function createFleetCa(name: string, nowMs: number): Promise<FleetCa> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const keys = await cryptoKeys(privateKey, publicKey);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${name}, O=fleetjobs simulate`,
    notBefore: new Date(nowMs - 3600_000),
    notAfter: new Date(nowMs + 10 * YEAR_MS),
    signingAlgorithm: EC,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return {
    certificatePem: cert.toString('pem'),
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

export async function issueDeviceCertificate(
  ca: FleetCa,
  commonName: string,
  nowMs: number,
): Promise<IssuedCertificate> {
  const caCert = new x509.X509Certificate(ca.certificatePem);
  const caKey = createPrivateKey(ca.keyPem);
  const signingKey = (await webcrypto.subtle.importKey(
    'pkcs8',
    caKey.export({ type: 'pkcs8', format: 'der' }),
    EC,
    false,
    ['sign'],
  )) as unknown as CryptoKey;
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const keys = await cryptoKeys(privateKey, publicKey);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${commonName}`,
    issuer: caCert.subjectName,
    notBefore: new Date(nowMs - 3600_000),
    notAfter: new Date(nowMs + 5 * YEAR_MS),
    signingAlgorithm: EC,
    publicKey: keys.publicKey,
    signingKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth], false),
      await x509.AuthorityKeyIdentifierExtension.create(caCert, false),
    ],
  });
  return { cert: cert.toString('pem'), key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
}
