import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveConfig } from '../../src/config.js';
import { silentLogger } from '../../src/logger.js';
import { startServer, type RunningServer } from '../../src/server.js';
import type { Services } from '../../src/services.js';
import { applyServerV8Flags } from '../../src/v8-flags.js';
import { createPostgresDatabase } from '../../test/helpers/postgres.js';

export interface BenchServer {
  server: RunningServer;
  /** Stops the server and removes its data dir (and its PostgreSQL database). */
  close(): Promise<void>;
}

/**
 * The server the benches measure, in this process, on free ports and a fresh data dir; devices may
 * publish under bench/<thing>/. With BENCH_DATABASE set, a fresh database on that PostgreSQL server,
 * dropped at the end, so runs never see each other's rows. The bench's process is the server's, so
 * it gets the V8 flags `fleetjobs serve` gives itself (src/v8-flags.ts).
 */
export async function startBenchServer(prefix: string): Promise<BenchServer> {
  applyServerV8Flags();
  const pgDatabase = process.env.BENCH_DATABASE ? await createPostgresDatabase(process.env.BENCH_DATABASE) : undefined;
  const dataDir = mkdtempSync(join(tmpdir(), `fj-bench-${prefix}-`));
  const config = resolveConfig({
    flags: {
      dataDir,
      http: '127.0.0.1:0',
      mqtt: '127.0.0.1:0',
      deviceHttps: '127.0.0.1:0',
      logLevel: 'silent',
      deviceTopics: 'bench/{thing}/#',
      ...(pgDatabase && { database: pgDatabase.url }),
    },
    env: {},
  });
  const server = await startServer(config, { logger: silentLogger() });
  return {
    server,
    close: async () => {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
      await pgDatabase?.drop();
    },
  };
}

/**
 * Provisioning through the services (not measured): the things in one group, one certificate
 * attached to all of them (each device still connects with its own client id).
 */
export async function provisionFleet(s: Services, group: string, things: readonly string[]) {
  const keys = await s.certificates.createKeysAndCertificate({ setAsActive: true });
  await s.groups.createThingGroup({ thingGroupName: group });
  for (const thingName of things) {
    await s.things.createThing({ thingName });
    await s.principals.attachThingPrincipal(thingName, keys.certificateArn);
    await s.groups.addThingToThingGroup({ thingGroupName: group, thingName });
  }
  return keys;
}
