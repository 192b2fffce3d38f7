import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { resolveConnection } from '../../src/cli/connection.js';
import { classify, describeError, EXIT_CODES, UsageError } from '../../src/cli/exit-codes.js';
import { plain, renderTable } from '../../src/cli/output.js';
import {
  countsOf,
  formatDuration,
  ProgressTracker,
  renderBars,
  renderLine,
  type Counts,
} from '../../src/cli/progress.js';

const dir = (): string => mkdtempSync(join(tmpdir(), 'fj-unit-'));

function localServer(root: string, creds = true): string {
  const d = join(root, 'fleetjobs-data');
  mkdirSync(d, { recursive: true });
  writeFileSync(
    join(d, 'endpoints.json'),
    JSON.stringify({ http: 'http://127.0.0.1:1111', mqtt: 'mqtts://127.0.0.1:2222', caCertificate: '/ca.pem' }),
  );
  if (creds)
    writeFileSync(
      join(d, 'admin-credentials.json'),
      JSON.stringify({ accessKeyId: 'AKIALOCAL', secretAccessKey: 'local' }),
    );
  return d;
}

function profiles(home: string, p: object): void {
  mkdirSync(join(home, '.fleetjobs'), { recursive: true });
  writeFileSync(join(home, '.fleetjobs', 'config.json'), JSON.stringify({ profiles: p }));
}

describe('connection settings', () => {
  it('falls back to the local data dir, and takes its device endpoints', () => {
    const cwd = dir();
    localServer(cwd);
    const c = resolveConnection({}, { env: {}, cwd, home: cwd });
    expect(c).toMatchObject({
      endpoint: 'http://127.0.0.1:1111',
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIALOCAL', secretAccessKey: 'local' },
      device: { mqtt: 'mqtts://127.0.0.1:2222', caCertificate: '/ca.pem' },
    });
    expect(c.sources.endpoint).toBe(`data dir ${join(cwd, 'fleetjobs-data')}`);
  });

  it('ranks flag > env > default profile > data dir, but an explicit profile above env', () => {
    const cwd = dir();
    localServer(cwd);
    profiles(cwd, {
      default: { endpoint: 'http://default:1', accessKeyId: 'AKIADEF', secretAccessKey: 'd', region: 'eu-west-1' },
      lab: { endpoint: 'https://lab:2', accessKeyId: 'AKIALAB', secretAccessKey: 'l', region: 'ap-south-1' },
    });
    const env = {
      FLEETJOBS_ENDPOINT: 'http://env:3',
      AWS_ACCESS_KEY_ID: 'AKIAENV',
      AWS_SECRET_ACCESS_KEY: 'e',
      AWS_REGION: 'us-west-2',
    };
    const e = { env, cwd, home: cwd };
    expect(resolveConnection({}, e)).toMatchObject({
      endpoint: 'http://env:3',
      region: 'us-west-2',
      credentials: { accessKeyId: 'AKIAENV' },
    });
    expect(resolveConnection({}, { ...e, env: {} })).toMatchObject({
      endpoint: 'http://default:1',
      region: 'eu-west-1',
    });
    expect(resolveConnection({ profile: 'lab' }, e)).toMatchObject({
      endpoint: 'https://lab:2',
      region: 'ap-south-1',
      credentials: { accessKeyId: 'AKIALAB' },
    });
    expect(resolveConnection({ profile: 'lab', endpointUrl: 'http://flag:4/', region: 'sa-east-1' }, e)).toMatchObject({
      endpoint: 'http://flag:4',
      region: 'sa-east-1',
    });
  });

  it('uses the server environment credentials when the data dir has none', () => {
    const cwd = dir();
    localServer(cwd, false);
    const c = resolveConnection(
      {},
      { env: { FLEETJOBS_ACCESS_KEY_ID: 'AKIASRV', FLEETJOBS_SECRET_ACCESS_KEY: 's' }, cwd, home: cwd },
    );
    expect(c.credentials.accessKeyId).toBe('AKIASRV');
  });

  it.each([
    [{}, {}, /^no server configured/],
    [{ endpointUrl: 'ftp://x' }, {}, /^flag --endpoint-url: 'ftp:\/\/x' must start with http:\/\/ or https:\/\//],
    [{ endpointUrl: 'http://x' }, {}, /^no credentials/],
    [{ dataDir: '/nonexistent/fj' }, {}, /^no server data in \/nonexistent\/fj/],
    [{ profile: 'x' }, {}, /^profile 'x' is not in .*config\.json$/],
  ])('explains what is missing (%#)', (flags, env, message) => {
    const cwd = dir();
    expect(() => resolveConnection(flags, { env, cwd, home: cwd })).toThrow(message);
  });

  it('rejects a malformed profiles file with the reason', () => {
    const cwd = dir();
    profiles(cwd, { default: { endpont: 'http://x' } });
    expect(() => resolveConnection({}, { env: {}, cwd, home: cwd })).toThrow(
      /profile 'default' has unknown key 'endpont'/,
    );
  });
});

describe('errors and exit codes', () => {
  const sdkError = (name: string, message: string, status?: number) =>
    Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });

  it('maps AWS error names and HTTP statuses to the documented codes', () => {
    expect(classify(sdkError('ResourceNotFoundException', 'x', 404))).toBe('notFound');
    expect(classify(sdkError('NoSuchEntity', 'x', 404))).toBe('notFound');
    expect(classify(sdkError('VersionConflictException', 'x', 409))).toBe('conflict');
    expect(classify(sdkError('InvalidRequestException', 'x', 400))).toBe('invalid');
    expect(classify(sdkError('AccessDeniedException', 'x', 403))).toBe('denied');
    expect(classify(sdkError('SomethingNew', 'x', 409))).toBe('conflict');
    expect(classify(sdkError('InternalFailureException', 'x', 500))).toBe('service');
    expect(classify(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))).toBe('unreachable');
    expect(classify(new UsageError('x'))).toBe('usage');
  });

  it('prints one line', () => {
    expect(describeError(sdkError('ResourceNotFoundException', 'Thing x cannot be found.'))).toBe(
      'ResourceNotFoundException: Thing x cannot be found.',
    );
    expect(describeError(sdkError('NotFound', 'NotFound', 404))).toBe('NotFound (HTTP 404)');
    expect(describeError(sdkError('X', 'two\n  lines'))).toBe('X: two lines');
  });

  it('has unique codes, all documented in the README', () => {
    const codes = Object.values(EXIT_CODES).map((e) => e.code);
    expect(new Set(codes).size).toBe(codes.length);
    const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
    for (const { code } of Object.values(EXIT_CODES)) {
      expect(readme, `README documents exit code ${code}`).toMatch(new RegExp(`^\\| ${code} \\|`, 'm'));
    }
  });
});

