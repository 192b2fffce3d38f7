import { CreateJobCommand, DescribeJobCommand, type IoTClient } from '@aws-sdk/client-iot';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectDevice, Inbox, provisionDevice } from '../helpers/devices.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const DEVICES = 12;
const thingArn = (name: string): string => `arn:aws:iot:us-east-1:000000000000:thing/${name}`;

/**
 * The broker works on at most `mqttRequestWindow` device requests at once (issue 17 item 4: the
 * heap stays bounded however many devices ask at once). With a window of 1, devices that each
 * publish a whole job flow without waiting for replies still get every reply, in their order.
 */
describe('MQTT request window', () => {
  let t: TestServer;
  let iot: IoTClient;
  const clients: MqttClient[] = [];
  const inboxes: Inbox[] = [];
  const names = Array.from({ length: DEVICES }, (_, i) => `window-${i}`);

  beforeAll(async () => {
    t = await startTestServer({ mqttRequestWindow: 1 });
    iot = t.iot();
    for (const name of names) {
      const device = await provisionDevice(t, iot, name);
      const client = await connectDevice(t, device, name);
      clients.push(client);
      inboxes.push(new Inbox(client));
    }
    await iot.send(new CreateJobCommand({ jobId: 'window-job', targets: names.map(thingArn), document: '{}' }));
  });
  afterAll(async () => {
    for (const c of clients) c.end(true);
    await t?.stop();
  });

  it('answers every pipelined request of every device, in each device’s order, one request at a time', async () => {
    let mostWaiting = 0;
    let mostInProgress = 0;
    for (const c of clients)
      c.on('message', () => {
        const w = t.server.devicePlane.broker.requestWindow;
        mostWaiting = Math.max(mostWaiting, w.queued);
        mostInProgress = Math.max(mostInProgress, w.active);
      });
    const steps = (name: string): [string, object][] => {
      const base = `$aws/things/${name}/jobs`;
      return [
        [`${base}/start-next`, { clientToken: 's' }],
        [`${base}/window-job/update`, { clientToken: 'u1', status: 'IN_PROGRESS', expectedVersion: 2 }],
        [`${base}/window-job/update`, { clientToken: 'u2', status: 'SUCCEEDED', expectedVersion: 3 }],
        [`${base}/get`, { clientToken: 'g' }],
      ];
    };
    // Every device publishes its four requests at once, without waiting for any reply.
    await Promise.all(
      clients.flatMap((c, i) =>
        steps(names[i]!).map(([topic, body]) => c.publishAsync(topic, JSON.stringify(body), { qos: 1 })),
      ),
    );
    await Promise.all(
      inboxes.map((inbox) =>
        inbox.next((m) => m.topic.endsWith('/get/accepted') || m.topic.endsWith('/get/rejected'), 0),
      ),
    );
    for (const inbox of inboxes) {
      const replies = inbox.messages.filter((m) => /\/(accepted|rejected)$/.test(m.topic));
      expect(replies.map((m) => [m.topic.split('/').at(-1), m.payload.clientToken])).toEqual([
        ['accepted', 's'],
        ['accepted', 'u1'],
        ['accepted', 'u2'],
        ['accepted', 'g'],
      ]);
      expect(replies[3]!.payload).toMatchObject({ inProgressJobs: [], queuedJobs: [] });
      expect(replies[0]!.payload).toMatchObject({
        execution: { jobId: 'window-job', status: 'IN_PROGRESS', versionNumber: 2 },
      });
    }
    expect(mostInProgress).toBeLessThanOrEqual(1);
    // Requests did queue for the window (else this test would show nothing about it).
    expect(mostWaiting).toBeGreaterThan(0);
    expect(t.server.devicePlane.broker.requestWindow).toEqual({ active: 0, queued: 0 });
    const job = await iot.send(new DescribeJobCommand({ jobId: 'window-job' }));
    expect(job.job?.jobProcessDetails?.numberOfSucceededThings).toBe(DEVICES);
  });
});
