import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createPrivateKey, generateKeyPairSync, sign, webcrypto } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
/** @peculiar/x509 is typed with the DOM's CryptoKey; node's webcrypto key is the same object. */
type CryptoKey = x509.X509CertificateCreateWithKeyParams['signingKey'];

/** A handler directory with the given scripts, mode 0700 as the Device Client wants them. */
export function handlerDir(
  scripts: Record<string, string>,
  root = mkdtempSync(join(tmpdir(), 'fj-handlers-')),
): string {
  mkdirSync(root, { recursive: true, mode: 0o700 });
  for (const [name, body] of Object.entries(scripts)) {
    const path = join(root, name);
    writeFileSync(path, body.startsWith('#!') ? body : `#!/bin/sh\n${body}\n`);
    chmodSync(path, 0o700);
  }
  return root;
}

export interface FileServer {
  url(name: string): string;
  /** Requests seen, with their Range header. */
  requests: { path: string; range?: string }[];
  set(name: string, body: Buffer): void;
  close(): Promise<void>;
}

/**
 * A plain HTTP file server with Range support. `cutFirst` makes the first GET of a file stop
 * after that many bytes (the socket is destroyed), `stallFirst` makes it send that many bytes and
 * then stall, to exercise resumed downloads.
 */
export async function startFileServer(
  files: Record<string, Buffer>,
  o: { cutFirst?: number; stallFirst?: number } = {},
): Promise<FileServer> {
  const bodies = new Map(Object.entries(files));
  const requests: FileServer['requests'] = [];
  const served = new Set<string>();
  const server = http.createServer((req, res) => {
    const name = decodeURIComponent((req.url ?? '/').slice(1).split('?')[0]!);
    requests.push({ path: name, ...(req.headers.range && { range: req.headers.range }) });
    const body = bodies.get(name);
    if (!body) {
      res.statusCode = 404;
      res.end();
      return;
    }
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const start = m ? Number(m[1]) : 0;
    if (start > body.length) {
      res.statusCode = 416;
      res.end();
      return;
    }
    res.statusCode = m ? 206 : 200;
    res.setHeader('content-length', String(body.length - start));
    if (m) res.setHeader('content-range', `bytes ${start}-${body.length - 1}/${body.length}`);
    if (o.stallFirst !== undefined && !served.has(name)) {
      // Send some bytes, then nothing: the client hangs until it gives up or is killed.
      served.add(name);
      res.write(body.subarray(start, start + o.stallFirst));
      return;
    }
    if (o.cutFirst !== undefined && !served.has(name)) {
      served.add(name);
      res.write(body.subarray(start, start + o.cutFirst), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    res.end(body.subarray(start));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: (name) => `http://127.0.0.1:${port}/${encodeURIComponent(name)}`,
    requests,
    set: (name, body) => bodies.set(name, body),
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

export interface CodeSigner {
  certificatePem: string;
  /** AWS Signer's detached signature block (spec 6.4) over `data`. */
  block(data: Buffer): { signature: string; signatureAlgorithm: string; rawPayloadSize: number };
}

/** A P-256 code-signing key and self-signed certificate, like an AWSIoTDeviceManagement-SHA256-ECDSA profile's. */
export async function codeSigner(name = 'fleetjobs test signer'): Promise<CodeSigner> {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'der' });
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: `CN=${name}`,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 86_400_000),
    signingAlgorithm: alg,
    keys: {
      privateKey: (await webcrypto.subtle.importKey('pkcs8', pkcs8, alg, true, ['sign'])) as unknown as CryptoKey,
      publicKey: (await webcrypto.subtle.importKey('spki', spki, alg, true, ['verify'])) as unknown as CryptoKey,
    },
  });
  const key = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
  return {
    certificatePem: cert.toString('pem'),
    block: (data) => ({
      signature: sign('sha256', data, key).toString('base64'),
      signatureAlgorithm: 'SHA256withECDSA',
      rawPayloadSize: data.length,
    }),
  };
}

/** Polls until `check` returns a value (the agent works on its own time). */
export async function eventually<T>(
  check: () => Promise<T | undefined>,
  timeoutMs = 20_000,
  what = 'condition',
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
