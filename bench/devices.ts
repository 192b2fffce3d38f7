/**
 * N simulated devices over MQTT/TLS (mqtt.js, client certificates) each take one job through
 * start-next -> IN_PROGRESS -> SUCCEEDED. Prints completed executions per second and p50/p99
 * request latency, against a bare Aedes publish/reply round trip (a device publishing to a topic
 * it is subscribed to, QoS 1 both ways) over the same TLS connections in the same run.
 *
 *   npx tsx bench/devices.ts [N=1000]            (SQLite in a temp dir)
 *   BENCH_DATABASE=postgres://... npx tsx bench/devices.ts [N]
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { resolveConfig } from '../src/config.js';
import { silentLogger } from '../src/logger.js';
import { startServer } from '../src/server.js';

const N = Number(process.argv[2] ?? 1000);
const CONNECT_BATCH = 50;
const ECHO_ROUNDS = 3;

const dataDir = mkdtempSync(join(tmpdir(), 'fj-bench-devices-'));
const config = resolveConfig({
  flags: {
    dataDir,
    http: '127.0.0.1:0',
    mqtt: '127.0.0.1:0',
    deviceHttps: '127.0.0.1:0',
    logLevel: 'silent',
    deviceTopics: 'bench/{thing}/#',
    ...(process.env.BENCH_DATABASE && { database: process.env.BENCH_DATABASE }),
  },
  env: {},
});
const server = await startServer(config, { logger: silentLogger() });
const s = server.services;
const seconds = (ms: number): string => (ms / 1000).toFixed(2);
const name = (i: number): string => `bench-${String(i).padStart(6, '0')}`;

// Provisioning through the services (not the benchmark): N things in one group, one certificate
// attached to all of them (NON_EXCLUSIVE; each device still connects with its own client id).
let t0 = performance.now();
const keys = await s.certificates.createKeysAndCertificate({ setAsActive: true });
await s.groups.createThingGroup({ thingGroupName: 'bench' });
for (let i = 0; i < N; i++) {
  await s.things.createThing({ thingName: name(i) });
  await s.principals.attachThingPrincipal(name(i), keys.certificateArn);
  await s.groups.addThingToThingGroup({ thingGroupName: 'bench', thingName: name(i) });
}
console.log(`provisioned ${N} things in ${seconds(performance.now() - t0)} s`);

interface Device {
  thing: string;
  client: MqttClient;
  waiters: Map<string, (topic: string, payload: Record<string, unknown>) => void>;
  notified: Promise<void>;
}

const ca = readFileSync(server.endpoints.caCertificate!, 'utf8');
async function connect(thing: string): Promise<Device> {
  const client = await mqtt.connectAsync(server.endpoints.mqtt!, {
    clientId: thing,
    cert: keys.certificatePem,
    key: keys.keyPair.PrivateKey,
    ca,
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 60_000,
    keepalive: 300,
  });
  const waiters = new Map<string, (topic: string, payload: Record<string, unknown>) => void>();
  let notify!: () => void;
  const notified = new Promise<void>((resolve) => (notify = resolve));
  client.on('message', (topic, buf) => {
    const payload = JSON.parse(buf.toString('utf8')) as Record<string, unknown>;
    if (topic.endsWith('/notify-next') && payload.execution) notify();
    const token = typeof payload.clientToken === 'string' ? payload.clientToken : String(payload.seq);
    const waiter = waiters.get(token);
    if (waiter) {
      waiters.delete(token);
      waiter(topic, payload);
    }
  });
  await client.subscribeAsync([`$aws/things/${thing}/jobs/notify-next`, `bench/${thing}/echo`], { qos: 1 });
  return { thing, client, waiters, notified };
}

let seq = 0;
/** Publishes and resolves with the latency (ms) when the message keyed `token` comes back. */
function roundTrip(d: Device, topic: string, body: Record<string, unknown>, token: string): Promise<number> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    d.waiters.set(token, (replyTopic, payload) => {
      if (replyTopic.endsWith('/rejected')) reject(new Error(`${topic}: ${JSON.stringify(payload)}`));
      else resolve(performance.now() - start);
    });
    d.client.publish(topic, JSON.stringify(body), { qos: 1 });
  });
}

const percentile = (xs: number[], p: number): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
};

t0 = performance.now();
const devices: Device[] = [];
for (let i = 0; i < N; i += CONNECT_BATCH) {
  const batch = [...Array(Math.min(CONNECT_BATCH, N - i)).keys()].map((k) => connect(name(i + k)));
  devices.push(...(await Promise.all(batch)));
}
console.log(`connected ${N} devices over TLS in ${seconds(performance.now() - t0)} s`);

