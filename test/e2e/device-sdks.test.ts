import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateJobCommand, DescribeJobExecutionCommand, type IoTClient } from '@aws-sdk/client-iot';
import { iot, iotjobs, mqtt as crtMqtt } from 'aws-iot-device-sdk-v2';
import { provisionDevice } from '../helpers/devices.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const require = createRequire(import.meta.url);
const thingArn = (name: string): string => `arn:aws:iot:us-east-1:000000000000:thing/${name}`;

interface V1Job {
  id: string;
  document: Record<string, unknown>;
  operation?: string;
  status: { status: string };
  succeeded(details: Record<string, string> | undefined, cb: (err?: Error) => void): void;
}
interface V1Jobs {
  on(event: 'connect' | 'error' | 'message', listener: (...args: unknown[]) => void): void;
  subscribeToJobs(thing: string, operation: string, cb: (err: Error | null, job: V1Job) => void): void;
  startJobNotifications(thing: string, cb: (err?: Error) => void): void;
  publish(topic: string, payload: string, options?: object, cb?: (err?: Error) => void): void;
  subscribe(topic: string | string[], options?: object, cb?: (err?: Error) => void): void;
  end(force?: boolean): void;
}

const mqttPort = (t: TestServer): number => Number(new URL(t.server.endpoints.mqtt!.replace('mqtts:', 'https:')).port);

