import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AttachThingPrincipalCommand,
  CreateJobCommand,
  CreateThingCommand,
  DeleteCertificateCommand,
  DescribeJobExecutionCommand,
  DetachThingPrincipalCommand,
  RegisterCACertificateCommand,
  RegisterCertificateCommand,
  UpdateCACertificateCommand,
  UpdateCertificateCommand,
  type IoTClient,
} from '@aws-sdk/client-iot';
import type { MqttClient } from 'mqtt';
import { LocalCa, newRsaKeyPair } from '../../src/certificates/local-ca.js';
import { connectDevice, connectRefusal, Inbox, provisionDevice, request, type Device } from '../helpers/devices.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const thingArn = (name: string): string => `arn:aws:iot:us-east-1:000000000000:thing/${name}`;

/** A certificate and key from some CA, for a device the server has not provisioned. */
async function issuedBy(ca: LocalCa, caPem: string): Promise<Pick<Device, 'cert' | 'key' | 'ca'>> {
  const keys = await newRsaKeyPair();
  return {
    cert: await ca.issue({ publicKey: keys.publicKey, commonName: 'device' }),
    key: keys.privateKeyPem,
    ca: caPem,
  };
}

const closed = (client: MqttClient): Promise<void> =>
  client.disconnected ? Promise.resolve() : new Promise((resolve) => client.once('close', () => resolve()));

