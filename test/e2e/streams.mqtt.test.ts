import { DeleteRolePolicyCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { CreateJobCommand, CreateStreamCommand, type IoTClient } from '@aws-sdk/client-iot';
import { createHash, randomBytes } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { decodeCbor, encodeCbor } from '../../src/protocols/mqtt/cbor.js';
import { connectDevice, portOf, provisionDevice, type Device } from '../helpers/devices.js';
import { DIALECTS } from '../helpers/postgres.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { allowRead, iotTrust, StreamFixture } from '../helpers/streams.js';

interface Reply {
  topic: string;
  raw: Buffer;
  body: Record<string, unknown>;
}

/** Every message a client gets, decoded as JSON or CBOR by the topic's last level. */
class RawInbox {
  readonly messages: Reply[] = [];
  private waiters: { match: (m: Reply) => boolean; resolve: (m: Reply) => void }[] = [];

  constructor(client: MqttClient) {
    client.on('message', (topic, raw) => {
      const body = (topic.endsWith('/cbor') ? decodeCbor(raw) : JSON.parse(raw.toString('utf8'))) as Record<
        string,
        unknown
      >;
      const m = { topic, raw, body };
      this.messages.push(m);
      this.waiters = this.waiters.filter((w) => (w.match(m) ? (w.resolve(m), false) : true));
    });
  }

  next(match: (m: Reply) => boolean, from: number): Promise<Reply> {
    const seen = this.messages.slice(from).find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no matching message')), 15_000);
      this.waiters.push({
        match,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
    });
  }
}

const closed = (client: MqttClient): Promise<void> =>
  client.disconnected ? Promise.resolve() : new Promise((resolve) => client.once('close', () => resolve()));

/**
 * MQTT-based file delivery (issue 20) with mqtt.js over TLS with client certificates. No FreeRTOS
 * device can run here: the CBOR requests are replayed as FreeRTOS's ota_mqtt.c/ota_cbor.c build
 * them (one block per request, a bitmap of the blocks still needed, client token "rdy"), and the
 * JSON ones as the developer guide and AWS's MQTT file streams library (MQTTFileDownloader.c) write them.
 */
describe.each(DIALECTS)('streams over MQTT on %s', (dialect) => {
  let t: TestServer;
  let clock: FakeClock;
  let iot: IoTClient;
  let fx: StreamFixture;
  let dev1: Device;
  let dev2: Device;
  let c1: MqttClient;
  let c2: MqttClient;
  let in1: RawInbox;
  let in2: RawInbox;
  const small = randomBytes(10_000);
  const big = randomBytes(6 * 1024 * 1024 + 123);
  const clients: MqttClient[] = [];
  const base = (thing: string, stream: string) => `$aws/things/${thing}/streams/${stream}`;

  /** Publishes one request and resolves with the replies: `count` data messages, or one description/rejection. */
  async function ask(
    client: MqttClient,
    inbox: RawInbox,
    topic: string,
    payload: unknown,
    count = 1,
  ): Promise<Reply[]> {
    const format = topic.endsWith('/cbor') ? 'cbor' : 'json';
    const body = Buffer.isBuffer(payload)
      ? payload
      : typeof payload === 'string'
        ? Buffer.from(payload)
        : format === 'cbor'
          ? encodeCbor(payload as Record<string, never>)
          : Buffer.from(JSON.stringify(payload));
    const prefix = topic.slice(0, topic.lastIndexOf('/', topic.lastIndexOf('/') - 1));
    const from = inbox.messages.length;
    await client.publishAsync(topic, body, { qos: 1 });
    const first = await inbox.next((m) => m.topic.startsWith(prefix) && !m.topic.includes('/get/'), from);
    if (first.topic.includes('/rejected/') || count === 1) return [first];
    const replies: Reply[] = [first];
    while (replies.length < count) {
      replies.push(await inbox.next((m) => m.topic === first.topic && !replies.includes(m), from));
    }
    return replies;
  }
  const rejected = async (client: MqttClient, inbox: RawInbox, topic: string, payload: unknown) => {
    const [reply] = await ask(client, inbox, topic, payload);
    expect(reply!.topic).toBe(topic.replace(/\/(get|describe|[a-z]+)\/(json|cbor)$/, '/rejected/$2'));
    return reply!.body;
  };

  beforeAll(async () => {
    clock = new FakeClock(Date.now());
    t = await startTestServer({ clock, dialect });
    iot = t.iot();
    fx = new StreamFixture(t);
    await fx.bucket('firmware');
    const smallVersion = await fx.put('firmware', 'small.bin', small);
    await fx.put('firmware', 'big.bin', big);
    await fx.put('firmware', 'latest.bin', Buffer.from('first'));
    const role = await fx.role('ota-stream', iotTrust(), allowRead('arn:aws:s3:::firmware/*'));
    await iot.send(
      new CreateStreamCommand({
        streamId: 'fw-stream',
        description: 'firmware 2.1',
        files: [
          { fileId: 0, s3Location: { bucket: 'firmware', key: 'small.bin', version: smallVersion } },
          { fileId: 3, s3Location: { bucket: 'firmware', key: 'big.bin' } },
        ],
        roleArn: role,
      }),
    );
    await iot.send(
      new CreateStreamCommand({
        streamId: 'latest-stream',
        files: [{ fileId: 0, s3Location: { bucket: 'firmware', key: 'latest.bin' } }],
        roleArn: role,
      }),
    );
    dev1 = await provisionDevice(t, iot, 'ota-dev-1');
    dev2 = await provisionDevice(t, iot, 'ota-dev-2');
    const thingArn = t.server.services.ctx.arns.thing('ota-dev-1');
    for (const stream of ['fw-stream', 'latest-stream']) {
      // spec 6.5: the FreeRTOS OTA job document names the stream in afr_ota.streamname.
      const document = { afr_ota: { protocols: ['MQTT'], streamname: stream, files: [{ fileid: 0, filesize: 1 }] } };
      await iot.send(
        new CreateJobCommand({ jobId: `job-${stream}`, targets: [thingArn], document: JSON.stringify(document) }),
      );
    }
    c1 = await connectDevice(t, dev1, 'ota-dev-1');
    c2 = await connectDevice(t, dev2, 'ota-dev-2');
    clients.push(c1, c2);
    in1 = new RawInbox(c1);
    in2 = new RawInbox(c2);
  });
  afterAll(async () => {
    for (const c of clients) c.end(true);
    fx?.destroy();
    await t?.stop();
  });

  it('describes a stream in JSON and CBOR to a device that did not subscribe', async () => {
    const [json] = await ask(c1, in1, `${base('ota-dev-1', 'fw-stream')}/describe/json`, { c: 'd-1' });
    expect(json!.topic).toBe(`${base('ota-dev-1', 'fw-stream')}/description/json`);
    expect(json!.body).toEqual({
      c: 'd-1',
      s: 1,
      d: 'firmware 2.1',
      r: [
        { f: 0, z: small.length },
        { f: 3, z: big.length },
      ],
    });
    const [cbor] = await ask(c1, in1, `${base('ota-dev-1', 'fw-stream')}/describe/cbor`, { c: 'd-2' });
    expect(cbor!.topic).toBe(`${base('ota-dev-1', 'fw-stream')}/description/cbor`);
    expect(cbor!.body).toMatchObject({
      c: 'd-2',
      s: 1,
      r: [
        { f: 0, z: small.length },
        { f: 3, z: big.length },
      ],
    });
    // An empty request is a describe without a client token.
    const [bare] = await ask(c1, in1, `${base('ota-dev-1', 'fw-stream')}/describe/json`, '');
    expect(bare!.body).not.toHaveProperty('c');
  });

  it('serves consecutive blocks in JSON, Base64 in "p", the last one short', async () => {
    const topic = `${base('ota-dev-1', 'fw-stream')}/get/json`;
    const replies = await ask(c1, in1, topic, { c: 'g-1', s: 1, f: 0, l: 1024, o: 0, n: 3 }, 3);
    expect(replies.map((r) => r.topic)).toEqual(Array(3).fill(`${base('ota-dev-1', 'fw-stream')}/data/json`));
    replies.forEach((r, i) => {
      expect(r.body).toMatchObject({ c: 'g-1', f: 0, l: 1024, i });
      expect(Buffer.from(r.body.p as string, 'base64')).toEqual(small.subarray(i * 1024, (i + 1) * 1024));
    });
    const [last] = await ask(c1, in1, topic, { f: 0, l: 1024, o: 9, n: 5 });
    expect(last!.body).toMatchObject({ f: 0, i: 9, l: small.length - 9 * 1024 });
    expect(last!.body).not.toHaveProperty('c');
    expect(Buffer.from(last!.body.p as string, 'base64')).toEqual(small.subarray(9 * 1024));
  });

  it('serves the blocks a bitmap names (the developer guide example) and caps a request at 128 KiB', async () => {
    const topic = `${base('ota-dev-1', 'fw-stream')}/get/json`;
    // Blocks 20, 21, 24 and 43; the file has 40 blocks of 256 bytes, so 43 is skipped.
    const replies = await ask(c1, in1, topic, { c: '1', s: 1, l: 256, f: 0, o: 20, n: 32, b: '0x130080' }, 3);
    expect(replies.map((r) => r.body.i)).toEqual([20, 21, 24]);
    for (const r of replies) {
      const i = r.body.i as number;
      expect(Buffer.from(r.body.p as string, 'base64')).toEqual(small.subarray(i * 256, (i + 1) * 256));
    }
    // 64 KiB blocks: "n" 5 still gives 2 (128 KiB); the device asks again for the rest.
    const capped = await ask(c1, in1, `${base('ota-dev-1', 'fw-stream')}/get/cbor`, { f: 3, l: 65536, n: 5 }, 2);
    expect(capped.map((r) => r.body.i)).toEqual([0, 1]);
    const more = in1.messages.slice(in1.messages.indexOf(capped[1]!) + 1).filter((m) => m.topic.endsWith('/data/cbor'));
    expect(more).toEqual([]);
  });

  it('serves a FreeRTOS OTA agent as ota_mqtt.c asks: CBOR, one block per request, the bitmap of blocks still needed', async () => {
    const topic = `${base('ota-dev-1', 'fw-stream')}/get/cbor`;
    // requestFileBlock_Mqtt: client token "rdy", file id, 4 KiB blocks (otaconfigLOG2_FILE_BLOCK_SIZE 12),
    // offset 0, the bitmap (1 = still needed, bits past the file cleared) and n = otaconfigMAX_NUM_BLOCKS_REQUEST (1).
    // 10,000 bytes are 3 blocks: bitmap 0x07; after block 0 arrives, 0x06; then 0x04.
    const got: Buffer[] = [];
    for (const bitmap of [0x07, 0x06, 0x04]) {
      const request = Buffer.from(
        `a6 6163 63726479 6166 00 616c 191000 616f 00 6162 41${bitmap.toString(16).padStart(2, '0')} 616e 01`.replace(
          / /g,
          '',
        ),
        'hex',
      );
      const [reply] = await ask(c1, in1, topic, request);
      expect(reply!.topic).toBe(`${base('ota-dev-1', 'fw-stream')}/data/cbor`);
      // OTA_CBOR_Decode_GetStreamResponseMessage reads "f", "i", "l" (integers) and "p" (a byte string).
      expect(reply!.body).toMatchObject({ c: 'rdy', f: 0, i: got.length });
      expect(reply!.body.p).toBeInstanceOf(Uint8Array);
      expect(reply!.body.l).toBe((reply!.body.p as Uint8Array).length);
      got.push(Buffer.from(reply!.body.p as Uint8Array));
    }
    expect(Buffer.concat(got)).toEqual(small);
  });

  it('answers every rejection code on .../rejected/<fmt>', async () => {
    const fw = base('ota-dev-1', 'fw-stream');
    const get = `${fw}/get/json`;
    expect(await rejected(c1, in1, get, 'not json')).toMatchObject({ o: 'InvalidJson' });
    expect(await rejected(c1, in1, `${fw}/get/cbor`, Buffer.from([0xff, 0x00]))).toMatchObject({ o: 'InvalidCbor' });
    expect(await rejected(c1, in1, get, { c: 'x', l: 256 })).toMatchObject({ o: 'InvalidRequest', c: 'x' });
    // A client token over 64 bytes is refused and not echoed.
    const long = await rejected(c1, in1, get, { c: 'x'.repeat(65), f: 0, l: 256 });
    expect(long).toMatchObject({ o: 'InvalidRequest' });
    expect(long).not.toHaveProperty('c');
    expect(await rejected(c1, in1, `${fw}/put/json`, {})).toMatchObject({ o: 'InvalidTopic' });
    expect(await rejected(c1, in1, get, { c: 'v', s: 7, f: 0, l: 256 })).toMatchObject({
      o: 'VersionMismatch',
      c: 'v',
    });
    expect(await rejected(c1, in1, get, { f: 9, l: 256 })).toMatchObject({ o: 'ResourceNotFound' });
    expect(await rejected(c1, in1, `${base('ota-dev-1', 'nope')}/get/json`, { f: 0, l: 256 })).toMatchObject({
      o: 'ResourceNotFound',
    });
    expect(await rejected(c1, in1, get, { f: 0, l: 255 })).toMatchObject({ o: 'BlockSizeOutOfBounds' });
    expect(await rejected(c1, in1, get, { f: 0, l: 131_073 })).toMatchObject({ o: 'BlockSizeOutOfBounds' });
    expect(await rejected(c1, in1, get, { f: 0, l: 256, o: 98_305 })).toMatchObject({ o: 'OffsetOutOfBounds' });
    expect(await rejected(c1, in1, get, { f: 0, l: 256, o: 40 })).toMatchObject({ o: 'OffsetOutOfBounds' });
    expect(await rejected(c1, in1, get, { f: 0, l: 256, n: 98_305 })).toMatchObject({ o: 'BlockCountLimitExceeded' });
    const hugeBitmap = `0x${'ff'.repeat(12_288)}`;
    expect(await rejected(c1, in1, get, { f: 0, l: 256, b: hugeBitmap })).toMatchObject({
      o: 'BlockBitmapLimitExceeded',
    });
    expect(await rejected(c1, in1, `${fw}/get/cbor`, { f: 0, l: 256, b: new Uint8Array(8) })).toMatchObject({
      o: 'InvalidRequest',
    });

    // A storage failure: InternalError, with nothing of the failure in the message.
    const objects = t.server.services.objects.objects;
    const failing = vi.spyOn(objects, 'openBody').mockRejectedValueOnce(new Error('disk gone at /var/x'));
    const internal = await rejected(c1, in1, get.replace(/get\/json$/, 'get/cbor'), { f: 3, l: 4096, o: 1280 });
    failing.mockRestore();
    expect(internal).toEqual({ o: 'InternalError', m: 'An internal error occurred.' });

    // The object behind a stream file without a version changed: ETagMismatch.
    await fx.put('firmware', 'latest.bin', Buffer.from('second'));
    expect(await rejected(c1, in1, `${base('ota-dev-1', 'latest-stream')}/get/json`, { f: 0, l: 256 })).toMatchObject({
      o: 'ETagMismatch',
    });

    // The role loses s3:GetObject: Unauthorized once the delivery checks again (after its cache time).
    await fx.iam.send(new DeleteRolePolicyCommand({ RoleName: 'ota-stream', PolicyName: 'files' }));
    clock.advance(6000);
    const denied = await rejected(c1, in1, get, { c: 'u', f: 0, l: 256 });
    expect(denied).toMatchObject({ o: 'Unauthorized', c: 'u' });
    expect(denied.m).toContain('does not allow s3:GetObject');
    await fx.iam.send(
      new PutRolePolicyCommand({
        RoleName: 'ota-stream',
        PolicyName: 'files',
        PolicyDocument: allowRead('arn:aws:s3:::firmware/*'),
      }),
    );
    clock.advance(6000);
    const [back] = await ask(c1, in1, get, { f: 0, l: 256 }, 1);
    expect(back!.topic).toBe(`${fw}/data/json`);
  });

  it("refuses another thing's topics as jobs topics are refused, and a thing without the job", async () => {
    // A thing without a pending job that names the stream: ResourceNotFound (its existence not told).
    const other = await rejected(c2, in2, `${base('ota-dev-2', 'fw-stream')}/get/json`, { f: 0, l: 256 });
    expect(other).toMatchObject({ o: 'ResourceNotFound' });
    expect(await rejected(c2, in2, `${base('ota-dev-2', 'fw-stream')}/describe/cbor`, {})).toMatchObject({
      o: 'ResourceNotFound',
    });
    // Subscribing to another thing's stream topics: SUBACK 0x80, the connection stays.
    const err = (await c2.subscribeAsync(`${base('ota-dev-1', 'fw-stream')}/data/json`, { qos: 1 }).then(
      () => undefined,
      (e: unknown) => e,
    )) as { packet?: { granted?: number[] } } | undefined;
    expect(err?.packet?.granted).toEqual([128]);
    expect(c2.connected).toBe(true);
    // Publishing on another thing's streams topic, or on a reply topic: disconnected.
    for (const topic of [`${base('ota-dev-1', 'fw-stream')}/get/json`, `${base('ota-dev-2', 'fw-stream')}/data/json`]) {
      const c = await connectDevice(t, dev2, 'ota-dev-2');
      clients.push(c);
      c.publish(topic, JSON.stringify({ f: 0, l: 256 }), { qos: 1 });
      await closed(c);
    }
  });

  it('serves a 6 MiB file in blocks read by range, never the whole file', async () => {
    const objects = t.server.services.objects.objects;
    const spy = vi.spyOn(objects, 'openBody');
    const topic = `${base('ota-dev-1', 'fw-stream')}/get/cbor`;
    const blockSize = 4096;
    const blocks = Math.ceil(big.length / blockSize);
    const parts: Buffer[] = new Array<Buffer>(blocks);
    // 32 blocks (128 KiB) per request, as a device with room for them would ask.
    for (let offset = 0; offset < blocks; offset += 32) {
      const count = Math.min(32, blocks - offset);
      const replies = await ask(c1, in1, topic, { f: 3, l: blockSize, o: offset, n: 32 }, count);
      for (const r of replies) parts[r.body.i as number] = Buffer.from(r.body.p as Uint8Array);
    }
    const whole = Buffer.concat(parts);
    expect(whole.length).toBe(big.length);
    expect(createHash('sha256').update(whole).digest('hex')).toBe(createHash('sha256').update(big).digest('hex'));
    // Every read is one aligned 128 KiB window (or the file's short tail), each read once at most
    // (window 0 may still be cached from the 64 KiB blocks asked for above).
    const windows = Math.ceil(big.length / (128 * 1024));
    expect(spy.mock.calls.length).toBeGreaterThanOrEqual(windows - 1);
    expect(spy.mock.calls.length).toBeLessThanOrEqual(windows);
    for (const [, range] of spy.mock.calls) {
      expect(range).toBeDefined();
      expect(range!.start % (128 * 1024)).toBe(0);
      expect(range!.end - range!.start + 1).toBeLessThanOrEqual(128 * 1024);
    }
    spy.mockRestore();
  });
  // Last: the same client id takes ota-dev-1's session over from c1.
  it('serves the same broker over ALPN x-amzn-mqtt-ca on the device HTTPS port', async () => {
    const c = await connectDevice(t, dev1, 'ota-dev-1', {
      port: portOf(t.server.endpoints.deviceHttps!),
      ALPNProtocols: ['x-amzn-mqtt-ca'],
    });
    clients.push(c);
    const inbox = new RawInbox(c);
    const [reply] = await ask(c, inbox, `${base('ota-dev-1', 'fw-stream')}/describe/cbor`, {});
    expect(reply!.body).toMatchObject({ s: 1 });
  });
});

describe('streams over MQTT with --device-streams any', () => {
  let t: TestServer;
  let fx: StreamFixture;
  let client: MqttClient | undefined;

  beforeAll(async () => {
    t = await startTestServer({ flags: { deviceStreams: 'any' } });
    fx = new StreamFixture(t);
  });
  afterAll(async () => {
    client?.end(true);
    fx?.destroy();
    await t?.stop();
  });

  it('lets a device without a job read any stream', async () => {
    const iot = t.iot();
    await fx.bucket('firmware');
    await fx.put('firmware', 'a.bin', Buffer.from('abc'));
    const role = await fx.role('s', iotTrust(), allowRead('arn:aws:s3:::firmware/*'));
    await iot.send(
      new CreateStreamCommand({
        streamId: 'open',
        files: [{ fileId: 1, s3Location: { bucket: 'firmware', key: 'a.bin' } }],
        roleArn: role,
      }),
    );
    const dev = await provisionDevice(t, iot, 'free-dev');
    client = await connectDevice(t, dev, 'free-dev');
    const inbox = new RawInbox(client);
    await client.publishAsync('$aws/things/free-dev/streams/open/get/json', JSON.stringify({ f: 1, l: 256 }), {
      qos: 1,
    });
    const reply = await inbox.next((m) => m.topic.startsWith('$aws/things/free-dev/streams/open/'), 0);
    expect(reply.topic).toBe('$aws/things/free-dev/streams/open/data/json');
    expect(Buffer.from(reply.body.p as string, 'base64').toString()).toBe('abc');
  });
});
