import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, cliEnv } from '../helpers/cli.js';
import { DIALECTS } from '../helpers/postgres.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe.each(DIALECTS)('fleetjobs CLI: thing types, the fleet index and dynamic groups on %s', (dialect) => {
  let t: TestServer;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    t = await startTestServer({ dialect });
    env = cliEnv(t);
  });
  afterAll(() => t.stop());

  const run = (...args: string[]) => cli([...args, '--output', 'json'], { env });

  it('creates types, searches the index and makes a dynamic group', async () => {
    expect((await run('types', 'create', 'pump', '--description', 'pumps', '--searchable', 'model')).code).toBe(0);
    expect((await run('types', 'describe', 'pump')).json).toMatchObject({
      thingTypeName: 'pump',
      searchableAttributes: ['model'],
      deprecated: false,
    });
    await run('things', 'create', 'p-1', '--type', 'pump', '--attributes', 'model=x2,fw=2.1');
    await run('things', 'create', 'p-2', '--type', 'pump', '--attributes', 'model=x2,fw=3.2');
    expect((await run('types', 'list')).json.thingTypes.map((x: { thingTypeName: string }) => x.thingTypeName)).toEqual(
      ['pump'],
    );
    const off = await run('index', 'search', 'thingName:*');
    expect(off.code).not.toBe(0);
    expect((await run('index', 'enable', '--connectivity')).code).toBe(0);
    expect((await run('index', 'status')).json).toMatchObject({
      thingIndexingMode: 'REGISTRY',
      thingConnectivityIndexingMode: 'STATUS',
    });
    const found = await run('index', 'search', 'thingTypeName:pump AND attributes.fw<3.0');
    expect(found.json.things).toEqual([
      expect.objectContaining({ thingName: 'p-1', thingTypeName: 'pump', connectivity: { connected: false } }),
    ]);
    const text = await cli(['index', 'search', 'thingTypeName:pump'], { env });
    expect(text.stdout).toMatch(/p-1\s+pump\s+disconnected/);

    expect((await run('groups', 'create-dynamic', 'old-fw', 'attributes.fw<3.0')).code).toBe(0);
    expect((await run('groups', 'describe', 'old-fw')).json).toMatchObject({ queryString: 'attributes.fw<3.0' });
    expect((await run('groups', 'list-things', 'old-fw')).json.things).toEqual(['p-1']);
    expect((await run('groups', 'update-dynamic', 'old-fw', 'attributes.fw>3')).json).toMatchObject({ version: 2 });
    expect((await run('groups', 'list-things', 'old-fw')).json.things).toEqual(['p-2']);

    expect((await run('types', 'deprecate', 'pump')).json).toMatchObject({ deprecated: true });
    expect((await run('things', 'create', 'p-3', '--type', 'pump')).code).not.toBe(0);
    expect((await run('types', 'delete', 'pump')).code).not.toBe(0);
  });
});
