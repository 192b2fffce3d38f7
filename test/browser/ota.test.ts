import { DescribeJobExecutionCommand, type IoTClient } from '@aws-sdk/client-iot';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminConsole, type ConsoleClient } from '../helpers/console.js';
import { provisionDevice, type Device } from '../helpers/devices.js';
import { OtaDevice, otaRoleTrust } from '../helpers/ota-device.js';
import { startTestServer, TEST_REGION, type TestServer } from '../helpers/server.js';
import { ACCOUNT, allowRead, StreamFixture } from '../helpers/streams.js';
import { openConsoleBrowser, type ConsoleBrowser } from './browser.js';
import { ensureWebBuilt } from './web-build.js';

const eventually = <T>(read: () => Promise<T> | T, timeout = 10_000) => expect.poll(read, { timeout, interval: 100 });

/**
 * The create-job flow's "OTA update" path (issue 20), in Chromium: from the wizard to the OTA form,
 * an image in a versioned bucket, a FreeRTOS signing profile and a role, Create; the page opens the
 * AFR_OTA job, and a FreeRTOS-style device (test/helpers/ota-device.ts, which replays the OTA agent's
 * formats because the C agent cannot run here) downloads, verifies and succeeds, live on that page.
 */
describe('the web console in a browser: an OTA update', () => {
  let t: TestServer;
  let api: ConsoleClient;
  let iot: IoTClient;
  let fx: StreamFixture;
  let b: ConsoleBrowser;
  let dev: Device;
  let certificatePem: string;
  const image = randomBytes(30_000);

  beforeAll(async () => {
    await ensureWebBuilt();
    t = await startTestServer();
    api = await adminConsole(t);
    iot = t.iot();
    fx = new StreamFixture(t);
    await api.post('/groups', { thingGroupName: 'ota-fleet' });
    dev = await provisionDevice(t, iot, 'ota-web-1');
    await api.post('/groups/ota-fleet/things', { thingName: dev.thingName });
    await fx.bucket('firmware');
    await fx.put('firmware', 'app-1.0.0.bin', image);
    await fx.role('ota-web', otaRoleTrust(ACCOUNT, TEST_REGION), allowRead('arn:aws:s3:::firmware/*'));
    const profile = await api.post<{ profileName?: string }>('/signing/profiles', {
      profileName: 'freertos_ecdsa',
      platformId: 'AmazonFreeRTOS-Default',
      signingParameters: { certname: 'codesign.crt' },
    });
    expect(profile.status).toBe(200);
    const got = await t.server.services.signing.profiles.getSigningProfile('freertos_ecdsa');
    certificatePem = (await t.server.services.signing.certificates.getCertificate(got.signingMaterial!.certificateArn!))
      .Certificate;
    b = await openConsoleBrowser(t.endpoint);
    await b.page.goto('/');
    await b.page.getByLabel('Password').fill(t.server.consoleAdmin.generatedPassword!);
    await b.page.getByRole('button', { name: 'Sign in' }).click();
    await b.page.getByRole('heading', { name: 'Jobs' }).waitFor();
  });

  afterAll(async () => {
    await b?.close();
    fx?.destroy();
    await t?.stop();
  });

  it('creates the update from the create-job flow, opens its job, and the device succeeds there', async () => {
    const { page } = b;
    await page.getByRole('link', { name: 'Create job' }).click();
    await page.getByRole('link', { name: 'Create an OTA update' }).click();
    await page.getByRole('heading', { name: 'Create an OTA update' }).waitFor();

    // Nothing chosen yet: the form says what is missing instead of asking the server.
    await page.getByLabel('OTA update id').fill('fw 1.0');
    await page.getByRole('button', { name: 'Create OTA update' }).click();
    await page.getByRole('alert').filter({ hasText: 'The update id' }).waitFor();
    await page.getByLabel('OTA update id').fill('fw-1-0-0');

    await page.getByLabel('Name starts with').fill('ota');
    await page.getByRole('checkbox', { name: 'ota-fleet' }).check();
    const file = page.getByRole('group', { name: 'Firmware image' });
    await file.getByLabel('Bucket').selectOption('firmware');
    await file.getByLabel('File').selectOption('app-1.0.0.bin');
    await eventually(() => file.getByLabel('Version').inputValue()).not.toBe('');
    expect(await page.getByLabel('File name on the device').inputValue()).toBe('app-1.0.0.bin');
    await page.getByRole('checkbox', { name: 'HTTP (presigned URL)' }).check();
    await page.getByLabel('Code-signing profile').selectOption('freertos_ecdsa');
    await page.getByLabel('Role').selectOption({ label: 'ota-web' });
    await b.screenshot('ota-01-form');
    // The device is online and waiting, as a fleet is; it learns of the job from notify-next.
    const device = new OtaDevice({
      mqttUrl: t.server.endpoints.mqtt!,
      thingName: dev.thingName,
      cert: dev.cert,
      key: dev.key,
      ca: dev.ca,
      certificates: { 'codesign.crt': certificatePem },
      version: { major: 0, minor: 9, build: 2 },
      imageVersion: { major: 1, minor: 0, build: 0 },
    });
    const running = device.run();
    await device.idle;
    await page.getByRole('button', { name: 'Create OTA update' }).click();

    // Signed, streamed and made into a job: the page is the job's.
    await page.waitForURL(/#\/jobs\/AFR_OTA-fw-1-0-0$/);
    await page.getByRole('heading', { name: /AFR_OTA-fw-1-0-0/ }).waitFor();

    const outcome = await running;
    expect(outcome).toMatchObject({ jobId: 'AFR_OTA-fw-1-0-0', result: 'SUCCEEDED', verified: true });
    expect(outcome.image!.equals(image)).toBe(true);
    const rows = page.getByRole('table', { name: 'Executions of job AFR_OTA-fw-1-0-0' }).getByRole('row');
    await eventually(() => rows.nth(1).textContent()).toMatch(/ota-web-1.*SUCCEEDED/);
    const { execution } = await iot.send(
      new DescribeJobExecutionCommand({ jobId: 'AFR_OTA-fw-1-0-0', thingName: dev.thingName }),
    );
    expect(execution?.statusDetails?.detailsMap).toEqual({ reason: 'accepted  v1.0.0', updatedBy: '  v0.9.2' });
    await b.screenshot('ota-02-job');
    expect(b.problems).toEqual([]);
  });

  it('shows why an update failed: a role that cannot read the image', async () => {
    const { page } = b;
    await fx.role('ota-noread', otaRoleTrust(ACCOUNT, TEST_REGION), allowRead('arn:aws:s3:::other/*'));
    await page.goto('/#/jobs/new-ota');
    await page.getByLabel('OTA update id').fill('fw-noread');
    await page.getByLabel('Name starts with').fill('ota');
    await page.getByRole('checkbox', { name: 'ota-fleet' }).check();
    const file = page.getByRole('group', { name: 'Firmware image' });
    await file.getByLabel('Bucket').selectOption('firmware');
    await file.getByLabel('File').selectOption('app-1.0.0.bin');
    await eventually(() => file.getByLabel('Version').inputValue()).not.toBe('');
    await page.getByLabel('Code-signing profile').selectOption('freertos_ecdsa');
    await page.getByLabel('Role').selectOption({ label: 'ota-noread' });
    await page.getByRole('button', { name: 'Create OTA update' }).click();
    await page.getByRole('alert').filter({ hasText: 'The OTA update failed' }).waitFor();
    expect(page.url()).toMatch(/#\/jobs\/new-ota$/);
  });
});
