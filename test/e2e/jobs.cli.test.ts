import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsCli, type CliResult } from '../helpers/aws-cli.js';
import { DOC, ERROR_CASES, seedJobsWorld, type JobsWorld } from '../helpers/jobs-e2e.js';
import { DIALECTS } from '../helpers/postgres.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Runs `fn` over `items`, `width` at a time (each aws CLI run is a Python process). */
async function inParallel<T, R>(items: T[], width: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

// Each /usr/bin/aws run is a Python process of about a second of CPU; on a loaded 2-core machine
// these tests need more than vitest's default minute.
describe.each(DIALECTS)('jobs control plane with /usr/bin/aws on %s', (dialect) => {
  let t: TestServer;
  let w: JobsWorld;
  const aws = (...args: string[]): Promise<CliResult> => awsCli(t.endpoint, t.awsEnv(), args);
  const ok = async (...args: string[]): Promise<Json> => {
    const r = await aws(...args);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return (r.json ?? {}) as Json;
  };

  beforeAll(async () => {
    t = await startTestServer({ dialect });
    w = await seedJobsWorld(t, t.iot());
  });
  afterAll(async () => t?.stop());

  it('answers every error case with the right exception', { timeout: 300_000 }, async () => {
    const results = await inParallel(ERROR_CASES, 4, async (c) => ({ c, r: await aws(...c.cli(w)) }));
    const wrong = results
      .filter(({ c, r }) => r.code === 0 || !r.stderr.includes(`(${c.error})`))
      .map(({ c, r }) => `${c.name}: expected ${c.error}, got code ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
    expect(wrong).toEqual([]);
    // A person can tell what went wrong from the message alone.
    const terse = results.filter(({ r }) => !/operation[^:]*: \S.{10,}/.test(r.stderr)).map(({ r }) => r.stderr);
    expect(terse).toEqual([]);
  });

  it('runs a job from creation to deletion', { timeout: 180_000 }, async () => {
    await ok('iot', 'create-thing', '--thing-name', 'cli-1');
    await ok('iot', 'create-thing', '--thing-name', 'cli-2');
    await ok('iot', 'create-thing-group', '--thing-group-name', 'cli-g');
    await ok('iot', 'add-thing-to-thing-group', '--thing-group-name', 'cli-g', '--thing-name', 'cli-1');
    const created = await ok(
      'iot',
      'create-job',
      '--job-id',
      'cli-job',
      '--targets',
      w.group('cli-g'),
      w.thing('cli-2'),
      '--document',
      DOC,
      '--description',
      'from the CLI',
      '--timeout-config',
      'inProgressTimeoutInMinutes=30',
      '--tags',
      'Key=env,Value=test',
    );
    expect(created).toEqual({ jobArn: w.job('cli-job'), jobId: 'cli-job', description: 'from the CLI' });
    const described = await ok('iot', 'describe-job', '--job-id', 'cli-job');
    expect(described.job).toMatchObject({
      jobId: 'cli-job',
      status: 'IN_PROGRESS',
      targetSelection: 'SNAPSHOT',
      presignedUrlConfig: {},
      jobExecutionsRolloutConfig: {},
      timeoutConfig: { inProgressTimeoutInMinutes: 30 },
      jobProcessDetails: { numberOfQueuedThings: 2, numberOfSucceededThings: 0 },
    });
    expect(await ok('iot', 'get-job-document', '--job-id', 'cli-job')).toEqual({ document: DOC });
    const listed = await ok('iot', 'list-jobs', '--thing-group-name', 'cli-g', '--status', 'IN_PROGRESS');
    expect(listed.jobs.map((j: Json) => j.jobId)).toEqual(['cli-job']);

    await ok(
      'iot',
      'update-job',
      '--job-id',
      'cli-job',
      '--description',
      'updated',
      '--job-executions-rollout-config',
      'maximumPerMinute=50',
    );
    expect((await ok('iot', 'describe-job', '--job-id', 'cli-job')).job).toMatchObject({
      description: 'updated',
      jobExecutionsRolloutConfig: { maximumPerMinute: 50 },
    });

    const execs = await ok('iot', 'list-job-executions-for-job', '--job-id', 'cli-job', '--status', 'QUEUED');
    expect(execs.executionSummaries.map((s: Json) => s.thingArn)).toEqual([w.thing('cli-1'), w.thing('cli-2')]);
    const paged = await ok('iot', 'list-job-executions-for-job', '--job-id', 'cli-job', '--page-size', '1');
    expect(paged.executionSummaries).toHaveLength(2);

    await t.server.services.deviceJobs.startNextPendingJobExecution('cli-1', { statusDetails: { step: 'one' } });
    const e = await ok('iot', 'describe-job-execution', '--job-id', 'cli-job', '--thing-name', 'cli-1');
    expect(e.execution).toMatchObject({
      status: 'IN_PROGRESS',
      statusDetails: { detailsMap: { step: 'one' } },
      thingArn: w.thing('cli-1'),
      versionNumber: 2,
      executionNumber: 1,
    });
    expect(e.execution.approximateSecondsBeforeTimedOut).toBeGreaterThan(29 * 60);
    const forThing = await ok('iot', 'list-job-executions-for-thing', '--thing-name', 'cli-1', '--job-id', 'cli-job');
    expect(forThing.executionSummaries).toEqual([
      { jobId: 'cli-job', jobExecutionSummary: expect.objectContaining({ status: 'IN_PROGRESS', executionNumber: 1 }) },
    ]);

    await ok(
      'iot',
      'cancel-job-execution',
      '--job-id',
      'cli-job',
      '--thing-name',
      'cli-2',
      '--expected-version',
      '1',
      '--status-details',
      'reason=operator',
    );
    const c2 = await ok(
      'iot',
      'describe-job-execution',
      '--job-id',
      'cli-job',
      '--thing-name',
      'cli-2',
      '--execution-number',
      '1',
    );
    expect(c2.execution).toMatchObject({ status: 'CANCELED', statusDetails: { detailsMap: { reason: 'operator' } } });
    await ok('iot', 'delete-job-execution', '--job-id', 'cli-job', '--thing-name', 'cli-2', '--execution-number', '1');
    const gone = await aws('iot', 'describe-job-execution', '--job-id', 'cli-job', '--thing-name', 'cli-2');
    expect(gone.stderr).toContain('(ResourceNotFoundException)');

    const canceled = await ok(
      'iot',
      'cancel-job',
      '--job-id',
      'cli-job',
      '--force',
      '--reason-code',
      'OPERATOR',
      '--comment',
      'enough',
    );
    expect(canceled).toMatchObject({ jobArn: w.job('cli-job'), jobId: 'cli-job' });
    expect((await ok('iot', 'describe-job', '--job-id', 'cli-job')).job).toMatchObject({
      status: 'CANCELED',
      forceCanceled: true,
      reasonCode: 'OPERATOR',
      comment: 'enough',
      jobProcessDetails: { numberOfCanceledThings: 1, numberOfInProgressThings: 0 },
    });
    expect((await ok('iot', 'list-tags-for-resource', '--resource-arn', w.job('cli-job'))).tags).toEqual([
      { Key: 'env', Value: 'test' },
    ]);
    await ok('iot', 'tag-resource', '--resource-arn', w.job('cli-job'), '--tags', 'Key=team,Value=ops');
    await ok('iot', 'untag-resource', '--resource-arn', w.job('cli-job'), '--tag-keys', 'env');
    expect((await ok('iot', 'list-tags-for-resource', '--resource-arn', w.job('cli-job'))).tags).toEqual([
      { Key: 'team', Value: 'ops' },
    ]);

    await ok('iot', 'delete-job', '--job-id', 'cli-job');
    await t.server.services.jobDeletions.idle();
    const after = await aws('iot', 'describe-job', '--job-id', 'cli-job');
    expect(after.stderr).toContain('(ResourceNotFoundException)');
  });

  it('adds groups to a CONTINUOUS job', { timeout: 180_000 }, async () => {
    await ok('iot', 'create-thing', '--thing-name', 'cc-1');
    await ok('iot', 'create-thing-group', '--thing-group-name', 'cc-g1');
    await ok('iot', 'create-thing-group', '--thing-group-name', 'cc-g2');
    await ok('iot', 'add-thing-to-thing-group', '--thing-group-name', 'cc-g2', '--thing-name', 'cc-1');
    await ok(
      'iot',
      'create-job',
      '--job-id',
      'cc-job',
      '--targets',
      w.group('cc-g1'),
      '--document',
      DOC,
      '--target-selection',
      'CONTINUOUS',
    );
    const out = await ok(
      'iot',
      'associate-targets-with-job',
      '--job-id',
      'cc-job',
      '--targets',
      w.group('cc-g2'),
      '--comment',
      'more',
    );
    expect(out).toMatchObject({ jobArn: w.job('cc-job'), jobId: 'cc-job' });
    const e = await ok('iot', 'describe-job-execution', '--job-id', 'cc-job', '--thing-name', 'cc-1');
    expect(e.execution).toMatchObject({ status: 'QUEUED', executionNumber: 1 });
    const listed = await ok('iot', 'list-jobs', '--target-selection', 'CONTINUOUS', '--thing-group-name', 'cc-g2');
    expect(listed.jobs.map((j: Json) => j.jobId)).toEqual(['cc-job']);
  });

  it('manages job templates and creates jobs from them and from managed templates', { timeout: 180_000 }, async () => {
    await ok('iot', 'create-thing', '--thing-name', 'ct-1');
    const tpl = await ok(
      'iot',
      'create-job-template',
      '--job-template-id',
      'ct-tpl',
      '--description',
      'template',
      '--document',
      DOC,
      '--abort-config',
      JSON.stringify({
        criteriaList: [{ failureType: 'ALL', action: 'CANCEL', thresholdPercentage: 50, minNumberOfExecutedThings: 2 }],
      }),
    );
    expect(tpl).toEqual({ jobTemplateArn: w.template('ct-tpl'), jobTemplateId: 'ct-tpl' });
    expect(await ok('iot', 'describe-job-template', '--job-template-id', 'ct-tpl')).toMatchObject({
      jobTemplateId: 'ct-tpl',
      description: 'template',
      document: DOC,
      abortConfig: { criteriaList: [{ failureType: 'ALL', thresholdPercentage: 50 }] },
    });
    const templates = await ok('iot', 'list-job-templates');
    expect(templates.jobTemplates.map((x: Json) => x.jobTemplateId)).toEqual(
      expect.arrayContaining(['ct-tpl', 'e-tpl']),
    );
    await ok(
      'iot',
      'create-job',
      '--job-id',
      'ct-job',
      '--targets',
      w.thing('ct-1'),
      '--job-template-arn',
      w.template('ct-tpl'),
    );
    expect((await ok('iot', 'describe-job', '--job-id', 'ct-job')).job).toMatchObject({
      jobTemplateArn: w.template('ct-tpl'),
      abortConfig: { criteriaList: [{ failureType: 'ALL' }] },
    });
    await ok('iot', 'delete-job-template', '--job-template-id', 'ct-tpl');
    expect((await aws('iot', 'describe-job-template', '--job-template-id', 'ct-tpl')).stderr).toContain(
      '(ResourceNotFoundException)',
    );

    const managed = await ok('iot', 'list-managed-job-templates');
    expect(managed.managedJobTemplates.map((m: Json) => m.templateName)).toContain('AWS-Reboot');
    const reboot = await ok('iot', 'describe-managed-job-template', '--template-name', 'AWS-Reboot');
    expect(reboot).toMatchObject({ templateName: 'AWS-Reboot', templateVersion: '1.0' });
    await ok(
      'iot',
      'create-job',
      '--job-id',
      'ct-run',
      '--targets',
      w.thing('ct-1'),
      '--job-template-arn',
      'arn:aws:iot:us-east-1::jobtemplate/AWS-Run-Command:1.0',
      '--document-parameters',
      'command=uptime',
    );
    const doc = JSON.parse((await ok('iot', 'get-job-document', '--job-id', 'ct-run')).document);
    expect(doc.steps[0].action.input).toEqual({ command: 'uptime' });
    // (/usr/bin/aws 2.9 predates beforeSubstitution; the SDK test covers it.)
  });
});
