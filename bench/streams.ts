/**
 * MQTT-based file delivery (issue 20): N simulated devices (bench/lib/stream-worker.ts, in their
 * own processes) all fetch one stream file at once over MQTT/TLS with client certificates, CBOR,
 * `perRequest` blocks per GetStream request, as a FreeRTOS OTA agent with room for that many
 * would. Baseline, same run, same connections, same message count and size: each device asks on
 * a plain topic and the broker writes it bare messages of the block's size straight to its
 * connection (no storage, no request parsing, no checks): what MQTT alone costs for those bytes.
 *
 *   npx tsx bench/streams.ts [devices=100] [fileKiB=512] [blockSize=4096] [perRequest=8]
 *   BENCH_DEVICE_PROCESSES=2   device processes; BENCH_DATABASE=postgres://...
 *   BENCH_PROFILE=/tmp/streams   CPU profile of the server during the second stream round
 */
import { provisionFleet, startBenchServer } from './lib/bench-server.js';
import { CreateRoleCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Aedes, PublishPacket } from 'aedes';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { encodeCbor } from '../src/protocols/mqtt/cbor.js';
import { DevicePool, percentile, split, type PhaseResult } from './lib/device-pool.js';
import { profiled } from './lib/profile.js';

const N = Number(process.argv[2] ?? 100);
const FILE_BYTES = Number(process.argv[3] ?? 512) * 1024;
const BLOCK = Number(process.argv[4] ?? 4096);
const PER_REQUEST = Number(process.argv[5] ?? 8);
const PROCESSES = Number(process.env.BENCH_DEVICE_PROCESSES ?? 2);
const REGION = 'us-east-1';
const ACCOUNT = '000000000000';

const { server, close } = await startBenchServer('streams');
const s = server.services;
const name = (i: number): string => `sbench-${String(i).padStart(6, '0')}`;
const seconds = (ms: number): string => (ms / 1000).toFixed(2);

