import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
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

describe('a replica whose Redis is gone', () => {
  it('still stops (the broker and the cluster connections do not wait for Redis forever)', async () => {
    const engines = await clusterEngines();
    const port = await freePort();
    const redis = await startRedis(port);
    const replica = await startReplica({
      ...engines.shared,
      cluster: `redis://127.0.0.1:${port}/?prefix=${engines.prefix}`,
    });
    try {
      await redis.stop();
      // Hung here before: Aedes' close and mqemitter-redis' close wait for a Redis that never answers.
      await replica.stop();
    } finally {
      await engines.close();
    }
  });
});
