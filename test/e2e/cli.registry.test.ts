import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, cliEnv, cliProcess } from '../helpers/cli.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe('fleetjobs CLI: things and groups against a real server', () => {
  let t: TestServer;
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    t = await startTestServer();
    env = cliEnv(t);
  });
  afterAll(() => t.stop());

  const run = (...args: string[]) => cli([...args, '--output', 'json'], { env });

  it('creates, describes, lists, updates and deletes things', async () => {
    const made = await run('things', 'create', 'pump-1', '--attributes', 'site=north,model=a1');
    expect(made.code).toBe(0);
    expect(made.json).toMatchObject({
      thingName: 'pump-1',
      thingArn: 'arn:aws:iot:us-east-1:000000000000:thing/pump-1',
    });
    expect(made.json.thingId).toMatch(/^[0-9a-f-]{36}$/);
    await run('things', 'create', 'pump-2', '--attributes', 'site=south');

    const described = await run('things', 'describe', 'pump-1');
    expect(described.json).toMatchObject({
      thingName: 'pump-1',
      version: 1,
      attributes: { site: 'north', model: 'a1' },
    });

    const listed = await run('things', 'list', '--attribute-name', 'site', '--attribute-value', 'south');
    expect(listed.json.things.map((x: { thingName: string }) => x.thingName)).toEqual(['pump-2']);

    const updated = await run(
      'things',
      'update',
      'pump-1',
      '--attributes',
      'model=b2',
      '--merge',
      '--expected-version',
      '1',
    );
    expect(updated.code).toBe(0);
    expect(updated.json).toMatchObject({ version: 2, attributes: { site: 'north', model: 'b2' } });

    const stale = await run('things', 'update', 'pump-1', '--attributes', 'x=y', '--expected-version', '1');
    expect(stale.code).toBe(4);
    expect(stale.stderr).toMatch(/^fleetjobs: VersionConflictException: .+\n$/);

    expect((await run('things', 'delete', 'pump-2')).code).toBe(0);
    const gone = await run('things', 'describe', 'pump-2');
    expect(gone.code).toBe(3);
    expect(gone.stdout).toBe('');
    expect(gone.stderr).toBe('fleetjobs: ResourceNotFoundException: Thing pump-2 cannot be found.\n');
  });

  it('pages through long lists and honours --max-items', async () => {
    for (let i = 0; i < 7; i++) await run('things', 'create', `page-${i}`, '--attributes', 'batch=p');
    const all = await cli(['things', 'list', '--attribute-name', 'batch', '--attribute-value', 'p', '-o', 'json'], {
      env,
    });
    expect(all.json.things).toHaveLength(7);
    const some = await run('things', 'list', '--attribute-name', 'batch', '--attribute-value', 'p', '--max-items', '3');
    expect(some.json.things).toHaveLength(3);
    expect(typeof some.json.nextToken).toBe('string');
  });

  it('prints tables for people', async () => {
    await run('things', 'create', 'tbl-1', '--attributes', 'site=east');
    const r = await cli(['things', 'list', '--attribute-name', 'site', '--attribute-value', 'east'], { env });
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+TYPE\s+VERSION\s+ATTRIBUTES$/);
    expect(lines[1]).toMatch(/^tbl-1\s+1\s+site=east$/);
  });

  it('manages groups and membership', async () => {
    await run('things', 'create', 'g-thing');
    expect((await run('groups', 'create', 'fleet', '--description', 'all of them')).code).toBe(0);
    const child = await run('groups', 'create', 'fleet-eu', '--parent', 'fleet');
    expect(child.json).toMatchObject({ thingGroupName: 'fleet-eu' });
    expect((await run('groups', 'add-thing', 'fleet-eu', 'g-thing')).code).toBe(0);

    const direct = await run('groups', 'list-things', 'fleet');
    expect(direct.json.things).toEqual([]);
    const recursive = await run('groups', 'list-things', 'fleet', '--recursive');
    expect(recursive.json.things).toEqual(['g-thing']);

    const d = await run('groups', 'describe', 'fleet-eu');
    expect(d.json).toMatchObject({ thingGroupName: 'fleet-eu', parentGroupName: 'fleet' });
    const children = await run('groups', 'list', '--parent', 'fleet');
    expect(children.json.thingGroups.map((g: { groupName: string }) => g.groupName)).toEqual(['fleet-eu']);
    const ofThing = await run('things', 'groups', 'g-thing');
    expect(ofThing.json.thingGroups.map((g: { groupName: string }) => g.groupName)).toEqual(['fleet-eu']);

    expect((await run('groups', 'remove-thing', 'fleet-eu', 'g-thing')).code).toBe(0);
    expect((await run('groups', 'list-things', 'fleet', '--recursive')).json.things).toEqual([]);
    expect((await run('groups', 'delete', 'fleet-eu')).code).toBe(0);
    expect((await run('groups', 'describe', 'fleet-eu')).code).toBe(3);
    expect((await run('groups', 'add-thing', 'nope', 'g-thing')).code).toBe(3);
  });

  it('exits 2 with one line on usage errors', async () => {
    const missing = await cli(['things', 'create'], { env });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe("fleetjobs: missing required argument 'name'\n");
    const badFlag = await cli(['things', 'list', '--max-items', 'lots'], { env });
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toBe("fleetjobs: --max-items 'lots' must be a whole number from 1 to 9007199254740991\n");
    const badOutput = await cli(['things', 'list', '-o', 'yaml'], { env });
    expect(badOutput.code).toBe(2);
    expect(badOutput.stderr).toBe("fleetjobs: --output 'yaml' must be one of table, json\n");
    const unknown = await cli(['things', 'explode'], { env });
    expect(unknown.code).toBe(2);
  });

  it('exits 6 on bad credentials and 7 when the server cannot be reached', async () => {
    const denied = await cli(['things', 'list'], { env: { ...env, AWS_SECRET_ACCESS_KEY: 'wrong' } });
    expect(denied.code).toBe(6);
    expect(denied.stderr).toMatch(/^fleetjobs: InvalidSignatureException: /);
    const away = await cli(['things', 'list', '--endpoint-url', 'http://127.0.0.1:9'], { env });
    expect(away.code).toBe(7);
    expect(away.stderr).toMatch(/^fleetjobs: cannot reach the server \(ECONNREFUSED\)/);
    expect(away.stderr.split('\n')).toHaveLength(2);
  });

  it('finds the local server through its data dir, with no configuration', async () => {
    const bare = await cli(['things', 'describe', 'pump-1', '-o', 'json'], { cwd: t.dataDir, env: {} });
    expect(bare.stderr).toContain('no server configured');
    expect(bare.code).toBe(2);
    // ./fleetjobs-data in the working directory, or --data-dir
    const work = join(t.dataDir, 'work');
    mkdirSync(work, { recursive: true });
    const viaFlag = await cli(['things', 'describe', 'pump-1', '-o', 'json', '--data-dir', t.dataDir], {
      cwd: work,
      env: {},
    });
    expect(viaFlag.code).toBe(0);
    expect(viaFlag.json.thingName).toBe('pump-1');
    const viaEnv = await cli(['things', 'describe', 'pump-1', '-o', 'json'], {
      cwd: work,
      env: { FLEETJOBS_DATA_DIR: t.dataDir },
    });
    expect(viaEnv.json.thingName).toBe('pump-1');
  });

  it('uses named profiles from ~/.fleetjobs/config.json', async () => {
    const home = join(t.dataDir, 'home');
    mkdirSync(join(home, '.fleetjobs'), { recursive: true });
    writeFileSync(
      join(home, '.fleetjobs', 'config.json'),
      JSON.stringify({
        profiles: {
          lab: { endpoint: t.endpoint, region: 'us-east-1', ...t.credentials },
          broken: { endpoint: t.endpoint, accessKeyId: t.credentials.accessKeyId, secretAccessKey: 'nope' },
        },
      }),
    );
    const ok = await cli(['things', 'describe', 'pump-1', '--profile', 'lab', '-o', 'json'], { home, env: {} });
    expect(ok.json.thingName).toBe('pump-1');
    const viaEnv = await cli(['things', 'describe', 'pump-1', '-o', 'json'], {
      home,
      env: { FLEETJOBS_PROFILE: 'lab' },
    });
    expect(viaEnv.code).toBe(0);
    // An explicit profile beats the environment's credentials.
    const broken = await cli(['things', 'describe', 'pump-1', '--profile', 'broken'], { home, env });
    expect(broken.code).toBe(6);
    const missing = await cli(['things', 'list', '--profile', 'nope'], { home, env: {} });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^fleetjobs: profile 'nope' is not in .*config\.json \(profiles: lab, broken\)\n$/);
  });

  it('writes profiles with `config set-profile` and explains the connection with `config show`', async () => {
    const home = join(t.dataDir, 'home2');
    const set = await cli(
      [
        'config',
        'set-profile',
        'ops',
        '--endpoint-url',
        t.endpoint,
        '--access-key-id',
        t.credentials.accessKeyId,
        '--secret-access-key',
        t.credentials.secretAccessKey,
      ],
      { home, env: {} },
    );
    expect(set.code).toBe(0);
    expect(statSync(join(home, '.fleetjobs', 'config.json')).mode & 0o777).toBe(0o600);
    await cli(['config', 'set-profile', 'ops', '--region', 'us-east-1'], { home, env: {} });
    const shown = await cli(['config', 'show', '--profile', 'ops', '-o', 'json'], { home, env: {} });
    expect(shown.json).toMatchObject({
      endpoint: t.endpoint,
      region: 'us-east-1',
      accessKeyId: t.credentials.accessKeyId,
      sources: { endpoint: 'profile ops', credentials: 'profile ops', region: 'profile ops' },
    });
    expect(shown.stdout).not.toContain(t.credentials.secretAccessKey);
    expect((await cli(['things', 'describe', 'pump-1', '--profile', 'ops'], { home, env: {} })).code).toBe(0);
    const listed = await cli(['config', 'profiles', '-o', 'json'], { home, env: {} });
    expect(listed.json.profiles).toEqual([
      { name: 'ops', endpoint: t.endpoint, region: 'us-east-1', accessKeyId: t.credentials.accessKeyId },
    ]);
    const half = await cli(['config', 'set-profile', 'half', '--access-key-id', 'AKIAX'], { home, env: {} });
    expect(half.code).toBe(2);
  });

  it('runs as a real process with the same exit codes', async () => {
    const ok = await cliProcess(['things', 'describe', 'pump-1', '-o', 'json'], { env });
    expect(ok.code).toBe(0);
    expect(ok.json.thingName).toBe('pump-1');
    const nf = await cliProcess(['things', 'describe', 'ghost'], { env });
    expect(nf.code).toBe(3);
    expect(nf.stderr).toBe('fleetjobs: ResourceNotFoundException: Thing ghost cannot be found.\n');
  });
});
