/**
 * Device throughput of a scaled-out deployment (issue 10): 1, 2 and 3 replicas, each a real
 * `fleetjobs serve` process with --cluster (Redis), on one PostgreSQL database and one
 * S3-compatible store. N simulated devices (mqtt.js over TLS, client certificates) are spread
 * evenly over the replicas; one job on all of them, without a rollout rate. Each device, on its
 * notify-next, publishes start-next then update SUCCEEDED (QoS 1). Prints, per replica count, the
 * time until notify-next reached every device, completed executions per second, requests per
 * second and request latency p50/p99.
 *
 *   npx tsx bench/cluster.ts [N=1000] [replica counts=1,2,3]
 *
 * Needs PostgreSQL (FLEETJOBS_TEST_PG_URL, default postgres://postgres@127.0.0.1:5432/postgres)
 * and Redis (FLEETJOBS_TEST_REDIS_URL, default redis://127.0.0.1:6379). All replicas, PostgreSQL,
 * Redis and the devices share this machine's cores.
 */
import { readFileSync } from 'node:fs';
import { CreateJobCommand, CreateKeysAndCertificateCommand, IoTClient } from '@aws-sdk/client-iot';
import { SimFleet } from '../test/helpers/cluster-devices.js';
import { spawnReplica, type ReplicaProcess } from '../test/helpers/cluster-process.js';
import { clusterEngines, provisionThings } from '../test/helpers/cluster.js';

const N = Number(process.argv[2] ?? 1000);
const COUNTS = (process.argv[3] ?? '1,2,3').split(',').map(Number);
const CONNECT_BATCH = 50;

const seconds = (ms: number): string => (ms / 1000).toFixed(2);
const percentile = (xs: number[], p: number): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function run(replicaCount: number) {
  const engines = await clusterEngines();
  const replicas: ReplicaProcess[] = [];
  let fleet: SimFleet | undefined;
  try {
    for (let i = 0; i < replicaCount; i++) replicas.push(await spawnReplica(engines.shared, `bench-${i}`));
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
    fleet = new SimFleet(
      replicas.map((r) => r.ready.mqtt!),
      {
        cert: keys.certificatePem!,
        key: keys.keyPair!.PrivateKey!,
        ca: readFileSync(replicas[0]!.ready.caCertificate!, 'utf8'),
      },
    );
    let t0 = performance.now();
    for (let i = 0; i < N; i += CONNECT_BATCH) {
      await Promise.all(names.slice(i, i + CONNECT_BATCH).map((n, k) => fleet!.add(n, (i + k) % replicaCount)));
    }
    const connectMs = performance.now() - t0;
    // Each device asked for work once on connecting; wait for those answers, then measure afresh.
    while (fleet.latencies.length < N) await sleep(100);
    fleet.latencies.length = 0;

    let done = 0;
    const allDone = new Promise<void>((resolve) => fleet!.onCompleted(() => ++done === N && resolve()));
    t0 = performance.now();
    await iot.send(
      new CreateJobCommand({
        jobId: 'bench-job',
        targets: ['arn:aws:iot:us-east-1:000000000000:thinggroup/bench'],
        document: JSON.stringify({ operation: 'update', version: '2.0' }),
      }),
    );
    await allDone;
    const jobMs = performance.now() - t0;
    const notifyMs = Math.max(...fleet.devices.map((d) => (d.notifiedAt ?? Infinity) - t0));
    const requests = fleet.latencies.length;
    iot.destroy();
    return {
      replicas: replicaCount,
      devices: N,
      connectSeconds: +seconds(connectMs),
      notifyNextToAllMs: Math.round(notifyMs),
      completedExecutionsPerSecond: Math.round(N / (jobMs / 1000)),
      jobRequestsPerSecond: Math.round(requests / (jobMs / 1000)),
      jobRequestP50Ms: +percentile(fleet.latencies, 50).toFixed(1),
      jobRequestP99Ms: +percentile(fleet.latencies, 99).toFixed(1),
    };
  } finally {
    await fleet?.close();
    for (const r of replicas) await r.stop();
    await engines.close();
  }
}

const results = [];
for (const count of COUNTS) {
  const r = await run(count);
  console.log(
    `${r.replicas} replica(s), ${N} devices: connected in ${r.connectSeconds} s; notify-next reached all ` +
      `${seconds(r.notifyNextToAllMs)} s after CreateJob; ${r.completedExecutionsPerSecond} completed executions/s, ` +
      `${r.jobRequestsPerSecond} requests/s, p50 ${r.jobRequestP50Ms} ms, p99 ${r.jobRequestP99Ms} ms`,
  );
  results.push(r);
}
console.log(JSON.stringify(results));
