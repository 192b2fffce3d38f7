import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import {
  AttachThingPrincipalCommand,
  CreateJobCommand,
  CreateKeysAndCertificateCommand,
  CreateThingCommand,
  CreateThingGroupCommand,
  AddThingToThingGroupCommand,
  DescribeJobExecutionCommand,
  RegisterCACertificateCommand,
  RegisterCertificateCommand,
  type IoTClient,
  CancelJobExecutionCommand,
} from '@aws-sdk/client-iot';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFleetCa, issueDeviceCertificate } from '../../src/agent/fleet-ca.js';
import { Inbox, request } from '../helpers/devices.js';
import { clusterEngines, REDIS_URL, startReplica, type ClusterEngines, type Replica } from '../helpers/cluster.js';
import { TEST_REGION } from '../helpers/server.js';

const thingArn = (name: string): string => `arn:aws:iot:us-east-1:000000000000:thing/${name}`;
const groupArn = (name: string): string => `arn:aws:iot:us-east-1:000000000000:thinggroup/${name}`;

/**
 * Issue 10, item 1: three replicas (in this process, each with its own data dir and ports) on one
 * PostgreSQL database, one S3-compatible store and one Redis. Devices on one replica get what the
 * API calls and the notifiers of the others cause; each replica answers its own devices.
 */
