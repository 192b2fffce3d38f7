import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CreateJobCommand, DescribeJobExecutionCommand, type IoTClient } from '@aws-sdk/client-iot';
import https from 'node:https';
import type { TLSSocket } from 'node:tls';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { portOf, connectDevice, Inbox, provisionDevice, request, type Device } from '../helpers/devices.js';
import { DIALECTS } from '../helpers/postgres.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** mqtt.js over TLS with the device's certificate; `version` 5 speaks MQTT 5. */
function connect(url: string, dev: Device, options: IClientOptions = {}): Promise<MqttClient> {
  return mqtt.connectAsync(url, {
    clientId: dev.thingName,
    cert: dev.cert,
    key: dev.key,
    ca: dev.ca,
    reconnectPeriod: 0,
    connectTimeout: 10_000,
    ...options,
  });
}

/** Resolves with how the connection ended (DISCONNECT reason code, error or close). */
function ended(client: MqttClient): Promise<{ reasonCode?: number; error?: string }> {
  return new Promise((resolve) => {
    client.once('disconnect', (packet) => resolve({ reasonCode: packet.reasonCode ?? 0 }));
    client.once('error', (err) => resolve({ error: err.message }));
    client.once('close', () => resolve({}));
  });
}

describe.each(DIALECTS)('device interoperability on %s', (dialect) => {
  let t: TestServer;
  let iot: IoTClient;
  const clients: MqttClient[] = [];
  const thingArn = (name: string): string => t.server.services.ctx.arns.thing(name);
  const createJob = (jobId: string, thing: string, document: object = { op: jobId }) =>
    iot.send(new CreateJobCommand({ jobId, targets: [thingArn(thing)], document: JSON.stringify(document) }));
  const track = (c: MqttClient): MqttClient => {
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    t = await startTestServer({ dialect });
    iot = t.iot();
  });
  afterAll(async () => {
    for (const c of clients) c.end(true);
    await t?.stop();
  });

  describe('MQTT 5', () => {
    it('does every jobs operation, echoes correlation data and answers on a response topic', async () => {
      const dev = await provisionDevice(t, iot, `v5-${dialect}`);
      const base = `$aws/things/${dev.thingName}/jobs`;
      const client = track(await connect(t.server.endpoints.mqtt!, dev, { protocolVersion: 5 }));
      // The CONNACK tells a v5 client the largest packet it may send.
      const maxPacket = (client as unknown as { connackPacket?: { properties?: { maximumPacketSize?: number } } })
        .connackPacket?.properties?.maximumPacketSize;
      expect(maxPacket).toBeGreaterThan(128 * 1024);
      const inbox = new Inbox(client);
      const props: Record<string, Buffer | undefined> = {};
      client.on('message', (topic, _payload, packet) => {
        props[topic] = packet.properties?.correlationData as Buffer | undefined;
      });
      await client.subscribeAsync(`${base}/notify-next`, { qos: 1 });

      await createJob(`v5-a-${dialect}`, dev.thingName);
      const notified = await inbox.next(`${base}/notify-next`);
      expect(notified.payload).toMatchObject({ execution: { jobId: `v5-a-${dialect}`, status: 'QUEUED' } });

      expect((await request(client, inbox, `${base}/get`, { clientToken: 'g' })).payload).toMatchObject({
        clientToken: 'g',
        queuedJobs: [{ jobId: `v5-a-${dialect}` }],
      });
      // Correlation data comes back on the reply (MQTT 5.0 4.10).
      const from = inbox.messages.length;
      await client.publishAsync(`${base}/start-next`, '{}', {
        qos: 1,
        properties: { correlationData: Buffer.from('corr-1') },
      });
      const started = await inbox.next(`${base}/start-next/accepted`, from);
      expect(started.payload).toMatchObject({ execution: { jobId: `v5-a-${dialect}`, status: 'IN_PROGRESS' } });
      expect(props[`${base}/start-next/accepted`]?.toString()).toBe('corr-1');
      expect((await request(client, inbox, `${base}/$next/get`, {})).payload).toMatchObject({
        execution: { jobId: `v5-a-${dialect}`, versionNumber: 2 },
      });

      // A request that names a response topic is answered there, on this connection alone.
      const replyTopic = `replies/${dev.thingName}/update`;
      const at = inbox.messages.length;
      await client.publishAsync(
        `${base}/v5-a-${dialect}/update`,
        JSON.stringify({ status: 'SUCCEEDED', expectedVersion: 2, includeJobExecutionState: true }),
        { qos: 1, properties: { responseTopic: replyTopic, correlationData: Buffer.from('corr-2') } },
      );
      const reply = await inbox.next(replyTopic, at);
      expect(reply.payload).toMatchObject({ executionState: { status: 'SUCCEEDED', versionNumber: 3 } });
      expect(props[replyTopic]?.toString()).toBe('corr-2');
      expect(inbox.messages.slice(at).filter((m) => m.topic.endsWith('/update/accepted'))).toEqual([]);
    });

    it('answers another thing’s topics with reason codes and keeps the connection', async () => {
      const dev = await provisionDevice(t, iot, `v5-iso-${dialect}`);
      await provisionDevice(t, iot, `v5-other-${dialect}`);
      const other = `$aws/things/v5-other-${dialect}/jobs`;
      const client = track(await connect(t.server.endpoints.mqtt!, dev, { protocolVersion: 5 }));
      const suback = await client.subscribeAsync(`${other}/notify-next`, { qos: 1 }).then(
        () => undefined,
        (err: { packet?: { granted?: number[] } }) => err.packet?.granted,
      );
      expect(suback).toEqual([0x87]); // Not authorized
      const errors: string[] = [];
      client.on('error', (err) => errors.push(err.message));
      // A QoS 1 publish to another thing's jobs is answered PUBACK 0x87, not executed.
      const puback = await new Promise<{ reasonCode?: number }>((resolve) =>
        client.publish(`${other}/start-next`, '{}', { qos: 1 }, (err, packet) =>
          resolve({
            reasonCode:
              (err as { code?: number } | undefined)?.code ??
              (packet as { reasonCode?: number } | undefined)?.reasonCode,
          }),
        ),
      );
      expect(puback.reasonCode).toBe(0x87);
      expect(client.connected).toBe(true);
      const inbox = new Inbox(client);
      const own = `$aws/things/${dev.thingName}/jobs`;
      expect((await request(client, inbox, `${own}/get`, {})).topic).toBe(`${own}/get/accepted`);
    });
  });

  describe('malformed job ids in topics', () => {
    it('answers a job id outside the alphabet with InvalidRequest and an empty one with InvalidTopic', async () => {
      const dev = await provisionDevice(t, iot, `badid-${dialect}`);
      const base = `$aws/things/${dev.thingName}/jobs`;
      const client = track(await connectDevice(t, dev, dev.thingName));
      const inbox = new Inbox(client);
      for (const id of ['bad id!', 'x'.repeat(65), 'é']) {
        const reply = await request(client, inbox, `${base}/${id}/get`, { clientToken: 'c' });
        expect(reply.topic).toBe(`${base}/${id}/get/rejected`);
        expect(reply.payload).toMatchObject({ code: 'InvalidRequest', clientToken: 'c' });
      }
      const empty = await request(client, inbox, `${base}//get`, {});
      expect(empty.payload).toMatchObject({ code: 'InvalidTopic' });
    });
  });

  describe('payload limit (128 KiB, as AWS IoT)', () => {
    it('takes 128 KiB, closes the connection for more (MQTT 5: DISCONNECT 0x95), and others carry on', async () => {
      const big = await provisionDevice(t, iot, `big-${dialect}`);
      const calm = await provisionDevice(t, iot, `calm-${dialect}`);
      const calmClient = track(await connectDevice(t, calm, calm.thingName));
      const calmInbox = new Inbox(calmClient);
      const calmBase = `$aws/things/${calm.thingName}/jobs`;
      const base = `$aws/things/${big.thingName}/jobs`;

      // Exactly 128 KiB is a message like any other (here: not JSON, so InvalidJson).
      const v3 = track(await connectDevice(t, big, big.thingName));
      const v3Inbox = new Inbox(v3);
      const limit = await request(v3, v3Inbox, `${base}/get`, Buffer.alloc(128 * 1024, 0x20).toString());
      expect(limit.payload).toMatchObject({ code: 'InvalidJson' });
      // One byte more: MQTT 3.1.1 has no way to say why, so the connection closes.
      const v3End = ended(v3);
      v3.publish(`${base}/get`, Buffer.alloc(128 * 1024 + 1, 0x20), { qos: 1 });
      await v3End;
      expect(v3.connected).toBe(false);

      const v5 = track(await connect(t.server.endpoints.mqtt!, big, { protocolVersion: 5 }));
      const v5End = ended(v5);
      // 20 MB: refused from its fixed header on, never buffered whole.
      v5.publish(`${base}/get`, Buffer.alloc(20 * 1024 * 1024, 0x20), { qos: 0 });
      // Meanwhile another device is served.
      expect((await request(calmClient, calmInbox, `${calmBase}/get`, {})).topic).toBe(`${calmBase}/get/accepted`);
      expect(await v5End).toMatchObject({ reasonCode: 0x95 });
    });
  });

  describe('statusDetails as device software sends them', () => {
    it('takes newlines, tabs and carriage returns over MQTT and HTTPS; keeps the length and count limits', async () => {
      const dev = await provisionDevice(t, iot, `dc-${dialect}`);
      const base = `$aws/things/${dev.thingName}/jobs`;
      const client = track(await connectDevice(t, dev, dev.thingName));
      const inbox = new Inbox(client);
      await createJob(`dc-a-${dialect}`, dev.thingName);
      await request(client, inbox, `${base}/start-next`, {});
      const stdout = 'line 1\nline 2\r\n\tindented\n';
      const ok = await request(client, inbox, `${base}/dc-a-${dialect}/update`, {
        status: 'IN_PROGRESS',
        statusDetails: { reason: 'running', stdout, stderr: 'warn\n' },
      });
      expect(ok.topic).toBe(`${base}/dc-a-${dialect}/update/accepted`);
      const described = await iot.send(
        new DescribeJobExecutionCommand({ jobId: `dc-a-${dialect}`, thingName: dev.thingName }),
      );
      expect(described.execution?.statusDetails?.detailsMap).toEqual({ reason: 'running', stdout, stderr: 'warn\n' });

      const tooLong = await request(client, inbox, `${base}/dc-a-${dialect}/update`, {
        status: 'IN_PROGRESS',
        statusDetails: { stdout: 'x'.repeat(1025) },
      });
      expect(tooLong.payload).toMatchObject({ code: 'InvalidRequest' });
      expect(tooLong.payload.message).toMatch(/statusDetails\.stdout.*1024/);
      const tooMany = await request(client, inbox, `${base}/dc-a-${dialect}/update`, {
        status: 'IN_PROGRESS',
        statusDetails: Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, 'v'])),
      });
      expect(tooMany.payload).toMatchObject({ code: 'InvalidRequest' });

      // The same over the device HTTPS API (client certificate).
      const body = JSON.stringify({ status: 'SUCCEEDED', statusDetails: { stdout: 'done\n' } });
      const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = https.request(
          `${t.server.endpoints.deviceHttps}/things/${dev.thingName}/jobs/dc-a-${dialect}`,
          { method: 'POST', cert: dev.cert, key: dev.key, ca: dev.ca, headers: { 'content-type': 'application/json' } },
          (r) => {
            let text = '';
            r.on('data', (c: Buffer) => (text += c.toString()));
            r.on('end', () => resolve({ status: r.statusCode ?? 0, body: text }));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
      expect(res.status).toBe(200);
      const after = await iot.send(
        new DescribeJobExecutionCommand({ jobId: `dc-a-${dialect}`, thingName: dev.thingName }),
      );
      expect(after.execution).toMatchObject({
        status: 'SUCCEEDED',
        statusDetails: { detailsMap: { stdout: 'done\n' } },
      });
    });
  });

  describe('one device port, told apart by ALPN (AWS IoT port 443)', () => {
    it('speaks MQTT for x-amzn-mqtt-ca and HTTPS for x-amzn-http-ca, http/1.1 or none', async () => {
      const dev = await provisionDevice(t, iot, `alpn-${dialect}`);
      const base = `$aws/things/${dev.thingName}/jobs`;
      const port = portOf(t.server.endpoints.deviceHttps!);
      const client = track(
        await connect(`mqtts://127.0.0.1:${port}`, dev, { ALPNProtocols: ['x-amzn-mqtt-ca'], protocolVersion: 4 }),
      );
      const inbox = new Inbox(client);
      await createJob(`alpn-a-${dialect}`, dev.thingName);
      const started = await request(client, inbox, `${base}/start-next`, {});
      expect(started.payload).toMatchObject({ execution: { jobId: `alpn-a-${dialect}`, status: 'IN_PROGRESS' } });

      // MQTT 5 over ALPN too.
      const v5 = track(
        await connect(`mqtts://127.0.0.1:${port}`, dev, {
          ALPNProtocols: ['x-amzn-mqtt-ca'],
          protocolVersion: 5,
          clientId: `${dev.thingName}`,
        }),
      );
      const v5Inbox = new Inbox(v5);
      expect((await request(v5, v5Inbox, `${base}/get`, {})).payload).toMatchObject({
        inProgressJobs: [{ jobId: `alpn-a-${dialect}` }],
      });

      const get = (alpn: string[] | undefined): Promise<{ status: number; protocol: string | false | null }> =>
        new Promise((resolve, reject) => {
          const req = https.get(
            `https://127.0.0.1:${port}/things/${dev.thingName}/jobs`,
            { cert: dev.cert, key: dev.key, ca: dev.ca, ...(alpn && { ALPNProtocols: alpn }), agent: false },
            (r) => {
              r.resume();
              const protocol = (r.socket as TLSSocket).alpnProtocol;
              r.on('end', () => resolve({ status: r.statusCode ?? 0, protocol }));
            },
          );
          req.on('error', reject);
        });
      expect(await get(['x-amzn-http-ca'])).toEqual({ status: 200, protocol: 'x-amzn-http-ca' });
      expect(await get(['h2', 'http/1.1'])).toEqual({ status: 200, protocol: 'http/1.1' });
      expect(await get(undefined)).toEqual({ status: 200, protocol: false });
    });

    it('refuses MQTT over ALPN without a trusted client certificate', async () => {
      const dev = await provisionDevice(t, iot, `alpn-nocert-${dialect}`);
      const port = portOf(t.server.endpoints.deviceHttps!);
      const attempt = mqtt.connect(`mqtts://127.0.0.1:${port}`, {
        clientId: dev.thingName,
        ca: dev.ca,
        ALPNProtocols: ['x-amzn-mqtt-ca'],
        reconnectPeriod: 0,
        connectTimeout: 5000,
      });
      const outcome = await new Promise<string>((resolve) => {
        attempt.once('connect', () => resolve('connected'));
        attempt.once('error', (err) => resolve(err.message));
        attempt.once('close', () => resolve('closed'));
      });
      attempt.end(true);
      expect(outcome).not.toBe('connected');
    });
  });
});
