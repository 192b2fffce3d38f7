import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, cliEnv } from '../helpers/cli.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe('fleetjobs CLI: certificates and device provisioning against a real server', () => {
  let t: TestServer;
  let env: NodeJS.ProcessEnv;
  const run = (...args: string[]) => cli([...args, '--output', 'json'], { env, cwd: t.dataDir });

  beforeAll(async () => {
    t = await startTestServer();
    env = cliEnv(t);
  });
  afterAll(() => t.stop());

  it('provisions a device directory the device can connect with', async () => {
    await run('groups', 'create', 'lab');
    const r = await cli(
      ['device', 'provision', 'dev-1', '--out', 'dev-1', '--group', 'lab', '-o', 'json', '--data-dir', t.dataDir],
      {
        cwd: t.dataDir,
        env: {},
      },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const dir = join(t.dataDir, 'dev-1');
    expect(r.json).toMatchObject({ thingName: 'dev-1', mqtt: t.server.endpoints.mqtt, directory: dir });
    expect(statSync(join(dir, 'key.pem')).mode & 0o777).toBe(0o600);
    const endpoints = JSON.parse(readFileSync(join(dir, 'endpoints.json'), 'utf8'));
    expect(endpoints).toEqual({
      thingName: 'dev-1',
      mqtt: t.server.endpoints.mqtt,
      deviceHttps: t.server.endpoints.deviceHttps,
      region: 'us-east-1',
      certificateId: r.json.certificateId,
      certificateArn: r.json.certificateArn,
    });
    expect((await run('groups', 'list-things', 'lab')).json.things).toEqual(['dev-1']);
    expect((await run('things', 'principals', 'dev-1')).json.principals).toEqual([r.json.certificateArn]);

    const client = await mqtt.connectAsync(endpoints.mqtt, {
      clientId: 'dev-1',
      cert: readFileSync(join(dir, 'cert.pem')),
      key: readFileSync(join(dir, 'key.pem')),
      ca: readFileSync(join(dir, 'ca.pem')),
      protocolVersion: 4,
      reconnectPeriod: 0,
    });
    expect(client.connected).toBe(true);
    await client.endAsync();

    const again = await cli(['device', 'provision', 'dev-1', '--out', 'dev-1', '--data-dir', t.dataDir], {
      cwd: t.dataDir,
      env: {},
    });
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already holds a device key; pass --force/);
  });

  it('asks DescribeEndpoint for the listeners and needs --ca when nothing local names the CA', async () => {
    const noCa = await run('device', 'provision', 'dev-2', '--out', 'dev-2');
    expect(noCa.code).toBe(2);
    expect(noCa.stderr).toMatch(/CA certificate is unknown: pass --ca FILE/);
    // Nothing was created on the server.
    expect((await run('things', 'describe', 'dev-2')).code).toBe(3);
    const ok = await run('device', 'provision', 'dev-2', '--out', 'dev-2', '--ca', t.server.endpoints.caCertificate!);
    expect(ok.code).toBe(0);
    expect(ok.json.mqtt).toBe(t.server.endpoints.mqtt);
  });

  it('manages certificates: create, list, describe, deactivate, attach, detach, delete', async () => {
    await run('things', 'create', 'c-thing');
    const made = await run('certificates', 'create', '--out', 'keys');
    expect(made.code).toBe(0);
    expect(made.json.certificateId).toMatch(/^[0-9a-f]{64}$/);
    expect(made.json.privateKey).toBeUndefined();
    expect(readFileSync(join(t.dataDir, 'keys', 'key.pem'), 'utf8')).toMatch(/PRIVATE KEY/);
    const id = made.json.certificateId as string;

    expect(
      (await run('certificates', 'list')).json.certificates.map((c: { certificateId: string }) => c.certificateId),
    ).toContain(id);
    expect((await run('certificates', 'describe', id)).json).toMatchObject({ certificateId: id, status: 'ACTIVE' });
    expect((await run('certificates', 'attach', id, 'c-thing')).code).toBe(0);
    expect((await run('certificates', 'things', id)).json.things).toEqual(['c-thing']);
    const busy = await run('certificates', 'delete', id);
    expect(busy.code).not.toBe(0);
    expect((await run('certificates', 'deactivate', id)).json).toMatchObject({ status: 'INACTIVE' });
    expect((await run('certificates', 'describe', made.json.certificateArn)).json.status).toBe('INACTIVE');
    expect((await run('certificates', 'detach', made.json.certificateArn, 'c-thing')).code).toBe(0);
    expect((await run('certificates', 'delete', id)).code).toBe(0);
    expect((await run('certificates', 'describe', id)).code).toBe(3);

    const inline = await run('certificates', 'create', '--inactive');
    expect(inline.json.privateKey).toMatch(/PRIVATE KEY/);
    expect((await run('certificates', 'describe', inline.json.certificateId)).json.status).toBe('INACTIVE');
  });
});
