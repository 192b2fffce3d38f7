import { mkdtempSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseListen, resolveConfig } from '../../src/config.js';

const dir = (): string => mkdtempSync(join(tmpdir(), 'fj-config-'));

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('uses the documented defaults', () => {
    const cwd = dir();
    const c = resolveConfig({ flags: {}, env: {}, cwd });
    expect(c.dataDir).toBe(join(cwd, 'fleetjobs-data'));
    expect(c.http).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(c.mqtt).toEqual({ host: '127.0.0.1', port: 8883 });
    expect(c.deviceHttps).toEqual({ host: '127.0.0.1', port: 8443 });
    expect(c.database).toBe(join(cwd, 'fleetjobs-data', 'fleetjobs.sqlite'));
    expect(c.region).toBe('us-east-1');
    expect(c.account).toBe('000000000000');
  });

  it('takes flag over env over file over default', () => {
    const cwd = dir();
    writeFileSync(
      join(cwd, 'fj.json'),
      JSON.stringify({ http: '127.0.0.1:1001', mqtt: '127.0.0.1:1002', region: 'eu-west-1' }),
    );
    const c = resolveConfig({
      flags: { config: 'fj.json', http: '127.0.0.1:3001' },
      env: { FLEETJOBS_HTTP: '127.0.0.1:2001', FLEETJOBS_MQTT: '127.0.0.1:2002' },
      cwd,
    });
    expect(c.http.port).toBe(3001);
    expect(c.mqtt.port).toBe(2002);
    expect(c.region).toBe('eu-west-1');
    expect(c.deviceHttps.port).toBe(8443);
  });

  it('reads the config file from FLEETJOBS_CONFIG and accepts flag-style keys', () => {
    const cwd = dir();
    writeFileSync(join(cwd, 'c.json'), JSON.stringify({ 'device-https': '0.0.0.0:0' }));
    const c = resolveConfig({ flags: {}, env: { FLEETJOBS_CONFIG: 'c.json' }, cwd });
    expect(c.deviceHttps).toEqual({ host: '0.0.0.0', port: 0 });
  });

  it('names every problem: bad port, bad database URL, bad region, unknown file key', () => {
    const cwd = dir();
    const p = problems(() =>
      resolveConfig({
        flags: { http: '127.0.0.1:99999', mqtt: 'nonsense', database: 'mysql://x', region: 'moon', account: '12' },
        env: {},
        cwd,
      }),
    );
    expect(p.join('\n')).toMatch(/--http '127.0.0.1:99999'/);
    expect(p.join('\n')).toMatch(/--mqtt 'nonsense'/);
    expect(p.join('\n')).toMatch(/--database 'mysql:\/\/x'/);
    expect(p.join('\n')).toMatch(/--region 'moon'/);
    expect(p.join('\n')).toMatch(/--account '12'/);
    writeFileSync(join(cwd, 'bad.json'), JSON.stringify({ htp: 'x' }));
    expect(problems(() => resolveConfig({ flags: { config: 'bad.json' }, env: {}, cwd }))[0]).toMatch(
      /unknown key 'htp'/,
    );
    writeFileSync(join(cwd, 'broken.json'), '{');
    expect(problems(() => resolveConfig({ flags: { config: 'broken.json' }, env: {}, cwd }))[0]).toMatch(
      /not valid JSON/,
    );
  });

  it('refuses an unwritable data dir', () => {
    const cwd = dir();
    const ro = join(cwd, 'ro');
    writeFileSync(ro, 'a file, not a directory');
    expect(problems(() => resolveConfig({ flags: { dataDir: ro }, env: {}, cwd }))[0]).toMatch(
      /not a writable directory/,
    );
    const locked = dir();
    chmodSync(locked, 0o500);
    // root ignores directory permissions; the file case above covers it there.
    if (process.getuid?.() !== 0) {
      expect(problems(() => resolveConfig({ flags: { dataDir: join(locked, 'sub') }, env: {}, cwd }))[0]).toMatch(
        /writable/,
      );
    }
  });

  it('requires both admin credential variables together', () => {
    expect(
      problems(() => resolveConfig({ flags: {}, env: { FLEETJOBS_ACCESS_KEY_ID: 'AKIA' }, cwd: dir() }))[0],
    ).toMatch(/must be set together/);
  });

  it('parses listen addresses', () => {
    const p: string[] = [];
    expect(parseListen('http', '0.0.0.0:0', p)).toEqual({ host: '0.0.0.0', port: 0 });
    expect(parseListen('http', '[::1]:80', p)).toEqual({ host: '::1', port: 80 });
    expect(parseListen('http', '8080', p)).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(p).toEqual([]);
    parseListen('http', 'localhost:-1', p);
    expect(p).toHaveLength(1);
  });
});