describe('MQTT connect and topic authorization', () => {
  let t: TestServer;
  let iot: IoTClient;
  let a: Device;
  let b: Device;
  const dirs: string[] = [];
  const clients: MqttClient[] = [];
  const connect = async (d: Pick<Device, 'cert' | 'key' | 'ca'>, id: string): Promise<MqttClient> => {
    const c = await connectDevice(t, d, id);
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    t = await startTestServer({ flags: { deviceTopics: 'telemetry/{thing}/#,fleet/broadcast' } });
    iot = t.iot();
    a = await provisionDevice(t, iot, 'dev-a');
    b = await provisionDevice(t, iot, 'dev-b');
  });
  afterAll(async () => {
    for (const c of clients) c.end(true);
    await t?.stop();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('accepts an ACTIVE certificate attached to the thing named by the client id', async () => {
    const c = await connect(a, 'dev-a');
    expect(c.connected).toBe(true);
    await c.endAsync();
  });

  it('refuses a client id that is not a thing the certificate is attached to', async () => {
    expect(await connectRefusal(t, a, 'dev-b')).toMatch(/Not authorized/i);
    expect(await connectRefusal(t, a, 'no-such-thing')).toMatch(/Not authorized/i);
  });

  it('refuses INACTIVE and REVOKED certificates', async () => {
    const inactive = await provisionDevice(t, iot, 'dev-inactive', false);
    expect(await connectRefusal(t, inactive, 'dev-inactive')).toMatch(/Not authorized/i);
    const revoked = await provisionDevice(t, iot, 'dev-revoked');
    await iot.send(new UpdateCertificateCommand({ certificateId: revoked.certificateId, newStatus: 'REVOKED' }));
    expect(await connectRefusal(t, revoked, 'dev-revoked')).toMatch(/Not authorized/i);
  });

  it('refuses a certificate attached to no thing', async () => {
    const d = await provisionDevice(t, iot, 'dev-detached');
    await iot.send(new DetachThingPrincipalCommand({ thingName: 'dev-detached', principal: d.certificateArn }));
    expect(await connectRefusal(t, d, 'dev-detached')).toMatch(/Not authorized/i);
  });

  it('refuses a certificate our CA signed that is not registered (deleted)', async () => {
    const d = await provisionDevice(t, iot, 'dev-deleted');
    await iot.send(new DetachThingPrincipalCommand({ thingName: 'dev-deleted', principal: d.certificateArn }));
    await iot.send(new UpdateCertificateCommand({ certificateId: d.certificateId, newStatus: 'INACTIVE' }));
    await iot.send(new DeleteCertificateCommand({ certificateId: d.certificateId }));
    expect(await connectRefusal(t, d, 'dev-deleted')).toMatch(/Not authorized/i);
    // Signed by the server's own CA key, never registered at all.
    const unregistered = await issuedBy(await LocalCa.open(t.dataDir), a.ca);
    expect(await connectRefusal(t, unregistered, 'dev-a')).toMatch(/Not authorized/i);
  });

  it('refuses at the TLS handshake a certificate from a CA nobody registered, and no certificate at all', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'foreign-ca-'));
    dirs.push(dir);
    const foreign = await LocalCa.open(dir, 'someone else');
    const msg = await connectRefusal(t, await issuedBy(foreign, a.ca), 'dev-a');
    expect(msg).not.toMatch(/Not authorized/i);
    expect(
      await connectRefusal(t, { ca: a.ca, cert: undefined as never, key: undefined as never }, 'dev-a'),
    ).toBeTruthy();
  });

  it("accepts devices of a user's registered CA while it is ACTIVE", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'user-ca-'));
    dirs.push(dir);
    const userCa = await LocalCa.open(dir, 'user CA');
    const device = await issuedBy(userCa, a.ca);
    const ca = await iot.send(
      new RegisterCACertificateCommand({ caCertificate: userCa.certificatePem, setAsActive: true }),
    );
    const reg = await iot.send(new RegisterCertificateCommand({ certificatePem: device.cert, status: 'ACTIVE' }));
    await iot.send(new CreateThingCommand({ thingName: 'dev-user-ca' }));
    await iot.send(new AttachThingPrincipalCommand({ thingName: 'dev-user-ca', principal: reg.certificateArn }));
    const c = await connect(device, 'dev-user-ca');
    expect(c.connected).toBe(true);
    await iot.send(new UpdateCACertificateCommand({ certificateId: ca.certificateId, newStatus: 'INACTIVE' }));
    // The live connection is dropped and a new one fails the handshake.
    await closed(c);
    expect(await connectRefusal(t, device, 'dev-user-ca')).toBeTruthy();
  });

  it('drops a connected device when its certificate is deactivated or detached', async () => {
    const d = await provisionDevice(t, iot, 'dev-drop');
    let c = await connect(d, 'dev-drop');
    await iot.send(new UpdateCertificateCommand({ certificateId: d.certificateId, newStatus: 'INACTIVE' }));
    await closed(c);
    await iot.send(new UpdateCertificateCommand({ certificateId: d.certificateId, newStatus: 'ACTIVE' }));
    c = await connect(d, 'dev-drop');
    await iot.send(new DetachThingPrincipalCommand({ thingName: 'dev-drop', principal: d.certificateArn }));
    await closed(c);
  });

  describe("a device cannot read, start or update another thing's jobs", () => {
    let ca: MqttClient;
    let inbox: Inbox;
    beforeAll(async () => {
      await iot.send(
        new CreateJobCommand({
          jobId: 'job-b',
          targets: [thingArn('dev-b')],
          document: JSON.stringify({ secret: 'b' }),
        }),
      );
      ca = await connect(a, 'dev-a');
      inbox = new Inbox(ca);
    });

    it.each([
      '$aws/things/dev-b/jobs/notify-next',
      '$aws/things/dev-b/jobs/#',
      '$aws/things/+/jobs/notify-next',
      '$aws/things/+/jobs/#',
      '$aws/things/+/#',
      '$aws/things/#',
      '$aws/#',
      '#',
      '+/things/dev-b/jobs/notify',
      '$aws/things/dev-a/#',
      '$aws/things/dev-a/shadow/update',
      'telemetry/dev-b/#',
      'telemetry/+/x',
      'fleet/#',
    ])('refuses the subscription %s (SUBACK 0x80)', async (filter) => {
      const err = (await ca.subscribeAsync(filter, { qos: 1 }).then(
        () => undefined,
        (e: unknown) => e,
      )) as { packet?: { granted?: number[] } } | undefined;
      expect(err?.packet?.granted).toEqual([128]);
      expect(ca.connected).toBe(true);
    });

    it('grants its own jobs topics (wildcards included) and the operator topics', async () => {
      for (const filter of [
        '$aws/things/dev-a/jobs/notify-next',
        '$aws/things/dev-a/jobs/#',
        '$aws/things/dev-a/jobs/+/update/accepted',
        'telemetry/dev-a/#',
        'fleet/broadcast',
      ]) {
        expect(await ca.subscribeAsync(filter, { qos: 1 })).toEqual([expect.objectContaining({ qos: 1 })]);
      }
      // Its own requests work and nothing of dev-b's leaks into its inbox.
      const reply = await request(ca, inbox, '$aws/things/dev-a/jobs/get', {});
      expect(reply.topic).toBe('$aws/things/dev-a/jobs/get/accepted');
      expect(inbox.messages.filter((m) => m.topic.includes('dev-b'))).toEqual([]);
    });

    it.each([
      ['$aws/things/dev-b/jobs/start-next', {}],
      ['$aws/things/dev-b/jobs/$next/get', {}],
      ['$aws/things/dev-b/jobs/job-b/get', {}],
      ['$aws/things/dev-b/jobs/job-b/update', { status: 'SUCCEEDED' }],
      ['$aws/things/dev-b/jobs/get', {}],
      ['$aws/things/dev-a/jobs/notify-next', {}],
      ['$aws/things/dev-a/jobs/get/accepted', {}],
      ['telemetry/dev-b/x', {}],
      ['anything/else', {}],
    ])('disconnects a device that publishes to %s, and the job of dev-b is untouched', async (topic, payload) => {
      const c = await connect(a, 'dev-a');
      c.publish(topic, JSON.stringify(payload), { qos: 1 });
      await closed(c);
      const e = await iot.send(new DescribeJobExecutionCommand({ jobId: 'job-b', thingName: 'dev-b' }));
      expect(e.execution?.status).toBe('QUEUED');
      expect(e.execution?.versionNumber).toBe(1);
    });

    it('lets a device publish to operator-allowed topics', async () => {
      const c = await connect(a, 'dev-a');
      const cb = await connect(b, 'dev-b');
      const ib = new Inbox(cb);
      await cb.subscribeAsync('fleet/broadcast', { qos: 1 });
      await c.publishAsync('telemetry/dev-a/temp', JSON.stringify({ t: 1 }), { qos: 1 });
      await c.publishAsync('fleet/broadcast', JSON.stringify({ hello: 'all' }), { qos: 1 });
      expect((await ib.next('fleet/broadcast')).payload).toEqual({ hello: 'all' });
      expect(c.connected).toBe(true);
    });
  });
});
