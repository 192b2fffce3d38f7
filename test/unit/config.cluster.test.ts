import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, resolveConfig } from '../../src/config.js';
import { consumedLocally, parseClusterUrl } from '../../src/protocols/mqtt/cluster.js';

const cwd = (): string => mkdtempSync(join(tmpdir(), 'fj-config-cluster-'));

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

const SHARED_ENV = {
  FLEETJOBS_ACCESS_KEY_ID: 'AKIAEXAMPLEEXAMPLE01',
  FLEETJOBS_SECRET_ACCESS_KEY: 'secret',
  FLEETJOBS_SIGNING_KEY: Buffer.alloc(32, 1).toString('base64'),
};
const FLAGS = {
  cluster: 'redis://127.0.0.1:6379/2?prefix=site-a',
  database: 'postgres://db.internal/fleetjobs',
  objects: 's3://firmware?endpoint=http://minio:9000',
};

describe('--cluster (README "Scaled-out deployment")', () => {
  it('accepts a replica given the shared engines and the shared secrets', () => {
    const c = resolveConfig({ flags: FLAGS, env: SHARED_ENV, cwd: cwd() });
    expect(c.cluster).toBe(FLAGS.cluster);
    expect(parseClusterUrl(c.cluster!)).toEqual({ redisUrl: 'redis://127.0.0.1:6379/2', prefix: 'site-a' });
    expect(parseClusterUrl('redis://h:1').prefix).toBe('fleetjobs');
  });

  it('names everything a replica would not share with the others', () => {
    const p = problems(() => resolveConfig({ flags: { cluster: 'redis://r:6379' }, env: {}, cwd: cwd() }));
    expect(p).toEqual([
      '--cluster needs --database postgres://... (the replicas share one database)',
      '--cluster needs --objects s3://... (the replicas share one object store)',
      '--cluster needs FLEETJOBS_ACCESS_KEY_ID and FLEETJOBS_SECRET_ACCESS_KEY (the same on every replica)',
      '--cluster needs FLEETJOBS_SIGNING_KEY (the same on every replica; it seals the CA and signing keys)',
    ]);
  });

  it('refuses a prefix Redis patterns would misread, and URLs that are not redis://', () => {
    const bad = { ...FLAGS, cluster: 'redis://r:6379?prefix=a*b' };
    expect(problems(() => resolveConfig({ flags: bad, env: SHARED_ENV, cwd: cwd() }))).toEqual([
      "--cluster prefix 'a*b' may use A-Z a-z 0-9 _ . - only",
    ]);
    expect(
      problems(() => resolveConfig({ flags: { ...FLAGS, cluster: 'http://r' }, env: SHARED_ENV, cwd: cwd() }))[0],
    ).toMatch(/must be a redis:\/\/ URL/);
  });

  it("keeps a device's jobs requests off Redis, and everything else on it", () => {
    const fromDevice = (topic: string) => consumedLocally({ topic, clientId: 'gw-1' });
    expect(fromDevice('$aws/things/gw-1/jobs/start-next')).toBe(true);
    expect(fromDevice('$aws/things/gw-1/jobs/j1/update')).toBe(true);
    expect(fromDevice('$aws/things/gw-1/jobs/$next/get')).toBe(true);
    expect(fromDevice('$aws/things/gw-1/jobs/nonsense/x/y')).toBe(true);
    // Operator topics devices publish to, and everything the service publishes, cross replicas.
    expect(fromDevice('telemetry/gw-1/temp')).toBe(false);
    expect(consumedLocally({ topic: '$aws/things/gw-1/jobs/notify-next' })).toBe(false);
    expect(consumedLocally({ topic: '$aws/events/job/j1/completed' })).toBe(false);
    expect(consumedLocally({ topic: '$SYS/broker/new/clients' })).toBe(false);
  });
});