describe('real AWS device SDKs against the broker', () => {
  let t: TestServer;
  let control: IoTClient;
  beforeAll(async () => {
    t = await startTestServer();
    control = t.iot();
  });
  afterAll(async () => t?.stop());

  it('aws-iot-device-sdk v1 jobs: notify-next, start-next, update to SUCCEEDED', async () => {
    const dev = await provisionDevice(t, control, 'v1-dev');
    const awsIot = require('aws-iot-device-sdk') as { jobs(options: object): V1Jobs };
    const jobs = awsIot.jobs({
      privateKey: Buffer.from(dev.key),
      clientCert: Buffer.from(dev.cert),
      caCert: Buffer.from(dev.ca),
      clientId: 'v1-dev',
      host: '127.0.0.1',
      port: mqttPort(t),
      protocol: 'mqtts',
      keepalive: 30,
      baseReconnectTimeMs: 5000,
    });
    try {
      await new Promise<void>((resolve, reject) => {
        jobs.on('connect', () => resolve());
        jobs.on('error', (err) => reject(err as Error));
      });
      // Every execution the agent hears of (notify-next, $next/get/accepted, start-next/accepted)
      // reaches the subscribeToJobs callback.
      const heard: V1Job[] = [];
      jobs.subscribeToJobs('v1-dev', 'install', (err, job) => {
        if (!err) heard.push(job);
      });
      await new Promise<void>((resolve, reject) =>
        jobs.startJobNotifications('v1-dev', (err) => (err ? reject(err) : resolve())),
      );
      await control.send(
        new CreateJobCommand({
          jobId: 'v1-job',
          targets: [thingArn('v1-dev')],
          document: JSON.stringify({ operation: 'install', version: '2.0' }),
        }),
      );
      await expect.poll(() => heard.length).toBeGreaterThan(0);
      expect(heard[0]).toMatchObject({
        id: 'v1-job',
        document: { operation: 'install', version: '2.0' },
        status: { status: 'QUEUED' },
      });

      // start-next is a raw publish (the v1 API has no call for it); its reply, delivered without
      // a subscription, reaches the same callback as an IN_PROGRESS job.
      jobs.publish('$aws/things/v1-dev/jobs/start-next', JSON.stringify({ clientToken: 'v1' }), { qos: 1 });
      await expect.poll(() => heard.find((j) => j.status.status === 'IN_PROGRESS')).toBeDefined();
      const job = heard.find((j) => j.status.status === 'IN_PROGRESS')!;
      expect(job.id).toBe('v1-job');

      // ... and reports success through the SDK.
      await new Promise<void>((resolve, reject) =>
        job.succeeded({ step: 'done' }, (err) => (err ? reject(err) : resolve())),
      );
      await expect
        .poll(
          async () =>
            (await control.send(new DescribeJobExecutionCommand({ jobId: 'v1-job', thingName: 'v1-dev' }))).execution
              ?.status,
        )
        .toBe('SUCCEEDED');
    } finally {
      jobs.end(true);
    }
  });

  it('aws-iot-device-sdk-v2 IotJobsClientv2 over MQTT 3.1.1', async () => {
    const dev = await provisionDevice(t, control, 'v2-dev');
    const config = iot.AwsIotMqttConnectionConfigBuilder.new_mtls_builder(dev.cert, dev.key)
      .with_certificate_authority(dev.ca)
      .with_endpoint('127.0.0.1')
      .with_port(mqttPort(t))
      .with_client_id('v2-dev')
      .with_clean_session(true)
      .build();
    const connection = new crtMqtt.MqttClient().new_connection(config);
    await connection.connect();
    const client = iotjobs.IotJobsClientv2.newFromMqtt311(connection, {
      maxRequestResponseSubscriptions: 4,
      maxStreamingSubscriptions: 2,
      operationTimeoutInSeconds: 10,
    });
    try {
      const stream = client.createNextJobExecutionChangedStream({ thingName: 'v2-dev' });
      const nextEvents: iotjobs.model.NextJobExecutionChangedEvent[] = [];
      const subscribed = new Promise<void>((resolve) => stream.on('subscriptionStatus', () => resolve()));
      stream.on('incomingPublish', (e: { message: iotjobs.model.NextJobExecutionChangedEvent }) =>
        nextEvents.push(e.message),
      );
      stream.open();
      await subscribed;

      const empty = await client.getPendingJobExecutions({ thingName: 'v2-dev' });
      expect(empty).toMatchObject({ inProgressJobs: [], queuedJobs: [] });

      await control.send(
        new CreateJobCommand({
          jobId: 'v2-job',
          targets: [thingArn('v2-dev')],
          document: JSON.stringify({ go: true }),
        }),
      );
      await expect.poll(() => nextEvents.length).toBeGreaterThan(0);
      expect(nextEvents[0]?.execution).toMatchObject({ jobId: 'v2-job', status: 'QUEUED', jobDocument: { go: true } });
      // Streaming events carry the integer epoch seconds as sent.
      expect(Number.isInteger(nextEvents[0]?.timestamp)).toBe(true);

      const started = await client.startNextPendingJobExecution({ thingName: 'v2-dev', stepTimeoutInMinutes: 5 });
      expect(started.execution).toMatchObject({ jobId: 'v2-job', status: 'IN_PROGRESS', versionNumber: 2 });
      const described = await client.describeJobExecution({
        thingName: 'v2-dev',
        jobId: '$next',
        includeJobDocument: true,
      });
      expect(described.execution?.jobId).toBe('v2-job');
      const updated = await client.updateJobExecution({
        thingName: 'v2-dev',
        jobId: 'v2-job',
        status: iotjobs.model.JobStatus.SUCCEEDED,
        expectedVersion: 2,
        includeJobExecutionState: true,
      });
      expect(updated.executionState).toMatchObject({ status: 'SUCCEEDED', versionNumber: 3 });
      // A rejected request surfaces as an error with the service's code.
      const rejected = await client
        .updateJobExecution({ thingName: 'v2-dev', jobId: 'v2-job', status: iotjobs.model.JobStatus.IN_PROGRESS })
        .then(
          () => undefined,
          (err: { modeledError?: { code?: string } }) => err,
        );
      expect(rejected?.modeledError?.code).toBe('InvalidStateTransition');
      await expect.poll(() => nextEvents.length).toBeGreaterThan(1);
      expect(nextEvents.at(-1)?.execution).toBeUndefined();
      stream.close();
    } finally {
      client.close();
      await connection.disconnect();
    }
  });
});
