import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IoTClient } from '@aws-sdk/client-iot';
import type { Clock } from '../../src/clock.js';
import { resolveConfig, type RawConfig } from '../../src/config.js';
import { silentLogger } from '../../src/logger.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { createPostgresDatabase, type TestDialect } from './postgres.js';

export const TEST_REGION = 'us-east-1';

export interface TestServer {
  server: RunningServer;
  dataDir: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  endpoint: string;
  iot(): IoTClient;
  /** Env for child processes such as /usr/bin/aws. */
  awsEnv(): NodeJS.ProcessEnv;
  stop(): Promise<void>;
}

export interface TestServerOptions {
  dialect?: TestDialect;
  clock?: Clock;
  flags?: RawConfig;
  /** ServerOptions.mqttRequestWindow */
  mqttRequestWindow?: number;
}

/** A real server on free ports with its own data dir and its own database. */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'fleetjobs-test-'));
  const pgDb = options.dialect === 'postgres' ? await createPostgresDatabase() : undefined;
  const config = resolveConfig({
    flags: {
      dataDir,
      http: '127.0.0.1:0',
      mqtt: '127.0.0.1:0',
      deviceHttps: '127.0.0.1:0',
      logLevel: 'silent',
      ...(pgDb && { database: pgDb.url }),
      ...options.flags,
    },
    env: {},
  });
  const server = await startServer(config, {
    clock: options.clock,
    logger: silentLogger(),
    ...(options.mqttRequestWindow !== undefined && { mqttRequestWindow: options.mqttRequestWindow }),
  });
  const credentials = { accessKeyId: server.admin.accessKeyId, secretAccessKey: server.admin.secretAccessKey };
  const endpoint = server.endpoints.http;
  const clients: { destroy(): void }[] = [];
  return {
    server,
    dataDir,
    credentials,
    endpoint,
    iot: () => {
      const c = new IoTClient({ endpoint, region: TEST_REGION, credentials, maxAttempts: 1 });
      clients.push(c);
      return c;
    },
    awsEnv: () => ({
      PATH: process.env.PATH,
      HOME: dataDir,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      AWS_DEFAULT_REGION: TEST_REGION,
      AWS_PAGER: '',
      AWS_MAX_ATTEMPTS: '1',
    }),
    stop: async () => {
      for (const c of clients) c.destroy();
      await server.stop();
      await pgDb?.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
