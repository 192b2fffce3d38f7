/**
 * ListThings at 1,000,000 things: the time of a page through the whole stack (SigV4, Fastify,
 * service, keyset query) at the start, middle and end of the fleet, against a raw SQLite query
 * for the same page measured in the same run.
 *
 *   npx tsx bench/registry-list.ts [things=1000000]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { IoTClient, ListThingsCommand } from '@aws-sdk/client-iot';
import { resolveConfig } from '../src/config.js';
import { silentLogger } from '../src/logger.js';
import { startServer } from '../src/server.js';
import { encodeToken } from '../src/store/pagination.js';

const N = Number(process.argv[2] ?? 1_000_000);
const PAGE = 250;
const ROUNDS = 50;

const dataDir = mkdtempSync(join(tmpdir(), 'fj-bench-list-'));
const config = resolveConfig({
  flags: { dataDir, http: '127.0.0.1:0', mqtt: '127.0.0.1:0', deviceHttps: '127.0.0.1:0', logLevel: 'silent' },
  env: {},
});
const server = await startServer(config, { logger: silentLogger() });
await server.stop();

const name = (i: number): string => `thing-${String(i).padStart(8, '0')}`;
const db = new BetterSqlite3(config.database);
const t0 = performance.now();
const insert = db.prepare(
  'INSERT INTO things (name, id, attributes, version, created_at) VALUES (?, ?, \'{"site":"a"}\', 1, 0)',
);
const attr = db.prepare("INSERT INTO thing_attributes (thing_name, name, value) VALUES (?, 'site', ?)");
db.transaction(() => {
  for (let i = 0; i < N; i++) {
    insert.run(name(i), `id-${i}`);
    attr.run(name(i), i % 10 === 0 ? 'north' : 'south');
  }
})();
console.log(`loaded ${N} things in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
const raw = db.prepare('SELECT * FROM things WHERE name > ? ORDER BY name LIMIT ?');

const again = await startServer(config, { logger: silentLogger() });
const iot = new IoTClient({
  endpoint: again.endpoints.http,
  region: 'us-east-1',
  credentials: { accessKeyId: again.admin.accessKeyId, secretAccessKey: again.admin.secretAccessKey },
});

async function timeIt(fn: () => Promise<unknown> | unknown): Promise<number> {
  await fn();
  const samples: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const s = performance.now();
    await fn();
    samples.push(performance.now() - s);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(ROUNDS / 2)]!;
}

console.log(`page size ${PAGE}, median of ${ROUNDS} requests`);
for (const [label, at] of [
  ['first page', -1],
  ['middle', Math.floor(N / 2)],
  ['last pages', N - PAGE - 1],
] as const) {
  const after = at < 0 ? '' : name(at);
  const token = at < 0 ? undefined : encodeToken([after]);
  const api = await timeIt(() => iot.send(new ListThingsCommand({ maxResults: PAGE, nextToken: token })));
  const base = await timeIt(() => raw.all(after, PAGE + 1));
  console.log(
    `${label.padEnd(11)} ListThings ${api.toFixed(2)} ms   raw SQLite ${base.toFixed(2)} ms   ratio ${(api / base).toFixed(1)}x`,
  );
}
const filtered = await timeIt(() =>
  iot.send(new ListThingsCommand({ maxResults: PAGE, attributeName: 'site', attributeValue: 'north' })),
);
console.log(`attribute filter (site=north, 10% of things) first page: ${filtered.toFixed(2)} ms`);

iot.destroy();
await again.stop();
db.close();
rmSync(dataDir, { recursive: true, force: true });
