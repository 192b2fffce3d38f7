import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  IoTJobsDataPlaneClient,
  StartNextPendingJobExecutionCommand,
  UpdateJobExecutionCommand,
} from '@aws-sdk/client-iot-jobs-data-plane';
import { handlerDir } from '../helpers/agent.js';
import { cli, cliEnv } from '../helpers/cli.js';
import { adminConsole, type ConsoleClient } from '../helpers/console.js';
import { startTestServer, TEST_REGION, type TestServer } from '../helpers/server.js';
import { openConsoleBrowser, type ConsoleBrowser } from './browser.js';
import { ensureWebBuilt } from './web-build.js';

/** Waits for the page to catch up (live updates, debounced searches). */
const eventually = <T>(read: () => Promise<T> | T, timeout = 10_000) => expect.poll(read, { timeout, interval: 100 });

const FIRMWARE = Buffer.from('firmware image 2.0 — every byte matters');
const FLEET = 'arn:aws:iot:us-east-1:000000000000:thinggroup/fleet';

/**
 * The console's documented create-job flow (issue 16), in Chromium, driven by labels and roles as a
 * person would: a signing profile, the wizard (id, targets, document, "Sign image for me" with the
 * chosen profile, "pre-sign my URLs" with a role made in the wizard, advanced settings, review),
 * then the reference agent on two devices takes the job to SUCCEEDED with the signature verified.
 */
