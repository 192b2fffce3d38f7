import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  EMPTY_DRAFT,
  jobIdProblem,
  presignPlaceholder,
  signaturePlaceholder,
  stepOfField,
  toCreateJobInput,
  withFileEntry,
  type Draft,
} from '../../web/src/pages/create-job/draft.js';
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

  it('adds placeholders for a file under files[] of an inline document', () => {
    const f = { bucket: 'fw', key: 'dir/a b.bin', versionId: 'v+1' };
    const url = presignPlaceholder('eu-west-1', f);
    expect(url).toBe(
      '${aws:iot:s3-presigned-url-v2:https://s3.eu-west-1.amazonaws.com/fw/dir/a%20b.bin%3FversionId%3Dv%2B1}',
    );
    expect(signaturePlaceholder('eu-west-1', f)).toBe(
      '${aws:iot:code-sign-signature:s3://eu-west-1.fw/dir/a b.bin@v+1}',
    );
    const once = withFileEntry('{"op":"x"}', 'a b.bin', { url })!;
    const twice = withFileEntry(once, 'a b.bin', { signature: 'S' })!;
    expect(JSON.parse(twice)).toEqual({ op: 'x', files: [{ fileName: 'a b.bin', url, signature: 'S' }] });
    expect(withFileEntry('[1]', 'x', {})).toBeUndefined();
    expect(withFileEntry('{', 'x', {})).toBeUndefined();
  });

  it('sends the service error of a field back to its step', () => {
    expect(stepOfField('jobId')).toBe(0);
    expect(stepOfField('targets')).toBe(1);
    expect(stepOfField('document')).toBe(2);
    expect(stepOfField('presignedUrlConfig.roleArn')).toBe(3);
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