describe('output', () => {
  it('renders aligned tables and plain JSON', () => {
    expect(
      renderTable(
        [
          { a: 'x', b: 1 },
          { a: 'long value', b: 22 },
        ],
        [
          { header: 'name', get: (r) => r.a },
          { header: 'n', get: (r) => r.b },
        ],
      ),
    ).toBe('NAME        N\nx           1\nlong value  22');
    expect(plain({ $metadata: {}, at: new Date(0), n: undefined, list: [new Uint8Array([1, 2])] })).toEqual({
      at: '1970-01-01T00:00:00.000Z',
      list: ['AQI='],
    });
  });
});

describe('watch progress', () => {
  const counts = (c: Partial<Counts>): Counts => ({ ...countsOf({}), ...c });

  it('computes rate over a window and an ETA for what is pending', () => {
    const t = new ProgressTracker(0, 10_000);
    t.sample('j', 'IN_PROGRESS', counts({ QUEUED: 100 }), 0);
    const s = t.sample('j', 'IN_PROGRESS', counts({ QUEUED: 60, IN_PROGRESS: 20, SUCCEEDED: 18, FAILED: 2 }), 4000);
    expect(s.rate).toBe(5);
    expect(s.etaSeconds).toBe(16);
    // The window slides: a stall shows up as a falling rate, then an unknown ETA.
    t.sample('j', 'IN_PROGRESS', counts({ QUEUED: 60, IN_PROGRESS: 20, SUCCEEDED: 18, FAILED: 2 }), 20_000);
    const stalled = t.sample(
      'j',
      'IN_PROGRESS',
      counts({ QUEUED: 60, IN_PROGRESS: 20, SUCCEEDED: 18, FAILED: 2 }),
      30_000,
    );
    expect(stalled.rate).toBe(0);
    expect(stalled.etaSeconds).toBeUndefined();
    const done = t.sample('j', 'COMPLETED', counts({ SUCCEEDED: 98, FAILED: 2 }), 31_000);
    expect(done.etaSeconds).toBe(0);
  });

  it('draws bars per state and plain lines', () => {
    const t = new ProgressTracker(0);
    t.sample('fw', 'IN_PROGRESS', counts({ QUEUED: 4 }), 0);
    const s = t.sample('fw', 'IN_PROGRESS', counts({ QUEUED: 1, IN_PROGRESS: 1, SUCCEEDED: 2 }), 2000);
    expect(renderBars(s, 52)).toEqual([
      'job fw  IN_PROGRESS  2/4 finished  elapsed 0:02',
      '  QUEUED      █████░░░░░░░░░░░░░░░      1  25.0%',
      '  IN_PROGRESS █████░░░░░░░░░░░░░░░      1  25.0%',
      '  SUCCEEDED   ██████████░░░░░░░░░░      2  50.0%',
      '  rate 1.0/s  ETA 0:02',
    ]);
    expect(renderLine(s, 'T')).toBe(
      'T fw IN_PROGRESS queued=1 in_progress=1 succeeded=2 finished=2/4 rate=1.0/s eta=0:02',
    );
    expect(formatDuration(3725)).toBe('1:02:05');
    const stage = { status: 'WAITING_FOR_GATE', currentWave: 2, waveCount: 3, releasedThings: 3, totalThings: 4 };
    const staged = t.sample('fw', 'IN_PROGRESS', counts({ QUEUED: 1, SUCCEEDED: 3 }), 3000, stage);
    expect(renderBars(staged, 52)[1]).toBe('  wave 2/3 WAITING_FOR_GATE (3/4 released)');
    expect(renderLine(staged, 'T')).toMatch(/ finished=3\/4 wave=2\/3:WAITING_FOR_GATE rate=/);
  });
});