// Baseline: bare broker round trips over the same connections, same concurrency.
const echoLatencies: number[] = [];
t0 = performance.now();
await Promise.all(
  devices.map(async (d) => {
    for (let r = 0; r < ECHO_ROUNDS; r++) {
      const token = String(++seq);
      echoLatencies.push(await roundTrip(d, `bench/${d.thing}/echo`, { seq: token }, token));
    }
  }),
);
const echoMs = performance.now() - t0;

// The job: notify-next reaches every device, then each runs the jobs flow.
t0 = performance.now();
await s.jobs.createJob({
  jobId: 'bench-job',
  targets: [server.services.ctx.arns.thingGroup('bench')],
  document: JSON.stringify({ operation: 'update', version: '2.0' }),
});
await Promise.all(devices.map((d) => d.notified));
const notifyMs = performance.now() - t0;

const jobLatencies: number[] = [];
t0 = performance.now();
await Promise.all(
  devices.map(async (d) => {
    const base = `$aws/things/${d.thing}/jobs`;
    const steps: [string, Record<string, unknown>][] = [
      [`${base}/start-next`, {}],
      [`${base}/bench-job/update`, { status: 'IN_PROGRESS', statusDetails: { step: 'install' } }],
      [`${base}/bench-job/update`, { status: 'SUCCEEDED' }],
    ];
    for (const [topic, body] of steps) {
      const token = `c${++seq}`;
      jobLatencies.push(await roundTrip(d, topic, { ...body, clientToken: token }, token));
    }
  }),
);
const jobsMs = performance.now() - t0;

// The request path without a commit: GetPendingJobExecutions, same concurrency as the echo.
const getLatencies: number[] = [];
t0 = performance.now();
await Promise.all(
  devices.map(async (d) => {
    for (let r = 0; r < ECHO_ROUNDS; r++) {
      const token = `g${++seq}`;
      getLatencies.push(await roundTrip(d, `$aws/things/${d.thing}/jobs/get`, { clientToken: token }, token));
    }
  }),
);
const getMs = performance.now() - t0;

const job = await s.jobs.describeJob('bench-job');
const succeeded = job.job?.jobProcessDetails?.numberOfSucceededThings;
if (succeeded !== N) throw new Error(`expected ${N} SUCCEEDED executions, found ${String(succeeded)}`);

const echoP50 = percentile(echoLatencies, 50);
const echoP99 = percentile(echoLatencies, 99);
const jobP50 = percentile(jobLatencies, 50);
const jobP99 = percentile(jobLatencies, 99);
const result = {
  devices: N,
  database: server.store.dialect,
  notifyNextToAllMs: Math.round(notifyMs),
  completedExecutionsPerSecond: Math.round(N / (jobsMs / 1000)),
  jobRequestsPerSecond: Math.round((3 * N) / (jobsMs / 1000)),
  jobRequestP50Ms: +jobP50.toFixed(1),
  jobRequestP99Ms: +jobP99.toFixed(1),
  echoRoundTripsPerSecond: Math.round((ECHO_ROUNDS * N) / (echoMs / 1000)),
  echoP50Ms: +echoP50.toFixed(1),
  echoP99Ms: +echoP99.toFixed(1),
  getRequestsPerSecond: Math.round((ECHO_ROUNDS * N) / (getMs / 1000)),
  getP50Ms: +percentile(getLatencies, 50).toFixed(1),
  getP99Ms: +percentile(getLatencies, 99).toFixed(1),
  ratioP50: +(jobP50 / echoP50).toFixed(1),
  ratioThroughput: +((ECHO_ROUNDS * N) / echoMs / ((3 * N) / jobsMs)).toFixed(1),
};
console.log(`
notify-next reached all ${N} devices ${seconds(notifyMs)} s after CreateJob
jobs:  ${N} executions start-next -> IN_PROGRESS -> SUCCEEDED in ${seconds(jobsMs)} s
       ${result.completedExecutionsPerSecond} completed executions/s, ${result.jobRequestsPerSecond} requests/s, p50 ${result.jobRequestP50Ms} ms, p99 ${result.jobRequestP99Ms} ms
echo:  ${ECHO_ROUNDS * N} bare publish/reply round trips in ${seconds(echoMs)} s
       ${result.echoRoundTripsPerSecond} round trips/s, p50 ${result.echoP50Ms} ms, p99 ${result.echoP99Ms} ms
get:   ${ECHO_ROUNDS * N} GetPendingJobExecutions (no commit) in ${seconds(getMs)} s
       ${result.getRequestsPerSecond} requests/s, p50 ${result.getP50Ms} ms, p99 ${result.getP99Ms} ms
ratio: p50 latency ${result.ratioP50}x, throughput ${result.ratioThroughput}x the bare broker`);
console.log(JSON.stringify(result));

for (const d of devices) d.client.end(true);
await server.stop();
rmSync(dataDir, { recursive: true, force: true });
