import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import { beforeAll, describe, expect, it } from 'vitest';
import { CreateThingCommand, IoTClient } from '@aws-sdk/client-iot';
import { awsCli } from '../helpers/aws-cli.js';
import { ensureCompiled, FLEETJOBS_BIN as BIN } from '../helpers/compiled.js';

const FREE_PORTS = ['--http', '127.0.0.1:0', '--mqtt', '127.0.0.1:0', '--device-https', '127.0.0.1:0'];

interface Started {
  child: ChildProcess;
  ready: Record<string, string>;
  stderr: () => string;
}

function run(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(process.execPath, [BIN, ...args], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Waits for the one JSON ready line on stdout (DESIGN.md configuration contract). */
async function startServe(dataDir: string, extra: string[] = []): Promise<Started> {
  const child = run(['serve', '--data-dir', dataDir, '--log-level', 'warn', ...FREE_PORTS, ...extra]);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  let out = '';
  const ready = await new Promise<Record<string, string>>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line && out.includes('\n')) resolve(JSON.parse(line) as Record<string, string>);
    });
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}: ${err}`)));
  });
  return { child, ready, stderr: () => err };
}

async function exitOf(child: ChildProcess): Promise<{ code: number | null; stderr: string }> {
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  // 'close' (stdio drained), not 'exit': the last of stderr may still be in the pipe at exit.
  const [code] = (await once(child, 'close')) as [number | null];
  return { code, stderr };
}

describe('fleetjobs serve as a process', () => {
  beforeAll(ensureCompiled);

  it('prints the ready line, writes endpoints.json, prints generated credentials once, stops on SIGTERM', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'fj-serve-'));
    const first = await startServe(dataDir);
    expect(first.ready.http).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(JSON.parse(readFileSync(join(dataDir, 'endpoints.json'), 'utf8'))).toEqual(first.ready);
    expect(first.stderr()).toContain('AWS_SECRET_ACCESS_KEY=');
    const creds = JSON.parse(readFileSync(join(dataDir, 'admin-credentials.json'), 'utf8')) as {
      accessKeyId: string;
      secretAccessKey: string;
    };
    expect(statSync(join(dataDir, 'admin-credentials.json')).mode & 0o777).toBe(0o600);
    expect(first.stderr()).toContain(creds.secretAccessKey);

    // The README's quick start: the aws CLI with the printed credentials.
    const env = {
      PATH: process.env.PATH,
      HOME: dataDir,
      AWS_ACCESS_KEY_ID: creds.accessKeyId,
      AWS_SECRET_ACCESS_KEY: creds.secretAccessKey,
      AWS_DEFAULT_REGION: 'us-east-1',
    };
    const made = await awsCli(first.ready.http!, env, ['iot', 'create-thing', '--thing-name', 't1']);
    expect(made.code).toBe(0);
    expect(made.json).toMatchObject({ thingName: 't1' });

    first.child.kill('SIGTERM');
    expect((await exitOf(first.child)).code).toBe(0);

    // Second start: same data dir, credentials not printed again, data kept (SQLite file).
    const second = await startServe(dataDir);
    expect(second.stderr()).not.toContain('AWS_SECRET_ACCESS_KEY=');
    const iot = new IoTClient({
      endpoint: second.ready.http!,
      region: 'us-east-1',
      credentials: creds,
      maxAttempts: 1,
    });
    await expect(iot.send(new CreateThingCommand({ thingName: 't1' }))).resolves.toMatchObject({ thingName: 't1' });
    iot.destroy();
    second.child.kill('SIGINT');
    expect((await exitOf(second.child)).code).toBe(0);
    expect(existsSync(join(dataDir, 'fleetjobs.sqlite'))).toBe(true);
  });

  it('uses FLEETJOBS_ACCESS_KEY_ID / FLEETJOBS_SECRET_ACCESS_KEY when set and prints nothing secret', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'fj-serve-'));
    const child = run(['serve', '--data-dir', dataDir, '--log-level', 'info', ...FREE_PORTS], {
      FLEETJOBS_ACCESS_KEY_ID: 'AKIAFROMENVIRONMENT1',
      FLEETJOBS_SECRET_ACCESS_KEY: 'env-secret-value-123',
    });
    let all = '';
    child.stderr!.on('data', (d: Buffer) => (all += d.toString()));
    const ready = await new Promise<Record<string, string>>((resolve) =>
      child.stdout!.on('data', (d: Buffer) => {
        all += d.toString();
        resolve(JSON.parse(d.toString().split('\n')[0]!) as Record<string, string>);
      }),
    );
    const iot = new IoTClient({
      endpoint: ready.http!,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIAFROMENVIRONMENT1', secretAccessKey: 'env-secret-value-123' },
      maxAttempts: 1,
    });
    await expect(iot.send(new CreateThingCommand({ thingName: 'x' }))).resolves.toBeDefined();
    iot.destroy();
    child.kill('SIGTERM');
    await once(child, 'exit');
    expect(all).not.toContain('env-secret-value-123');
    expect(existsSync(join(dataDir, 'admin-credentials.json'))).toBe(false);
  });

  it('sets --heap-growing-percent=30 on its own process unless node was started with that flag', async () => {
    const logOf = async (nodeFlags: string[]): Promise<string> => {
      const dataDir = mkdtempSync(join(tmpdir(), 'fj-serve-'));
      const child = spawn(
        process.execPath,
        [...nodeFlags, BIN, 'serve', '--data-dir', dataDir, '--log-level', 'info', ...FREE_PORTS],
        { env: { PATH: process.env.PATH, HOME: process.env.HOME }, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let log = '';
      child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
      await new Promise((resolve) => child.stdout!.once('data', resolve));
      child.kill('SIGTERM');
      // 'close', not 'exit': stderr may still hold data when the process has exited.
      await once(child, 'close');
      return log;
    };
    const log = await logOf([]);
    expect(log).toMatch(/"v8Flags":\["--heap-growing-percent=30"\].*"msg":"V8 flags set by serve"/);
    // One logged before the ready line, one at a SIGTERM sent the moment it appeared: the signal
    // handlers are in place before the ready line, and pino flushes at exit.
    expect(log).toMatch(/"signal":"SIGTERM".*"msg":"shutting down"/);
    expect(await logOf(['--heap-growing-percent=0'])).not.toContain('V8 flags set by serve');
  });

  it.each([
    [['--http', '127.0.0.1:70000'], /--http '127.0.0.1:70000' is not host:port/],
    [['--database', 'mysql://db/x'], /only postgres:\/\/ URLs or an SQLite file path/],
    [['--database', 'postgres://'], /not a valid postgres:\/\/ URL/],
    [['--log-level', 'loud'], /--log-level 'loud'/],
  ])('exits 2 with a clear message for %j', async (args, message) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'fj-serve-'));
    const { code, stderr } = await exitOf(run(['serve', '--data-dir', dataDir, ...FREE_PORTS, ...args]));
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
  });

  it('exits 2 when the data dir is not writable', async () => {
    const parent = mkdtempSync(join(tmpdir(), 'fj-serve-'));
    const file = join(parent, 'plain-file');
    writeFileSync(file, 'x');
    const { code, stderr } = await exitOf(run(['serve', '--data-dir', file, ...FREE_PORTS]));
    expect(code).toBe(2);
    expect(stderr).toMatch(/is not a writable directory/);
  });

  it('exits 1 naming the cause when PostgreSQL cannot be reached', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'fj-serve-'));
    const { code, stderr } = await exitOf(
      run(['serve', '--data-dir', dataDir, ...FREE_PORTS, '--database', 'postgres://nobody@127.0.0.1:1/none']),
    );
    expect(code).toBe(1);
    expect(stderr).toMatch(/cannot start: .*(ECONNREFUSED|connect)/);
  });

  it('exits 1 when the HTTP port is taken', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'fj-serve-'));
    const first = await startServe(dataDir);
    const port = new URL(first.ready.http!).port;
    const { code, stderr } = await exitOf(
      run([
        'serve',
        '--data-dir',
        mkdtempSync(join(tmpdir(), 'fj-serve-')),
        ...FREE_PORTS,
        '--http',
        `127.0.0.1:${port}`,
      ]),
    );
    first.child.kill('SIGTERM');
    await once(first.child, 'exit');
    expect(code).toBe(1);
    expect(stderr).toMatch(/EADDRINUSE/);
  });

  it('answers --help', async () => {
    const child = run(['--help']);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const [code] = (await once(child, 'close')) as [number];
    expect(code).toBe(0);
    expect(out).toContain('serve');
    const serveHelp = run(['serve', '--help']);
    let sOut = '';
    serveHelp.stdout!.on('data', (d: Buffer) => (sOut += d.toString()));
    await once(serveHelp, 'close');
    expect(sOut).toContain('--device-https');
    expect(sOut).toContain('FLEETJOBS_DATA_DIR');
  });
});