describe('the web console in a browser: the create-job flow', () => {
  let t: TestServer;
  let api: ConsoleClient;
  let b: ConsoleBrowser;
  let work: string;
  const run = (...args: string[]) => cli([...args, '--output', 'json'], { env: cliEnv(t), cwd: work });

  beforeAll(async () => {
    await ensureWebBuilt();
    t = await startTestServer();
    api = await adminConsole(t);
    work = mkdtempSync(join(tmpdir(), 'fj-console-'));
    await api.post('/groups', { thingGroupName: 'fleet' });
    for (const name of ['dev-1', 'dev-2']) {
      const ca = t.server.endpoints.caCertificate!;
      const made = await run('device', 'provision', name, '--out', name, '--group', 'fleet', '--ca', ca);
      expect(made.code, made.stderr).toBe(0);
    }
    await api.post('/buckets', { bucket: 'firmware', versioning: true });
    const s3 = new S3Client({
      endpoint: t.endpoint,
      region: TEST_REGION,
      credentials: t.credentials,
      forcePathStyle: true,
    });
    await s3.send(new PutObjectCommand({ Bucket: 'firmware', Key: 'fw-2.0.bin', Body: FIRMWARE }));
    s3.destroy();
    // Two more Active profiles, one of them soon the default: the job must still use the one chosen.
    for (const profileName of ['old_signer', 'spare_signer']) {
      await api.post('/signing/profiles', { profileName, platformId: 'AWSIoTDeviceManagement-SHA256-ECDSA' });
    }
    b = await openConsoleBrowser(t.endpoint);
  });

  afterAll(async () => {
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

  it('creates a profile, marks another the default, retires one and downloads a certificate', async () => {
    const { page } = b;
    await page.getByRole('link', { name: 'Signing' }).click();
    await page.getByLabel('Profile name').fill('fleet_signer');
    await page.getByLabel('Platform').selectOption('AWSIoTDeviceManagement-SHA256-ECDSA');
    await page.getByRole('button', { name: 'Create profile' }).click();
    await page.getByRole('cell', { name: 'fleet_signer', exact: true }).waitFor();
    await page.getByRole('button', { name: 'Make old_signer the default' }).click();
    await page.getByRole('cell', { name: 'old_signer default', exact: true }).waitFor();
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Retire spare_signer' }).click();
    await page.getByRole('row', { name: /spare_signer.*Retired/ }).waitFor();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download the certificate of fleet_signer' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('fleet_signer.pem');
    await download.saveAs(join(work, 'signer.pem'));
    expect(readFileSync(join(work, 'signer.pem'), 'utf8')).toMatch(/^-----BEGIN CERTIFICATE-----/);
    await b.screenshot('03-signing-profiles');
    expect(b.problems).toEqual([]);
  });

  it('creates a signed job through the wizard, keeping what was typed across Back and other pages', async () => {
    const { page } = b;
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Jobs' }).click();
    await page.getByRole('link', { name: 'Create job' }).click();
    const id = page.getByLabel('Job id');
    await id.fill('fw 2.0!');
    await eventually(() => page.getByText('Only letters, digits, - and _ are allowed').count()).toBe(1);
    await page.getByLabel('Description (optional)').fill('Firmware 2.0 for the fleet');
    await page.getByRole('button', { name: 'Next' }).click();
    // Shown once, under the job id, not again under the description.
    expect(await page.getByText('Only letters, digits, - and _ are allowed').count()).toBe(1);
    await b.screenshot('04-wizard-id');
    await id.fill('fw-2-0');
    await page.getByRole('button', { name: 'Next' }).click();

    await page.getByLabel('Name starts with').fill('fle');
    await page.getByRole('checkbox', { name: 'fleet' }).check();
    await eventually(() => page.getByRole('list', { name: /Chosen targets/ }).textContent()).toContain('fleet');
    await b.screenshot('05-wizard-targets');
    await page.getByRole('button', { name: 'Next' }).click();

    // The default document is one the reference agent runs (Device Client schema 1.0).
    const doc = page.getByLabel('Job document (JSON)');
    expect(JSON.parse(await doc.inputValue())).toMatchObject({ version: '1.0' });
    await b.screenshot('06-wizard-document');
    await page.getByRole('button', { name: 'Next' }).click();

    const image = page.getByRole('group', { name: 'Firmware image (optional)' });
    await image.getByLabel('Bucket').selectOption('firmware');
    await image.getByLabel('File').selectOption('fw-2.0.bin');
    await eventually(() => image.getByLabel('Version').inputValue()).not.toBe('');
    await page.getByRole('checkbox', { name: 'Sign image for me' }).check();
    // The default profile is preselected; this job is signed with another one.
    await eventually(() => page.getByLabel('Code-signing profile').inputValue()).toBe('old_signer');
    expect(await page.getByRole('option', { name: /spare_signer/ }).count()).toBe(0);
    await page.getByLabel('Code-signing profile').selectOption('fleet_signer');
    await page.getByRole('status').filter({ hasText: 'with profile fleet_signer' }).waitFor();
    await page.getByRole('checkbox', { name: 'Pre-sign resource URLs' }).check();
    // A role made here gets the trust policy and the read permission in one go.
    await page.getByLabel('New role name').fill('jobs-presign');
    await page.getByLabel('May read files of bucket').selectOption('firmware');
    await page.getByRole('button', { name: 'Create role' }).click();
    await eventually(() => page.getByLabel('Role', { exact: true }).inputValue()).toMatch(/role\/jobs-presign$/);
    await page.getByLabel('URLs expire after (seconds)').fill('600');
    const entry = page.getByLabel("The image's entry in the document");
    await eventually(() => entry.textContent()).toContain('"codesign": "${aws:iot:code-sign-signature:');
    expect(JSON.parse((await entry.textContent())!).files[0]).toMatchObject({
      name: 'fw-2.0.bin',
      url: expect.stringMatching(/^\$\{aws:iot:s3-presigned-url-v2:https:\/\/s3\.us-east-1\.amazonaws\.com\/firmware/),
    });
    await b.screenshot('07-wizard-signing-urls');

    // Leaving for another page and coming back with the browser's Back keeps every choice.
    await page.getByRole('link', { name: 'Roles' }).click();
    await page.getByRole('heading', { name: 'Roles' }).waitFor();
    await page.goBack();
    await eventually(() => page.getByLabel('Code-signing profile').inputValue()).toBe('fleet_signer');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('radio', { name: /Snapshot/ }).check();
    await page.getByText('Timeout', { exact: true }).click();
    await page.getByLabel('In-progress timeout (minutes)').fill('60');
    await page.getByText('Retries').click();
    await page.getByRole('button', { name: 'Add a retry rule' }).click();
    await b.screenshot('08-wizard-advanced');
    // Steps are history entries: Back returns to the previous step with its values.
    await page.goBack();
    await page.getByRole('heading', { name: 'Signing and URLs' }).waitFor();
    expect(await page.getByLabel('URLs expire after (seconds)').inputValue()).toBe('600');
    await page.goForward();
    await page.getByRole('heading', { name: 'Rollout and more' }).waitFor();
    await page.getByRole('button', { name: 'Next' }).click();

    const review = page.getByTestId('review-document');
    await eventually(() => review.textContent()).toContain('(signed when the job is created)');
    const settings = page.getByRole('definition');
    await eventually(() => settings.allTextContents()).toEqual(
      expect.arrayContaining([
        'signed at creation with profile fleet_signer',
        'download URLs made with role jobs-presign, valid for 600 seconds',
        'a thing that stays in progress for 60 minutes times out',
        'retry 1 time when failed',
      ]),
    );
    await b.screenshot('09-wizard-review');
    // Reviewing signs nothing (not even twice).
    await page.getByRole('button', { name: '5. Rollout and more' }).click();
    await page.getByRole('button', { name: 'Next' }).click();
    await eventually(() => review.textContent()).toContain('(signed when the job is created)');
    expect((await api.get<{ jobs: unknown[] }>('/signing/jobs')).body.jobs).toEqual([]);
    await page.getByRole('button', { name: 'Create job' }).click();
    await page.getByRole('heading', { name: /fw-2-0/ }).waitFor();

    // Signed once, at CreateJob, with the chosen profile.
    const signed = await api.get<{ jobs: { profileName: string }[] }>('/signing/jobs');
    expect(signed.body.jobs.map((j) => j.profileName)).toEqual(['fleet_signer']);
    const stored = JSON.parse((await api.get<{ document: string }>('/jobs/fw-2-0/document')).body.document);
    expect(stored.files[0].codesign).toMatchObject({
      rawPayloadSize: FIRMWARE.length,
      signatureAlgorithm: 'SHA256withECDSA',
    });
    const job = await api.get<{ job: Record<string, unknown> }>('/jobs/fw-2-0');
    expect(job.body.job).toMatchObject({
      presignedUrlConfig: { roleArn: 'arn:aws:iam::000000000000:role/jobs-presign', expiresInSec: 600 },
      timeoutConfig: { inProgressTimeoutInMinutes: 60 },
      jobExecutionsRetryConfig: { criteriaList: [{ failureType: 'FAILED', numberOfRetries: 1 }] },
    });
    expect(b.problems).toEqual([]);
  });

  it('the reference agent on each device verifies the signature and the job SUCCEEDS, live on the page', async () => {
    const { page } = b;
    await eventually(() => page.getByTestId('count-QUEUED').textContent()).toBe('2');
    await eventually(() => page.getByText('live', { exact: true }).isVisible()).toBe(true);
    await page.getByRole('cell', { name: /fw-2\.0\.bin/ }).waitFor();
    await b.screenshot('10-job-queued');
    const url = page.url();
    const handlers = handlerDir({ 'install.sh': `cp "$2" "${work}/installed-$FLEETJOBS_THING_NAME.bin"` });
    for (const name of ['dev-1', 'dev-2']) {
      const r = await cli(
        [
          'agent',
          '--device-dir',
          name,
          '--handler-dir',
          handlers,
          '--signer-cert',
          'signer.pem',
          '--require-signature',
          '--once',
        ],
        { env: {}, cwd: work },
      );
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/fw-2\.0\.bin: code signature verified \(CN=fleet_signer code signing/);
      expect(readFileSync(join(work, `installed-${name}.bin`)).equals(FIRMWARE)).toBe(true);
    }
    await eventually(() => page.getByTestId('count-SUCCEEDED').textContent()).toBe('2');
    await page
      .getByRole('heading', { name: /fw-2-0/ })
      .getByText('COMPLETED')
      .waitFor();
    expect(page.url()).toBe(url);
    await page.getByRole('button', { name: 'Details of dev-1' }).click();
    await page.getByText('1 step succeeded').first().waitFor();
    await b.screenshot('11-job-completed');
    expect(b.problems).toEqual([]);
  });

  it('after a reload the chart has its history from the server, and each execution shows its reason', async () => {
    const { page } = b;
    await page.reload();
    await eventually(() => page.getByTestId('count-SUCCEEDED').textContent()).toBe('2');
    // Rebuilt from the executions: the things were queued and in progress before they succeeded.
    const legend = page.getByRole('figure').getByRole('listitem');
    await eventually(() => legend.allTextContents()).toEqual(['QUEUED', 'IN PROGRESS', 'SUCCEEDED']);
    await page.getByRole('columnheader', { name: 'Reason' }).waitFor();
    expect(await page.getByRole('cell', { name: '1 step succeeded' }).count()).toBe(2);
    await b.screenshot('16-job-after-reload');
    expect(b.problems).toEqual([]);
  });

  it('counts things apart from attempts: a thing that failed and then succeeded on a retry', async () => {
    await api.post('/jobs', {
      jobId: 'fw-retry',
      targets: ['arn:aws:iot:us-east-1:000000000000:thing/dev-1'],
      document: '{"operation":"noop"}',
      jobExecutionsRetryConfig: { criteriaList: [{ failureType: 'FAILED', numberOfRetries: 2 }] },
    });
    const device = new IoTJobsDataPlaneClient({
      endpoint: t.endpoint,
      region: TEST_REGION,
      credentials: t.credentials,
    });
    const attempt = async (status: 'FAILED' | 'SUCCEEDED'): Promise<void> => {
      let started;
      await eventually(async () => {
        started = await device.send(new StartNextPendingJobExecutionCommand({ thingName: 'dev-1' }));
        return started.execution?.jobId;
      }).toBe('fw-retry');
      await device.send(new UpdateJobExecutionCommand({ jobId: 'fw-retry', thingName: 'dev-1', status }));
    };
    await attempt('FAILED');
    await attempt('SUCCEEDED');
    device.destroy();
    const { page } = b;
    await page.goto('/#/jobs/fw-retry');
    await eventually(() => page.getByTestId('count-SUCCEEDED').textContent()).toBe('1');
    expect(await page.getByTestId('count-FAILED').textContent()).toBe('0');
    await eventually(() => page.getByTestId('attempts').textContent()).toBe(
      'Attempts, apart from the things above: 1 retry, 1 failed attempt.',
    );
    await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Jobs' }).click();
    await page.getByRole('img', { name: 'Job fw-retry: 1 of 1 things finished (100%)' }).waitFor();
    await page.getByText('+1 retry').waitFor();
    await b.screenshot('17-jobs-list-retries');
    expect(b.problems).toEqual([]);
  });

  it('keeps the progress column in view on a 390 px wide screen', async () => {
    const { page } = b;
    await page.setViewportSize({ width: 390, height: 800 });
    try {
      const bar = page.getByRole('img', { name: /^Job fw-retry:/ });
      await bar.waitFor();
      const box = (await bar.boundingBox())!;
      expect(box.x + box.width).toBeLessThanOrEqual(390);
      await b.screenshot('18-jobs-list-390px');
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
    }
  });

  it('on Files: sizes in words, download, SHA-256 and delete of a file; a bad bucket name under its field', async () => {
    const { page } = b;
    await page.getByRole('link', { name: 'Files' }).click();
    await page.getByLabel('New bucket').fill('Bad_Name');
    await page.getByRole('button', { name: 'Create bucket' }).click();
    const field = page.locator('.field').filter({ has: page.getByLabel('New bucket') });
    await field.getByRole('alert').waitFor();
    expect(b.problems).toEqual([
      'console error: Failed to load resource: the server responded with a status of 400 (Bad Request)',
    ]);
    b.problems.length = 0;
    await page.getByRole('link', { name: 'firmware' }).click();
    await page.getByRole('cell', { name: '41 bytes' }).waitFor();
    await page.getByRole('button', { name: 'SHA-256 of fw-2.0.bin' }).click();
    const digest = createHash('sha256').update(FIRMWARE).digest('hex');
    await eventually(() => page.getByLabel('SHA-256 of fw-2.0.bin').textContent()).toBe(digest);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Download fw-2.0.bin' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('fw-2.0.bin');
    expect(readFileSync((await download.path())!).equals(FIRMWARE)).toBe(true);
    await b.screenshot('19-files');
    await api.post('/buckets', { bucket: 'scratch', versioning: true });
    const s3 = new S3Client({
      endpoint: t.endpoint,
      region: TEST_REGION,
      credentials: t.credentials,
      forcePathStyle: true,
    });
    await s3.send(new PutObjectCommand({ Bucket: 'scratch', Key: 'old.bin', Body: Buffer.alloc(1_500_000) }));
    s3.destroy();
    await page.goto('/#/files/scratch');
    await page.getByRole('cell', { name: '1.5 MB' }).waitFor();
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: 'Delete old.bin' }).click();
    await page.getByText('No files yet.').waitFor();
    expect(b.problems).toEqual([]);
  });

  it('says in words that the server cannot be reached', async () => {
    const { page } = b;
    await page.route('**/console/api/things**', (r) => r.abort());
    try {
      await page.goto('/#/things');
      await page.getByText('No connection: The fleetjobs server cannot be reached.').waitFor();
      expect(await page.getByText('Failed to fetch').count()).toBe(0);
    } finally {
      await page.unroute('**/console/api/things**');
      b.problems.length = 0; // the aborted requests, logged by Chromium
    }
  });

  it('cancels while the reference agent works: without force the device finishes, with force it stops', async () => {
    const { page } = b;
    // The step runs until the test says so (a file appears), so cancel lands while it is in progress.
    const handlers = handlerDir({
      'wait.sh': `while [ ! -f "${work}/go-$FLEETJOBS_JOB_ID" ]; do sleep 0.05; done; echo finished`,
    });
    const stop = new AbortController();
    let log = '';
    const agent = cli(['agent', '--device-dir', 'dev-2', '--handler-dir', handlers], {
      env: {},
      cwd: work,
      interrupt: stop.signal,
      onStderr: (text) => (log += text),
    });
    const execution = async (jobId: string) =>
      (await api.get<{ execution: { status: string } }>(`/jobs/${jobId}/executions/dev-2`)).body.execution?.status;
    const document = JSON.stringify({
      version: '1.0',
      steps: [{ action: { name: 'wait', type: 'runHandler', input: { handler: 'wait.sh' } } }],
    });
    const cancelInConsole = async (jobId: string, force: boolean): Promise<void> => {
      await api.post('/jobs', { jobId, targets: ['arn:aws:iot:us-east-1:000000000000:thing/dev-2'], document });
      await eventually(() => execution(jobId), 20_000).toBe('IN_PROGRESS');
      await page.goto(`/#/jobs/${jobId}`);
      await eventually(() => page.getByTestId('count-IN_PROGRESS').textContent()).toBe('1');
      await page.getByRole('button', { name: 'Cancel job…' }).click();
      const dialog = page.getByRole('dialog', { name: `Cancel job ${jobId}?` });
      if (force) await dialog.getByRole('checkbox', { name: /Force/ }).check();
      await dialog.getByRole('button', { name: 'Cancel job' }).click();
      await page
        .getByRole('heading', { name: new RegExp(jobId) })
        .getByText('CANCELED')
        .waitFor();
    };
    try {
      await cancelInConsole('fw-soft-cancel', false);
      // Not forced: the device keeps its execution and finishes it.
      expect(await execution('fw-soft-cancel')).toBe('IN_PROGRESS');
      writeFileSync(join(work, 'go-fw-soft-cancel'), '');
      await eventually(() => page.getByTestId('count-SUCCEEDED').textContent(), 20_000).toBe('1');
      await b.screenshot('20-canceled-device-finished');
      // Meanwhile the Things page shows the agent's device connected, the others as last seen.
      await page.goto('/#/things');
      await page.getByRole('row', { name: /dev-2\b.*connected since/ }).waitFor();
      await page.getByRole('row', { name: /dev-1\b.*last seen/ }).waitFor();
      await b.screenshot('22-things-connection');

      await cancelInConsole('fw-hard-cancel', true);
      await eventually(() => page.getByTestId('count-CANCELED').textContent()).toBe('1');
      // Forced: the agent stops the step and forgets the job; the step never finishes.
      await eventually(() => log, 20_000).toMatch(/job fw-hard-cancel: CANCELED by the service; stopped/);
      expect(await execution('fw-hard-cancel')).toBe('CANCELED');
      await b.screenshot('21-force-canceled-device-stopped');
    } finally {
      stop.abort();
      await agent;
    }
    expect(b.problems).toEqual([]);
  });

  it("shows a thing's connection and the status of its certificates", async () => {
    const { page } = b;
    await page.goto('/#/things/dev-2');
    const status = page.getByRole('definition');
    await eventually(() => status.allTextContents()).toEqual(
      expect.arrayContaining([expect.stringMatching(/^last seen /), expect.stringMatching(/…\s*ACTIVE, valid until /)]),
    );
    await b.screenshot('23-thing-status');
    expect(b.problems).toEqual([]);
  });

  it('cancels a job without force: queued executions are canceled, and a bad reason code is explained', async () => {
    await api.post('/jobs', { jobId: 'fw-cancel-soft', targets: [FLEET], document: '{"operation":"noop"}' });
    const { page } = b;
    await page.goto('/#/jobs/fw-cancel-soft');
    await page.getByRole('button', { name: 'Cancel job…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Cancel job fw-cancel-soft?' });
    await dialog.getByLabel('Reason code').fill('bad image');
    await dialog.getByRole('button', { name: 'Cancel job' }).click();
    await dialog.getByText('Use capital letters, digits and _ only, e.g. BAD_IMAGE.').waitFor();
    await dialog.getByLabel('Reason code').fill('SUPERSEDED');
    await dialog.getByRole('button', { name: 'Cancel job' }).click();
    await page
      .getByRole('heading', { name: /fw-cancel-soft/ })
      .getByText('CANCELED')
      .waitFor();
    await page.getByText('SUPERSEDED', { exact: true }).waitFor();
    await eventually(() => page.getByTestId('count-CANCELED').textContent()).toBe('2');
    expect(b.problems).toEqual([]);
  });

  it('cancels a job with force, reason code and comment, after confirming', async () => {
    await api.post('/jobs', { jobId: 'fw-cancel-me', targets: [FLEET], document: '{"operation":"noop"}' });
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

  it('deletes a canceled job after confirming, without offering force', async () => {
    const { page } = b;
    await page.getByRole('button', { name: 'Delete job…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete job fw-cancel-me?' });
    expect(await dialog.getByRole('checkbox', { name: /Force/ }).count()).toBe(0);
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

  it('deletes a running job only with force', async () => {
    await api.post('/jobs', { jobId: 'fw-running', targets: [FLEET], document: '{"operation":"noop"}' });
    const { page } = b;
    await page.goto('/#/jobs/fw-running');
    await page.getByRole('button', { name: 'Delete job…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete job fw-running?' });
    await dialog.getByRole('checkbox', { name: /Force/ }).check();
    await dialog.getByRole('button', { name: 'Delete job' }).click();
    await page.getByRole('heading', { name: 'Jobs' }).waitFor();
    await eventually(async () => (await api.get('/jobs/fw-running')).status).toBe(404);
    expect(b.problems).toEqual([]);
  });
});
