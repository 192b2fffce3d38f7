import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateRoleCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { CreateJobCommand, DescribeJobExecutionCommand, type IoTClient } from '@aws-sdk/client-iot';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { iot, iotjobs, mqtt as crtMqtt, mqtt5 } from 'aws-iot-device-sdk-v2';
import { jobsTrustPolicy, readObjectsPolicy } from '../../src/iam/jobs-role-templates.js';
import { portOf, connectDevice, Inbox, provisionDevice, type Device } from '../helpers/devices.js';
import { DIALECTS } from '../helpers/postgres.js';
import { s3Client } from '../helpers/s3.js';
import { startTestServer, TEST_REGION, type TestServer } from '../helpers/server.js';

const require = createRequire(import.meta.url);
/** The jobs agent that AWS's jobs documentation points to, run as shipped in the npm package. */
const JOBS_AGENT = join(dirname(require.resolve('aws-iot-device-sdk/package.json')), 'examples', 'jobs-agent.js');
const ACCOUNT = '000000000000';
const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** Every device update the server received, in order (a job run twice shows up here). */
interface UpdateCall {
  thing: string;
  jobId: string;
  status: string;
  outcome?: 'accepted' | string;
}

function recordUpdates(t: TestServer): UpdateCall[] {
  const calls: UpdateCall[] = [];
  const service = t.server.services.deviceJobs;
  const original = service.updateJobExecution.bind(service);
  service.updateJobExecution = async (thing, jobId, input, ns) => {
    const call: UpdateCall = { thing, jobId, status: String(input.status) };
    calls.push(call);
    try {
      const out = await original(thing, jobId, input, ns);
      call.outcome = 'accepted';
      return out;
    } catch (err) {
      call.outcome = (err as { code?: string }).code ?? 'error';
      throw err;
    }
  };
  return calls;
}

