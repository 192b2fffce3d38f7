import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminConsole, type ConsoleClient } from '../helpers/console.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const N = 100_000;
const name = (i: number): string => `d-${String(i).padStart(6, '0')}`;

interface Page {
  executionSummaries: { thingArn: string }[];
  nextToken?: string;
}

/** The console pages through the executions of a job on 100,000 things (keyset, never OFFSET). */
describe('console paging at fleet scale', () => {
  let t: TestServer;
  let c: ConsoleClient;
  beforeAll(async () => {
    t = await startTestServer();
    c = await adminConsole(t);
    // Fleet set-up straight into the store (not what is tested here): 100,000 things in one group.
    const db = t.server.store.db;
    await c.post('/groups', { thingGroupName: 'all' });
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
          .values(names.map((n) => ({ group_name: 'all', thing_name: n, added_at: 0 })))
          .execute();
      });
    }
  }, 120_000);
  afterAll(async () => t?.stop());

  it('creates the job and pages through all 100,000 executions in order', async () => {
    const created = await c.post('/jobs', {
      jobId: 'everyone',
      targets: ['arn:aws:iot:us-east-1:000000000000:thinggroup/all'],
      document: '{"op":"update"}',
    });
    expect(created.status).toBe(200);
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    const times: number[] = [];
    do {
      const started = performance.now();
      const res = await c.get<Page>(
        `/jobs/everyone/executions?maxResults=250${token ? `&nextToken=${encodeURIComponent(token)}` : ''}`,
      );
      times.push(performance.now() - started);
      expect(res.status).toBe(200);
      seen.push(...res.body.executionSummaries.map((e) => e.thingArn.slice(e.thingArn.indexOf('/') + 1)));
      token = res.body.nextToken;
      pages++;
    } while (token);
    expect(pages).toBe(N / 250);
    expect(seen).toHaveLength(N);
    expect(seen[0]).toBe(name(0));
    expect(seen[N - 1]).toBe(name(N - 1));
    expect(seen.every((n, i) => i === 0 || seen[i - 1]! < n)).toBe(true);
    const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    console.log(
      `first 20 pages median ${median(times.slice(0, 20)).toFixed(1)} ms, last 20 ${median(times.slice(-20)).toFixed(1)} ms`,
    );
  }, 300_000);
});
