import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { AttachThingPrincipalCommand, CreateKeysAndCertificateCommand, CreateThingCommand } from '@aws-sdk/client-iot';
import mqtt from 'mqtt';
import { pino, type Logger } from 'pino';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterEngines, startReplica, type ClusterEngines, type Replica } from '../helpers/cluster.js';
import { DIALECTS } from '../helpers/postgres.js';
import { rejection } from '../helpers/rejection.js';
import { s3Client } from '../helpers/s3.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

interface Probe {
  status: number;
  body: { status: string; checks?: Record<string, string> };
  headers: Headers;
}

async function probe(endpoint: string, path: '/healthz' | '/readyz'): Promise<Probe> {
  const r = await fetch(`${endpoint}${path}`);
  return { status: r.status, body: (await r.json()) as Probe['body'], headers: r.headers };
}

describe.each(DIALECTS)('health probes (%s)', (dialect) => {
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ dialect });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('/healthz says the process is alive; /readyz lists each check as ok', async () => {
    const alive = await probe(t.endpoint, '/healthz');
    expect(alive).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(alive.headers.get('cache-control')).toBe('no-store');
    const ready = await probe(t.endpoint, '/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({
      status: 'ready',
      checks: { database: 'ok', migrations: 'ok', http: 'ok', mqtt: 'ok', deviceHttps: 'ok' },
    });
    // HEAD works too (some load balancers probe with it).
    expect((await fetch(`${t.endpoint}/readyz`, { method: 'HEAD' })).status).toBe(200);
  });

  it('a SigV4-signed request to /healthz is AWS traffic (S3: a bucket named healthz)', async () => {
    const s3 = s3Client(t);
    const err = await rejection(s3.send(new ListObjectsV2Command({ Bucket: 'healthz' })));
    expect(err.name).toBe('NoSuchBucket');
    s3.destroy();
  });

  it('/readyz answers 503 naming a migration that is not applied', async () => {
    const db = t.server.store.db;
    await sql`delete from kysely_migration where name = ${'0010_jobs'}`.execute(db);
    try {
      const r = await probe(t.endpoint, '/readyz');
      expect(r.status).toBe(503);
      expect(r.body.status).toBe('unavailable');
      expect(r.body.checks).toMatchObject({ database: 'ok', migrations: 'migrations not applied: 0010_jobs' });
    } finally {
      const at = dialect === 'postgres' ? sql`now()::text` : sql`datetime('now')`;
      await sql`insert into kysely_migration (name, timestamp) values (${'0010_jobs'}, ${at})`.execute(db);
    }
    expect((await probe(t.endpoint, '/readyz')).status).toBe(200);
  });

  it('/readyz answers 503 when a device listener is down, and again 200 on /healthz', async () => {
    await t.server.devicePlane.broker.stop();
    const r = await probe(t.endpoint, '/readyz');
    expect(r.status).toBe(503);
    expect(r.body.checks!.mqtt).toMatch(/^cannot connect to 127\.0\.0\.1:\d+/);
    expect(r.body.checks!.deviceHttps).toBe('ok');
    expect((await probe(t.endpoint, '/healthz')).status).toBe(200);
  });

  it('/readyz answers 503 when the database is gone', async () => {
    await t.server.store.close();
    const r = await probe(t.endpoint, '/readyz');
    expect(r.status).toBe(503);
    expect(r.body.checks!.database).not.toBe('ok');
  });
});

