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

  it('previews the document a job would store, checked but signed by nobody, and creates nothing', async () => {
    const document = JSON.stringify({
      files: [
        { name: 'fw.bin', codesign: `\${aws:iot:code-sign-signature:s3://us-east-1.firmware/fw.bin@${version}}` },
      ],
    });
    const preview = () =>
      c.post<{ document: string }>('/jobs/preview-document', {
        jobId: 'preview',
        document,
        codeSigning: { profileName: 'fleet_signer' },
      });
    const res = await preview();
    await preview();
    expect(res.status).toBe(200);
    const shown = JSON.parse(res.body.document) as { files: { codesign: Record<string, unknown> }[] };
    expect(shown.files[0]!.codesign).toEqual({
      rawPayloadSize: 5,
      signature: '(signed when the job is created)',
      signatureAlgorithm: 'SHA256withECDSA',
      payloadLocation: { s3: { bucketName: 'firmware', key: 'fw.bin', version } },
    });
    // Looking at the review twice signed nothing.
    expect((await c.get<{ jobs: unknown[] }>('/signing/jobs')).body.jobs).toEqual([]);
    expect((await c.get('/jobs/preview')).status).toBe(404);
    const unknown = await c.post('/jobs/preview-document', { document, codeSigning: { profileName: 'nobody' } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.message).toMatch(/Signing profile nobody/);
  });

  it('marks a default profile, retires one, hands out its certificate and lists the signing jobs of a job', async () => {
    await c.post('/signing/profiles', { profileName: 'second', platformId: 'AWSIoTDeviceManagement-SHA256-ECDSA' });
    const profiles = async () =>
      (
        await c.get<{ profiles: { profileName: string; status: string; tags?: Record<string, string> }[] }>(
          '/signing/profiles',
        )
      ).body.profiles;
    expect((await c.post('/signing/profiles/second/default')).status).toBe(200);
    expect((await c.post('/signing/profiles/fleet_signer/default')).status).toBe(200);
    const tagged = (await profiles()).filter((p) => p.tags?.['fleetjobs:defaultForJobs'] === 'true');
    expect(tagged.map((p) => p.profileName)).toEqual(['fleet_signer']);

    // With two Active profiles, a job that names none takes the default one.
    await c.post('/things', { thingName: 'dev-1' });
    const document = JSON.stringify({
      files: [
        { name: 'fw.bin', codesign: `\${aws:iot:code-sign-signature:s3://us-east-1.firmware/fw.bin@${version}}` },
      ],
    });
    const made = await c.post('/jobs', {
      jobId: 'signed-by-default',
      targets: ['arn:aws:iot:us-east-1:000000000000:thing/dev-1'],
      document,
    });
    expect(made.status, JSON.stringify(made.body)).toBe(200);
    const jobs = await c.get<{ jobs: { profileName: string; status: string }[] }>(
      '/signing/jobs?jobId=signed-by-default',
    );
    expect(jobs.body.jobs).toMatchObject([{ profileName: 'fleet_signer', status: 'Succeeded' }]);
    expect((await c.get<{ jobs: unknown[] }>('/signing/jobs?jobId=nothing')).body.jobs).toEqual([]);

    const cert = await c.get<{ certificatePem: string }>('/signing/profiles/fleet_signer/certificate');
    expect(cert.body.certificatePem).toMatch(/^-----BEGIN CERTIFICATE-----/);

    expect((await c.post('/signing/profiles/second/cancel')).status).toBe(200);
    expect((await profiles()).find((p) => p.profileName === 'second')?.status).toBe('Canceled');
    const retired = await c.post('/signing/profiles/second/default');
    expect(retired.status).toBe(400);
    expect(retired.body.message).toMatch(/second is Canceled/);
  });
});
