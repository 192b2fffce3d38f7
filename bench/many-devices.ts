/**
 * Issue 17 item 4: many concurrent MQTT/TLS devices on one server (SQLite by default). The server
 * is alone in this process; the devices run in BENCH_DEVICE_PROCESSES (default 3) child processes.
 * Prints the connect rate, the server's RSS, the time from CreateJob on all of them until
 * notify-next reached every one, against a bare publish of a message of the same size from the
 * server's broker to every device in the same run, and the jobs request rate at that scale
 * against bare broker round trips over the same connections. At each point (idle, connected,
 * notified, after echo, after jobs) it prints the server process's memory (rss, heapTotal,
 * heapUsed, external, arrayBuffers) and, run with --expose-gc, the same again after a full GC
 * (which changes how the heap grows afterwards: take the peaks from a run without it). The
 * process runs with the V8 flags `fleetjobs serve` sets (src/v8-flags.ts). Last line: one JSON
 * object.
 *
 *   npx tsx bench/many-devices.ts [N=19900]
 *   npx tsx --expose-gc bench/many-devices.ts [N=19900]
 *   BENCH_HEAP_SNAPSHOT=/tmp/fleet.heapsnapshot npx tsx bench/many-devices.ts 3000
 *
 * With BENCH_HEAP_SNAPSHOT the server writes a V8 heap snapshot once the devices are connected.
 * Writing it takes a lot of memory, so that run's later RSS figures are not the server's.
 *
 * The server process needs N + a few hundred open files: check `ulimit -n` (README "Open files").
 */
import { provisionFleet, startBenchServer } from './lib/bench-server.js';
import { readFileSync } from 'node:fs';
import { writeHeapSnapshot } from 'node:v8';
import { DevicePool, split, wallNow } from './lib/device-pool.js';
import { serverV8Flags } from '../src/v8-flags.js';
import { RssSampler } from './lib/rss-sampler.js';

const N = Number(process.argv[2] ?? 19_900);
const PROCESSES = Number(process.env.BENCH_DEVICE_PROCESSES ?? 3);
const CONNECT_BATCH = 25;
// About the size of a notify-next naming a job with a small document.
const PUSH_PAYLOAD = JSON.stringify({ timestamp: 0, execution: { padding: 'x'.repeat(300) } });

const { server, close } = await startBenchServer('many');
const s = server.services;
const seconds = (ms: number): string => (ms / 1000).toFixed(2);
const mb = (bytes: number): number => Math.round(bytes / 2 ** 20);
const name = (i: number): string => `many-${String(i).padStart(6, '0')}`;

type Memory = Record<'rss' | 'heapTotal' | 'heapUsed' | 'external' | 'arrayBuffers', number>;
interface MemoryPoint extends Memory {
  /** The same after a full GC (only with --expose-gc). */
  afterGc?: Memory;
}
const gc = (globalThis as { gc?: () => void }).gc;
const memoryMb = (): Memory => {
  const m = process.memoryUsage();
  return {
    rss: mb(m.rss),
    heapTotal: mb(m.heapTotal),
    heapUsed: mb(m.heapUsed),
    external: mb(m.external),
    arrayBuffers: mb(m.arrayBuffers),
  };
};
const formatMemory = (m: Memory): string =>
  `rss ${m.rss}, heapTotal ${m.heapTotal}, heapUsed ${m.heapUsed}, external ${m.external}, arrayBuffers ${m.arrayBuffers} MB`;
const memory: Record<string, MemoryPoint> = {};
// The highest RSS in each phase, sampled off the server's event loop (a busy loop would miss it).
const sampler = new RssSampler();
const phasePeaks: Record<string, number> = {};
/** The server process's memory now, then (with --expose-gc) after a full GC; printed and kept for the JSON. */
const measureMemory = (point: string): number => {
  const rss = process.memoryUsage().rss;
  const m: MemoryPoint = memoryMb();
  phasePeaks[point] = mb(Math.max(sampler.take(), rss));
  let line = `memory ${point}: ${formatMemory(m)}; RSS peak in the phase ${phasePeaks[point]} MB`;
  if (typeof gc === 'function') {
    gc();
    m.afterGc = memoryMb();
    line += `; after GC: ${formatMemory(m.afterGc)}`;
  }
  memory[point] = m;
  console.log(line);
  return rss;
};

let t0 = performance.now();
const keys = await provisionFleet(
  s,
  'many',
  Array.from({ length: N }, (_, i) => name(i)),
);
console.log(`provisioned ${N} things in ${seconds(performance.now() - t0)} s`);
const rssIdle = measureMemory('idle');

