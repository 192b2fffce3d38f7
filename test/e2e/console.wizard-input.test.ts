import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseJobDocument } from '../../src/agent/job-document.js';
import {
  EMPTY_DRAFT,
  jobIdProblem,
  stepOfField,
  toCreateJobInput,
  type Draft,
} from '../../web/src/pages/create-job/draft.js';
import {
  presignPlaceholder,
  signaturePlaceholder,
  withImageEntry,
} from '../../web/src/pages/create-job/image-entry.js';
import { adminConsole, type ConsoleClient } from '../helpers/console.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const utc = (ms: number): string => new Date(ms).toISOString().slice(0, 16);

describe('the create-job form', () => {
  it('checks the job id as it is typed', () => {
    expect(jobIdProblem('fw-2_0')).toBeUndefined();
    expect(jobIdProblem('')).toMatch(/required/);
    expect(jobIdProblem('a'.repeat(65))).toMatch(/At most 64 characters \(now 65\)/);
    expect(jobIdProblem('fw 2.0!')).toBe('Only letters, digits, - and _ are allowed; not " ", ".", "!".');
  });

  it("writes the image as the agent's files[] entry: name, url, codesign (one format with the CLI)", () => {
    const f = { bucket: 'fw', key: 'dir/a b.bin', versionId: 'v+1' };
    const url = presignPlaceholder('eu-west-1', f);
    expect(url).toBe(
      '${aws:iot:s3-presigned-url-v2:https://s3.eu-west-1.amazonaws.com/fw/dir/a%20b.bin%3FversionId%3Dv%2B1}',
    );
    const codesign = signaturePlaceholder('eu-west-1', f);
    expect(codesign).toBe('${aws:iot:code-sign-signature:s3://eu-west-1.fw/dir/a b.bin@v+1}');
    const draft: Draft = {
      ...EMPTY_DRAFT,
      jobId: 'j',
      targets: ['t'],
      image: f,
      sign: { enabled: true, profileName: 'p1' },
      presign: { enabled: true, roleArn: 'arn:aws:iam::000000000000:role/r', expiresInSec: '600' },
    };
    const input = toCreateJobInput(draft, 'eu-west-1');
    expect(input.codeSigning).toEqual({ profileName: 'p1' });
    const doc = JSON.parse(input.document as string);
    expect(doc.files).toEqual([{ name: 'a_b.bin', url, codesign }]);
    // The default document's install step gets the downloaded file as its argument.
    expect(doc.steps[0].action.input.args).toEqual(['${file:a_b.bin}']);
    // What CreateJob makes of it (a signature block, a presigned URL) is what the agent runs.
    const filled = (input.document as string)
      .replace(JSON.stringify(codesign), JSON.stringify({ signature: 'c2ln', signatureAlgorithm: 'SHA256withECDSA' }))
      .replace(url, 'https://device.example/fw?X-Amz-Signature=00');
    expect(parseJobDocument(filled).files).toEqual([
      {
        name: 'a_b.bin',
        url: 'https://device.example/fw?X-Amz-Signature=00',
        codesign: { signature: 'c2ln', signatureAlgorithm: 'SHA256withECDSA' },
      },
    ]);
    // The entry replaces one of the same name and keeps the rest of the document.
    const twice = withImageEntry(JSON.stringify({ op: 'x', files: [{ name: 'a_b.bin', url: 'old' }, { name: 'o' }] }), {
      name: 'a_b.bin',
      url,
    });
    expect(JSON.parse(twice)).toEqual({ op: 'x', files: [{ name: 'o' }, { name: 'a_b.bin', url }] });
    expect(withImageEntry('[1]', { name: 'x' })).toBe('[1]');
    expect(withImageEntry('{', { name: 'x' })).toBe('{');
  });

  it('sends the service error of a field back to its step', () => {
    expect(stepOfField('jobId')).toBe(0);
    expect(stepOfField('targets')).toBe(1);
    expect(stepOfField('document')).toBe(2);
    expect(stepOfField('presignedUrlConfig.roleArn')).toBe(3);
    expect(stepOfField('codeSigning.profileName')).toBe(3);
    expect(stepOfField('schedulingConfig.maintenanceWindows.1.member.startTime')).toBe(4);
  });
});