describe('three replicas joined through Redis', () => {
  let e: ClusterEngines;
  let r: Replica[];
  let iot: IoTClient;
  let cert: { pem: string; key: string; arn: string };
  const clients: MqttClient[] = [];

  beforeAll(async () => {
    e = await clusterEngines();
    // All three start at once on a fresh database: migrations, the CA and the console admin race.
    r = await Promise.all([0, 1, 2].map(() => startReplica(e.shared)));
    iot = r[0]!.iot();
    const keys = await iot.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
    cert = { pem: keys.certificatePem!, key: keys.keyPair!.PrivateKey!, arn: keys.certificateArn! };
  }, 120_000);
  afterAll(async () => {
    for (const c of clients) c.end(true);
    for (const x of r ?? []) await x.stop();
    await e?.close();
  });

  const ca = (x: Replica) => readFileSync(x.server.endpoints.caCertificate!, 'utf8');
  async function thing(name: string, group?: string): Promise<void> {
    await iot.send(new CreateThingCommand({ thingName: name }));
    await iot.send(new AttachThingPrincipalCommand({ thingName: name, principal: cert.arn }));
    if (group) await iot.send(new AddThingToThingGroupCommand({ thingGroupName: group, thingName: name }));
  }
  async function connect(x: Replica, name: string, options: IClientOptions = {}) {
    const client = await mqtt.connectAsync(x.server.endpoints.mqtt!, {
      clientId: name,
      cert: cert.pem,
      key: cert.key,
      ca: ca(x),
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 10_000,
      ...options,
    });
    clients.push(client);
    return { client, inbox: new Inbox(client), base: `$aws/things/${name}/jobs` };
  }
  /** Every replica's notifier has nothing left to publish. */
  const drained = () => Promise.all(r.map((x) => x.server.devicePlane.notifier.drain()));

  it('share one CA, the admin credentials and the object store', async () => {
    const pems = r.map(ca);
    expect(new Set(pems).size).toBe(1);
    const caCert = new X509Certificate(pems[0]!);
    expect(new X509Certificate(cert.pem).verify(caCert.publicKey)).toBe(true);
    for (const x of r) expect(x.server.admin.accessKeyId).toBe(e.shared.env.FLEETJOBS_ACCESS_KEY_ID);
    // One console admin, created by one of the replicas that started together: only it prints a password.
    expect(r.filter((x) => x.server.consoleAdmin.generatedPassword !== undefined)).toHaveLength(1);
    const s3 = (x: Replica) =>
      new S3Client({
        endpoint: x.endpoint,
        region: TEST_REGION,
        forcePathStyle: true,
        maxAttempts: 1,
        credentials: {
          accessKeyId: e.shared.env.FLEETJOBS_ACCESS_KEY_ID!,
          secretAccessKey: e.shared.env.FLEETJOBS_SECRET_ACCESS_KEY!,
        },
      });
    const [a, b] = [s3(r[0]!), s3(r[1]!)];
    await a.send(new CreateBucketCommand({ Bucket: 'firmware' }));
    await a.send(new PutObjectCommand({ Bucket: 'firmware', Key: 'x', Body: 'from A' }));
    const got = await b.send(new GetObjectCommand({ Bucket: 'firmware', Key: 'x' }));
    expect(await got.Body!.transformToString()).toBe('from A');
    a.destroy();
    b.destroy();
  });

  it('delivers a notify-next caused on replica B to a device on replica A; requests are answered once, on A', async () => {
    await thing('x-1');
    const d = await connect(r[0]!, 'x-1');
    await d.client.subscribeAsync(`${d.base}/#`, { qos: 1 });
    // Watch Redis: notifications cross it, device requests must not.
    const spy = new Redis(REDIS_URL);
    const seen: string[] = [];
    spy.on('pmessage', (_p: string, channel: string) => seen.push(channel.slice(e.prefix.length + 1)));
    await spy.psubscribe(`${e.prefix}/$aws/things/x-1/*`);

    const from = d.inbox.messages.length;
    await r[1]!.iot().send(new CreateJobCommand({ jobId: 'cross-1', targets: [thingArn('x-1')], document: '{}' }));
    const next = await d.inbox.next(`${d.base}/notify-next`, from);
    expect(next.payload).toMatchObject({ execution: { jobId: 'cross-1', status: 'QUEUED' } });

    const reply = await request(d.client, d.inbox, `${d.base}/start-next`, { clientToken: 'once' });
    expect(reply.topic).toBe(`${d.base}/start-next/accepted`);
    await request(d.client, d.inbox, `${d.base}/get`, { clientToken: 'barrier' });
    await drained();
    await request(d.client, d.inbox, `${d.base}/get`, { clientToken: 'barrier-2' });
    // The reply came once and the request itself reached no subscriber, not even its sender.
    expect(d.inbox.on(`${d.base}/start-next/accepted`)).toHaveLength(1);
    expect(d.inbox.on(`${d.base}/start-next`)).toHaveLength(0);
    expect(d.inbox.on(`${d.base}/notify-next`)).toHaveLength(1);
    expect(seen).toContain(`$aws/things/x-1/jobs/notify-next`);
    expect(seen.filter((t) => /\/(start-next|get)(\/|$)/.test(t))).toEqual([]);
    spy.disconnect();
    const ex = await r[2]!.iot().send(new DescribeJobExecutionCommand({ jobId: 'cross-1', thingName: 'x-1' }));
    expect(ex.execution?.status).toBe('IN_PROGRESS');
  });

  it('serves MQTT 5 and MQTT over ALPN on the device HTTPS port across replicas; nothing is pushed on subscribe', async () => {
    await thing('x-5');
    await r[1]!.iot().send(new CreateJobCommand({ jobId: 'cross-5a', targets: [thingArn('x-5')], document: '{}' }));
    await drained();
    // MQTT 5 on replica A's device HTTPS port, as the AWS IoT Device Client connects to 443.
    const port = Number(new URL(r[0]!.server.endpoints.deviceHttps!).port);
    const alpn = await mqtt.connectAsync(`mqtts://127.0.0.1:${port}`, {
      clientId: 'x-5',
      cert: cert.pem,
      key: cert.key,
      ca: ca(r[0]!),
      protocolVersion: 5,
      ALPNProtocols: ['x-amzn-mqtt-ca'],
      reconnectPeriod: 0,
    });
    clients.push(alpn);
    const inbox = new Inbox(alpn);
    const base = '$aws/things/x-5/jobs';
    await alpn.subscribeAsync(`${base}/notify-next`, { qos: 1 });
    // The job queued before it connected is learnt by asking, not pushed.
    const head = await request(alpn, inbox, `${base}/$next/get`, {});
    expect(head.payload).toMatchObject({ execution: { jobId: 'cross-5a', status: 'QUEUED' } });
    expect(inbox.on(`${base}/notify-next`)).toEqual([]);
    await request(alpn, inbox, `${base}/start-next`, {});
    // A change made through replica C reaches it: the head moves when cross-5a ends.
    await r[2]!.iot().send(new CreateJobCommand({ jobId: 'cross-5b', targets: [thingArn('x-5')], document: '{}' }));
    const from = inbox.messages.length;
    await r[2]!.iot().send(new CancelJobExecutionCommand({ jobId: 'cross-5a', thingName: 'x-5', force: true }));
    const next = await inbox.next(`${base}/notify-next`, from);
    expect(next.payload).toMatchObject({ execution: { jobId: 'cross-5b', status: 'QUEUED' } });
  });

  it('keeps only the newer connection of a client id connected to two replicas', async () => {
    await thing('x-2');
    const first = await connect(r[0]!, 'x-2');
    const closed = new Promise<void>((resolve) => first.client.once('close', () => resolve()));
    const second = await connect(r[2]!, 'x-2');
    await closed;
    expect(second.client.connected).toBe(true);
  });

  it('announces each change of a fleet spread over the replicas exactly once', async () => {
    await iot.send(new CreateThingGroupCommand({ thingGroupName: 'spread' }));
    const names = Array.from({ length: 30 }, (_, i) => `s-${i}`);
    for (const n of names) await thing(n, 'spread');
    const devices = await Promise.all(names.map((n, i) => connect(r[i % 3]!, n)));
    for (const d of devices) await d.client.subscribeAsync([`${d.base}/notify`, `${d.base}/notify-next`], { qos: 1 });
    await r[2]!.iot().send(new CreateJobCommand({ jobId: 'spread-1', targets: [groupArn('spread')], document: '{}' }));
    await Promise.all(devices.map((d) => d.inbox.next(`${d.base}/notify-next`, 0, 20_000)));
    await drained();
    // A request round trip on each connection comes back after anything published before it.
    await Promise.all(devices.map((d) => request(d.client, d.inbox, `${d.base}/get`, { clientToken: 'b' })));
    for (const d of devices) {
      expect(d.inbox.on(`${d.base}/notify-next`)).toHaveLength(1);
      expect(d.inbox.on(`${d.base}/notify`)).toHaveLength(1);
    }
  });

  it('keeps a persistent session in Redis: QoS 1 notifications queued while offline reach the device on another replica', async () => {
    await thing('x-3');
    const d = await connect(r[0]!, 'x-3', { clean: false });
    await d.client.subscribeAsync(`${d.base}/notify-next`, { qos: 1 });
    await d.client.endAsync();
    await r[1]!.iot().send(new CreateJobCommand({ jobId: 'offline-1', targets: [thingArn('x-3')], document: '{}' }));
    await drained();
    // No SUBSCRIBE this time (so no replay on subscribe): only the session can bring it.
    const back = await connect(r[2]!, 'x-3', { clean: false });
    const next = await back.inbox.next(`${back.base}/notify-next`);
    expect(next.payload).toMatchObject({ execution: { jobId: 'offline-1' } });
  });

  it('trusts a CA registered through one replica on the others (they poll the shared database)', async () => {
    const own = await createFleetCa('cluster-byo', Date.now());
    await r[0]!.iot().send(new RegisterCACertificateCommand({ caCertificate: own.certificatePem, setAsActive: true }));
    const issued = await issueDeviceCertificate(own, 'x-4', Date.now());
    const reg = await iot.send(
      new RegisterCertificateCommand({
        certificatePem: issued.cert,
        caCertificatePem: own.certificatePem,
        status: 'ACTIVE',
      }),
    );
    await iot.send(new CreateThingCommand({ thingName: 'x-4' }));
    await iot.send(new AttachThingPrincipalCommand({ thingName: 'x-4', principal: reg.certificateArn! }));
    /** Resolves with the connected client, or undefined when the replica refuses it (TLS or CONNACK). */
    const connectTo = (x: Replica) =>
      new Promise<MqttClient | undefined>((resolve) => {
        const c = mqtt.connect(x.server.endpoints.mqtt!, {
          clientId: 'x-4',
          cert: issued.cert,
          key: issued.key,
          ca: ca(x),
          protocolVersion: 4,
          reconnectPeriod: 0,
          connectTimeout: 5_000,
        });
        c.once('connect', () => resolve(c));
        const refused = () => {
          c.end(true);
          resolve(undefined);
        };
        c.once('error', refused);
        c.once('close', refused);
      });
    // Replica 0 reloads at once; replica 2 within its poll interval (10 s).
    const first = await connectTo(r[0]!);
    expect(first?.connected).toBe(true);
    first!.end(true);
    const deadline = Date.now() + 25_000;
    let onOther: MqttClient | undefined;
    while (!onOther && Date.now() < deadline) {
      onOther = await connectTo(r[2]!);
      if (!onOther) await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(onOther?.connected).toBe(true);
    clients.push(onOther!);
  }, 40_000);

  it('refuses to start a replica whose signing key cannot unseal the shared CA', async () => {
    const other = {
      ...e.shared,
      env: { ...e.shared.env, FLEETJOBS_SIGNING_KEY: Buffer.alloc(32, 7).toString('base64') },
    };
    await expect(startReplica(other)).rejects.toThrow(/encrypted with signing key .* FLEETJOBS_SIGNING_KEY/);
    Object.assign(process.env, e.shared.env);
  });
});
