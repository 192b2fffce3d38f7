import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CreateJobCommand,
  DescribeEventConfigurationsCommand,
  DescribeJobCommand,
  UpdateEventConfigurationsCommand,
  type IoTClient,
} from '@aws-sdk/client-iot';
import type { MqttClient } from 'mqtt';
import { FakeClock } from '../../src/clock.js';
import { awsCli } from '../helpers/aws-cli.js';
import { connectDevice, Inbox, provisionDevice, request, type Message } from '../helpers/devices.js';
import { DIALECTS } from '../helpers/postgres.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const thingArn = (name: string): string => `arn:aws:iot:us-east-1:000000000000:thing/${name}`;

/**
 * Real devices over MQTT/TLS and a rollout of one thing per minute, in fake time: the server's
 * scheduler runs on the test's FakeClock (its timer loop ticks at the fake "now"; the test moves
 * time and ticks too), so each minute releases exactly one more device.
 */
describe.each(DIALECTS)('a rate-limited rollout to devices over MQTT on %s', (dialect) => {
  // Starts at the real time: the SDK's SigV4 signatures are checked against the server's clock.
  const clock = new FakeClock(Date.now());
  let t: TestServer;
  let iot: IoTClient;
  const clients: MqttClient[] = [];
  beforeAll(async () => {
    t = await startTestServer({ dialect, clock, flags: { deviceTopics: '$aws/events/#' } });
    iot = t.iot();
  });
  afterAll(async () => {
    for (const c of clients) c.end(true);
    await t?.stop();
  });

  async function device(thingName: string) {
    const d = await provisionDevice(t, iot, thingName);
    const client = await connectDevice(t, d, thingName);
    clients.push(client);
    const inbox = new Inbox(client);
    const base = `$aws/things/${thingName}/jobs`;
    await client.subscribeAsync(`${base}/notify-next`, { qos: 1 });
    const next = async () => (await request(client, inbox, `${base}/$next/get`, { clientToken: 'n' })).payload;
    return { thingName, client, inbox, base, next };
  }
  const tick = () => t.server.services.scheduler.tick(clock.now().getTime());
  const isNotifyNextFor = (jobId: string) => (m: Message) =>
    m.topic.endsWith('/notify-next') && (m.payload.execution as { jobId?: string } | undefined)?.jobId === jobId;

  it('takes event configurations from the aws CLI, refusing unknown event types', async () => {
    const set = await awsCli(t.endpoint, t.awsEnv(), [
      'iot',
      'update-event-configurations',
      '--event-configurations',
      '{"JOB":{"Enabled":true},"THING":{"Enabled":false}}',
    ]);
    expect(set.code, set.stderr).toBe(0);
    const got = await awsCli(t.endpoint, t.awsEnv(), ['iot', 'describe-event-configurations']);
    expect(got.json).toMatchObject({
      eventConfigurations: { JOB: { Enabled: true }, JOB_EXECUTION: { Enabled: false }, THING: { Enabled: false } },
      // The CLI parses the epoch-second timestamps and prints them as ISO 8601.
      creationDate: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d/),
      lastModifiedDate: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d/),
    });
    const bad = await awsCli(t.endpoint, t.awsEnv(), [
      'iot',
      'update-event-configurations',
      '--event-configurations',
      '{"JOBS":{"Enabled":true}}',
    ]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('InvalidRequestException');
  });

  it('notifies one device per minute, in order, and reports each success and the completion as events', async () => {
    await iot.send(
      new UpdateEventConfigurationsCommand({
        eventConfigurations: { JOB: { Enabled: true }, JOB_EXECUTION: { Enabled: true } },
      }),
    );
    const config = await iot.send(new DescribeEventConfigurationsCommand({}));
    expect(config.eventConfigurations).toMatchObject({ JOB: { Enabled: true }, JOB_EXECUTION: { Enabled: true } });

    const devices = [await device('roll-a'), await device('roll-b'), await device('roll-c')];
    const observer = devices[0]!;
    await observer.client.subscribeAsync('$aws/events/#', { qos: 1 });
    const jobId = `rollout-${dialect}`;
    await iot.send(
      new CreateJobCommand({
        jobId,
        targets: devices.map((d) => thingArn(d.thingName)),
        document: JSON.stringify({ firmware: '2.0' }),
        jobExecutionsRolloutConfig: { maximumPerMinute: 1 },
      }),
    );
    const described = await iot.send(new DescribeJobCommand({ jobId }));
    expect(described.job).toMatchObject({ status: 'IN_PROGRESS', jobExecutionsRolloutConfig: { maximumPerMinute: 1 } });

    for (const [i, d] of devices.entries()) {
      // Minute i: this device is released and told (by this tick or the server's own loop, which
      // ticks at the same fake instant); the later ones still see nothing.
      await tick();
      const note = await d.inbox.next(isNotifyNextFor(jobId), 0);
      expect(note.payload.execution).toMatchObject({ jobId, status: 'QUEUED', jobDocument: { firmware: '2.0' } });
      for (const later of devices.slice(i + 1)) expect(await later.next()).not.toHaveProperty('execution');
      if (i < devices.length - 1)
        expect((await iot.send(new DescribeJobCommand({ jobId }))).job?.isConcurrent).toBe(true);

      const started = await request(d.client, d.inbox, `${d.base}/start-next`, { clientToken: 's' });
      expect(started.payload.execution).toMatchObject({ jobId, status: 'IN_PROGRESS', versionNumber: 2 });
      const evFrom = observer.inbox.messages.length;
      const done = await request(d.client, d.inbox, `${d.base}/${jobId}/update`, {
        status: 'SUCCEEDED',
        expectedVersion: 2,
      });
      expect(done.topic).toBe(`${d.base}/${jobId}/update/accepted`);
      const event = await observer.inbox.next(`$aws/events/jobExecution/${jobId}/succeeded`, evFrom);
      expect(event.payload).toMatchObject({
        eventType: 'JOB_EXECUTION',
        operation: 'succeeded',
        jobId,
        thingArn: thingArn(d.thingName),
        status: 'SUCCEEDED',
      });
      // The same minute gives nobody else the job.
      expect((await tick()).released).toBe(0);
      clock.advance(60_000);
    }

    const completed = await observer.inbox.next(`$aws/events/job/${jobId}/completed`, 0);
    expect(completed.payload).toMatchObject({
      eventType: 'JOB',
      status: 'COMPLETED',
      jobProcessDetails: expect.objectContaining({ numberOfSucceededThings: 3 }),
    });
    const final = await iot.send(new DescribeJobCommand({ jobId }));
    expect(final.job).toMatchObject({
      status: 'COMPLETED',
      isConcurrent: false,
      jobProcessDetails: expect.objectContaining({ numberOfSucceededThings: 3, numberOfQueuedThings: 0 }),
    });
  });
});
