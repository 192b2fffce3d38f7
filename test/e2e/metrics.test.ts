import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateJobCommand, CreateThingCommand, DescribeThingCommand, IoTClient } from '@aws-sdk/client-iot';
import { IoTJobsDataPlaneClient, UpdateJobExecutionCommand } from '@aws-sdk/client-iot-jobs-data-plane';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { connectDevice, Inbox, provisionDevice, request, type Device } from '../helpers/devices.js';
import { DIALECTS } from '../helpers/postgres.js';
import { scrape, type Scrape } from '../helpers/prometheus.js';
import { rejection } from '../helpers/rejection.js';
import { startTestServer, TEST_REGION, type TestServer } from '../helpers/server.js';

/** Every metric README "Health checks and metrics" names, with its type. */
const NAMED = {
  fleetjobs_aws_requests_total: 'counter',
  fleetjobs_aws_request_duration_seconds: 'histogram',
  fleetjobs_aws_rejected_requests_total: 'counter',
  fleetjobs_device_requests_total: 'counter',
  fleetjobs_device_request_duration_seconds: 'histogram',
  fleetjobs_mqtt_connected_devices: 'gauge',
  fleetjobs_mqtt_requests_in_progress: 'gauge',
  fleetjobs_mqtt_requests_waiting: 'gauge',
  fleetjobs_job_execution_status_changes_total: 'counter',
  fleetjobs_outbox_depth: 'gauge',
  fleetjobs_outbox_oldest_age_seconds: 'gauge',
  fleetjobs_notifier_lag_seconds: 'histogram',
  fleetjobs_scheduler_tick_duration_seconds: 'histogram',
  fleetjobs_db_transaction_duration_seconds: 'histogram',
  process_cpu_seconds_total: 'counter',
  process_resident_memory_bytes: 'gauge',
  nodejs_eventloop_lag_seconds: 'gauge',
} as const;