describe('the create-job form against the jobs service', () => {
  let t: TestServer;
  let c: ConsoleClient;
  beforeAll(async () => {
    t = await startTestServer();
    c = await adminConsole(t);
    await c.post('/groups', { thingGroupName: 'fleet' });
    await c.post('/things', { thingName: 'dev-1' });
    await c.post('/groups/fleet/things', { thingName: 'dev-1' });
  });
  afterAll(async () => t?.stop());

  it('maps every advanced configuration to what CreateJob accepts and stores', async () => {
    const now = Date.now();
    const draft: Draft = {
      ...EMPTY_DRAFT,
      jobId: 'everything',
      description: 'all the knobs',
      targets: ['arn:aws:iot:us-east-1:000000000000:thinggroup/fleet'],
      targetSelection: 'CONTINUOUS',
      rollout: {
        enabled: true,
        maximumPerMinute: '100',
        exponential: true,
        baseRatePerMinute: '10',
        incrementFactor: '2',
        criterion: 'succeeded',
        threshold: '50',
      },
      abort: [{ failureType: 'FAILED', thresholdPercentage: '12.5', minNumberOfExecutedThings: '10' }],
      timeoutMinutes: '60',
      retries: [{ failureType: 'TIMED_OUT', numberOfRetries: '2' }],
      scheduling: {
        enabled: true,
        startTime: utc(now + 2 * 3600_000),
        endTime: utc(now + 26 * 3600_000),
        endBehavior: 'CANCEL',
        windows: [{ startTime: 'cron(0 22 ? * SAT *)', durationInMinutes: '240' }],
      },
      staged: {
        enabled: true,
        waves: [
          { kind: 'percentage', value: '10' },
          { kind: 'count', value: '50' },
        ],
        successThresholdPercentage: '90',
        onGateFailure: 'ABORT',
      },
    };
    const res = await c.post('/jobs', toCreateJobInput(draft, 'us-east-1'));
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const { body } = await c.get<{ job: Record<string, unknown> }>('/jobs/everything');
    expect(body.job).toMatchObject({
      status: 'SCHEDULED',
      targetSelection: 'CONTINUOUS',
      description: 'all the knobs',
      jobExecutionsRolloutConfig: {
        maximumPerMinute: 100,
        exponentialRate: {
          baseRatePerMinute: 10,
          incrementFactor: 2,
          rateIncreaseCriteria: { numberOfSucceededThings: 50 },
        },
      },
      abortConfig: {
        criteriaList: [
          { failureType: 'FAILED', action: 'CANCEL', thresholdPercentage: 12.5, minNumberOfExecutedThings: 10 },
        ],
      },
      timeoutConfig: { inProgressTimeoutInMinutes: 60 },
      jobExecutionsRetryConfig: { criteriaList: [{ failureType: 'TIMED_OUT', numberOfRetries: 2 }] },
      schedulingConfig: {
        startTime: draft.scheduling.startTime,
        endTime: draft.scheduling.endTime,
        endBehavior: 'CANCEL',
        maintenanceWindows: [{ startTime: 'cron(0 22 ? * SAT *)', durationInMinutes: 240 }],
      },
      stagedRollout: {
        waves: [{ percentage: 10 }, { count: 50 }],
        successThresholdPercentage: 90,
        onGateFailure: 'ABORT',
      },
    });
  });

  it('leaves out what the form leaves empty, so the service defaults apply', () => {
    const input = toCreateJobInput({ ...EMPTY_DRAFT, jobId: 'j', targets: ['t'] }, 'us-east-1');
    expect(input).toEqual({
      jobId: 'j',
      targets: ['t'],
      targetSelection: 'SNAPSHOT',
      document: EMPTY_DRAFT.documentText,
    });
  });

  it('brings each wrong advanced value back with its field name', async () => {
    const draft: Draft = {
      ...EMPTY_DRAFT,
      jobId: 'wrong',
      targets: ['arn:aws:iot:us-east-1:000000000000:thinggroup/fleet'],
      rollout: { ...EMPTY_DRAFT.rollout, enabled: true, maximumPerMinute: '5000' },
      retries: [{ failureType: 'FAILED', numberOfRetries: '11' }],
    };
    const res = await c.post('/jobs', toCreateJobInput(draft, 'us-east-1'));
    expect(res.status).toBe(400);
    const fields = (res.body.fieldErrors as { field: string }[]).map((f) => f.field);
    expect(fields).toEqual([
      'jobExecutionsRolloutConfig.maximumPerMinute',
      'jobExecutionsRetryConfig.criteriaList.1.member.numberOfRetries',
    ]);
    expect(fields.map(stepOfField)).toEqual([4, 4]);
  });
});
