import { createSign, randomBytes } from 'node:crypto';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { Aedes, type Client, type PublishPacket } from 'aedes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCodeSigningMaterial } from '../../src/signing/generated-material.js';
import { OtaDevice, StreamRejectedError, type OtaDeviceOptions } from '../helpers/ota-device.js';
import { decodeStreamMessage, type StreamFormat } from '../helpers/ota-wire.js';

/**
 * The OTA test device's state machine against a scripted "cloud": a bare Aedes broker on plain TCP whose
 * publish hook answers jobs and stream requests the way spec 5.2/5.8 describe (replies go to the requester
 * only, unsubscribed). This pins the device before the server's Streams and CreateOTAUpdate exist; the
 * e2e test (test/e2e/ota.device.test.ts) runs the same device against the real server.
 */

interface Cloud {
  url: string;
  /** Status bodies the cloud received, in order. */
  updates: Record<string, unknown>[];
  /** GetStream requests, decoded. */
  requests: Record<string, unknown>[];
  /** What the cloud serves and how. */
  script: {
    image: Buffer;
    signature: Buffer;
    format: StreamFormat;
    blockSize: number;
    /** Called per block about to be sent; may change it or return null to drop it. */
    mangle?: (index: number, bytes: Buffer) => Buffer | null;
    rejectStream?: string;
  };
  close(): Promise<void>;
}

const THING = 'ota-unit-1';
const JOB = 'AFR_OTA-unit';
const STREAM = 'AFR_OTA-stream-1';