describe.each(DIALECTS)('Prometheus metrics at /metrics (%s)', (dialect) => {
  let t: TestServer;
  let clock: FakeClock;
  let iot: IoTClient;
  let url: string;
  beforeAll(async () => {
    // Fake time starting now: SigV4 still checks the clock skew; the outbox's ages are ours to move.
    clock = new FakeClock(Date.now());
    t = await startTestServer({ dialect, clock });
    iot = t.iot();
    url = `${t.endpoint}/metrics`;
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('serves every named metric, unauthenticated, in the Prometheus text format', async () => {
    const s = await scrape(url);
    for (const [name, type] of Object.entries(NAMED)) expect(s.types.get(name), name).toBe(type);
    expect(s.value('process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(s.value('fleetjobs_mqtt_connected_devices')).toBe(0);
    expect(s.value('fleetjobs_mqtt_requests_in_progress')).toBe(0);
    expect(s.value('fleetjobs_mqtt_requests_waiting')).toBe(0);
  });

  it('counts and times AWS operations by service, operation and status; times transactions', async () => {
    const before = await scrape(url);
    await iot.send(new CreateThingCommand({ thingName: 'm-thing' }));
    expect((await rejection(iot.send(new DescribeThingCommand({ thingName: 'ghost' })))).status).toBe(404);
    const after = await scrape(url);
    const delta = (name: string, labels: Record<string, string>) =>
      after.value(name, labels) - before.value(name, labels);
    expect(delta('fleetjobs_aws_requests_total', { service: 'iot', operation: 'CreateThing', code: '200' })).toBe(1);
    expect(delta('fleetjobs_aws_requests_total', { service: 'iot', operation: 'DescribeThing', code: '404' })).toBe(1);
    expect(delta('fleetjobs_aws_request_duration_seconds_count', { service: 'iot', operation: 'CreateThing' })).toBe(1);
    expect(delta('fleetjobs_db_transaction_duration_seconds_count', { outcome: 'commit' })).toBeGreaterThanOrEqual(1);
    expect(delta('fleetjobs_aws_rejected_requests_total', {})).toBe(0);
  });

  it('counts requests refused before reaching a service', async () => {
    const before = await scrape(url);
    const wrong = new IoTClient({
      endpoint: t.endpoint,
      region: TEST_REGION,
      credentials: { accessKeyId: t.credentials.accessKeyId, secretAccessKey: 'not-the-secret' },
      maxAttempts: 1,
    });
    expect((await rejection(wrong.send(new DescribeThingCommand({ thingName: 'm-thing' })))).status).toBe(403);
    wrong.destroy();
    const after = await scrape(url);
    expect(
      after.value('fleetjobs_aws_rejected_requests_total', { code: '403' }) -
        before.value('fleetjobs_aws_rejected_requests_total', { code: '403' }),
    ).toBe(1);
    expect(after.value('fleetjobs_aws_requests_total', { operation: 'DescribeThing', code: '403' })).toBe(0);
  });

  describe('a device taking a job', () => {
    let device: Device;
    let client: MqttClient;
    let inbox: Inbox;
    let data: IoTJobsDataPlaneClient;
    const base = '$aws/things/m-dev/jobs';
    let last: Scrape;
    /** How much a sample moved since the previous call. */
    const moved = async (name: string, labels: Record<string, string> = {}): Promise<number> => {
      const now = await scrape(url);
      const d = now.value(name, labels) - last.value(name, labels);
      last = now;
      return d;
    };
    beforeAll(async () => {
      device = await provisionDevice(t, iot, 'm-dev');
      data = new IoTJobsDataPlaneClient({ endpoint: t.endpoint, region: TEST_REGION, credentials: t.credentials });
    });
    afterAll(async () => {
      client?.end(true);
      data?.destroy();
    });

    it('counts connected devices', async () => {
      last = await scrape(url);
      client = await connectDevice(t, device, 'm-dev');
      inbox = new Inbox(client);
      await client.subscribeAsync(`${base}/#`, { qos: 1 });
      expect(await moved('fleetjobs_mqtt_connected_devices')).toBe(1);
    });

    it('shows the outbox filling while the notifier is stopped, then the notifier lag', async () => {
      await t.server.devicePlane.notifier.stop();
      await iot.send(
        new CreateJobCommand({ jobId: 'm-job', targets: [t.server.services.ctx.arns.thing('m-dev')], document: '{}' }),
      );
      expect(await moved('fleetjobs_job_execution_status_changes_total', { status: 'QUEUED' })).toBe(1);
      expect(last.value('fleetjobs_outbox_depth')).toBeGreaterThanOrEqual(1);
      clock.advance(5_000);
      const aged = await scrape(url);
      expect(aged.value('fleetjobs_outbox_oldest_age_seconds')).toBeGreaterThanOrEqual(5);

      // The notifier's work, by hand: it claims the rows 5 s (fake time) after they were written.
      const lagBefore = aged.value('fleetjobs_notifier_lag_seconds_count');
      const lagSumBefore = aged.value('fleetjobs_notifier_lag_seconds_sum');
      while ((await t.server.devicePlane.notifier.runOnce()) > 0);
      const drained = await scrape(url);
      expect(drained.value('fleetjobs_notifier_lag_seconds_count') - lagBefore).toBeGreaterThanOrEqual(1);
      expect(drained.value('fleetjobs_notifier_lag_seconds_sum') - lagSumBefore).toBeGreaterThanOrEqual(5);
      expect(drained.value('fleetjobs_notifier_lag_seconds_bucket', { le: '2.5' })).toBe(
        aged.value('fleetjobs_notifier_lag_seconds_bucket', { le: '2.5' }),
      );
      expect(drained.value('fleetjobs_outbox_depth')).toBe(0);
      last = drained;
    });

    it('counts device requests over MQTT and HTTP by operation and outcome, and executions by status', async () => {
      const got = await request(client, inbox, `${base}/get`, {});
      expect(got.topic).toBe(`${base}/get/accepted`);
      expect(
        await moved('fleetjobs_device_requests_total', {
          protocol: 'mqtt',
          operation: 'GetPendingJobExecutions',
          outcome: 'ok',
        }),
      ).toBe(1);

      const started = await request(client, inbox, `${base}/start-next`, {});
      expect(started.topic).toBe(`${base}/start-next/accepted`);
      expect(await moved('fleetjobs_job_execution_status_changes_total', { status: 'IN_PROGRESS' })).toBe(1);

      const missing = await request(client, inbox, `${base}/nope/get`, {});
      expect(missing.topic).toBe(`${base}/nope/get/rejected`);
      expect(
        await moved('fleetjobs_device_requests_total', {
          protocol: 'mqtt',
          operation: 'DescribeJobExecution',
          outcome: 'ResourceNotFound',
        }),
      ).toBe(1);

      await data.send(new UpdateJobExecutionCommand({ thingName: 'm-dev', jobId: 'm-job', status: 'SUCCEEDED' }));
      const after = await scrape(url);
      const d = (name: string, labels: Record<string, string>) => after.value(name, labels) - last.value(name, labels);
      expect(
        d('fleetjobs_device_requests_total', { protocol: 'http', operation: 'UpdateJobExecution', outcome: 'ok' }),
      ).toBe(1);
      expect(
        d('fleetjobs_device_request_duration_seconds_count', { protocol: 'http', operation: 'UpdateJobExecution' }),
      ).toBe(1);
      expect(
        d('fleetjobs_aws_requests_total', { service: 'iot-jobs-data', operation: 'UpdateJobExecution', code: '200' }),
      ).toBe(1);
      expect(d('fleetjobs_job_execution_status_changes_total', { status: 'SUCCEEDED' })).toBe(1);
      last = after;
    });

    it('counts the device going away', async () => {
      client.end(true);
      await expect.poll(async () => (await scrape(url)).value('fleetjobs_mqtt_connected_devices')).toBe(0);
    });
  });

  it('times scheduler ticks', async () => {
    const before = await scrape(url);
    await t.server.services.scheduler.tick(clock.now().getTime());
    const after = await scrape(url);
    expect(
      after.value('fleetjobs_scheduler_tick_duration_seconds_count') -
        before.value('fleetjobs_scheduler_tick_duration_seconds_count'),
    ).toBeGreaterThanOrEqual(1);
  });
});

describe('--metrics: a listener of its own', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ flags: { metrics: '127.0.0.1:0' } });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('is named metrics in endpoints.json and serves /metrics and the probes; the HTTP listener no longer serves /metrics', async () => {
    const endpoints = JSON.parse(readFileSync(join(t.dataDir, 'endpoints.json'), 'utf8')) as Record<string, string>;
    expect(endpoints.metrics).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(endpoints.metrics).toBe(t.server.endpoints.metrics);
    const s = await scrape(`${endpoints.metrics}/metrics`);
    expect(s.types.get('fleetjobs_aws_requests_total')).toBe('counter');
    expect((await fetch(`${endpoints.metrics}/readyz`)).status).toBe(200);
    // Without the route, an unsigned request on the HTTP listener is AWS traffic missing its signature.
    const main = await fetch(`${t.endpoint}/metrics`);
    expect(main.status).toBe(403);
    expect(main.headers.get('x-amzn-errortype')).toMatch(/^MissingAuthenticationToken/);
  });
});