/** A Redis of this test's own on `port`, so that it can be stopped (the shared one serves other tests). */
async function startRedis(port: number): Promise<{ stop(): Promise<void> }> {
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('Ready to accept connections')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${out}`)));
  });
  return {
    stop: async () => {
      const exited = once(child, 'exit');
      child.kill('SIGKILL');
      await exited;
    },
  };
}

async function freePort(): Promise<number> {
  const free = createServer().listen(0, '127.0.0.1');
  await once(free, 'listening');
  const port = (free.address() as { port: number }).port;
  await new Promise((r) => free.close(r));
  return port;
}

describe('health probes, scaled out', () => {
  let engines: ClusterEngines;
  let port: number;
  let redis: { stop(): Promise<void> } | undefined;
  let replica: Replica;
  beforeAll(async () => {
    engines = await clusterEngines();
    port = await freePort();
    redis = await startRedis(port);
    replica = await startReplica({ ...engines.shared, cluster: `redis://127.0.0.1:${port}/?prefix=${engines.prefix}` });
  });
  afterAll(async () => {
    await replica?.stop();
    await redis?.stop();
    await engines?.close();
  });

  it('/readyz checks Redis: ok while it answers, 503 while it is gone, ok once it is back', async () => {
    const ok = await probe(replica.endpoint, '/readyz');
    expect(ok.status).toBe(200);
    expect(ok.body.checks).toMatchObject({ redis: 'ok', database: 'ok' });

    await redis!.stop();
    redis = undefined;
    const gone = await probe(replica.endpoint, '/readyz');
    expect(gone.status).toBe(503);
    expect(gone.body.checks!.redis).not.toBe('ok');
    expect(gone.body.checks!.database).toBe('ok');

    redis = await startRedis(port);
    await expect.poll(async () => (await probe(replica.endpoint, '/readyz')).status, { timeout: 20_000 }).toBe(200);
  });
});

/** A replica joined through a Redis of its own, which the test may stop. */
async function replicaWithOwnRedis(logger?: Logger) {
  const engines = await clusterEngines();
  const port = await freePort();
  const redis = await startRedis(port);
  const replica = await startReplica(
    { ...engines.shared, cluster: `redis://127.0.0.1:${port}/?prefix=${engines.prefix}` },
    {},
    logger,
  );
  return { engines, redis, replica };
}

describe('a replica whose Redis is gone', () => {
  it('still stops (the broker and the cluster connections do not wait for Redis forever)', async () => {
    const { engines, redis, replica } = await replicaWithOwnRedis();
    try {
      await redis.stop();
      // Hung here before: Aedes' close and mqemitter-redis' close wait for a Redis that never answers.
      await replica.stop();
    } finally {
      await engines.close();
    }
  });

  it('outlives devices leaving meanwhile, and stops cleanly', async () => {
    // The replica runs in this process: an unhandled rejection here would end a real one (Node's
    // default), so a device leaving during a Redis outage must not cause one.
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    // The replica's own log (debug) says when Redis commands were given up: the moment to look.
    const log: { command?: string; msg: string }[] = [];
    const logger = pino(
      { level: 'debug' },
      { write: (line: string) => void log.push(JSON.parse(line) as { command?: string; msg: string }) },
    );
    const { engines, redis, replica } = await replicaWithOwnRedis(logger);
    try {
      const iot = replica.iot();
      const keys = await iot.send(new CreateKeysAndCertificateCommand({ setAsActive: true }));
      const devices = [];
      for (const name of ['gone-1', 'gone-2']) {
        await iot.send(new CreateThingCommand({ thingName: name }));
        await iot.send(new AttachThingPrincipalCommand({ thingName: name, principal: keys.certificateArn! }));
        devices.push(
          await mqtt.connectAsync(replica.server.endpoints.mqtt!, {
            clientId: name,
            cert: keys.certificatePem!,
            key: keys.keyPair!.PrivateKey!,
            ca: readFileSync(replica.server.endpoints.caCertificate!, 'utf8'),
            protocolVersion: 4,
            reconnectPeriod: 0,
            // A will makes the broker keep (and, on a clean close, delete) it in Redis.
            will: { topic: `devices/${name}/gone`, payload: Buffer.from('bye'), qos: 0, retain: false },
          }),
        );
      }
      iot.destroy();
      await redis.stop();
      // One leaves cleanly, one drops: the broker cleans both sessions up in Redis, which is gone.
      await devices[0]!.endAsync();
      devices[1]!.stream.destroy();
      // ioredis gives a queued command up after maxRetriesPerRequest reconnects; the will list's
      // LREM (sent by aedes-persistence-redis without a handler) is the one that ended the process.
      await expect
        .poll(() => log.some((l) => l.msg === 'Redis command of the MQTT cluster failed' && l.command === 'lrem'), {
          timeout: 15_000,
        })
        .toBe(true);
      await new Promise((r) => setImmediate(r)); // an unhandled rejection is reported after the microtasks
      expect(unhandled).toEqual([]);
      expect((await probe(replica.endpoint, '/healthz')).status).toBe(200);
      // Anything rejected unhandled from here on still fails the run: vitest reports it as an error.
      await replica.stop();
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      await engines.close();
    }
  });
});
