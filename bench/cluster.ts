/**
 * Device throughput of a scaled-out deployment (issue 10; issue 17 item 3, "replicas add
 * capacity"): 1, 2 and 3 replicas, each a real `fleetjobs serve` process with --cluster (Redis),
 * on one PostgreSQL database and one S3-compatible store. N simulated devices (mqtt.js over TLS,
 * client certificates) run in BENCH_DEVICE_PROCESSES (default 2) child processes of their own
 * (bench/lib/device-worker.ts), device i connected to replica i % count; BENCH_JOBS (default 5)
 * jobs on all of them, created one after the other, without a rollout rate. Each device, on its
 * first notify-next, publishes start-next then update SUCCEEDED (QoS 1) for the job start-next
 * gives it, until it has done them all. With one job the phase was mostly the CreateJob fan-out
 * (about 2 s); several measure devices working through a queue. Prints, per replica count, the
 * time until notify-next reached every device, completed executions per second, requests per
 * second and request latency p50/p99, all over the jobs phase (the first CreateJob until the
 * last device's last SUCCEEDED was accepted). Before it, BENCH_WARMUP_JOBS (default 2) jobs run
 * the same way unmeasured, so the replicas' code is compiled (see run()).
 *
 * And what that phase cost (bench/lib/usage.ts), as average cores busy and per 1,000 completed
 * executions/s: the replica processes' CPU, PostgreSQL's (every `postgres` process on the
 * machine), Redis' CPU and commands and publishes per second (INFO), the device processes' CPU,
 * this process's (the object store, the IoT client), and the rest of the machine; then completed
 * executions/s of 2 and 3 replicas over 1. Human lines first, then one JSON object as the last line.
 *
 *   npx tsx bench/cluster.ts [N=1000] [replica counts=1,2,3]
 *
 * Needs Linux (/proc), PostgreSQL (FLEETJOBS_TEST_PG_URL, default
 * postgres://postgres@127.0.0.1:5432/postgres) and Redis (FLEETJOBS_TEST_REDIS_URL, default
 * redis://127.0.0.1:6379). All replicas, PostgreSQL, Redis and the devices share this machine's
 * cores; PostgreSQL and Redis are counted whole, so whatever else uses them meanwhile counts too
 * (`other` cores shows the machine's load beyond the processes named).
 */
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { CreateJobCommand, CreateKeysAndCertificateCommand, IoTClient } from '@aws-sdk/client-iot';
import { Redis } from 'ioredis';
import { spawnReplica, type ReplicaProcess } from '../test/helpers/cluster-process.js';
import { clusterEngines, provisionThings, REDIS_URL } from '../test/helpers/cluster.js';
import { DevicePool, percentile, split, wallNow } from './lib/device-pool.js';
import { sampleUsage, usageBetween } from './lib/usage.js';

const N = Number(process.argv[2] ?? 1000);
const COUNTS = (process.argv[3] ?? '1,2,3').split(',').map(Number);
const PROCESSES = Number(process.env.BENCH_DEVICE_PROCESSES ?? 2);
// Several jobs so the phase measures devices working through a queue, not only one fan-out.
const JOBS = Number(process.env.BENCH_JOBS ?? 5);
const WARMUP_JOBS = Number(process.env.BENCH_WARMUP_JOBS ?? 2);
const CONNECT_BATCH = 50;

const seconds = (ms: number): string => (ms / 1000).toFixed(2);
const round2 = (x: number): number => +x.toFixed(2);
const int = (x: number): string => Math.round(x).toLocaleString('en-US');

