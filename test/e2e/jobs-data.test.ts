import { request as httpsRequest } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateJobCommand, DescribeJobExecutionCommand as ControlDescribe, type IoTClient } from '@aws-sdk/client-iot';
import {
  DescribeJobExecutionCommand,
  GetPendingJobExecutionsCommand,
  IoTJobsDataPlaneClient,
  StartNextPendingJobExecutionCommand,
  UpdateJobExecutionCommand,
} from '@aws-sdk/client-iot-jobs-data-plane';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Agent } from 'node:https';
import { awsCli } from '../helpers/aws-cli.js';
import { provisionDevice, type Device } from '../helpers/devices.js';
import { DIALECTS } from '../helpers/postgres.js';
import { startTestServer, TEST_REGION, type TestServer } from '../helpers/server.js';
import { rejection } from '../helpers/rejection.js';

const thingArn = (name: string): string => `arn:aws:iot:us-east-1:000000000000:thing/${name}`;

interface HttpsReply {
  status: number;
  errorType?: string;
  body: Record<string, unknown>;
}

/** A plain HTTPS call with a client certificate, as device code (curl, embedded HTTP clients) makes it. */
function deviceHttps(
  t: TestServer,
  device: Partial<Pick<Device, 'cert' | 'key'>> & Pick<Device, 'ca'>,
  method: string,
  path: string,
  body?: unknown,
): Promise<HttpsReply> {
  const url = new URL(path, t.server.endpoints.deviceHttps);
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      { method, cert: device.cert, key: device.key, ca: device.ca, headers: { 'content-type': 'application/json' } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            errorType: res.headers['x-amzn-errortype'] as string | undefined,
            body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
          });
        });
      },
    );
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