async function startCloud(script: Cloud['script']): Promise<Cloud> {
  const broker = new Aedes();
  await broker.listen();
  const server: Server = createServer((socket) => broker.handle(socket));
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const updates: Record<string, unknown>[] = [];
  const requests: Record<string, unknown>[] = [];
  let details: Record<string, unknown> | undefined;
  let status = 'QUEUED';

  const send = (client: Client, topic: string, payload: Buffer | string) =>
    new Promise<void>((resolve) =>
      client.publish(
        { cmd: 'publish', topic, payload: Buffer.from(payload), qos: 0, retain: false, dup: false } as PublishPacket,
        () => resolve(),
      ),
    );
  const base = `$aws/things/${THING}`;
  const doc = () => ({
    timestamp: 1,
    execution: {
      jobId: JOB,
      status,
      ...(details && { statusDetails: details }),
      jobDocument: {
        afr_ota: {
          protocols: ['MQTT'],
          streamname: STREAM,
          files: [
            {
              filepath: '/ota/app.bin',
              filesize: script.image.length,
              fileid: 0,
              certfile: 'codesign.crt',
              'sig-sha256-ecdsa': script.signature.toString('base64'),
            },
          ],
        },
      },
    },
  });

  broker.on('publish', (packet, client) => {
    if (!client) return;
    const { topic } = packet;
    void (async () => {
      if (topic === `${base}/jobs/$next/get`) {
        const body = JSON.parse(packet.payload.toString()) as { clientToken: string };
        return send(client, `${topic}/accepted`, JSON.stringify({ clientToken: body.clientToken, ...doc() }));
      }
      if (topic === `${base}/jobs/${JOB}/update`) {
        const body = JSON.parse(packet.payload.toString()) as {
          status: string;
          statusDetails: Record<string, unknown>;
        };
        updates.push(body);
        status = body.status;
        details = body.statusDetails;
        return send(client, `${topic}/accepted`, JSON.stringify({ timestamp: 2 }));
      }
      const get = `${base}/streams/${STREAM}/get/${script.format}`;
      if (topic !== get) return;
      const req = decodeStreamMessage(script.format, packet.payload as Buffer);
      requests.push(req);
      const { encode } = await import('cborg');
      const out = (m: Record<string, unknown>) =>
        script.format === 'cbor'
          ? Buffer.from(encode(m))
          : JSON.stringify({ ...m, p: (m.p as Buffer | undefined)?.toString('base64') });
      if (script.rejectStream)
        return send(
          client,
          `${base}/streams/${STREAM}/rejected/${script.format}`,
          out({ o: script.rejectStream, m: 'no', c: req.c }),
        );
      // CBOR requests name the wanted blocks in a bitmap; JSON ones n consecutive blocks from o.
      const wanted = (i: number): boolean =>
        script.format === 'cbor'
          ? ((req.b as Uint8Array)[i >> 3]! & (1 << (i & 7))) !== 0
          : i >= (req.o as number) && i < (req.o as number) + (req.n as number);
      let left = req.n as number;
      for (let i = 0; i * script.blockSize < script.image.length && left > 0; i++) {
        if (!wanted(i)) continue;
        left--;
        const start = i * script.blockSize;
        const bytes = script.mangle
          ? script.mangle(i, script.image.subarray(start, start + script.blockSize))
          : script.image.subarray(start, start + script.blockSize);
        if (bytes === null) continue;
        await send(
          client,
          `${base}/streams/${STREAM}/data/${script.format}`,
          out({ f: 0, i, l: bytes.length, p: Buffer.from(bytes) }),
        );
      }
    })();
  });

  return {
    url: `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`,
    updates,
    requests,
    script,
    close: async () => {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

describe('OTA test device against a scripted cloud', () => {
  let material: { certificatePem: string; privateKeyPem: string };
  const image = randomBytes(20_000);
  let signature: Buffer;
  const clouds: Cloud[] = [];

  beforeAll(async () => {
    material = await generateCodeSigningMaterial('ECDSA', 'ota agent unit', new Date(Date.UTC(2030, 0, 1)));
    signature = createSign('sha256').update(image).sign(material.privateKeyPem);
  });
  afterAll(async () => {
    for (const c of clouds) await c.close();
  });

  const cloud = async (over: Partial<Cloud['script']> = {}) => {
    const c = await startCloud({ image, signature, format: 'cbor', blockSize: 1024, ...over });
    clouds.push(c);
    return c;
  };
  const device = (c: Cloud, over: Partial<OtaDeviceOptions> = {}) =>
    new OtaDevice({
      mqttUrl: c.url,
      thingName: THING,
      cert: '',
      key: '',
      ca: '',
      format: c.script.format,
      certificates: { 'codesign.crt': material.certificatePem },
      version: { major: 0, minor: 9, build: 2 },
      imageVersion: { major: 1, minor: 0, build: 0 },
      blockSize: 1024,
      blocksPerRequest: 8,
      statusFrequency: 25,
      ...over,
    });

  it.each(['cbor', 'json'] as const)(
    'downloads in blocks over %s, verifies, self-tests and reports SUCCEEDED',
    async (format) => {
      const c = await cloud({ format });
      const d = device(c);
      const outcome = await d.run();
      expect(outcome).toMatchObject({
        jobId: JOB,
        result: 'SUCCEEDED',
        verified: true,
        blocksReceived: 20,
        reboots: 1,
      });
      expect(outcome.image?.equals(image)).toBe(true);
      expect(c.updates).toEqual([
        { status: 'IN_PROGRESS', statusDetails: { receive: '1/20' } },
        { status: 'IN_PROGRESS', statusDetails: { self_test: 'ready', updatedBy: '0x00090002' } },
        { status: 'IN_PROGRESS', statusDetails: { self_test: 'active', updatedBy: '0x01000000' } },
        { status: 'SUCCEEDED', statusDetails: { reason: 'accepted  v1.0.0', updatedBy: '  v0.9.2' } },
      ]);
      // Three requests of 8 blocks: CBOR names the blocks still missing in a bitmap, JSON the next run.
      if (format === 'cbor') {
        expect(c.requests.map((r) => Buffer.from(r.b as Uint8Array).toString('hex'))).toEqual([
          'ffff0f',
          '00ff0f',
          '00000f',
        ]);
        expect(c.requests[0]).toEqual({ c: 'rdy', f: 0, l: 1024, o: 0, b: expect.anything(), n: 8 });
      } else {
        expect(c.requests).toEqual([
          { s: 1, f: 0, l: 1024, o: 0, n: 8 },
          { s: 1, f: 0, l: 1024, o: 8, n: 8 },
          { s: 1, f: 0, l: 1024, o: 16, n: 4 },
        ]);
      }
      // The second boot asked for its job again with the next client token.
      expect(d.published.filter((p) => p.topic.endsWith('$next/get')).map((p) => p.payload.toString())).toEqual([
        `{"clientToken":"0:${THING}"}`,
        `{"clientToken":"1:${THING}"}`,
      ]);
      expect(d.runningVersion).toEqual({ major: 1, minor: 0, build: 0 });
    },
  );

  it('reports FAILED with the PAL signature error when one byte changed in transit, and does not reboot', async () => {
    const c = await cloud({
      mangle: (i, bytes) => {
        if (i !== 7) return bytes;
        const b = Buffer.from(bytes);
        b[100] = b[100]! ^ 0xff;
        return b;
      },
    });
    const outcome = await device(c).run();
    expect(outcome).toMatchObject({ result: 'FAILED', verified: false, reboots: 0 });
    expect(c.updates.at(-1)).toEqual({ status: 'FAILED', statusDetails: { reason: '0x000000e3: 0x00000000' } });
  });

  it('fails on a signature made by another key, and on a missing signer certificate', async () => {
    const c = await cloud();
    expect((await device(c, { certificates: {} }).run()).lastStatus).toEqual({
      status: 'FAILED',
      statusDetails: { reason: '0x000000e7: 0x00000000' },
    });
    const other = await generateCodeSigningMaterial('ECDSA', 'other', new Date(Date.UTC(2030, 0, 1)));
    const c2 = await cloud({ signature: createSign('sha256').update(image).sign(other.privateKeyPem) });
    expect((await device(c2).run()).result).toBe('FAILED');
  });

  it('ignores duplicate and wrongly sized blocks and asks again after its request timer', async () => {
    let dropped = false;
    const c = await cloud({
      mangle: (i, bytes) => {
        if (i === 3 && !dropped) {
          dropped = true;
          return null; // lost: the request timer asks again
        }
        return i === 5 ? Buffer.concat([bytes, Buffer.from('x')]) : bytes;
      },
    });
    // Block 5 always arrives one byte too long, so the device can never finish: it gives up after maxMomentum.
    const outcome = await device(c, { requestTimeoutMs: 20, maxMomentum: 3 }).run();
    expect(outcome.result).toBe('FAILED');
    expect(outcome.lastStatus).toEqual({ status: 'FAILED', statusDetails: { reason: '0x0000000e: 0x00000000' } });
    expect(outcome.blocksReceived).toBe(19);
    expect(c.requests.length).toBeGreaterThan(3);
  });

  it('rejects the image in self test when its version did not go up, or when the self test fails', async () => {
    const same = await device(await cloud(), { imageVersion: { major: 0, minor: 9, build: 2 } }).run();
    expect(same.lastStatus).toEqual({ status: 'FAILED', statusDetails: { reason: 'rejected: 0x00000010' } });
    const failing = await device(await cloud(), { selfTest: () => false }).run();
    expect(failing.lastStatus).toEqual({ status: 'FAILED', statusDetails: { reason: 'rejected: 0x00000000' } });
    expect(failing.reboots).toBe(1);
  });

  it('stops with the stream’s rejection', async () => {
    const c = await cloud({ rejectStream: 'ResourceNotFound' });
    await expect(device(c).run()).rejects.toThrow(StreamRejectedError);
  });
});
