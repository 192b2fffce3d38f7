/**
 * N simulated devices over MQTT/TLS (mqtt.js, client certificates) each take one job through
 * start-next -> IN_PROGRESS -> SUCCEEDED. Prints completed executions per second and p50/p99
 * request latency, against a bare Aedes publish/reply round trip (a device publishing to a topic
 * it is subscribed to, QoS 1 both ways) over the same TLS connections in the same run.
 *
 *   npx tsx bench/devices.ts [N=1000]            (SQLite in a temp dir)
 *   BENCH_DATABASE=postgres://... npx tsx bench/devices.ts [N]
 *   BENCH_PROFILE=/tmp/devices   CPU profile of the server during the jobs phase (bench/lib/profile.ts)
 *   BENCH_DEVICE_PROCESSES=2   device processes (bench/lib/device-worker.ts); the server is alone in this one
 */
import { provisionFleet, startBenchServer } from './lib/bench-server.js';
import { readFileSync } from 'node:fs';
import { profiled } from './lib/profile.js';
import { DevicePool, percentile, split, wallNow } from './lib/device-pool.js';

const N = Number(process.argv[2] ?? 1000);
const CONNECT_BATCH = 50;
const ECHO_ROUNDS = 3;
// Devices run in their own processes (issue 17 item 5), never on the server's event loop.
const PROCESSES = Number(process.env.BENCH_DEVICE_PROCESSES ?? 2);

const { server, close } = await startBenchServer('devices');
const s = server.services;
const seconds = (ms: number): string => (ms / 1000).toFixed(2);
const name = (i: number): string => `bench-${String(i).padStart(6, '0')}`;

let t0 = performance.now();
const keys = await provisionFleet(
  s,
  'bench',
  Array.from({ length: N }, (_, i) => name(i)),
);
console.log(`provisioned ${N} things in ${seconds(performance.now() - t0)} s`);

const pool = await DevicePool.start(PROCESSES);
const slices = split(
  Array.from({ length: N }, (_, i) => name(i)),
  pool.size,
);
const ca = readFileSync(server.endpoints.caCertificate!, 'utf8');
const connect = await pool.phase((i) => ({
  phase: 'connect',
  url: server.endpoints.mqtt!,
  cert: keys.certificatePem,
  key: keys.keyPair.PrivateKey,
  ca,
  things: slices[i]!,
  batch: CONNECT_BATCH,
}));
console.log(`connected ${N} devices over TLS in ${seconds(connect.wallMs)} s (${pool.size} device processes)`);

// Baseline: bare broker round trips over the same connections, same concurrency.
const echo = await pool.phase(() => ({ phase: 'echo', rounds: ECHO_ROUNDS }));
const echoLatencies = echo.latencies;
const echoMs = echo.wallMs;

// The job: notify-next reaches every device, then each runs the jobs flow.
t0 = wallNow();
await s.jobs.createJob({
  jobId: 'bench-job',
  targets: [server.services.ctx.arns.thingGroup('bench')],
  document: JSON.stringify({ operation: 'update', version: '2.0' }),
});
const notified = await pool.phase(() => ({ phase: 'notified' }));
const notifyMs = Math.max(...notified.replies.map((r) => r.lastNotifiedAt!)) - t0;

const jobs = await profiled('jobs', () => pool.phase(() => ({ phase: 'jobs', jobId: 'bench-job' })));
const jobLatencies = jobs.latencies;
const jobsMs = jobs.wallMs;

// The request path without a commit: GetPendingJobExecutions, same concurrency as the echo.
const get = await pool.phase(() => ({ phase: 'get', rounds: ECHO_ROUNDS }));
const getLatencies = get.latencies;
const getMs = get.wallMs;

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
  // Issue 17's measure: jobs requests/s over bare broker round trips/s (goal >= 0.50 SQLite, >= 0.35 PostgreSQL).
  jobsToEchoRatio: +((3 * N) / jobsMs / ((ECHO_ROUNDS * N) / echoMs)).toFixed(2),
};
console.log(`
notify-next reached all ${N} devices ${seconds(notifyMs)} s after CreateJob
jobs:  ${N} executions start-next -> IN_PROGRESS -> SUCCEEDED in ${seconds(jobsMs)} s
       ${result.completedExecutionsPerSecond} completed executions/s, ${result.jobRequestsPerSecond} requests/s, p50 ${result.jobRequestP50Ms} ms, p99 ${result.jobRequestP99Ms} ms
echo:  ${ECHO_ROUNDS * N} bare publish/reply round trips in ${seconds(echoMs)} s
       ${result.echoRoundTripsPerSecond} round trips/s, p50 ${result.echoP50Ms} ms, p99 ${result.echoP99Ms} ms
get:   ${ECHO_ROUNDS * N} GetPendingJobExecutions (no commit) in ${seconds(getMs)} s
       ${result.getRequestsPerSecond} requests/s, p50 ${result.getP50Ms} ms, p99 ${result.getP99Ms} ms
ratio: p50 latency ${result.ratioP50}x, throughput ${result.ratioThroughput}x the bare broker
       jobs requests/s = ${result.jobsToEchoRatio} x bare broker round trips/s`);
console.log(JSON.stringify(result));

await pool.stop();
await close();