describe.each(DIALECTS)('iot-jobs-data (spec 5.1) on %s', (dialect) => {
  let t: TestServer;
  let iot: IoTClient;
  let data: IoTJobsDataPlaneClient;
  let a: Device;
  let b: Device;
  beforeAll(async () => {
    t = await startTestServer({ dialect });
    iot = t.iot();
    data = new IoTJobsDataPlaneClient({
      endpoint: t.endpoint,
      region: TEST_REGION,
      credentials: t.credentials,
      maxAttempts: 1,
    });
    a = await provisionDevice(t, iot, 'http-a');
    b = await provisionDevice(t, iot, 'http-b');
    for (const [id, thing] of [
      ['h-1', 'http-a'],
      ['h-2', 'http-a'],
      ['h-3', 'http-b'],
      ['h-4', 'http-b'],
    ] as const) {
      await iot.send(new CreateJobCommand({ jobId: id, targets: [thingArn(thing)], document: JSON.stringify({ id }) }));
    }
  });
  afterAll(async () => {
    data?.destroy();
    await t?.stop();
  });

  it('serves the four operations to @aws-sdk/client-iot-jobs-data-plane over SigV4 on the main listener', async () => {
    const pending = await data.send(new GetPendingJobExecutionsCommand({ thingName: 'http-a' }));
    expect(pending.inProgressJobs).toEqual([]);
    expect(pending.queuedJobs?.map((j) => j.jobId)).toEqual(['h-1', 'h-2']);
    expect(Number.isInteger(pending.queuedJobs?.[0]?.queuedAt)).toBe(true);

    const started = await data.send(
      new StartNextPendingJobExecutionCommand({ thingName: 'http-a', statusDetails: { step: 'download' } }),
    );
    expect(started.execution).toMatchObject({
      jobId: 'h-1',
      thingName: 'http-a',
      status: 'IN_PROGRESS',
      statusDetails: { step: 'download' },
      versionNumber: 2,
      executionNumber: 1,
      jobDocument: JSON.stringify({ id: 'h-1' }),
    });

    // $next as a label travels as %24next (spec 1.3).
    const next = await data.send(new DescribeJobExecutionCommand({ thingName: 'http-a', jobId: '$next' }));
    expect(next.execution?.jobId).toBe('h-1');
    const noDoc = await data.send(
      new DescribeJobExecutionCommand({ thingName: 'http-a', jobId: 'h-2', includeJobDocument: false }),
    );
    expect(noDoc.execution).toMatchObject({ jobId: 'h-2', status: 'QUEUED' });
    expect(noDoc.execution?.jobDocument).toBeUndefined();

    const updated = await data.send(
      new UpdateJobExecutionCommand({
        thingName: 'http-a',
        jobId: 'h-1',
        status: 'SUCCEEDED',
        expectedVersion: 2,
        includeJobExecutionState: true,
        includeJobDocument: true,
      }),
    );
    expect(updated).toMatchObject({
      executionState: { status: 'SUCCEEDED', versionNumber: 3 },
      jobDocument: JSON.stringify({ id: 'h-1' }),
    });
  });

  it('maps errors to the data-plane exceptions', async () => {
    expect(
      await rejection(
        data.send(new UpdateJobExecutionCommand({ thingName: 'http-a', jobId: 'h-1', status: 'IN_PROGRESS' })),
      ),
    ).toMatchObject({ name: 'InvalidStateTransitionException', status: 409 });
    expect(
      await rejection(
        data.send(
          new UpdateJobExecutionCommand({
            thingName: 'http-a',
            jobId: 'h-2',
            status: 'IN_PROGRESS',
            expectedVersion: 9,
          }),
        ),
      ),
    ).toMatchObject({ name: 'InvalidStateTransitionException', status: 409 });
    expect(
      await rejection(data.send(new DescribeJobExecutionCommand({ thingName: 'http-a', jobId: 'nope' }))),
    ).toMatchObject({
      name: 'ResourceNotFoundException',
      status: 404,
    });
    expect(
      await rejection(
        data.send(new UpdateJobExecutionCommand({ thingName: 'http-a', jobId: 'h-2', status: 'BOGUS' as never })),
      ),
    ).toMatchObject({ name: 'InvalidRequestException', status: 400 });
  });

  it('tells the planes apart by the signing name on the same path (spec 1.4)', async () => {
    const control = await iot.send(new ControlDescribe({ thingName: 'http-a', jobId: 'h-2' }));
    expect(control.execution).toMatchObject({ jobId: 'h-2', thingArn: thingArn('http-a'), status: 'QUEUED' });
    expect(control.execution?.queuedAt).toBeInstanceOf(Date);
    const device = await data.send(new DescribeJobExecutionCommand({ thingName: 'http-a', jobId: 'h-2' }));
    expect(device.execution).toMatchObject({ jobId: 'h-2', thingName: 'http-a', jobDocument: '{"id":"h-2"}' });
  });

  it('works with aws iot-jobs-data', async () => {
    const env = t.awsEnv();
    const pending = await awsCli(t.endpoint, env, [
      'iot-jobs-data',
      'get-pending-job-executions',
      '--thing-name',
      'http-b',
    ]);
    expect(pending.code, pending.stderr).toBe(0);
    expect(pending.json).toMatchObject({ queuedJobs: [{ jobId: 'h-3' }, { jobId: 'h-4' }] });
    const started = await awsCli(t.endpoint, env, [
      'iot-jobs-data',
      'start-next-pending-job-execution',
      '--thing-name',
      'http-b',
    ]);
    expect(started.json).toMatchObject({ execution: { jobId: 'h-3', status: 'IN_PROGRESS', versionNumber: 2 } });
    const next = await awsCli(t.endpoint, env, [
      'iot-jobs-data',
      'describe-job-execution',
      '--thing-name',
      'http-b',
      '--job-id',
      '$next',
    ]);
    expect(next.json).toMatchObject({ execution: { jobId: 'h-3' } });
    const done = await awsCli(t.endpoint, env, [
      'iot-jobs-data',
      'update-job-execution',
      '--thing-name',
      'http-b',
      '--job-id',
      'h-3',
      '--status',
      'FAILED',
      '--expected-version',
      '2',
      '--status-details',
      'reason=disk',
      '--include-job-execution-state',
    ]);
    expect(done.code, done.stderr).toBe(0);
    expect(done.json).toEqual({
      executionState: { status: 'FAILED', statusDetails: { reason: 'disk' }, versionNumber: 3 },
    });
    const again = await awsCli(t.endpoint, env, [
      'iot-jobs-data',
      'update-job-execution',
      '--thing-name',
      'http-b',
      '--job-id',
      'h-3',
      '--status',
      'SUCCEEDED',
    ]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('InvalidStateTransitionException');
  });

  describe('device HTTPS with mutual TLS', () => {
    it('lets a device act on its own thing only, decided by its certificate', async () => {
      const own = await deviceHttps(t, a, 'GET', '/things/http-a/jobs');
      expect(own.status).toBe(200);
      expect(own.body).toMatchObject({ inProgressJobs: [], queuedJobs: [{ jobId: 'h-2' }] });
      const started = await deviceHttps(t, a, 'PUT', '/things/http-a/jobs/$next', {});
      expect(started.body).toMatchObject({ execution: { jobId: 'h-2', status: 'IN_PROGRESS' } });
      const described = await deviceHttps(t, a, 'GET', '/things/http-a/jobs/%24next?includeJobDocument=false');
      expect(described.body).toMatchObject({ execution: { jobId: 'h-2' } });
      const done = await deviceHttps(t, a, 'POST', '/things/http-a/jobs/h-2', {
        status: 'SUCCEEDED',
        includeJobExecutionState: true,
      });
      expect(done).toMatchObject({ status: 200, body: { executionState: { status: 'SUCCEEDED' } } });

      for (const [method, path, body] of [
        ['GET', '/things/http-b/jobs', undefined],
        ['PUT', '/things/http-b/jobs/$next', {}],
        ['GET', '/things/http-b/jobs/h-4', undefined],
        ['POST', '/things/http-b/jobs/h-4', { status: 'SUCCEEDED' }],
      ] as const) {
        const refused = await deviceHttps(t, a, method, path, body);
        expect(refused.status, `${method} ${path}`).toBe(403);
        expect(refused.errorType).toBe('AccessDeniedException:');
      }
      const untouched = await data.send(new DescribeJobExecutionCommand({ thingName: 'http-b', jobId: 'h-4' }));
      expect(untouched.execution).toMatchObject({ status: 'QUEUED', versionNumber: 1 });
      // ...while http-b's own certificate reaches it.
      expect((await deviceHttps(t, b, 'GET', '/things/http-b/jobs/h-4')).body).toMatchObject({
        execution: { jobId: 'h-4', thingName: 'http-b', status: 'QUEUED' },
      });
    });

    it('refuses requests without a usable certificate', async () => {
      const none = await deviceHttps(t, { ca: a.ca }, 'GET', '/things/http-a/jobs');
      expect(none).toMatchObject({ status: 400, errorType: 'CertificateValidationException:' });
      const inactive = await provisionDevice(t, iot, 'http-inactive', false);
      const refused = await deviceHttps(t, inactive, 'GET', '/things/http-inactive/jobs');
      expect(refused).toMatchObject({ status: 400, errorType: 'CertificateValidationException:' });
      const unknown = await deviceHttps(t, a, 'GET', '/things/http-a/other');
      expect(unknown.status).toBe(404);
    });

    it('also answers SigV4 clients on the device listener', async () => {
      const client = new IoTJobsDataPlaneClient({
        endpoint: t.server.endpoints.deviceHttps,
        region: TEST_REGION,
        credentials: t.credentials,
        maxAttempts: 1,
        requestHandler: new NodeHttpHandler({ httpsAgent: new Agent({ ca: a.ca }) }),
      });
      const out = await client.send(new GetPendingJobExecutionsCommand({ thingName: 'http-b' }));
      expect(out.queuedJobs?.map((j) => j.jobId)).toEqual(['h-4']);
      client.destroy();
    });
  });
});