async function run(replicaCount: number) {
  const engines = await clusterEngines();
  const redis = new Redis(REDIS_URL);
  const replicas: ReplicaProcess[] = [];
  let pool: DevicePool | undefined;
  try {
    // The device worker also subscribes to bench/<thing>/echo and /push (bench/devices.ts' baselines).
    for (let i = 0; i < replicaCount; i++) {
      replicas.push(await spawnReplica(engines.shared, `bench-${i}`, ['--device-topics', 'bench/{thing}/#']));
    }
    const iot = new IoTClient({
      endpoint: replicas[0]!.ready.http,
      region: 'us-east-1',
      credentials: {
        accessKeyId: engines.shared.env.FLEETJOBS_ACCESS_KEY_ID!,
        secretAccessKey: engines.shared.env.FLEETJOBS_SECRET_ACCESS_KEY!,
      },
    });
    const keys = await iot.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
    const names = Array.from({ length: N }, (_, i) => `bench-${String(i).padStart(6, '0')}`);
    await provisionThings(engines.shared.database, keys.certificateArn!, 'bench', names);

    pool = await DevicePool.start(PROCESSES);
    const slices = split(names, pool.size);
    const firsts = slices.map((_, i) => slices.slice(0, i).reduce((n, s) => n + s.length, 0));
    const ca = readFileSync(replicas[0]!.ready.caCertificate!, 'utf8');
    const connect = await pool.phase((i) => ({
      phase: 'connect',
      url: replicas.map((r) => r.ready.mqtt!),
      first: firsts[i]!,
      cert: keys.certificatePem!,
      key: keys.keyPair!.PrivateKey!,
      ca,
      things: slices[i]!,
      batch: CONNECT_BATCH,
    }));

    // Warm-up: replicas that just started spend a large part of their first seconds in V8's
    // optimising compiler (a CPU profile of a 5-second phase: 21% of one replica's CPU, 29% of
    // two replicas', each compiling the same code), which a long-running deployment pays once.
    if (WARMUP_JOBS > 0) await runJobs(iot, pool, 'warm-up', WARMUP_JOBS);

    // The jobs phase: the devices wait for notify-next before CreateJob goes out.
    const groups = { replicas: replicas.map((r) => r.child.pid!), devices: pool.pids };
    const before = await sampleUsage(groups, redis);
    const t0 = wallNow();
    const jobs = await runJobs(iot, pool, 'bench-job', JOBS);
    const usage = usageBetween(before, await sampleUsage(groups, redis));
    iot.destroy();

    const jobMs = Math.max(...jobs.replies.map((r) => r.lastCompletedAt!)) - t0;
    const notifyMs = Math.max(...jobs.replies.map((r) => r.lastNotifiedAt!)) - t0;
    const completedPerSecond = (N * JOBS) / (jobMs / 1000);
    // Cost per 1,000 completed executions/s.
    const per1k = (x: number): number => round2(x / (completedPerSecond / 1000));
    const c = usage.cores;
    return {
      replicas: replicaCount,
      devices: N,
      jobs: JOBS,
      warmupJobs: WARMUP_JOBS,
      deviceProcesses: pool.size,
      connectSeconds: +seconds(connect.wallMs),
      notifyNextToAllMs: Math.round(notifyMs),
      completedExecutionsPerSecond: Math.round(completedPerSecond),
      jobRequestsPerSecond: Math.round(jobs.latencies.length / (jobMs / 1000)),
      jobRequestP50Ms: +percentile(jobs.latencies, 50).toFixed(1),
      jobRequestP99Ms: +percentile(jobs.latencies, 99).toFixed(1),
      /** Average cores busy over the jobs phase. */
      cores: Object.fromEntries(Object.entries(c).map(([k, v]) => [k, round2(v)])),
      redisCommandsPerSecond: Math.round(usage.redisCommandsPerSecond),
      redisPublishesPerSecond: Math.round(usage.redisPublishesPerSecond),
      per1kCompletedExecutionsPerSecond: {
        replicaCores: per1k(c.replicas!),
        postgresCores: per1k(c.postgres!),
        redisCores: per1k(c.redis!),
        deviceCores: per1k(c.devices!),
        redisCommandsPerSecond: Math.round(per1k(usage.redisCommandsPerSecond)),
        redisPublishesPerSecond: Math.round(per1k(usage.redisPublishesPerSecond)),
      },
    };
  } finally {
    await pool?.stop();
    for (const r of replicas) await r.stop();
    redis.disconnect();
    await engines.close();
  }
}

/** Creates `count` jobs on the whole fleet, one after the other; resolves when every device did them all. */
async function runJobs(iot: IoTClient, pool: DevicePool, prefix: string, count: number) {
  const phase = pool.phase(() => ({ phase: 'jobsOnNotify', jobs: count }));
  phase.catch(() => undefined); // awaited below; a failure meanwhile must not skip the clean-up
  for (let j = 0; j < count; j++) {
    await iot.send(
      new CreateJobCommand({
        jobId: `${prefix}-${j}`,
        targets: ['arn:aws:iot:us-east-1:000000000000:thinggroup/bench'],
        document: JSON.stringify({ operation: 'update', version: `2.${j}` }),
      }),
    );
  }
  return phase;
}

const runs = [];
for (const count of COUNTS) {
  const r = await run(count);
  const c = r.cores;
  const k = r.per1kCompletedExecutionsPerSecond;
  console.log(
    `${r.replicas} replica(s), ${N} devices in ${r.deviceProcesses} processes, ${JOBS} jobs each: connected in ${r.connectSeconds} s; ` +
      `notify-next reached all ${seconds(r.notifyNextToAllMs)} s after the first CreateJob; ` +
      `${r.completedExecutionsPerSecond} completed executions/s, ${r.jobRequestsPerSecond} requests/s, ` +
      `p50 ${r.jobRequestP50Ms} ms, p99 ${r.jobRequestP99Ms} ms\n` +
      `  cores busy: replicas ${c.replicas}, PostgreSQL ${c.postgres}, Redis ${c.redis}, devices ${c.devices}, ` +
      `bench ${c.bench}, other ${c.other} (machine ${c.machine} of ${cpus().length}); ` +
      `Redis ${int(r.redisCommandsPerSecond)} commands/s, ${int(r.redisPublishesPerSecond)} publishes/s\n` +
      `  per 1,000 completed executions/s: replicas ${k.replicaCores} cores, PostgreSQL ${k.postgresCores} cores, ` +
      `Redis ${k.redisCores} cores and ${int(k.redisCommandsPerSecond)} commands/s ` +
      `(${int(k.redisPublishesPerSecond)} publishes/s), devices ${k.deviceCores} cores`,
  );
  runs.push(r);
}
const one = runs.find((r) => r.replicas === 1);
const ratioTo1Replica = Object.fromEntries(
  one
    ? runs
        .filter((r) => r.replicas !== 1)
        .map((r) => [r.replicas, round2(r.completedExecutionsPerSecond / one.completedExecutionsPerSecond)])
    : [],
);
for (const [count, ratio] of Object.entries(ratioTo1Replica)) {
  console.log(`${count} replicas / 1: ${ratio}x the completed executions/s`);
}
console.log(
  JSON.stringify({
    devices: N,
    machineCores: cpus().length,
    runs,
    completedExecutionsRatioTo1Replica: ratioTo1Replica,
  }),
);
