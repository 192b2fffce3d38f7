import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  IoTJobsDataPlaneClient,
  StartNextPendingJobExecutionCommand,
  UpdateJobExecutionCommand,
} from '@aws-sdk/client-iot-jobs-data-plane';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, cliEnv } from '../helpers/cli.js';
import { startTestServer, TEST_REGION, type TestServer } from '../helpers/server.js';

describe('fleetjobs CLI: jobs, executions, templates and watch against a real server', () => {
  let t: TestServer;
  let env: NodeJS.ProcessEnv;
  let device: IoTJobsDataPlaneClient;
  const run = (...args: string[]) => cli([...args, '--output', 'json'], { env, cwd: t.dataDir });

  beforeAll(async () => {
    t = await startTestServer();
    env = cliEnv(t);
    // The devices' side, driven over the HTTP jobs data plane (SigV4).
    device = new IoTJobsDataPlaneClient({ endpoint: t.endpoint, region: TEST_REGION, credentials: t.credentials });
    for (const n of ['d1', 'd2', 'd3', 'd4']) expect((await run('things', 'create', n)).code).toBe(0);
    await run('groups', 'create', 'fleet');
    await run('groups', 'add-thing', 'fleet', 'd2');
    await run('groups', 'add-thing', 'fleet', 'd3');
    writeFileSync(join(t.dataDir, 'doc.json'), JSON.stringify({ version: '1.0', steps: [] }));
  });
  afterAll(async () => {
    device.destroy();
    await t.stop();
  });

  const finish = async (thingName: string, status: 'SUCCEEDED' | 'FAILED') => {
    const next = await device.send(new StartNextPendingJobExecutionCommand({ thingName }));
    await device.send(
      new UpdateJobExecutionCommand({
        thingName,
        jobId: next.execution!.jobId!,
        status,
        statusDetails: { by: 'test' },
      }),
    );
  };

  it('creates a job with every configuration flag and shows it back', async () => {
    const made = await run(
      'jobs', 'create', 'cfg-1',
      '--document', 'doc.json',
      '--thing', 'd1', '--group', 'fleet',
      '--description', 'all options',
      '--max-per-minute', '500',
      '--exponential-rate', 'base=10,factor=2,notified=50',
      '--abort', 'FAILED:20:10', '--abort', 'TIMED_OUT:50:5',
      '--timeout-minutes', '30',
      '--retry', 'FAILED:2', '--retry', 'TIMED_OUT:1',
      '--presign-role', 'arn:aws:iam::000000000000:role/presign', '--presign-expiry', '600',
      '--waves', '1,50%',
      '--wave-success-threshold', '90',
      '--on-gate-failure', 'ABORT',
      '--tags', 'team=fw',
    ); // prettier-ignore
    expect(made.stderr).toBe('');
    expect(made.code).toBe(0);
    expect(made.json).toMatchObject({ jobId: 'cfg-1', jobArn: 'arn:aws:iot:us-east-1:000000000000:job/cfg-1' });

    const d = await run('jobs', 'describe', 'cfg-1', '--document');
    expect(d.code).toBe(0);
    expect(d.json).toMatchObject({
      jobId: 'cfg-1',
      description: 'all options',
      targetSelection: 'SNAPSHOT',
      targets: ['arn:aws:iot:us-east-1:000000000000:thing/d1', 'arn:aws:iot:us-east-1:000000000000:thinggroup/fleet'],
      jobExecutionsRolloutConfig: {
        maximumPerMinute: 500,
        exponentialRate: {
          baseRatePerMinute: 10,
          incrementFactor: 2,
          rateIncreaseCriteria: { numberOfNotifiedThings: 50 },
        },
      },
      abortConfig: {
        criteriaList: [
          { failureType: 'FAILED', action: 'CANCEL', thresholdPercentage: 20, minNumberOfExecutedThings: 10 },
          { failureType: 'TIMED_OUT', action: 'CANCEL', thresholdPercentage: 50, minNumberOfExecutedThings: 5 },
        ],
      },
      timeoutConfig: { inProgressTimeoutInMinutes: 30 },
      jobExecutionsRetryConfig: {
        criteriaList: [
          { failureType: 'FAILED', numberOfRetries: 2 },
          { failureType: 'TIMED_OUT', numberOfRetries: 1 },
        ],
      },
      presignedUrlConfig: { roleArn: 'arn:aws:iam::000000000000:role/presign', expiresInSec: 600 },
      // our extension, sent and read back as an extra JSON member
      stagedRollout: {
        waves: [{ count: 1 }, { percentage: 50 }],
        successThresholdPercentage: 90,
        onGateFailure: 'ABORT',
      },
    });
    expect(JSON.parse(d.json.document)).toEqual({ version: '1.0', steps: [] });
    expect(typeof d.json.createdAt).toBe('string');
  });

  it('schedules a job, takes a --config file, and rejects bad flags before calling the server', async () => {
    const start = new Date(Date.now() + 2 * 3600_000).toISOString().slice(0, 16);
    writeFileSync(
      join(t.dataDir, 'req.json'),
      JSON.stringify({ description: 'from file', targets: ['arn:aws:iot:us-east-1:000000000000:thing/d4'] }),
    );
    const made = await run(
      'jobs', 'create', 'sched-1', '--config', 'req.json', '--document', '{"op":"x"}',
      '--start-time', start, '--end-behavior', 'cancel', '--maintenance-window', 'cron(0 2 ? * SAT *)@120',
    ); // prettier-ignore
    expect(made.stderr).toBe('');
    const d = await run('jobs', 'describe', 'sched-1');
    expect(d.json).toMatchObject({
      status: 'SCHEDULED',
      description: 'from file',
      schedulingConfig: {
        startTime: start,
        endBehavior: 'CANCEL',
        maintenanceWindows: [{ startTime: 'cron(0 2 ? * SAT *)', durationInMinutes: 120 }],
      },
    });

    const bad = [
      [['--abort', 'FAILED:20'], "fleetjobs: --abort 'FAILED:20' must be type:percent:min, e.g. FAILED:20:10\n"],
      [['--retry', 'BOOM:1'], "fleetjobs: --retry type 'BOOM' must be one of FAILED, TIMED_OUT, ALL\n"],
      [['--waves', '10,x%'], "fleetjobs: --waves percentage 'x' must be a number from 0.01 to 100\n"],
      [['--presign-expiry', '10'], "fleetjobs: --presign-expiry '10' must be a whole number from 60 to 3600\n"],
      [
        ['--targets', 'd1'],
        "fleetjobs: --targets 'd1' is not a thing or thing-group ARN (use --thing NAME or --group NAME for names)\n",
      ],
    ] as const;
    for (const [flags, message] of bad) {
      const r = await run('jobs', 'create', 'bad', '--document', 'doc.json', '--thing', 'd1', ...flags);
      expect(r.stderr).toBe(message);
      expect(r.code).toBe(2);
    }
    const noDoc = await run('jobs', 'create', 'bad', '--thing', 'd1');
    expect(noDoc.code).toBe(2);
    const ghost = await run('jobs', 'create', 'bad', '--document', 'doc.json', '--thing', 'ghost');
    expect(ghost.code).toBe(3);
    const dup = await run('jobs', 'create', 'cfg-1', '--document', 'doc.json', '--thing', 'd1');
    expect(dup.code).toBe(4);
    expect(dup.stderr).toMatch(/^fleetjobs: ResourceAlreadyExistsException: /);
    const invalid = await run(
      'jobs',
      'create',
      'bad',
      '--document',
      'doc.json',
      '--thing',
      'd1',
      '--start-time',
      '2001-01-01T00:00',
    );
    expect(invalid.code).toBe(5);
    expect(invalid.stderr).toMatch(/^fleetjobs: InvalidRequestException: .*startTime/);
  });

  it('lists jobs and executions, cancels and deletes', async () => {
    expect((await run('jobs', 'create', 'life-1', '--document', 'doc.json', '--group', 'fleet')).code).toBe(0);
    const listed = await run('jobs', 'list', '--status', 'IN_PROGRESS');
    expect(listed.json.jobs.map((j: { jobId: string }) => j.jobId)).toContain('life-1');

    const ex = await run('jobs', 'executions', 'life-1');
    expect(ex.json.executions.map((e: { thingName: string }) => e.thingName).sort()).toEqual(['d2', 'd3']);
    expect(ex.json.executions[0]).toMatchObject({ status: 'QUEUED', executionNumber: 1 });
    const forThing = await run('executions', 'list', '--thing', 'd2', '--job', 'life-1');
    expect(forThing.json.executions).toMatchObject([{ jobId: 'life-1', status: 'QUEUED' }]);

    const one = await run('executions', 'describe', 'life-1', 'd3');
    expect(one.json).toMatchObject({ jobId: 'life-1', thingName: 'd3', status: 'QUEUED', versionNumber: 1 });
    expect((await run('executions', 'cancel', 'life-1', 'd3', '--details', 'why=test')).code).toBe(0);
    const canceled = await run('executions', 'describe', 'life-1', 'd3');
    expect(canceled.json).toMatchObject({ status: 'CANCELED', statusDetails: { why: 'test' } });
    const again = await run('executions', 'cancel', 'life-1', 'd3');
    expect(again.code).toBe(4);
    expect((await run('executions', 'delete', 'life-1', 'd3', '1')).code).toBe(0);
    expect((await run('executions', 'describe', 'life-1', 'd3')).code).toBe(3);

    const notYet = await run('jobs', 'delete', 'life-1');
    expect(notYet.code).toBe(4);
    expect((await run('jobs', 'cancel', 'life-1', '--reason-code', 'TEST_STOP', '--comment', 'enough')).code).toBe(0);
    const d = await run('jobs', 'describe', 'life-1');
    expect(d.json).toMatchObject({ status: 'CANCELED', reasonCode: 'TEST_STOP', comment: 'enough' });
    expect((await run('jobs', 'delete', 'life-1')).code).toBe(0);
    expect((await run('jobs', 'describe', 'life-1')).code).toBe(3);
    const doc = await run('jobs', 'document', 'cfg-1');
    expect(JSON.parse(doc.json.document)).toEqual({ version: '1.0', steps: [] });
  });

  it('updates a job and associates targets with a continuous job', async () => {
    await run(
      'jobs',
      'create',
      'cont-1',
      '--document',
      'doc.json',
      '--group',
      'fleet',
      '--target-selection',
      'continuous',
    );
    await run('groups', 'create', 'late');
    await run('groups', 'add-thing', 'late', 'd4');
    const assoc = await run('jobs', 'associate-targets', 'cont-1', '--group', 'late');
    expect(assoc.code).toBe(0);
    const upd = await run('jobs', 'update', 'cont-1', '--description', 'changed', '--timeout-minutes', '5');
    expect(upd.json).toMatchObject({ description: 'changed', timeoutConfig: { inProgressTimeoutInMinutes: 5 } });
    expect(upd.json.targets).toHaveLength(2);
    const ex = await run('executions', 'list', '--job', 'cont-1');
    expect(ex.json.executions.map((e: { thingName: string }) => e.thingName).sort()).toEqual(['d2', 'd3', 'd4']);
    await run('jobs', 'cancel', 'cont-1', '--force');
  });

  it('manages templates and creates jobs from them', async () => {
    const made = await run(
      'templates',
      'create',
      'tpl-1',
      '--document',
      'doc.json',
      '--description',
      'base',
      '--timeout-minutes',
      '7',
    );
    expect(made.json).toMatchObject({
      jobTemplateId: 'tpl-1',
      jobTemplateArn: 'arn:aws:iot:us-east-1:000000000000:jobtemplate/tpl-1',
    });
    const d = await run('templates', 'describe', 'tpl-1');
    expect(d.json).toMatchObject({
      jobTemplateId: 'tpl-1',
      description: 'base',
      timeoutConfig: { inProgressTimeoutInMinutes: 7 },
    });
    expect(
      (await run('templates', 'list')).json.jobTemplates.map((x: { jobTemplateId: string }) => x.jobTemplateId),
    ).toContain('tpl-1');
    const job = await run('jobs', 'create', 'from-tpl', '--template', 'tpl-1', '--thing', 'd1');
    expect(job.code).toBe(0);
    const jd = await run('jobs', 'describe', 'from-tpl');
    expect(jd.json).toMatchObject({
      jobTemplateArn: made.json.jobTemplateArn,
      timeoutConfig: { inProgressTimeoutInMinutes: 7 },
    });
    await run('jobs', 'cancel', 'from-tpl');
    const copy = await run('templates', 'create', 'tpl-2', '--from-job', 'cfg-1', '--description', 'copied');
    expect(copy.code).toBe(0);
    expect((await run('templates', 'describe', 'tpl-2')).json.abortConfig.criteriaList).toHaveLength(2);
    const managed = await run('templates', 'managed');
    expect(managed.json.managedJobTemplates.map((m: { templateName: string }) => m.templateName)).toContain(
      'AWS-Reboot',
    );
    expect((await run('templates', 'delete', 'tpl-1')).code).toBe(0);
    expect((await run('templates', 'describe', 'tpl-1')).code).toBe(3);
  });

  it('watches a job to completion: plain lines when not a terminal, exit 8 when something failed', async () => {
    await run('things', 'create', 'w1');
    await run('things', 'create', 'w2');
    await run('jobs', 'create', 'watch-1', '--document', 'doc.json', '--thing', 'w1', '--thing', 'w2');
    const lines: string[] = [];
    const watching = cli(['jobs', 'watch', 'watch-1', '--interval', '0.1'], {
      env,
      onStdout: (text) => lines.push(...text.split('\n').filter((l) => l !== '')),
    });
    const sawLine = async (re: RegExp) => {
      for (let i = 0; i < 200 && !lines.some((l) => re.test(l)); i++) await new Promise((r) => setTimeout(r, 25));
      expect(lines.some((l) => re.test(l))).toBe(true);
    };
    await sawLine(/ watch-1 IN_PROGRESS queued=2 in_progress=0 succeeded=0 finished=0\/2 /);
    await finish('w1', 'SUCCEEDED');
    await sawLine(/ succeeded=1 finished=1\/2 /);
    await finish('w2', 'FAILED');
    const r = await watching;
    expect(r.code).toBe(8);
    expect(r.stderr).toMatch(/^fleetjobs: job watch-1 COMPLETED after \d+:\d\d: 1 of 2 succeeded, 1 failed\n$/);
    expect(lines.at(-1)).toMatch(
      / watch-1 COMPLETED queued=0 in_progress=0 succeeded=1 failed=1 finished=2\/2 rate=.* eta=0:00$/,
    );
    // Only changes are printed: no two equal consecutive lines (time aside).
    const bodies = lines.map((l) => l.replace(/^\S+ /, '').replace(/ rate=.*$/, ''));
    expect(bodies.every((b, i) => i === 0 || b !== bodies[i - 1])).toBe(true);
  });

  it('watch shows a rate-limited rollout (released, waiting for the rate) and jobs pause / resume hold it', async () => {
    for (const n of ['r1', 'r2', 'r3']) await run('things', 'create', n);
    const made = await run(
      'jobs', 'create', 'rate-1',
      '--document', 'doc.json',
      '--thing', 'r1', '--thing', 'r2', '--thing', 'r3',
      '--max-per-minute', '1',
      '--retry', 'FAILED:1',
    ); // prettier-ignore
    expect(made.code).toBe(0);
    // One tick at the server's time releases one thing (the server's own loop may have done it already).
    await t.server.services.scheduler.tick(Date.now());
    const watched = await cli(['jobs', 'watch', 'rate-1', '--timeout', '0.3'], { env });
    expect(watched.code).toBe(8);
    expect(watched.stdout).toMatch(/ rate-1 IN_PROGRESS queued=3 .* released=1 waiting_rate=2 waiting_window=0 /);
    const json = await cli(['jobs', 'watch', 'rate-1', '--timeout', '0.3', '-o', 'json'], { env });
    const snap = JSON.parse(json.stdout.trim().split('\n')[0]!) as Record<string, unknown>;
    expect(snap.rolloutStatus).toMatchObject({
      releasedThings: 1,
      waitingForRate: 2,
      waitingForWindow: 0,
      nextReleaseAt: expect.any(Number),
    });
    expect(snap.retries).toBe(0);

    const paused = await run('jobs', 'pause', 'rate-1');
    expect(paused.code).toBe(0);
    expect(paused.json).toMatchObject({ rolloutStatus: { waitingForResume: 2, paused: true }, isConcurrent: false });
    const held = await cli(['jobs', 'watch', 'rate-1', '--timeout', '0.3'], { env });
    expect(held.stdout).toMatch(/ released=1 waiting_rate=0 waiting_window=0 waiting_resume=2 /);
    const resumed = await run('jobs', 'resume', 'rate-1');
    expect(resumed.json).toMatchObject({ rolloutStatus: { waitingForRate: 2, waitingForResume: 0 } });
    expect((await run('jobs', 'pause', 'nope-job')).code).toBe(3);
  });

  it('watch redraws bars in place on a terminal', async () => {
    await run('things', 'create', 'w4');
    await run('jobs', 'create', 'watch-tty', '--document', 'doc.json', '--thing', 'w4');
    let out = '';
    const watching = cli(['jobs', 'watch', 'watch-tty', '--interval', '0.1'], {
      env,
      tty: true,
      onStdout: (x) => (out += x),
    });
    for (let i = 0; i < 200 && !out.includes('QUEUED'); i++) await new Promise((r) => setTimeout(r, 25));
    await finish('w4', 'SUCCEEDED');
    const r = await watching;
    expect(r.code).toBe(0);
    // eslint-disable-next-line no-control-regex -- the ANSI redraw sequence is what is tested
    const frames = r.stdout.split(/\x1b\[\d+A\x1b\[0J/);
    expect(frames.length).toBeGreaterThan(1);
    expect(frames[0]).toMatch(
      /^job watch-tty {2}IN_PROGRESS {2}0\/1 finished {2}elapsed 0:0\d\n {2}QUEUED {6}█+ +1 100\.0%\n/,
    );
    expect(frames.at(-1)).toMatch(
      /^job watch-tty {2}COMPLETED {2}1\/1 finished .*\n {2}QUEUED {6}░+ +0 +0\.0%\n {2}IN_PROGRESS ░+ +0 +0\.0%\n {2}SUCCEEDED {3}█+ +1 100\.0%\n {2}rate .*\/s {2}ETA 0:00\n$/,
    );
  });

  it('watch exits 0 when every execution succeeded, prints JSON lines, and honours --timeout', async () => {
    await run('things', 'create', 'w3');
    await run('jobs', 'create', 'watch-2', '--document', 'doc.json', '--thing', 'w3');
    await finish('w3', 'SUCCEEDED');
    const r = await cli(['jobs', 'watch', 'watch-2', '-o', 'json'], { env });
    expect(r.code).toBe(0);
    const last = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
    expect(last).toMatchObject({
      jobId: 'watch-2',
      status: 'COMPLETED',
      finished: 1,
      total: 1,
      counts: { SUCCEEDED: 1 },
    });
    expect(r.stderr).toMatch(/job watch-2 COMPLETED after .*: 1 of 1 succeeded\n$/);

    await run('jobs', 'create', 'watch-3', '--document', 'doc.json', '--thing', 'w3');
    const timed = await cli(['jobs', 'watch', 'watch-3', '--interval', '0.1', '--timeout', '0.3'], { env });
    expect(timed.code).toBe(8);
    expect(timed.stderr).toMatch(/^fleetjobs: timed out watching; job watch-3 IN_PROGRESS/);
    const ac = new AbortController();
    const stopped = cli(['jobs', 'watch', 'watch-3', '--interval', '0.1'], { env, interrupt: ac.signal });
    setTimeout(() => ac.abort(), 300);
    const s = await stopped;
    expect(s.code).toBe(130);
    expect(s.stderr).toMatch(/^fleetjobs: stopped watching; job watch-3 IN_PROGRESS/);
  });
});
