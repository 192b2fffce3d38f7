import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';
import { randomHex } from '../ids.js';
import type { EncryptionAlgorithm } from './platforms.js';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type CryptoKey = x509.X509CertificateCreateWithKeyParams['signingKey'];

const ALGORITHMS = {
  ECDSA: {
    generate: { name: 'ECDSA', namedCurve: 'P-256' },
    sign: { name: 'ECDSA', hash: 'SHA-256' },
  },
  RSA: {
    generate: {
      name: 'RSASSA-PKCS1-v1_5',
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: 'SHA-256',
    },
    sign: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
  },
} as const;

/** Code-signing certificates we make live this long (AWS Signer's default signature validity is 135 months). */
const VALIDITY_YEARS = 12;
/** Room for device clocks that run a little behind. */
const BACKDATE_MS = 5 * 60 * 1000;

export interface GeneratedMaterial {
  certificatePem: string;
  privateKeyPem: string;
}

/**
 * A fresh key pair of the platform's kind (P-256 for ECDSA, 2048-bit RSA) and a self-signed
 * code-signing certificate for it: what a profile gets when PutSigningProfile names no
 * signingMaterial. Devices pin this certificate (FreeRTOS: certfile), so no CA is involved.
 */
export async function generateCodeSigningMaterial(
  encryption: EncryptionAlgorithm,
  commonName: string,
  now: Date,
): Promise<GeneratedMaterial> {
  const alg = ALGORITHMS[encryption];
  const keys = (await webcrypto.subtle.generateKey(alg.generate, true, ['sign', 'verify'])) as unknown as {
    publicKey: CryptoKey;
    privateKey: CryptoKey;
  };
  const name = `CN=${commonName.replace(/[,=+<>#;"\\]/g, ' ')}, O=fleetjobs code signing`;
  const notAfter = new Date(now.getTime());
  notAfter.setUTCFullYear(notAfter.getUTCFullYear() + VALIDITY_YEARS);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: `01${randomHex(15)}`,
    name,
    notBefore: new Date(now.getTime() - BACKDATE_MS),
    notAfter,
    signingAlgorithm: alg.sign,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.codeSigning], false),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const pkcs8 = Buffer.from(
    await webcrypto.subtle.exportKey('pkcs8', keys.privateKey as unknown as webcrypto.CryptoKey),
  ).toString('base64');
  const lines = pkcs8.match(/.{1,64}/g) ?? [];
  return {
    certificatePem: cert.toString('pem'),
    privateKeyPem: `-----BEGIN PRIVATE KEY-----\n${lines.join('\n')}\n-----END PRIVATE KEY-----\n`,
  };
}
