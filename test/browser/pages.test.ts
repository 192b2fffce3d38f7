import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminConsole, type ConsoleClient } from '../helpers/console.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { openConsoleBrowser, type ConsoleBrowser } from './browser.js';
import { ensureWebBuilt } from './web-build.js';

const eventually = <T>(read: () => Promise<T> | T, timeout = 10_000) => expect.poll(read, { timeout, interval: 100 });
const GROUP = 'arn:aws:iot:us-east-1:000000000000:thinggroup/big';

/** The other pages of the console, the service's errors next to their fields, and a narrow screen. */
describe('console pages in a browser', () => {
  let t: TestServer;
  let api: ConsoleClient;
  let b: ConsoleBrowser;

  beforeAll(async () => {
    await ensureWebBuilt();
    t = await startTestServer();
    api = await adminConsole(t);
    await api.post('/groups', { thingGroupName: 'big' });
    for (let i = 0; i < 120; i++) {
      const name = `unit-${String(i).padStart(3, '0')}`;
      await api.post('/things', { thingName: name });
      await api.post('/groups/big/things', { thingName: name });
    }
    await api.post('/jobs', { jobId: 'big-job', targets: [GROUP], document: '{"op":"x"}' });
    b = await openConsoleBrowser(t.endpoint);
    await b.page.goto('/');
    await b.page.getByLabel('Password').fill(t.server.consoleAdmin.generatedPassword!);
    await b.page.getByRole('button', { name: 'Sign in' }).click();
    await b.page.getByRole('heading', { name: 'Jobs' }).waitFor();
  });

  afterAll(async () => {
    await b?.close();
    await t?.stop();
  });

  it('pages through the executions of a job with keyset paging and filters them by status', async () => {
    const { page } = b;
    await t.server.services.deviceJobs.updateJobExecution('unit-077', 'big-job', {
      status: 'FAILED',
      statusDetails: { reason: 'disk full' },
    });
    await page.goto('/#/jobs/big-job');
    const rows = page.getByRole('table', { name: 'Executions of job big-job' }).getByRole('row');
    await eventually(() => rows.nth(1).textContent()).toContain('unit-000');
    const pager = page.getByRole('navigation', { name: 'Executions pages' });
    await pager.getByRole('button', { name: 'Next →' }).click();
    await eventually(() => rows.nth(1).textContent()).toContain('unit-050');
    await pager.getByRole('button', { name: 'Next →' }).click();
    await eventually(() => rows.nth(1).textContent()).toContain('unit-100');
    expect(await pager.getByRole('button', { name: 'Next →' }).isDisabled()).toBe(true);
    await pager.getByRole('button', { name: '← Previous' }).click();
    await eventually(() => rows.nth(1).textContent()).toContain('unit-050');
    await page.getByLabel('Filter executions by status').selectOption('FAILED');
    await eventually(() => rows.count()).toBe(2);
    await page.getByRole('button', { name: 'Details of unit-077' }).click();
    await page.getByRole('cell', { name: 'disk full', exact: true }).waitFor(); // the reason column
    await page.getByRole('definition').filter({ hasText: 'disk full' }).waitFor(); // the details
    await b.screenshot('20-executions-paged-filtered');
    expect(b.problems).toEqual([]);
  });

  it('shows the service error next to its field and goes back to its step', async () => {
    const { page } = b;
    await page.goto('/#/jobs/new');
    await page.getByLabel('Job id').fill('scheduled-too-soon');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('checkbox', { name: 'big' }).check();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByText('Scheduling and maintenance windows').click();
    await page.getByRole('checkbox', { name: 'Schedule this job' }).check();
    await page.getByLabel('Start (UTC)').fill('2000-01-01T00:00');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('button', { name: 'Create job' }).click();
    // Back on the step of the field, with the service's message under it.
    const start = page.getByLabel('Start (UTC)');
    await eventually(() => start.getAttribute('aria-invalid')).toBe('true');
    const describedBy = (await start.getAttribute('aria-describedby'))!.split(' ');
    const message = await page.locator(`[id="${describedBy.at(-1)}"]`).textContent();
    expect(message).toMatch(/schedulingConfig\.startTime/);
    await b.screenshot('21-wizard-service-error');
    // The browser logs the refused request; nothing else.
    expect(b.problems).toEqual([expect.stringMatching(/status of 400/)]);
    b.problems.length = 0;
  });

  it('creates jobs whose document is a file: uploaded in the wizard, or chosen in a bucket', async () => {
    const { page } = b;
    await api.post('/buckets', { bucket: 'documents', versioning: true });
    const fromFile = async (jobId: string, choose: () => Promise<void>): Promise<void> => {
      await page.goto('/#/jobs');
      await page.getByRole('link', { name: 'Create job' }).click();
      await page.getByLabel('Job id').fill(jobId);
      await page.getByRole('button', { name: 'Next' }).click();
      await page.getByRole('checkbox', { name: 'big' }).check();
      await page.getByRole('button', { name: 'Next' }).click();
      await choose();
      for (let i = 0; i < 3; i++) await page.getByRole('button', { name: 'Next' }).click();
      await eventually(() => page.getByTestId('review-document').textContent()).toContain('from-a-file');
      await page.getByRole('button', { name: 'Create job' }).click();
      await page.getByRole('heading', { name: new RegExp(jobId) }).waitFor();
    };
    await fromFile('doc-uploaded', async () => {
      await page.getByRole('radio', { name: 'Upload a file' }).check();
      await page.getByLabel('Bucket', { exact: true }).selectOption('documents');
      await page.getByLabel('Document file (JSON)').setInputFiles({
        name: 'job.json',
        mimeType: 'application/json',
        buffer: Buffer.from('{"operation":"from-a-file","n":1}'),
      });
      await page.getByRole('progressbar', { name: 'Upload progress' }).waitFor();
      await page.getByRole('status').filter({ hasText: 'Uploaded s3://documents/job.json' }).waitFor();
    });
    await b.screenshot('22-job-from-upload');
    await fromFile('doc-from-bucket', async () => {
      await page.getByRole('radio', { name: 'From a bucket' }).check();
      const picker = page.getByRole('group', { name: 'Document file' });
      await picker.getByLabel('Bucket').selectOption('documents');
      await picker.getByLabel('File').selectOption('job.json');
      await eventually(() => picker.getByLabel('Version').inputValue()).not.toBe('');
    });
    for (const jobId of ['doc-uploaded', 'doc-from-bucket']) {
      const job = await api.get<{ documentSource: string }>(`/jobs/${jobId}`);
      expect(job.body.documentSource).toMatch(
        /^https:\/\/s3\.us-east-1\.amazonaws\.com\/documents\/job\.json\?versionId=.+/,
      );
      const doc = await api.get<{ document: string }>(`/jobs/${jobId}/document`);
      expect(JSON.parse(doc.body.document)).toEqual({ operation: 'from-a-file', n: 1 });
    }
    expect(b.problems).toEqual([]);
  });

  it('creates a signing profile from inside the wizard, and closes dialogs with Escape', async () => {
    const { page } = b;
    await page.goto('/#/jobs');
    await page.getByRole('link', { name: 'Create job' }).click();
    await page.getByLabel('Job id').fill('inline-profile');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('checkbox', { name: 'big' }).check();
    for (let i = 0; i < 2; i++) await page.getByRole('button', { name: 'Next' }).click();
    await page.getByRole('checkbox', { name: 'Sign image for me' }).check();
    await page.getByLabel('New profile name').fill('made_in_wizard');
    await page.getByRole('button', { name: 'Create profile' }).click();
    await eventually(() => page.getByLabel('Code-signing profile').inputValue()).toBe('made_in_wizard');
    // The job id typed earlier is still there: nothing was lost.
    await page.getByRole('button', { name: '1. Job id' }).click();
    expect(await page.getByLabel('Job id').inputValue()).toBe('inline-profile');

    await page.goto('/#/jobs/big-job');
    await page.getByRole('button', { name: 'Delete job…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Delete job big-job?' });
    await dialog.waitFor();
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    expect((await api.get('/jobs/big-job')).status).toBe(200);
    expect(b.problems).toEqual([]);
  });

  it('creates a thing, adds it to a group and shows its jobs', async () => {
    const { page } = b;
    await page.getByRole('link', { name: 'Things' }).click();
    await page.getByLabel('New thing name').fill('sensor-1');
    await page.getByRole('button', { name: 'Create thing' }).click();
    await page.getByLabel('Name starts with').fill('sens');
    await page.getByRole('link', { name: 'sensor-1' }).waitFor();
    await b.screenshot('23-things');
    await page.getByRole('link', { name: 'sensor-1' }).click();
    await page.getByLabel('Add to group').fill('big');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await page.getByRole('link', { name: 'big' }).waitFor();
    await b.screenshot('24-thing');
    await page.goto('/#/things/unit-077');
    await page.getByRole('link', { name: 'big-job' }).waitFor();
    await b.screenshot('25-thing-jobs');
    await page.getByRole('link', { name: 'Groups' }).click();
    await page.getByLabel('New group name').fill('canary');
    await page.getByLabel('Parent group (optional)').fill('big');
    await page.getByRole('button', { name: 'Create group' }).click();
    await page.getByRole('link', { name: 'canary' }).waitFor();
    await b.screenshot('26-groups');
    await page.getByRole('link', { name: 'canary' }).click();
    await page.getByText('Inside').waitFor();
    await page.getByLabel('Add thing').fill('sensor-1');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await page.getByRole('link', { name: 'sensor-1' }).waitFor();
    await b.screenshot('27-group');
    expect(b.problems).toEqual([]);
  });

  it('creates a bucket, uploads files with progress and lists their versions', async () => {
    const { page } = b;
    await page.getByRole('link', { name: 'Files' }).click();
    await page.getByLabel('New bucket').fill('images');
    await page.getByRole('button', { name: 'Create bucket' }).click();
    await page.getByRole('link', { name: 'images' }).waitFor();
    await b.screenshot('28-files');
    await page.getByRole('link', { name: 'images' }).click();
    for (const text of ['first version', 'second version, longer']) {
      await page
        .getByLabel('Upload a file')
        .setInputFiles({ name: 'fw.bin', mimeType: 'application/octet-stream', buffer: Buffer.from(text) });
      await page.getByRole('status').filter({ hasText: '100%' }).waitFor();
    }
    await page.getByRole('button', { name: 'Versions of fw.bin' }).click();
    const versions = page.getByRole('list', { name: 'Versions of fw.bin' }).getByRole('listitem');
    await eventually(() => versions.count()).toBe(2);
    expect(await versions.first().textContent()).toContain('latest');
    await b.screenshot('29-bucket-versions');
    expect(b.problems).toEqual([]);
  });

  it('makes a role with the one-click jobs trust policy and checks policy JSON as it is typed', async () => {
    const { page } = b;
    await page.getByRole('link', { name: 'Roles' }).click();
    await page.getByLabel('Role name').fill('ota-role');
    await page.getByRole('button', { name: 'Use the jobs trust policy' }).click();
    const trust = page.getByLabel('Trust policy');
    await eventually(() => trust.inputValue()).toContain('arn:aws:iot:us-east-1:000000000000:job/*');
    await page.getByRole('button', { name: 'Create role' }).click();
    await page.getByRole('link', { name: 'ota-role' }).waitFor();
    await b.screenshot('30-roles');
    await page.getByRole('link', { name: 'ota-role' }).click();
    const policy = page.getByLabel('Policy document', { exact: true });
    await page.getByLabel('Policy name').fill('read-images');
    await policy.fill('{"Version": "2012-10-17", ');
    await page.getByText(/Not valid JSON/).waitFor();
    expect(await page.getByRole('button', { name: 'Save policy' }).isDisabled()).toBe(true);
    await page.getByLabel('Bucket the jobs may read').fill('images');
    await page.getByRole('button', { name: 'Use the read-files template' }).click();
    await eventually(() => policy.inputValue()).toContain('arn:aws:s3:::images/*');
    await page.getByRole('button', { name: 'Save policy' }).click();
    await page.getByRole('heading', { name: 'read-images' }).waitFor();
    await b.screenshot('31-role');
    const role = await api.get<{ inlinePolicies: { policyName: string }[] }>('/roles/ota-role');
    expect(role.body.inlinePolicies.map((p) => p.policyName)).toEqual(['read-images']);
    expect(b.problems).toEqual([]);
  });

  it('is usable on a narrow screen', async () => {
    const { page } = b;
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto('/#/jobs');
    await page.getByRole('link', { name: 'big-job' }).waitFor();
    // Nothing sticks out sideways: tables scroll inside their own box.
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await b.screenshot('32-narrow-jobs');
    await page.getByRole('link', { name: 'big-job' }).click();
    await page.getByTestId('count-QUEUED').waitFor();
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await b.screenshot('33-narrow-job');
    await page.goto('/#/jobs/new');
    await page.getByLabel('Job id').waitFor();
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await b.screenshot('34-narrow-wizard');
    expect(b.problems).toEqual([]);
  });

  it('signs out, and the console is gone', async () => {
    const { page } = b;
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto('/#/things');
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to fleetjobs' }).waitFor();
    await page.goto('/#/jobs/big-job');
    await page.getByRole('heading', { name: 'Sign in to fleetjobs' }).waitFor();
    expect(await page.getByText('big-job').count()).toBe(0);
    expect(b.problems).toEqual([]);
  });
});
