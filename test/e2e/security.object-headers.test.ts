import { Sha256 } from '@aws-crypto/sha256-js';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openConsoleBrowser } from '../browser/browser.js';
import { s3Client } from '../helpers/s3.js';
import { startTestServer, TEST_REGION, type TestServer } from '../helpers/server.js';

const PAGE = `<!doctype html><html><head><title>inert</title></head><body>
<script>document.title = 'ran'; fetch('/console/api/session').then(() => { document.title = 'fetched'; });</script>
</body></html>`;

/** A presigned GetObject URL, as a job document or a shared link would carry it. */
async function presignedGet(t: TestServer, bucket: string, key: string): Promise<string> {
  const url = new URL(t.endpoint);
  const signer = new SignatureV4({
    credentials: t.credentials,
    region: TEST_REGION,
    service: 's3',
    sha256: Sha256,
    uriEscapePath: false,
  });
  const signed = await signer.presign(
    new HttpRequest({
      method: 'GET',
      protocol: 'http:',
      hostname: url.hostname,
      port: Number(url.port),
      path: `/${bucket}/${key}`,
      headers: { host: url.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    }),
    { expiresIn: 300 },
  );
  const query = new URLSearchParams(signed.query as Record<string, string>).toString();
  return `${t.endpoint}/${bucket}/${key}?${query}`;
}

// Issue 14 item 8: a stored text/html object opened in a browser must not script the console.
describe('objects cannot script the console origin', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer();
    const s3 = s3Client(t);
    await s3.send(new CreateBucketCommand({ Bucket: 'web' }));
    await s3.send(new PutObjectCommand({ Bucket: 'web', Key: 'page.html', Body: PAGE, ContentType: 'text/html' }));
  });
  afterAll(async () => {
    await t.stop();
  });

  it('a presigned GetObject answers with CSP sandbox and nosniff', async () => {
    const r = await fetch(await presignedGet(t, 'web', 'page.html'));
    expect([r.status, r.status === 200 ? '' : await r.text()]).toEqual([200, '']);
    expect(r.headers.get('content-type')).toBe('text/html');
    expect(r.headers.get('content-security-policy')).toBe('sandbox');
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await r.text()).toBe(PAGE);
  });

  it('Chromium opening the presigned URL runs no script of the object', async () => {
    const browser = await openConsoleBrowser(t.endpoint);
    try {
      await browser.page.goto(await presignedGet(t, 'web', 'page.html'));
      await browser.page.waitForLoadState('load');
      // A script that ran would have set the title synchronously, before 'load'.
      expect(await browser.page.title()).toBe('inert');
    } finally {
      await browser.close();
    }
  });
});
