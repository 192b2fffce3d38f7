import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { CliError } from './exit-codes.js';
import type { Session } from './context.js';

/**
 * ACM GetCertificate: how a signing profile's certificate (signingMaterial.certificateArn) reaches
 * devices. No ACM SDK client is installed here, so this one awsJson 1.1 call is signed with the
 * SDK's own SigV4 signer (@smithy/signature-v4); @aws-sdk/client-acm would replace it one for one.
 */
export async function getCertificatePem(s: Session, certificateArn: string): Promise<string> {
  const url = new URL(s.conn.endpoint);
  const body = JSON.stringify({ CertificateArn: certificateArn });
  const request = new HttpRequest({
    method: 'POST',
    protocol: url.protocol,
    hostname: url.hostname,
    port: url.port ? Number(url.port) : undefined,
    path: url.pathname.replace(/\/$/, '') + '/',
    headers: {
      host: url.host,
      'content-type': 'application/x-amz-json-1.1',
      'x-amz-target': 'CertificateManager.GetCertificate',
    },
    body,
  });
  const signer = new SignatureV4({
    service: 'acm',
    region: s.conn.region,
    credentials: s.conn.credentials,
    sha256: Sha256,
  });
  const signed = await signer.sign(request);
  const res = await fetch(`${url.origin}${signed.path}`, { method: 'POST', headers: signed.headers, body });
  const text = await res.text();
  const json = (text ? JSON.parse(text) : {}) as { Certificate?: string; message?: string; __type?: string };
  if (!res.ok || typeof json.Certificate !== 'string') {
    const name = (res.headers.get('x-amzn-errortype') ?? json.__type ?? `HTTP ${res.status}`).split(/[:#]/).pop();
    const kind =
      res.status === 404 || name === 'ResourceNotFoundException'
        ? 'notFound'
        : res.status === 403
          ? 'denied'
          : 'service';
    throw new CliError(kind, `${name}: ${json.message ?? 'GetCertificate failed'}`);
  }
  return json.Certificate;
}