const pool = await DevicePool.start(PROCESSES);
const slices = split(
  Array.from({ length: N }, (_, i) => name(i)),
  pool.size,
);
const connect = await pool.phase((i) => ({
  phase: 'connect',
  url: server.endpoints.mqtt!,
  cert: keys.certificatePem,
  key: keys.keyPair.PrivateKey,
  ca: readFileSync(server.endpoints.caCertificate!, 'utf8'),
  things: slices[i]!,
  batch: CONNECT_BATCH,
}));
const rssConnected = measureMemory('connected');
// Where the connected fleet's heap goes: BENCH_HEAP_SNAPSHOT=<file> writes one here.
if (process.env.BENCH_HEAP_SNAPSHOT)
  console.log(`heap snapshot: ${writeHeapSnapshot(process.env.BENCH_HEAP_SNAPSHOT)}`);
console.log(
  `connected ${N} devices in ${seconds(connect.wallMs)} s (${Math.round(N / (connect.wallMs / 1000))}/s); ` +
    `server RSS ${mb(rssIdle)} MB before, ${mb(rssConnected)} MB after (${Math.round((rssConnected - rssIdle) / N / 1024)} KB a connection)`,
);

// Baseline: the server's broker publishes one message of notify-next's size to every device.
const pushed = pool.phase(() => ({ phase: 'pushed' }));
t0 = wallNow();
const broker = server.devicePlane.broker;
for (let i = 0; i < N; i += 1000) {
  await Promise.all(
    Array.from({ length: Math.min(1000, N - i) }, (_, k) => broker.publish(`bench/${name(i + k)}/push`, PUSH_PAYLOAD)),
  );
}
const pushMs = Math.max(...(await pushed).replies.map((r) => r.lastPushedAt!)) - t0;

// CreateJob on all of them: the fan-out, the outbox and the notifier until the last notify-next.
const notified = pool.phase(() => ({ phase: 'notified' }));
t0 = wallNow();
await s.jobs.createJob({
  jobId: 'many-job',
  targets: [s.ctx.arns.thingGroup('many')],
  document: JSON.stringify({ operation: 'update', version: '2.0' }),
});
const notifyMs = Math.max(...(await notified).replies.map((r) => r.lastNotifiedAt!)) - t0;
const rssNotified = measureMemory('notified');
console.log(
  `notify-next reached all ${N} devices ${seconds(notifyMs)} s after CreateJob; ` +
    `a bare publish to all took ${seconds(pushMs)} s (notifier ${(pushMs / notifyMs).toFixed(2)}x the bare rate, ` +
    `which sends one message a device where the notifier sends notify and notify-next)`,
);

const echo = await pool.phase(() => ({ phase: 'echo', rounds: 1 }));
const rssEcho = measureMemory('echo');
const jobs = await pool.phase(() => ({ phase: 'jobs', jobId: 'many-job' }));
const rssJobs = measureMemory('jobs');
const echoPerSecond = N / (echo.wallMs / 1000);
const jobsPerSecond = (3 * N) / (jobs.wallMs / 1000);
const rssPeak = Math.max(rssNotified, rssEcho, rssJobs, ...Object.values(phasePeaks).map((p) => p * 2 ** 20));
const result = {
  devices: N,
  database: server.store.dialect,
  deviceProcesses: pool.size,
  connectSeconds: +(connect.wallMs / 1000).toFixed(1),
  connectsPerSecond: Math.round(N / (connect.wallMs / 1000)),
  serverRssIdleMb: mb(rssIdle),
  serverRssConnectedMb: mb(rssConnected),
  serverRssPeakMb: mb(rssPeak),
  /** The highest RSS sampled every 10 ms in the phase that ends at each point. */
  serverRssPeakByPhaseMb: phasePeaks,
  notifyNextToAllMs: Math.round(notifyMs),
  barePublishToAllMs: Math.round(pushMs),
  notifyToBarePublishRatio: +(pushMs / notifyMs).toFixed(2),
  jobRequestsPerSecond: Math.round(jobsPerSecond),
  echoRoundTripsPerSecond: Math.round(echoPerSecond),
  jobsToEchoRatio: +(jobsPerSecond / echoPerSecond).toFixed(2),
  /** The process's peak RSS over the whole run (getrusage ru_maxrss), between the points too. */
  serverMaxRssMb: mb(process.resourceUsage().maxRSS * 1024),
  gcExposed: typeof gc === 'function',
  /** Node and V8 flags of the server's process: those it was started with, and those serve sets. */
  serverNodeFlags: [
    ...process.execArgv.filter(
      (a, i, all) => !/^--(require|import)$/.test(a) && !/^--(require|import)$/.test(all[i - 1] ?? ''),
    ),
    ...serverV8Flags(),
  ],
  /** MB at each point: rss, heapTotal, heapUsed, external, arrayBuffers (and afterGc). */
  serverMemoryMb: memory,
};
console.log(
  `jobs:  ${3 * N} requests at ${result.jobRequestsPerSecond}/s; bare round trips ${result.echoRoundTripsPerSecond}/s ` +
    `(ratio ${result.jobsToEchoRatio}); server RSS peak ${result.serverRssPeakMb} MB`,
);
console.log(JSON.stringify(result));
await pool.stop();
await sampler.stop();
await close();