describe.each(DIALECTS)('device software we did not write, unmodified, on %s', (dialect) => {
  let t: TestServer;
  let control: IoTClient;
  let updates: UpdateCall[];
  const arn = (thing: string): string => t.server.services.ctx.arns.thing(thing);
  const execution = async (jobId: string, thingName: string) =>
    (await control.send(new DescribeJobExecutionCommand({ jobId, thingName }))).execution;
  const waitFor = async (jobId: string, thing: string, status: string) =>
    expect.poll(async () => (await execution(jobId, thing))?.status, { timeout: 30_000, interval: 200 }).toBe(status);
  const callsOf = (thing: string, jobId: string): string[] =>
    updates.filter((c) => c.thing === thing && c.jobId === jobId).map((c) => `${c.status}:${c.outcome}`);

  beforeAll(async () => {
    t = await startTestServer({ dialect });
    control = t.iot();
    updates = recordUpdates(t);
  });
  afterAll(async () => t?.stop());

  describe('aws-iot-device-sdk v1 examples/jobs-agent.js', () => {
    const thing = `jobs-agent-${dialect}`;
    let work: string;
    let agent: ChildProcess | undefined;
    let output = '';
    const image = randomBytes(64 * 1024);

    beforeAll(async () => {
      work = mkdtempSync(join(tmpdir(), 'jobs-agent-'));
      const dev = await provisionDevice(t, control, thing);
      // The cert dir layout the example expects by default (-f).
      writeFileSync(join(work, 'root-CA.crt'), dev.ca);
      writeFileSync(join(work, 'certificate.pem.crt'), dev.cert);
      writeFileSync(join(work, 'private.pem.key'), dev.key);
      // A firmware file behind a presigned URL (spec 6.1) under a role the job names.
      const s3 = s3Client(t);
      await s3.send(new CreateBucketCommand({ Bucket: 'agent-files' }));
      await s3.send(new PutObjectCommand({ Bucket: 'agent-files', Key: 'fw.bin', Body: image }));
      s3.destroy();
      const iam = new IAMClient({ endpoint: t.endpoint, region: TEST_REGION, credentials: t.credentials });
      // The confused-deputy trust and a read permission (spec 8), as the console's role form makes them.
      await iam.send(
        new CreateRoleCommand({
          RoleName: 'agent-download',
          AssumeRolePolicyDocument: JSON.stringify(jobsTrustPolicy({ account: ACCOUNT, region: TEST_REGION })),
        }),
      );
      await iam.send(
        new PutRolePolicyCommand({
          RoleName: 'agent-download',
          PolicyName: 'read',
          PolicyDocument: JSON.stringify(readObjectsPolicy('agent-files')),
        }),
      );
      iam.destroy();
    });
    afterAll(() => {
      agent?.kill('SIGKILL');
      rmSync(work, { recursive: true, force: true });
    });

    const install = (jobId: string, fileName: string, checksum: string) =>
      control.send(
        new CreateJobCommand({
          jobId,
          targets: [arn(thing)],
          presignedUrlConfig: { roleArn: `arn:aws:iam::${ACCOUNT}:role/agent-download`, expiresInSec: 300 },
          document: JSON.stringify({
            operation: 'install',
            packageName: 'firmware',
            workingDirectory: work,
            files: [
              {
                fileName,
                fileSource: { url: '${aws:iot:s3-presigned-url:https://s3.amazonaws.com/agent-files/fw.bin}' },
                checksum: { inline: { value: checksum }, hashAlgorithm: 'SHA256' },
              },
            ],
          }),
        }),
      );
    const systemStatus = (jobId: string) =>
      control.send(
        new CreateJobCommand({
          jobId,
          targets: [arn(thing)],
          document: JSON.stringify({ operation: 'systemStatus' }),
        }),
      );

    it('runs each job exactly once, queued before and after it connects', async () => {
      // Queued before the agent starts: it learns of them from its own $next/get.
      await systemStatus(`status-1-${dialect}`);
      await install(`install-ok-${dialect}`, 'fw.bin', sha256(image));

      agent = spawn(
        process.execPath,
        [
          JOBS_AGENT,
          '-f',
          work,
          '-H',
          '127.0.0.1',
          '-p',
          String(portOf(t.server.endpoints.mqtt!)),
          '-T',
          thing,
          '-i',
          thing,
        ],
        {
          cwd: work,
          // Its downloads use Node's CA store (STACK.md).
          env: { ...process.env, NODE_EXTRA_CA_CERTS: join(work, 'root-CA.crt') },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      agent.stdout!.on('data', (c: Buffer) => (output += c.toString()));
      agent.stderr!.on('data', (c: Buffer) => (output += c.toString()));
      await expect.poll(() => output, { timeout: 20_000 }).toContain('startJobNotifications completed');

      await waitFor(`status-1-${dialect}`, thing, 'SUCCEEDED');
      await waitFor(`install-ok-${dialect}`, thing, 'SUCCEEDED');
      expect(readFileSync(join(work, 'fw.bin')).equals(image)).toBe(true);

      // Queued while it is connected: notify-next tells it.
      await install(`install-bad-${dialect}`, 'bad.bin', sha256(Buffer.from('another image')));
      await waitFor(`install-bad-${dialect}`, thing, 'FAILED');
      // A last job as a barrier: once it is done, the agent has handled everything sent before.
      await systemStatus(`status-2-${dialect}`);
      await waitFor(`status-2-${dialect}`, thing, 'SUCCEEDED');

      expect((await execution(`install-bad-${dialect}`, thing))?.statusDetails?.detailsMap).toMatchObject({
        operation: 'install',
        errorCode: 'ERR_DOWNLOAD_FAILED',
        downloadError: 'Error: Checksum mismatch',
      });
      // The server's own record of what the agent sent: one run per job, every update accepted.
      expect(callsOf(thing, `status-1-${dialect}`)).toEqual(['SUCCEEDED:accepted']);
      expect(callsOf(thing, `install-ok-${dialect}`)).toEqual(['IN_PROGRESS:accepted', 'SUCCEEDED:accepted']);
      expect(callsOf(thing, `install-bad-${dialect}`)).toEqual(['IN_PROGRESS:accepted', 'FAILED:accepted']);
      expect(callsOf(thing, `status-2-${dialect}`)).toEqual(['SUCCEEDED:accepted']);
      expect((await execution(`status-1-${dialect}`, thing))?.versionNumber).toBe(2);
      expect((await execution(`install-ok-${dialect}`, thing))?.versionNumber).toBe(3);
      // Numbers in statusDetails (uptime) are kept as the strings AWS would store.
      expect((await execution(`status-1-${dialect}`, thing))?.statusDetails?.detailsMap?.uptime).toMatch(/^[\d.]+$/);
    });
  });

  describe('aws-iot-device-sdk-v2 IotJobsClientv2', () => {
    /** start-next -> IN_PROGRESS -> SUCCEEDED through the SDK's request-response client. */
    async function runJobThrough(client: iotjobs.IotJobsClientv2, thing: string, jobId: string): Promise<void> {
      await control.send(new CreateJobCommand({ jobId, targets: [arn(thing)], document: '{"run":true}' }));
      const started = await client.startNextPendingJobExecution({ thingName: thing });
      expect(started.execution).toMatchObject({ jobId, status: 'IN_PROGRESS', jobDocument: { run: true } });
      const done = await client.updateJobExecution({
        thingName: thing,
        jobId,
        status: iotjobs.model.JobStatus.SUCCEEDED,
        statusDetails: { stdout: 'ok\n' },
        expectedVersion: started.execution!.versionNumber,
        includeJobExecutionState: true,
      });
      expect(done.executionState).toMatchObject({ status: 'SUCCEEDED', statusDetails: { stdout: 'ok\n' } });
      const rejected = await client
        .updateJobExecution({ thingName: thing, jobId, status: iotjobs.model.JobStatus.IN_PROGRESS })
        .then(
          () => undefined,
          (err: { modeledError?: { code?: string } }) => err.modeledError?.code,
        );
      expect(rejected).toBe('InvalidStateTransition');
      expect((await execution(jobId, thing))?.status).toBe('SUCCEEDED');
    }

    async function mqtt5Client(dev: Device, port: number): Promise<mqtt5.Mqtt5Client> {
      // The SDK's builder offers ALPN x-amzn-mqtt-ca on every port, as for AWS IoT's 443.
      const config = iot.AwsIotMqtt5ClientConfigBuilder.newDirectMqttBuilderWithMtlsFromMemory(
        '127.0.0.1',
        dev.cert,
        dev.key,
      )
        .withCertificateAuthority(dev.ca)
        .withPort(port)
        .withConnectProperties({ clientId: dev.thingName, keepAliveIntervalSeconds: 60 })
        .build();
      const client = new mqtt5.Mqtt5Client(config);
      const connected = new Promise<void>((resolve, reject) => {
        client.once('connectionSuccess', () => resolve());
        client.once('connectionFailure', (e: { error: Error }) => reject(e.error));
      });
      client.start();
      await connected;
      return client;
    }

    const rrOptions = {
      maxRequestResponseSubscriptions: 4,
      maxStreamingSubscriptions: 2,
      operationTimeoutInSeconds: 10,
    };

    it('over MQTT 5 on the MQTT port, with notify-next streaming', async () => {
      const dev = await provisionDevice(t, control, `v2-m5-${dialect}`);
      const client = await mqtt5Client(dev, portOf(t.server.endpoints.mqtt!));
      const jobs = iotjobs.IotJobsClientv2.newFromMqtt5(client, rrOptions);
      try {
        const stream = jobs.createNextJobExecutionChangedStream({ thingName: dev.thingName });
        const events: iotjobs.model.NextJobExecutionChangedEvent[] = [];
        const subscribed = new Promise<void>((resolve) => stream.on('subscriptionStatus', () => resolve()));
        stream.on('incomingPublish', (e: { message: iotjobs.model.NextJobExecutionChangedEvent }) =>
          events.push(e.message),
        );
        stream.open();
        await subscribed;
        expect(await jobs.getPendingJobExecutions({ thingName: dev.thingName })).toMatchObject({
          inProgressJobs: [],
          queuedJobs: [],
        });
        await runJobThrough(jobs, dev.thingName, `v2-m5-job-${dialect}`);
        await expect.poll(() => events.map((e) => e.execution?.jobId ?? null)).toEqual([`v2-m5-job-${dialect}`, null]);
        stream.close();
      } finally {
        jobs.close();
        client.stop();
        client.close();
      }
    });

    it('over MQTT 5 and MQTT 3.1.1 on the device HTTPS port with ALPN x-amzn-mqtt-ca (AWS IoT port 443)', async () => {
      const port = portOf(t.server.endpoints.deviceHttps!);
      const dev5 = await provisionDevice(t, control, `v2-alpn5-${dialect}`);
      const client5 = await mqtt5Client(dev5, port);
      const jobs5 = iotjobs.IotJobsClientv2.newFromMqtt5(client5, rrOptions);
      try {
        await runJobThrough(jobs5, dev5.thingName, `v2-alpn5-job-${dialect}`);
      } finally {
        jobs5.close();
        client5.stop();
        client5.close();
      }

      const dev3 = await provisionDevice(t, control, `v2-alpn3-${dialect}`);
      const config = iot.AwsIotMqttConnectionConfigBuilder.new_mtls_builder(dev3.cert, dev3.key)
        .with_certificate_authority(dev3.ca)
        .with_endpoint('127.0.0.1')
        .with_port(port)
        .with_client_id(dev3.thingName)
        .with_clean_session(true)
        .build();
      const connection = new crtMqtt.MqttClient().new_connection(config);
      await connection.connect();
      const jobs3 = iotjobs.IotJobsClientv2.newFromMqtt311(connection, rrOptions);
      try {
        await runJobThrough(jobs3, dev3.thingName, `v2-alpn3-job-${dialect}`);
      } finally {
        jobs3.close();
        await connection.disconnect();
      }
    });
  });

  describe('AWS IoT Device Client (C++; cannot be installed here): its MQTT traffic replayed', () => {
    /*
     * What the Device Client's JobsFeature sends (source/jobs/JobsFeature.cpp, STACK.md): it
     * subscribes to start-next/accepted|rejected, notify-next and +/update/accepted|rejected,
     * publishes start-next `{}` at QoS 1, runs the job, and reports through update with a random
     * 10-character clientToken, no expectedVersion, and statusDetails reason / stdout / stderr cut
     * to their last 1,024 characters (newlines kept). A job that notify-next names is moved to
     * IN_PROGRESS by an update, not by start-next. It treats InvalidRequest as final.
     */
    const token = (): string => randomBytes(8).toString('base64url').slice(0, 10);

    it('reaches SUCCEEDED with handler output in statusDetails, then starts the next queued job', async () => {
      const dev = await provisionDevice(t, control, `dc-${dialect}`);
      const thing = dev.thingName;
      const base = `$aws/things/${thing}/jobs`;
      for (const id of ['dc-1', 'dc-2']) {
        await control.send(
          new CreateJobCommand({
            jobId: `${id}-${dialect}`,
            targets: [arn(thing)],
            document: JSON.stringify({ version: '1.0', steps: [{ action: { name: 'echo', type: 'runHandler' } }] }),
          }),
        );
      }
      const client = await connectDevice(t, dev, thing, { protocolVersion: 4 });
      const inbox = new Inbox(client);
      try {
        await client.subscribeAsync(
          [
            `${base}/start-next/accepted`,
            `${base}/start-next/rejected`,
            `${base}/notify-next`,
            `${base}/+/update/accepted`,
            `${base}/+/update/rejected`,
          ],
          { qos: 1 },
        );
        await client.publishAsync(`${base}/start-next`, '{}', { qos: 1 });
        const started = await inbox.next(`${base}/start-next/accepted`);
        const first = (started.payload.execution as { jobId: string }).jobId;
        expect(first).toBe(`dc-1-${dialect}`);

        const update = async (jobId: string, body: Record<string, unknown>) => {
          const clientToken = token();
          const from = inbox.messages.length;
          await client.publishAsync(`${base}/${jobId}/update`, JSON.stringify({ ...body, clientToken }), { qos: 1 });
          return inbox.next(
            (m) => m.topic.startsWith(`${base}/${jobId}/update/`) && m.payload.clientToken === clientToken,
            from,
          );
        };
        expect((await update(first, { status: 'IN_PROGRESS', statusDetails: {} })).topic).toBe(
          `${base}/${first}/update/accepted`,
        );
        const stdout = `${'output line\n'.repeat(200)}`.slice(-1024);
        const stderr = 'warning: something\n\tat step 1\r\n';
        const from = inbox.messages.length;
        const done = await update(first, { status: 'SUCCEEDED', statusDetails: { stdout, stderr } });
        expect(done.topic).toBe(`${base}/${first}/update/accepted`);
        const described = await execution(first, thing);
        expect(described).toMatchObject({ status: 'SUCCEEDED', statusDetails: { detailsMap: { stdout, stderr } } });

        // The head changed: notify-next names the next job, which the client moves to IN_PROGRESS.
        const next = await inbox.next(`${base}/notify-next`, from);
        const second = (next.payload.execution as { jobId: string; status: string }).jobId;
        expect(second).toBe(`dc-2-${dialect}`);
        expect((await update(second, { status: 'IN_PROGRESS', statusDetails: {} })).topic).toBe(
          `${base}/${second}/update/accepted`,
        );
        const failed = await update(second, {
          status: 'FAILED',
          statusDetails: { reason: 'Returned with error code: 1', stderr: 'no such file\n' },
        });
        expect(failed.topic).toBe(`${base}/${second}/update/accepted`);
        expect(await execution(second, thing)).toMatchObject({
          status: 'FAILED',
          statusDetails: { detailsMap: { reason: 'Returned with error code: 1', stderr: 'no such file\n' } },
        });
      } finally {
        client.end(true);
      }
    });
  });
});
