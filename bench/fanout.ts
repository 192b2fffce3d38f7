/**
 * Job fan-out at 100,000 things: CreateJob on a thing group of N things through the whole stack
 * (@aws-sdk/client-iot, SigV4, Fastify, service, one transaction with INSERT ... SELECT and the
 * outbox rows), against a raw batched better-sqlite3 insert of N execution rows into the same
 * schema, measured in the same run. Also times ListJobExecutionsForJob pages at the start and at
 * the end of the job (keyset pagination).
 *
 *   npx tsx bench/fanout.ts [things=100000] [--postgres]
 *
 * --postgres runs the CreateJob part on a fresh PostgreSQL database as well
 * (FLEETJOBS_TEST_PG_URL or postgres://postgres@127.0.0.1:5432/postgres).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { CreateJobCommand, DescribeJobCommand, IoTClient, ListJobExecutionsForJobCommand } from '@aws-sdk/client-iot';
import { resolveConfig } from '../src/config.js';
import { silentLogger } from '../src/logger.js';
import { startServer, type RunningServer } from '../src/server.js';
import { encodeToken } from '../src/store/pagination.js';
import { createPostgresDatabase } from '../test/helpers/postgres.js';

const N = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 100_000);
const GROUP = 'fleet';
const name = (i: number): string => `thing-${String(i).padStart(8, '0')}`;

async function start(dataDir: string, database?: string): Promise<RunningServer> {
  const config = resolveConfig({
    flags: {
      dataDir,
      http: '127.0.0.1:0',
      mqtt: '127.0.0.1:0',
      deviceHttps: '127.0.0.1:0',
      logLevel: 'silent',
      ...(database && { database }),
    },
    env: {},
  });
  return startServer(config, { logger: silentLogger() });
}

async function median(rounds: number, fn: () => Promise<unknown>): Promise<number> {
  await fn();
  const samples: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const s = performance.now();
    await fn();
    samples.push(performance.now() - s);
  }
  return samples.sort((a, b) => a - b)[Math.floor(rounds / 2)]!;
}

/** Loads the fleet through the server's own database handle (setup, not measured). */
async function loadFleet(server: RunningServer): Promise<void> {
  const db = server.store.db;
  await server.services.groups.createThingGroup({ thingGroupName: GROUP });
  for (let i = 0; i < N; i += 2000) {
    const names = Array.from({ length: Math.min(2000, N - i) }, (_, k) => name(i + k));
    await db.transaction().execute(async (trx) => {
      await trx
        .insertInto('things')
        .values(
          names.map((n) => ({
            name: n,
            id: n,
            thing_type_name: null,
            billing_group_name: null,
            attributes: '{}',
            version: 1,
            created_at: 0,
          })),
        )
        .execute();
      await trx
        .insertInto('thing_group_members')
        .values(names.map((n) => ({ group_name: GROUP, thing_name: n, added_at: 0 })))
        .execute();
    });
  }
}

async function measureCreateJob(label: string, database?: string): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'fj-bench-fanout-'));
  const server = await start(dir, database);
  // The figure is the fan-out's own: the notifier, which publishes notify/notify-next for the
  // N outbox rows afterwards in this same process, is stopped.
  await server.devicePlane.stop();
  await loadFleet(server);
  const iot = new IoTClient({
    endpoint: server.endpoints.http,
    region: 'us-east-1',
    credentials: { accessKeyId: server.admin.accessKeyId, secretAccessKey: server.admin.secretAccessKey },
  });
  const t = performance.now();
  await iot.send(
    new CreateJobCommand({
      jobId: 'fanout',
      targets: [server.services.ctx.arns.thingGroup(GROUP)],
      document: JSON.stringify({ operation: 'update', url: 'https://example.com/fw.bin' }),
    }),
  );
  const ms = performance.now() - t;
  const described = await iot.send(new DescribeJobCommand({ jobId: 'fanout' }));
  const queued = described.job?.jobProcessDetails?.numberOfQueuedThings;
  if (queued !== N) throw new Error(`expected ${N} queued executions, the job reports ${queued}`);
  const page = (nextToken?: string) => () =>
    iot.send(new ListJobExecutionsForJobCommand({ jobId: 'fanout', maxResults: 250, nextToken }));
  const first = await median(21, page());
  const last = await median(21, page(encodeToken([name(N - 251), 1])));
  console.log(
    `${label}: CreateJob on ${N} things ${(ms / 1000).toFixed(2)} s = ${rate(ms)} executions/s (with ${N} outbox rows); ` +
      `ListJobExecutionsForJob 250/page median: first ${first.toFixed(1)} ms, last ${last.toFixed(1)} ms`,
  );
  iot.destroy();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
  return ms;
}

/** The baseline: N rows into job_executions of a migrated SQLite file, 1,000-row prepared INSERTs in one transaction. */
async function measureRawInsert(): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'fj-bench-raw-'));
  const server = await start(dir);
  const file = server.config.database;
  await server.stop();
  const db = new BetterSqlite3(file);
  // The server's settings (src/store/database.ts), so the baseline pays the same fsyncs.
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  const ROWS = 1000;
  const stmt = db.prepare(
    'INSERT INTO job_executions (job_id, thing_name, execution_number, namespace_id, status, force_canceled, ' +
      `version_number, retry_attempt, queued_at, last_updated_at) VALUES ${Array(ROWS).fill('(?, ?, 1, ?, ?, 0, 1, 0, ?, ?)').join(', ')}`,
  );
  const t = performance.now();
  db.transaction(() => {
    for (let i = 0; i < N; i += ROWS) {
      const params: (string | number)[] = [];
      for (let j = i; j < i + ROWS; j++) params.push('raw', name(j), '', 'QUEUED', 0, 0);
      stmt.run(...params);
    }
  })();
  const ms = performance.now() - t;
  db.close();
  rmSync(dir, { recursive: true, force: true });
  console.log(`raw batched better-sqlite3 insert of ${N} rows: ${(ms / 1000).toFixed(2)} s = ${rate(ms)} rows/s`);
  return ms;
}

const rate = (ms: number): string => Math.round(N / (ms / 1000)).toLocaleString('en-US');

const sqliteMs = await measureCreateJob('SQLite');
const rawMs = await measureRawInsert();
console.log(`ratio CreateJob (SQLite) / raw insert: ${(sqliteMs / rawMs).toFixed(2)}x`);
if (process.argv.includes('--postgres')) {
  const pg = await createPostgresDatabase();
  try {
    const pgMs = await measureCreateJob('PostgreSQL', pg.url);
    console.log(`ratio CreateJob (PostgreSQL) / raw SQLite insert: ${(pgMs / rawMs).toFixed(2)}x`);
  } finally {
    await pg.drop();
  }
}
