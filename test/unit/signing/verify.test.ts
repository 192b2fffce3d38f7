import { execFileSync } from 'node:child_process';
import { createHash, createPrivateKey, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCodeSigningMaterial } from '../../../src/signing/generated-material.js';
import { signStream } from '../../../src/signing/signing-crypto.js';
import { codeSignatureVerifier, parseSignatureText, verifyFile } from '../../../src/signing/verify.js';

const NOW = new Date(Date.UTC(2030, 0, 1));

describe('verify.ts (the verification library)', () => {
  let dir: string;
  let ec: { certificatePem: string; privateKeyPem: string };
  let ec2: { certificatePem: string; privateKeyPem: string };
  let rsa: { certificatePem: string; privateKeyPem: string };
  const payload = randomBytes(200_000);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'fj-verify-'));
    ec = await generateCodeSigningMaterial('ECDSA', 'unit ec', NOW);
    ec2 = await generateCodeSigningMaterial('ECDSA', 'other ec', NOW);
    rsa = await generateCodeSigningMaterial('RSA', 'unit rsa', NOW);
    writeFileSync(join(dir, 'fw.bin'), payload);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const signEc = async (bytes: Buffer) =>
    signStream(Readable.from([bytes]), createPrivateKey(ec.privateKeyPem), 'SHA256', 1 << 30);

  it('accepts an ECDSA P-256 / SHA-256 DER signature block over the exact bytes', async () => {
    const signed = await signEc(payload);
    expect(signed.size).toBe(payload.length);
    expect(signed.sha256).toBe(createHash('sha256').update(payload).digest('hex'));
    const block = {
      rawPayloadSize: payload.length,
      signature: signed.signature,
      signatureAlgorithm: 'SHA256withECDSA',
    };
    const r = await verifyFile({ file: join(dir, 'fw.bin'), signature: block, certificatePem: ec.certificatePem });
    expect(r).toMatchObject({ ok: true, algorithm: 'SHA256withECDSA', size: payload.length });
  });

  it('is the signature openssl verifies (spec 6.4: openssl dgst -sha256 -verify pub.pem -signature sig.der)', async () => {
    const signed = await signEc(payload);
    writeFileSync(join(dir, 'sig.der'), Buffer.from(signed.signature, 'base64'));
    writeFileSync(join(dir, 'cert.pem'), ec.certificatePem);
    const pub = execFileSync('openssl', ['x509', '-in', join(dir, 'cert.pem'), '-pubkey', '-noout']);
    writeFileSync(join(dir, 'pub.pem'), pub);
    const out = execFileSync('openssl', [
      'dgst',
      '-sha256',
      '-verify',
      join(dir, 'pub.pem'),
      '-signature',
      join(dir, 'sig.der'),
      join(dir, 'fw.bin'),
    ]).toString();
    expect(out.trim()).toBe('Verified OK');
  });

  it('accepts a signature openssl made', async () => {
    writeFileSync(join(dir, 'key.pem'), ec.privateKeyPem);
    const der = execFileSync('openssl', ['dgst', '-sha256', '-sign', join(dir, 'key.pem'), join(dir, 'fw.bin')]);
    const r = await verifyFile({ file: payload, signature: der.toString('base64'), certificatePem: ec.certificatePem });
    expect(r.ok).toBe(true);
  });

  it('rejects a file changed by one byte', async () => {
    const signed = await signEc(payload);
    const changed = Buffer.from(payload);
    changed[12345] = changed[12345]! ^ 0x01;
    const block = {
      rawPayloadSize: payload.length,
      signature: signed.signature,
      signatureAlgorithm: 'SHA256withECDSA',
    };
    const r = await verifyFile({ file: changed, signature: block, certificatePem: ec.certificatePem });
    expect(r).toEqual({
      ok: false,
      reason: 'the SHA256withECDSA signature does not match the file and the certificate',
    });
  });

  it('rejects a file of another size before checking the signature', async () => {
    const signed = await signEc(payload);
    const r = await verifyFile({
      file: Buffer.concat([payload, Buffer.from([0])]),
      signature: { rawPayloadSize: payload.length, signature: signed.signature },
      certificatePem: ec.certificatePem,
    });
    expect(r).toEqual({
      ok: false,
      reason: `the file is ${payload.length + 1} bytes but the signature covers ${payload.length} bytes`,
    });
  });

  it('rejects another signer’s certificate', async () => {
    const signed = await signEc(payload);
    const r = await verifyFile({ file: payload, signature: signed.signature, certificatePem: ec2.certificatePem });
    expect(r.ok).toBe(false);
  });

  it('checks RSA signatures with SHA-256 and SHA-1 (the TI CC3220SF platform)', async () => {
    const key = createPrivateKey(rsa.privateKeyPem);
    for (const [hash, name] of [
      ['SHA256', 'SHA256withRSA'],
      ['SHA1', 'SHA1withRSA'],
    ] as const) {
      const signed = await signStream(Readable.from([payload]), key, hash, 1 << 30);
      const ok = await verifyFile({
        file: payload,
        signature: { signature: signed.signature, signatureAlgorithm: name },
        certificatePem: rsa.certificatePem,
      });
      expect(ok).toMatchObject({ ok: true, algorithm: name });
      // The FreeRTOS document key names the algorithm too (spec 6.5).
      if (hash === 'SHA1') {
        const viaKey = await verifyFile({
          file: payload,
          signature: signed.signature,
          algorithm: 'sig-sha1-rsa',
          certificatePem: rsa.certificatePem,
        });
        expect(viaKey.ok).toBe(true);
      }
    }
    const sha1 = await signStream(Readable.from([payload]), key, 'SHA1', 1 << 30);
    const wrongHash = await verifyFile({
      file: payload,
      signature: { signature: sha1.signature, signatureAlgorithm: 'SHA256withRSA' },
      certificatePem: rsa.certificatePem,
    });
    expect(wrongHash.ok).toBe(false);
  });

  it('explains an algorithm that does not fit the key, an unknown one, bad base64 and a bad certificate', async () => {
    const signed = await signEc(payload);
    expect(
      await verifyFile({
        file: payload,
        signature: { signature: signed.signature, signatureAlgorithm: 'SHA256withRSA' },
        certificatePem: ec.certificatePem,
      }),
    ).toEqual({
      ok: false,
      reason: 'the signature algorithm SHA256withRSA needs an RSA key; the certificate has an EC key',
    });
    expect(
      await verifyFile({
        file: payload,
        signature: { signature: signed.signature, signatureAlgorithm: 'MD5withFOO' },
        certificatePem: ec.certificatePem,
      }),
    ).toEqual({ ok: false, reason: "unknown signature algorithm 'MD5withFOO'" });
    expect(await verifyFile({ file: payload, signature: 'not base64!', certificatePem: ec.certificatePem })).toEqual({
      ok: false,
      reason: 'the signature is not base64',
    });
    expect(await verifyFile({ file: payload, signature: signed.signature, certificatePem: 'nope' })).toEqual({
      ok: false,
      reason: 'the certificate is not a PEM X.509 certificate',
    });
    const missing = await verifyFile({
      file: join(dir, 'missing.bin'),
      signature: signed.signature,
      certificatePem: ec.certificatePem,
    });
    expect(missing.ok === false && missing.reason).toMatch(/^cannot read the file: ENOENT/);
  });

  it('checks the certificate validity when asked', async () => {
    const signed = await signEc(payload);
    const r = await verifyFile({
      file: payload,
      signature: signed.signature,
      certificatePem: ec.certificatePem,
      at: new Date(Date.UTC(2020, 0, 1)),
    });
    expect(r.ok === false && r.reason).toMatch(/^the certificate is valid from .* not at 2020-01-01T00:00:00.000Z$/);
  });

  it('reads blocks, codesign entries and bare base64 from text', () => {
    const block = { rawPayloadSize: 3, signature: 'QUJD', signatureAlgorithm: 'SHA256withECDSA' };
    expect(parseSignatureText(JSON.stringify(block))).toEqual(block);
    expect(parseSignatureText(JSON.stringify({ presign: 'x', codesign: block }))).toEqual(block);
    expect(parseSignatureText(' QUJD\n')).toBe('QUJD');
    expect(() => parseSignatureText('{"a":1}')).toThrow(/no "signature" member/);
  });

  it('serves the agent’s CodeSignatureVerifier interface against a list of trusted certificates', async () => {
    const signed = await signEc(payload);
    const block = { signature: signed.signature, signatureAlgorithm: 'SHA256withECDSA' };
    const path = join(dir, 'fw.bin');
    expect(await codeSignatureVerifier.verifyFile(path, block, [ec2.certificatePem, ec.certificatePem])).toEqual({
      ok: true,
      signer: expect.stringContaining('CN=unit ec') as string,
    });
    expect((await codeSignatureVerifier.verifyFile(path, block, [ec2.certificatePem])).ok).toBe(false);
    expect(await codeSignatureVerifier.verifyFile(path, block, [])).toEqual({
      ok: false,
      reason: 'no trusted signer certificate is configured',
    });
  });
});
