import {
  CreateThingCommand,
  DescribeJobCommand,
  DescribeJobExecutionCommand,
  type IoTClient,
} from '@aws-sdk/client-iot';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { connectDevice, Inbox, provisionDevice, request } from '../helpers/devices.js';
import { DIALECTS } from '../helpers/postgres.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { signedRequest } from '../helpers/signed.js';

const DOC = JSON.stringify({ operation: 'install' });
const thingArn = (name: string): string => `arn:aws:iot:us-east-1:000000000000:thing/${name}`;

/**
 * Issue 14 item 2: AWS treats JSON null as an absent optional member. JSON libraries that write
 * nulls for unset fields must neither time a fleet out (stepTimeoutInMinutes: null was 0 minutes)
 * nor get 500s (statusDetails: null). The SDKs never send null, so these are raw signed requests.
 */
describe.each(DIALECTS)('JSON null is an absent member (%s)', (dialect) => {
  let t: TestServer;
  let iot: IoTClient;
  let clock: FakeClock;
  const json = (service: string, method: string, path: string, body: unknown) =>
    signedRequest(t, { service, method, path, body: JSON.stringify(body) });
  const createJob = (jobId: string, thing: string, extra: Record<string, unknown> = {}) =>
    json('iot', 'PUT', `/jobs/${jobId}`, { targets: [thingArn(thing)], document: DOC, ...extra });
  const executionStatus = async (jobId: string, thingName: string) =>
    (await iot.send(new DescribeJobExecutionCommand({ jobId, thingName }))).execution?.status;
  const tick = () => t.server.services.scheduler.tick(clock.now().getTime());

  beforeAll(async () => {
    clock = new FakeClock(Date.now());
    t = await startTestServer({ dialect, clock });
    iot = t.iot();
  });
  afterAll(async () => {
    await t.stop();
  });

  it('CreateJob with every optional member null is a plain job', async () => {
    await iot.send(new CreateThingCommand({ thingName: 'n-create' }));
    const nulls = {
      description: null,
      documentSource: null,
      presignedUrlConfig: null,
      targetSelection: null,
      jobExecutionsRolloutConfig: null,
      abortConfig: null,
      timeoutConfig: null,
      tags: null,
      namespaceId: null,
      jobTemplateArn: null,
      jobExecutionsRetryConfig: null,
      documentParameters: null,
      schedulingConfig: null,
      destinationPackageVersions: null,
    };
    const r = await createJob('n-create', 'n-create', nulls);
    expect([r.status, r.text]).toEqual([200, expect.any(String)]);
    const job = (await iot.send(new DescribeJobCommand({ jobId: 'n-create' }))).job!;
    expect(job.targetSelection).toBe('SNAPSHOT');
    expect(job.timeoutConfig?.inProgressTimeoutInMinutes).toBeUndefined();
    expect(job.status).toBe('IN_PROGRESS');
    // Nested optional members too.
    const nested = await createJob('n-nested', 'n-create', {
      timeoutConfig: { inProgressTimeoutInMinutes: null },
      jobExecutionsRolloutConfig: { maximumPerMinute: null, exponentialRate: null },
    });
    expect(nested.status).toBe(200);
    const again = (await iot.send(new DescribeJobCommand({ jobId: 'n-nested' }))).job!;
    expect(again.timeoutConfig?.inProgressTimeoutInMinutes).toBeUndefined();
  });

  it('a null required member is refused as "must not be null", a null list element too', async () => {
    const r = await json('iot', 'PUT', '/jobs/n-req', { targets: null, document: DOC });
    expect([r.status, r.errorType]).toEqual([400, 'InvalidRequestException']);
    expect(r.json().message).toMatch(/Value null at 'targets' failed to satisfy constraint: Member must not be null/);
    const list = await json('iot', 'PUT', '/jobs/n-req', { targets: [null], document: DOC });
    expect([list.status, list.errorType]).toEqual([400, 'InvalidRequestException']);
  });

  it('StartNext and UpdateJobExecution over HTTPS: stepTimeoutInMinutes null sets no step timer', async () => {
    await iot.send(new CreateThingCommand({ thingName: 'n-http' }));
    expect((await createJob('n-step', 'n-http')).status).toBe(200);
    const start = await json('iot-jobs-data', 'PUT', '/things/n-http/jobs/$next', {
      stepTimeoutInMinutes: null,
      statusDetails: null,
    });
    expect([start.status, start.errorType]).toEqual([200, undefined]);
    expect((start.json().execution as { status: string }).status).toBe('IN_PROGRESS');
    clock.advance(5 * 60_000);
    await tick();
    expect(await executionStatus('n-step', 'n-http')).toBe('IN_PROGRESS');

    const update = await json('iot-jobs-data', 'POST', '/things/n-http/jobs/n-step', {
      status: 'IN_PROGRESS',
      statusDetails: null,
      stepTimeoutInMinutes: null,
      expectedVersion: null,
      executionNumber: null,
      includeJobExecutionState: null,
      includeJobDocument: null,
    });
    expect([update.status, update.errorType]).toEqual([200, undefined]);
    clock.advance(5 * 60_000);
    await tick();
    expect(await executionStatus('n-step', 'n-http')).toBe('IN_PROGRESS');

    const describe = await signedRequest(t, {
      service: 'iot-jobs-data',
      method: 'GET',
      path: '/things/n-http/jobs/n-step',
    });
    expect(describe.status).toBe(200);
  });

  it('StartNext and UpdateJobExecution over MQTT: nulls are absent too', async () => {
    const device = await provisionDevice(t, iot, 'n-mqtt');
    expect((await createJob('n-mqtt', 'n-mqtt')).status).toBe(200);
    const client: MqttClient = await connectDevice(t, device, 'n-mqtt');
    try {
      const inbox = new Inbox(client);
      await client.subscribeAsync('$aws/things/n-mqtt/jobs/#');
      const base = '$aws/things/n-mqtt/jobs';
      const start = await request(client, inbox, `${base}/start-next`, {
        clientToken: 'c1',
        stepTimeoutInMinutes: null,
        statusDetails: null,
      });
      expect(start.topic).toBe(`${base}/start-next/accepted`);
      clock.advance(5 * 60_000);
      await tick();
      expect(await executionStatus('n-mqtt', 'n-mqtt')).toBe('IN_PROGRESS');
      const update = await request(client, inbox, `${base}/n-mqtt/update`, {
        status: 'SUCCEEDED',
        statusDetails: null,
        stepTimeoutInMinutes: null,
        includeJobDocument: null,
      });
      expect(update.topic).toBe(`${base}/n-mqtt/update/accepted`);
      const get = await request(client, inbox, `${base}/n-mqtt/get`, { includeJobDocument: null });
      expect(get.topic).toBe(`${base}/n-mqtt/get/accepted`);
    } finally {
      await client.endAsync();
    }
  });

  it('a whole number beyond 2^53 is a validation error, not a database overflow (found by the fuzz test)', async () => {
    await iot.send(new CreateThingCommand({ thingName: 'n-big' }));
    expect((await createJob('n-big', 'n-big')).status).toBe(200);
    const r = await signedRequest(t, {
      service: 'iot-jobs-data',
      method: 'GET',
      path: '/things/n-big/jobs/n-big?executionNumber=100000000000000000000',
    });
    expect([r.status, r.errorType]).toEqual([400, 'InvalidRequestException']);
    const update = await json('iot-jobs-data', 'POST', '/things/n-big/jobs/n-big', {
      status: 'IN_PROGRESS',
      executionNumber: 1e300,
    });
    expect([update.status, update.errorType]).toEqual([400, 'InvalidRequestException']);
  });

  it('CancelJobExecution with statusDetails null', async () => {
    await iot.send(new CreateThingCommand({ thingName: 'n-cancel' }));
    expect((await createJob('n-cancel', 'n-cancel')).status).toBe(200);
    const r = await json('iot', 'PUT', '/things/n-cancel/jobs/n-cancel/cancel', {
      statusDetails: null,
      expectedVersion: null,
    });
    expect([r.status, r.errorType]).toEqual([200, undefined]);
    expect(await executionStatus('n-cancel', 'n-cancel')).toBe('CANCELED');
  });
});
