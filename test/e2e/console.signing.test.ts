import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { adminConsole, type ConsoleClient } from '../helpers/console.js';
import { startTestServer, TEST_REGION, type TestServer } from '../helpers/server.js';

describe('console code signing', () => {
  let t: TestServer;
  let c: ConsoleClient;
  let version = '';
  beforeAll(async () => {
    t = await startTestServer();
    c = await adminConsole(t);
    await c.post('/buckets', { bucket: 'firmware', versioning: true });
    const s3 = new S3Client({
      endpoint: t.endpoint,
      region: TEST_REGION,
      credentials: t.credentials,
      forcePathStyle: true,
    });
    version = (await s3.send(new PutObjectCommand({ Bucket: 'firmware', Key: 'fw.bin', Body: 'image' }))).VersionId!;
    s3.destroy();
  });
  afterAll(async () => t?.stop());

  it('lists the signing platforms and creates a profile with a generated key', async () => {
    const platforms = await c.get<{ platforms: { platformId: string }[] }>('/signing/platforms');
    expect(platforms.body.platforms.map((p) => p.platformId)).toContain('AWSIoTDeviceManagement-SHA256-ECDSA');
    expect((await c.get<{ profiles: unknown[] }>('/signing/profiles')).body.profiles).toEqual([]);
    const created = await c.post('/signing/profiles', {
      profileName: 'fleet_signer',
      platformId: 'AWSIoTDeviceManagement-SHA256-ECDSA',
    });
    expect(created.status).toBe(200);
    const listed = await c.get<{ profiles: { profileName: string; status: string }[] }>('/signing/profiles');
    expect(listed.body.profiles).toMatchObject([{ profileName: 'fleet_signer', status: 'Active' }]);
  });

  it('puts a bad profile name next to its field', async () => {
    const res = await c.post('/signing/profiles', {
      profileName: 'bad-name',
      platformId: 'AWSIoTDeviceManagement-SHA256-ECDSA',
    });
    expect(res.status).toBe(400);
    expect((res.body.fieldErrors as { field: string }[]).map((f) => f.field)).toEqual(['profileName']);
  });

  it('shows the document a job would store, with the signature filled in, and creates nothing', async () => {
    const document = JSON.stringify({
      files: [{ signature: `\${aws:iot:code-sign-signature:s3://us-east-1.firmware/fw.bin@${version}}` }],
    });
    const res = await c.post<{ document: string }>('/jobs/preview-document', {
      jobId: 'preview',
      document,
      codeSigning: { profileName: 'fleet_signer' },
    });
    expect(res.status).toBe(200);
    const signed = JSON.parse(res.body.document) as { files: { signature: Record<string, unknown> }[] };
    expect(signed.files[0]!.signature).toMatchObject({
      rawPayloadSize: 5,
      signatureAlgorithm: 'SHA256withECDSA',
      payloadLocation: { s3: { bucketName: 'firmware', key: 'fw.bin', version } },
    });
    expect((await c.get('/jobs/preview')).status).toBe(404);
    const unknown = await c.post('/jobs/preview-document', { document, codeSigning: { profileName: 'nobody' } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.message).toMatch(/Signing profile nobody/);
  });
});
