import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { IoTClient } from '@aws-sdk/client-iot';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { Arns } from '../../src/arns.js';
import { systemClock } from '../../src/clock.js';
import { resolveConfig, type RawConfig } from '../../src/config.js';
import type { ServiceContext } from '../../src/context.js';
import { createServices } from '../../src/services.js';
import { openStore } from '../../src/store/database.js';
import { silentLogger } from '../../src/logger.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { createPostgresDatabase, type TestDatabase } from './postgres.js';
import { s3Client } from './s3.js';
import { startTestServer, TEST_REGION, type TestServer } from './server.js';

export const REDIS_URL = process.env.FLEETJOBS_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** What every replica of one deployment is given alike (README "Scaled-out deployment"). */
export interface SharedSettings {
  database: string;
  cluster: string;
  objects: string;
  env: Record<string, string>;
}

/**
 * The engines of a scaled-out deployment for one test: a fresh PostgreSQL database, a Redis key
 * and channel prefix of its own (tests share one Redis), and an S3-compatible store (a single
 * embedded fleetjobs, as in test/e2e/s3.s3-backend.test.ts) with one bucket.
 */
export interface ClusterEngines {
  shared: SharedSettings;
  prefix: string;
  pg: TestDatabase;
  store: TestServer;
  /** Keys this test left in Redis. */
  redisKeys(): Promise<string[]>;
  close(): Promise<void>;
}

export async function clusterEngines(): Promise<ClusterEngines> {
  const prefix = `fjtest-${randomBytes(5).toString('hex')}`;
  const store = await startTestServer();
  const s3 = s3Client(store);
  await s3.send(new CreateBucketCommand({ Bucket: 'fleet' }));
  s3.destroy();
  const pg = await createPostgresDatabase();
  const env = {
    FLEETJOBS_ACCESS_KEY_ID: `AKIA${randomBytes(8).toString('hex').toUpperCase()}`,
    FLEETJOBS_SECRET_ACCESS_KEY: randomBytes(24).toString('base64'),
    FLEETJOBS_SIGNING_KEY: randomBytes(32).toString('base64'),
    // The object store's credentials (the S3 backend reads them from the environment).
    AWS_ACCESS_KEY_ID: store.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: store.credentials.secretAccessKey,
  };
  const redis = new Redis(REDIS_URL);
  const redisKeys = async (): Promise<string[]> => {
    const keys: string[] = [];
    for await (const batch of redis.scanStream({ match: `${prefix}:*`, count: 1000 }) as AsyncIterable<string[]>)
      keys.push(...batch);
    return keys;
  };
  return {
    shared: {
      database: pg.url,
      cluster: `${REDIS_URL}/?prefix=${prefix}`,
      objects: `s3://fleet/objects?endpoint=${encodeURIComponent(store.endpoint)}`,
      env,
    },
    prefix,
    pg,
    store,
    redisKeys,
    close: async () => {
      const keys = await redisKeys();
      for (let i = 0; i < keys.length; i += 500) await redis.del(...keys.slice(i, i + 500));
      redis.disconnect();
      await pg.drop();
      await store.stop();
    },
  };
}

export interface Replica {
  server: RunningServer;
  dataDir: string;
  endpoint: string;
  iot(): IoTClient;
  stop(): Promise<void>;
}

/**
 * One replica in this process (its own data dir and ports, the shared engines). The server reads
 * the signing key and the S3 credentials from process.env, so they are set here (vitest runs each
 * test file in a process of its own).
 */
export async function startReplica(
  shared: SharedSettings,
  flags: RawConfig = {},
  logger: Logger = silentLogger(),
): Promise<Replica> {
  Object.assign(process.env, shared.env);
  const dataDir = mkdtempSync(join(tmpdir(), 'fleetjobs-replica-'));
  const config = resolveConfig({
    flags: {
      dataDir,
      http: '127.0.0.1:0',
      mqtt: '127.0.0.1:0',
      deviceHttps: '127.0.0.1:0',
      logLevel: 'silent',
      database: shared.database,
      cluster: shared.cluster,
      objects: shared.objects,
      ...flags,
    },
    env: shared.env,
  });
  const server = await startServer(config, { logger });
  const clients: IoTClient[] = [];
  const credentials = { accessKeyId: server.admin.accessKeyId, secretAccessKey: server.admin.secretAccessKey };
  return {
    server,
    dataDir,
    endpoint: server.endpoints.http,
    iot: () => {
      const c = new IoTClient({ endpoint: server.endpoints.http, region: TEST_REGION, credentials, maxAttempts: 1 });
      clients.push(c);
      return c;
    },
    stop: async () => {
      for (const c of clients) c.destroy();
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Provisioning for the scaled-out tests and bench (not what they measure): `names` things in
 * `group`, all attached to one certificate (NON_EXCLUSIVE; each device still connects with its
 * own thing name as client id), written through the service layer on the shared database.
 */
export async function provisionThings(
  database: string,
  certificateArn: string,
  group: string,
  names: readonly string[],
  concurrency = 8,
): Promise<void> {
  const store = await openStore({ database });
  try {
    const ctx: ServiceContext = {
      db: store.db,
      dialect: store.dialect,
      clock: systemClock,
      arns: new Arns({ region: TEST_REGION, account: '000000000000' }),
      logger: silentLogger(),
    };
    const s = createServices(ctx, () => ({}));
    await s.groups.createThingGroup({ thingGroupName: group });
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < names.length; i = next++) {
        const thingName = names[i]!;
        await s.things.createThing({ thingName });
        await s.principals.attachThingPrincipal(thingName, certificateArn, 'NON_EXCLUSIVE_THING');
        await s.groups.addThingToThingGroup({ thingGroupName: group, thingName });
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    await s.jobDeletions.stop();
  } finally {
    await store.close();
  }
}
