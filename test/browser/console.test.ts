import { get } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { MqttClient } from 'mqtt';
import { verifyFile, type SignatureBlock } from '../../src/signing/verify.js';
import { adminConsole, type ConsoleClient } from '../helpers/console.js';
import { connectDevice, Inbox, provisionDevice, request, type Device } from '../helpers/devices.js';
import { startTestServer, TEST_REGION, type TestServer } from '../helpers/server.js';
import { openConsoleBrowser, type ConsoleBrowser } from './browser.js';
import { ensureWebBuilt } from './web-build.js';

/** Waits for the page to catch up (live updates, debounced searches). */
const eventually = <T>(read: () => Promise<T> | T, timeout = 10_000) => expect.poll(read, { timeout, interval: 100 });

/** What a device does with a presigned URL: an HTTPS GET, trusting the server's CA. */
function download(url: string, ca: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    get(url, { ca }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        res.statusCode === 200 ? resolve(Buffer.concat(chunks)) : reject(new Error(`HTTP ${res.statusCode}`)),
      );
    }).on('error', reject);
  });
}

const FIRMWARE = Buffer.from('firmware image 2.0 — every byte matters');

/** The browser tests of the console (issue 8): the flows an operator goes through, in Chromium. */
describe('the web console in a browser', () => {
  let t: TestServer;
  let api: ConsoleClient;
  let b: ConsoleBrowser;
  const devices: { device: Device; client: MqttClient; inbox: Inbox }[] = [];

  beforeAll(async () => {
    await ensureWebBuilt();
    t = await startTestServer();
    api = await adminConsole(t);
    // The fleet: two devices with certificates, in one group.
    const iot = t.iot();
    await api.post('/groups', { thingGroupName: 'fleet' });
    for (const name of ['dev-1', 'dev-2']) {
      const device = await provisionDevice(t, iot, name);
      await api.post('/groups/fleet/things', { thingName: name });
      const client = await connectDevice(t, device, name);
      const inbox = new Inbox(client);
      await client.subscribeAsync(`$aws/things/${name}/jobs/#`, { qos: 1 });
      devices.push({ device, client, inbox });
    }
    // The firmware in a versioned bucket, and a role the jobs service may assume to presign its URL.
    await api.post('/buckets', { bucket: 'firmware', versioning: true });
    const s3 = new S3Client({
      endpoint: t.endpoint,
      region: TEST_REGION,
      credentials: t.credentials,
      forcePathStyle: true,
    });
    await s3.send(new PutObjectCommand({ Bucket: 'firmware', Key: 'fw-2.0.bin', Body: FIRMWARE }));
    s3.destroy();
    const templates = await api.get<{ trustPolicy: object; permissionPolicy: object }>(
      '/role-templates?bucket=firmware',
    );
    await api.post('/roles', {
      roleName: 'jobs-presign',
      assumeRolePolicyDocument: JSON.stringify(templates.body.trustPolicy),
    });
    await api.put('/roles/jobs-presign/policies/read-firmware', {
      policyDocument: JSON.stringify(templates.body.permissionPolicy),
    });
    b = await openConsoleBrowser(t.endpoint);
  });

  afterAll(async () => {
    for (const d of devices) await d.client.endAsync();
    await b?.close();
    await t?.stop();
  });

  it('shows nothing but the sign-in page when signed out, and signs in with the keyboard', async () => {
    const { page } = b;
    await page.goto('/#/jobs');
    await eventually(() => page.getByRole('heading', { name: 'Sign in to fleetjobs' }).isVisible()).toBe(true);
    expect(await page.getByRole('link', { name: 'Jobs' }).count()).toBe(0);
    await b.screenshot('01-sign-in');
    await page.getByLabel('User name').focus();
    await page.keyboard.press('Tab');
    await page.keyboard.type(t.server.consoleAdmin.generatedPassword!);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Jobs' }).waitFor();
    await b.screenshot('02-jobs-empty');
    expect(b.problems).toEqual([]);
  });

  it('creates a code-signing profile on the signing page', async () => {
    const { page } = b;
    await page.getByRole('link', { name: 'Signing' }).click();
    await page.getByLabel('Profile name').fill('fleet_signer');
    await page.getByLabel('Platform').selectOption('AWSIoTDeviceManagement-SHA256-ECDSA');
    await page.getByRole('button', { name: 'Create profile' }).click();
    await page.getByRole('cell', { name: 'fleet_signer' }).waitFor();
    await b.screenshot('03-signing-profiles');
    expect(b.problems).toEqual([]);
  });

  it('creates a signed job on a group through the wizard, with a presigned download URL', async () => {
    const { page } = b;
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Jobs' }).click();
    await page.getByRole('link', { name: 'Create job' }).click();
    const id = page.getByLabel('Job id');
    await id.fill('fw 2.0!');
    await eventually(() => page.getByText('Only letters, digits, - and _ are allowed').isVisible()).toBe(true);
    expect(await page.getByText(/Do not put personal data/).isVisible()).toBe(true);
    await b.screenshot('04-wizard-id');
    await id.fill('fw-2-0');
    await page.getByLabel('Description (optional)').fill('Firmware 2.0 for the fleet');
    await page.getByRole('button', { name: 'Next' }).click();

    await page.getByLabel('Name starts with').fill('fle');
    await page.getByRole('checkbox', { name: 'fleet' }).check();
    await eventually(() => page.getByRole('list', { name: /Chosen targets/ }).textContent()).toContain('fleet');
    await b.screenshot('05-wizard-targets');
    await page.getByRole('button', { name: 'Next' }).click();

    const doc = page.getByLabel('Job document (JSON)');
    await doc.fill('{"operation": ');
    await eventually(() => page.getByText(/Not valid JSON/).isVisible()).toBe(true);
    await doc.fill('{"operation": "firmware-update", "version": "2.0"}');
    await b.screenshot('06-wizard-document');
    await page.getByRole('button', { name: 'Next' }).click();

    await page.getByRole('group', { name: 'Firmware image (optional)' }).getByLabel('Bucket').selectOption('firmware');
    await page.getByRole('group', { name: 'Firmware image (optional)' }).getByLabel('File').selectOption('fw-2.0.bin');
    await eventually(() =>
      page.getByRole('group', { name: 'Firmware image (optional)' }).getByLabel('Version').inputValue(),
    ).not.toBe('');
    await page.getByRole('checkbox', { name: 'Sign image for me' }).check();
    await page.getByLabel('Code-signing profile').selectOption('fleet_signer');
    await page.getByRole('button', { name: "Add the image's signature to the document" }).click();
    await page.getByRole('checkbox', { name: 'Pre-sign resource URLs' }).check();
    await page.getByLabel('Role').selectOption({ label: 'jobs-presign' });
    await page.getByLabel('URLs expire after (seconds)').fill('600');
    await page.getByRole('button', { name: "Add the image's download URL to the document" }).click();
    await b.screenshot('07-wizard-signing-urls');
    await page.getByRole('button', { name: 'Next' }).click();

    await page.getByRole('radio', { name: /Snapshot/ }).check();
    await page.getByText('Retries').click();
    await page.getByRole('button', { name: 'Add a retry rule' }).click();
    await b.screenshot('08-wizard-advanced');
    await page.getByRole('button', { name: 'Next' }).click();

    const review = page.getByTestId('review-document');
    // The review shows the document as it will be stored: the signature block made by the profile.
    await eventually(() => review.textContent()).toContain('SHA256withECDSA');
    const reviewed = JSON.parse((await review.textContent())!) as {
      files: { fileName: string; url: string; signature: SignatureBlock }[];
    };
    const file = reviewed.files[0]!;
    expect(file.fileName).toBe('fw-2.0.bin');
    expect(file.url).toMatch(
      /^\$\{aws:iot:s3-presigned-url-v2:https:\/\/s3\.us-east-1\.amazonaws\.com\/firmware\/fw-2\.0\.bin%3FversionId%3D.+\}$/,
    );
    expect(file.signature).toMatchObject({
      rawPayloadSize: FIRMWARE.length,
      signatureAlgorithm: 'SHA256withECDSA',
      payloadLocation: { s3: { bucketName: 'firmware', key: 'fw-2.0.bin' } },
    });
    await b.screenshot('09-wizard-review');
    await page.getByRole('button', { name: 'Create job' }).click();
    await page.getByRole('heading', { name: /fw-2-0/ }).waitFor();
    // Stored exactly as reviewed.
    const stored = await api.get<{ document: string }>('/jobs/fw-2-0/document');
    expect(JSON.parse(stored.body.document)).toEqual(reviewed);
    const job = await api.get<{ job: { presignedUrlConfig: unknown; jobExecutionsRetryConfig: unknown } }>(
      '/jobs/fw-2-0',
    );
    expect(job.body.job.presignedUrlConfig).toEqual({
      roleArn: 'arn:aws:iam::000000000000:role/jobs-presign',
      expiresInSec: 600,
    });
    expect(job.body.job.jobExecutionsRetryConfig).toEqual({
      criteriaList: [{ failureType: 'FAILED', numberOfRetries: 1 }],
    });
    expect(b.problems).toEqual([]);
  });

  it('watches the devices complete the job live, without a reload', async () => {
    const { page } = b;
    await eventually(() => page.getByTestId('count-QUEUED').textContent()).toBe('2');
    await eventually(() => page.getByText('live', { exact: true }).isVisible()).toBe(true);
    await b.screenshot('10-job-queued');
    const url = page.url();
    const profile = await t.server.services.signing.profiles.getSigningProfile('fleet_signer');
    const certificatePem = (
      await t.server.services.signing.certificates.getCertificate(profile.signingMaterial.certificateArn)
    ).Certificate;
    for (const { device, client, inbox } of devices) {
      const base = `$aws/things/${device.thingName}/jobs`;
      const started = await request(client, inbox, `${base}/start-next`, { statusDetails: { step: 'downloading' } });
      expect(started.topic, JSON.stringify(started.payload)).toBe(`${base}/start-next/accepted`);
      const execution = started.payload.execution as {
        jobId: string;
        versionNumber: number;
        jobDocument: { files: { url: string; signature: SignatureBlock }[] };
      };
      expect(execution.jobId).toBe('fw-2-0');
      // The placeholder became a fresh presigned URL that gives exactly the firmware.
      const url = execution.jobDocument.files[0]!.url;
      expect(url).toMatch(/^https:\/\/.+X-Amz-Signature=[0-9a-f]{64}/);
      const image = await download(url, device.ca);
      expect(image.equals(FIRMWARE)).toBe(true);
      // ...and the device checks the image against the signature with the profile's certificate.
      const verdict = await verifyFile({
        file: image,
        signature: execution.jobDocument.files[0]!.signature,
        certificatePem,
      });
      expect(verdict).toMatchObject({ ok: true, algorithm: 'SHA256withECDSA' });
      await eventually(() => page.getByTestId('count-IN_PROGRESS').textContent()).not.toBe('0');
      const done = await request(client, inbox, `${base}/fw-2-0/update`, {
        status: 'SUCCEEDED',
        statusDetails: { step: 'installed' },
        expectedVersion: execution.versionNumber,
      });
      expect(done.topic).toBe(`${base}/fw-2-0/update/accepted`);
    }
    await eventually(() => page.getByTestId('count-SUCCEEDED').textContent()).toBe('2');
    await page
      .getByRole('heading', { name: /fw-2-0/ })
      .getByText('COMPLETED')
      .waitFor();
    expect(page.url()).toBe(url);
    await page.getByRole('button', { name: 'Details of dev-1' }).click();
    await page.getByText('installed').waitFor();
    await page.getByLabel('Thing').fill('dev-1');
    await page.getByRole('button', { name: 'Preview' }).click();
    await eventually(() => page.getByTestId('device-document').textContent()).toMatch(/X-Amz-Signature=/);
    await b.screenshot('11-job-completed');
    expect(b.problems).toEqual([]);
  });

  it('cancels a job with force, reason code and comment, after confirming', async () => {
    await api.post('/jobs', {
      jobId: 'fw-cancel-me',
      targets: ['arn:aws:iot:us-east-1:000000000000:thinggroup/fleet'],
      document: '{"operation":"noop"}',
    });
    const { page } = b;
    await page.goto('/#/jobs');
    await page.getByRole('link', { name: 'fw-cancel-me' }).click();
    await page.getByRole('button', { name: 'Cancel job…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Cancel job fw-cancel-me?' });
    await dialog.getByRole('checkbox', { name: /Force/ }).check();
    await dialog.getByLabel('Reason code').fill('BAD_IMAGE');
    await dialog.getByLabel('Comment').fill('wrong build');
    await b.screenshot('12-cancel-dialog');
    await dialog.getByRole('button', { name: 'Cancel job' }).click();
    await page
      .getByRole('heading', { name: /fw-cancel-me/ })
      .getByText('CANCELED')
      .waitFor();
    await page.getByText('BAD_IMAGE (forced)').waitFor();
    await eventually(() => page.getByTestId('count-CANCELED').textContent()).toBe('2');
    await b.screenshot('13-job-canceled');
    expect(b.problems).toEqual([]);
  });

  it('deletes a job after confirming', async () => {
    const { page } = b;
    await page.getByRole('button', { name: 'Delete job…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete job fw-cancel-me?' });
    await dialog.getByRole('button', { name: 'Keep it' }).click();
    expect((await api.get('/jobs/fw-cancel-me')).status).toBe(200);
    await page.getByRole('button', { name: 'Delete job…' }).click();
    await b.screenshot('14-delete-dialog');
    await dialog.getByRole('button', { name: 'Delete job' }).click();
    await page.getByRole('heading', { name: 'Jobs' }).waitFor();
    await eventually(async () => (await api.get('/jobs/fw-cancel-me')).status).toBe(404);
    expect(await page.getByRole('link', { name: 'fw-cancel-me' }).count()).toBe(0);
    await b.screenshot('15-jobs-after-delete');
    expect(b.problems).toEqual([]);
  });
});
