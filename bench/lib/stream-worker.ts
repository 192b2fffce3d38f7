/**
 * Simulated FreeRTOS-like devices for bench/streams.ts, in their own process (never on the
 * server's loop): each fetches a whole stream file over MQTT (CBOR, `perRequest` blocks per
 * GetStream request, the next request when the last block of the previous one arrived), or, for
 * the baseline, asks for the same number of bare messages of the same size on a plain topic.
 */
import type { MqttClient } from 'mqtt';
import { connectDevice } from './connect-device.js';
import { decodeCbor, encodeCbor } from '../../src/protocols/mqtt/cbor.js';
import type { PhaseReply } from './device-protocol.js';

interface Device {
  thing: string;
  client: MqttClient;
  /** Called with each data message (stream block or bare message) and each rejection. */
  onData?: (topic: string, payload: Buffer) => void;
}

type Request =
  | {
      phase: 'connect';
      url: string;
      cert: string;
      key: string;
      ca: string;
      things: string[];
      batch: number;
      streamId: string;
    }
  | { phase: 'stream'; streamId: string; fileId: number; blockSize: number; perRequest: number; fileSize: number }
  | { phase: 'bare'; blocks: number; perRequest: number }
  | { phase: 'close' };

const wallNow = (): number => performance.timeOrigin + performance.now();
const devices: Device[] = [];

async function connectOne(thing: string, req: Extract<Request, { phase: 'connect' }>): Promise<Device> {
  const client = await connectDevice(thing, req);
  const d: Device = { thing, client };
  client.on('message', (topic, buf) => d.onData?.(topic, buf));
  // As ota_mqtt.c: subscribe to the data topic (QoS 0), publish requests at QoS 0.
  await client.subscribeAsync([`$aws/things/${thing}/streams/${req.streamId}/data/cbor`, `bench/${thing}/data`], {
    qos: 0,
  });
  return d;
}

/** Publishes `request` and resolves when `expect` messages came back (rejects on a rejection). */
function exchange(
  d: Device,
  topic: string,
  request: Buffer,
  expect: number,
  got: (payload: Buffer) => void,
): Promise<number> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    let left = expect;
    d.onData = (t, payload) => {
      if (t.includes('/rejected/')) return reject(new Error(JSON.stringify(decodeCbor(payload))));
      got(payload);
      if (--left === 0) resolve(performance.now() - start);
    };
    d.client.publish(topic, request, { qos: 0 });
  });
}

async function run(req: Request): Promise<{ latencies: number[]; bytes?: number }> {
  switch (req.phase) {
    case 'connect':
      for (let i = 0; i < req.things.length; i += req.batch) {
        devices.push(...(await Promise.all(req.things.slice(i, i + req.batch).map((t) => connectOne(t, req)))));
      }
      return { latencies: [] };
    case 'stream': {
      let bytes = 0;
      const blocks = Math.ceil(req.fileSize / req.blockSize);
      const all = await Promise.all(
        devices.map(async (d) => {
          const out: number[] = [];
          for (let o = 0; o < blocks; o += req.perRequest) {
            const n = Math.min(req.perRequest, blocks - o);
            const request = encodeCbor({ c: 'rdy', f: req.fileId, l: req.blockSize, o, n: req.perRequest });
            const topic = `$aws/things/${d.thing}/streams/${req.streamId}/get/cbor`;
            out.push(
              await exchange(d, topic, request, n, (payload) => {
                const block = decodeCbor(payload) as { p: Uint8Array };
                bytes += block.p.length;
              }),
            );
          }
          return out;
        }),
      );
      return { latencies: all.flat(), bytes };
    }
    case 'bare': {
      let bytes = 0;
      const all = await Promise.all(
        devices.map(async (d) => {
          const out: number[] = [];
          for (let o = 0; o < req.blocks; o += req.perRequest) {
            const n = Math.min(req.perRequest, req.blocks - o);
            const ask = Buffer.from(JSON.stringify({ n }));
            out.push(await exchange(d, `bench/${d.thing}/ask`, ask, n, (payload) => (bytes += payload.length)));
          }
          return out;
        }),
      );
      return { latencies: all.flat(), bytes };
    }
    case 'close':
      await Promise.all(devices.map((d) => d.client.endAsync(true)));
      return { latencies: [] };
  }
}

process.on('message', (req: Request) => {
  const startedAt = wallNow();
  run(req).then(
    (out) => process.send!({ ...out, phase: req.phase, startedAt, endedAt: wallNow() }),
    (err: unknown) =>
      process.send!({
        phase: req.phase,
        startedAt,
        endedAt: wallNow(),
        latencies: [],
        error: err instanceof Error ? err.message : String(err),
      }),
  );
});
process.send!({ phase: 'ready', startedAt: wallNow(), endedAt: wallNow(), latencies: [] } satisfies PhaseReply);