// Set-up through the real S3 and IAM APIs and the services (not measured).
const aws = { endpoint: server.endpoints.http, region: REGION, credentials: server.admin };
const s3 = new S3Client({ ...aws, forcePathStyle: true });
const iam = new IAMClient(aws);
await s3.send(new CreateBucketCommand({ Bucket: 'firmware' }));
await s3.send(new PutObjectCommand({ Bucket: 'firmware', Key: 'fw.bin', Body: randomBytes(FILE_BYTES) }));
await iam.send(
  new CreateRoleCommand({
    RoleName: 'stream-reader',
    AssumeRolePolicyDocument: JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { Service: 'iot.amazonaws.com' },
          Action: 'sts:AssumeRole',
          Condition: {
            StringEquals: { 'aws:SourceAccount': ACCOUNT },
            ArnLike: { 'aws:SourceArn': `arn:aws:iot:${REGION}:${ACCOUNT}:stream/*` },
          },
        },
      ],
    }),
  }),
);
await iam.send(
  new PutRolePolicyCommand({
    RoleName: 'stream-reader',
    PolicyName: 'read',
    PolicyDocument: JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::firmware/*' }],
    }),
  }),
);
s3.destroy();
iam.destroy();
await s.streams.createStream({
  streamId: 'bench-stream',
  files: [{ fileId: 0, s3Location: { bucket: 'firmware', key: 'fw.bin' } }],
  roleArn: `arn:aws:iam::${ACCOUNT}:role/stream-reader`,
});
const keys = await provisionFleet(
  s,
  'sbench',
  Array.from({ length: N }, (_, i) => name(i)),
);
// Devices may read the stream because a pending job names it (spec 6.5 afr_ota.streamname).
await s.jobs.createJob({
  jobId: 'sbench-ota',
  targets: [s.ctx.arns.thingGroup('sbench')],
  document: JSON.stringify({ afr_ota: { protocols: ['MQTT'], streamname: 'bench-stream', files: [] } }),
});

// The baseline's server side: on bench/<thing>/ask {n}, n bare messages of a data message's size,
// written straight to the asking connection as the stream replies are (no topic routing).
const aedes = (server.devicePlane.broker as unknown as { aedes: Aedes }).aedes;
const clients = (aedes as unknown as { clients: Record<string, { publish(p: PublishPacket, cb: () => void): void }> })
  .clients;
const dataMessageBytes = encodeCbor({ c: 'rdy', f: 0, l: BLOCK, i: 1000, p: randomBytes(BLOCK) }).length;
const bare = randomBytes(dataMessageBytes);
await new Promise<void>((resolve) =>
  aedes.subscribe(
    'bench/+/ask',
    (packet, done) => {
      done();
      const thing = packet.topic.split('/')[1]!;
      const { n } = JSON.parse(packet.payload.toString()) as { n: number };
      const client = clients[thing];
      if (!client) return;
      void (async () => {
        for (let i = 0; i < n; i++) {
          const out: PublishPacket = {
            cmd: 'publish',
            topic: `bench/${thing}/data`,
            payload: bare,
            qos: 0,
            retain: false,
            dup: false,
          };
          await new Promise<void>((r) => client.publish(out, () => r()));
        }
      })();
    },
    () => resolve(),
  ),
);

const pool = await DevicePool.start(PROCESSES, new URL('./lib/stream-worker.ts', import.meta.url));
const slices = split(
  Array.from({ length: N }, (_, i) => name(i)),
  pool.size,
);
const ca = readFileSync(server.endpoints.caCertificate!, 'utf8');
const connected = await pool.phase((i) => ({
  phase: 'connect',
  url: server.endpoints.mqtt!,
  cert: keys.certificatePem,
  key: keys.keyPair.PrivateKey,
  ca,
  things: slices[i]!,
  batch: 50,
  streamId: 'bench-stream',
}));
console.log(`${N} devices connected over TLS in ${seconds(connected.wallMs)} s (${pool.size} device processes)`);

const blocksPerDevice = Math.ceil(FILE_BYTES / BLOCK);
const bytesOf = (r: PhaseResult): number => r.replies.reduce((n, x) => n + ((x as { bytes?: number }).bytes ?? 0), 0);
const summary = (r: PhaseResult) => ({
  seconds: +(r.wallMs / 1000).toFixed(2),
  blocksPerSecond: Math.round((N * blocksPerDevice) / (r.wallMs / 1000)),
  bytesPerSecond: Math.round(bytesOf(r) / (r.wallMs / 1000)),
  requestP50Ms: +percentile(r.latencies, 50).toFixed(1),
  requestP99Ms: +percentile(r.latencies, 99).toFixed(1),
});
const streamPhase = () =>
  pool.phase(() => ({
    phase: 'stream',
    streamId: 'bench-stream',
    fileId: 0,
    blockSize: BLOCK,
    perRequest: PER_REQUEST,
    fileSize: FILE_BYTES,
  }));
const barePhase = () => pool.phase(() => ({ phase: 'bare', blocks: blocksPerDevice, perRequest: PER_REQUEST }));

// Two rounds each, alternating; the second of each is reported (the first warms caches and the JIT).
const rounds: { stream: ReturnType<typeof summary>; bare: ReturnType<typeof summary> }[] = [];
for (let round = 0; round < 2; round++) {
  const b = summary(await barePhase());
  const st = summary(await (round === 1 ? profiled('stream', streamPhase) : streamPhase()));
  rounds.push({ stream: st, bare: b });
  console.log(
    `round ${round + 1}: stream ${st.blocksPerSecond} blocks/s, ${(st.bytesPerSecond / 1048576).toFixed(1)} MiB/s, request p50 ${st.requestP50Ms} ms p99 ${st.requestP99Ms} ms; ` +
      `bare ${b.blocksPerSecond} msgs/s, ${(b.bytesPerSecond / 1048576).toFixed(1)} MiB/s, p50 ${b.requestP50Ms} ms p99 ${b.requestP99Ms} ms`,
  );
}
const last = rounds[rounds.length - 1]!;
const result = {
  devices: N,
  database: server.store.dialect,
  fileBytes: FILE_BYTES,
  blockSize: BLOCK,
  blocksPerRequest: PER_REQUEST,
  deviceProcesses: pool.size,
  stream: last.stream,
  bare: last.bare,
  streamToBareBlocks: +(last.stream.blocksPerSecond / last.bare.blocksPerSecond).toFixed(2),
};
console.log(
  `${N} devices x ${blocksPerDevice} blocks of ${BLOCK} B (${PER_REQUEST} per request): stream = ${result.streamToBareBlocks} x bare publishes`,
);
console.log(JSON.stringify(result));

await pool.stop();
await close();
