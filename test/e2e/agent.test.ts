import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeJobExecutionCommand, type IoTClient } from '@aws-sdk/client-iot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  codeSigner,
  eventually,
  handlerDir,
  startFileServer,
  type CodeSigner,
  type FileServer,
} from '../helpers/agent.js';
import { cli, cliEnv } from '../helpers/cli.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe('fleetjobs agent: takes jobs over MQTT/TLS and runs their steps', () => {
  let t: TestServer;
  let env: NodeJS.ProcessEnv;
  let iot: IoTClient;
  let work: string;
  let handlers: string;
  let files: FileServer;
  let signer: CodeSigner;
  const firmware = Buffer.from('firmware v2 '.repeat(5000));

  const run = (...args: string[]) => cli([...args, '--output', 'json'], { env, cwd: work });
  const provision = async (name: string) => {
    const r = await run('device', 'provision', name, '--out', name, '--ca', t.server.endpoints.caCertificate!);
    expect(r.code).toBe(0);
    return join(work, name);
  };
  const createJob = async (jobId: string, thing: string, doc: unknown) => {
    writeFileSync(join(work, `${jobId}.json`), JSON.stringify(doc));
    const r = await run('jobs', 'create', jobId, '--document', `${jobId}.json`, '--thing', thing);
    expect(r.stderr).toBe('');
  };
  const execution = async (jobId: string, thingName: string) =>
    (await iot.send(new DescribeJobExecutionCommand({ jobId, thingName }))).execution!;
  const agentOnce = (dir: string, ...extra: string[]) =>
    cli(['agent', '--device-dir', dir, '--handler-dir', handlers, '--once', ...extra], { env: {}, cwd: work });
  const step = (handler: string, args: string[] = [], more: Record<string, unknown> = {}) => ({
    action: { name: handler.replace(/\.sh$/, ''), type: 'runHandler', input: { handler, args }, ...more },
  });

  beforeAll(async () => {
    t = await startTestServer();
    env = cliEnv(t);
    iot = t.iot();
    work = mkdtempSync(join(tmpdir(), 'fj-agent-'));
    handlers = handlerDir({
      'record.sh': 'echo "user=[$1] job=$FLEETJOBS_JOB_ID thing=$FLEETJOBS_THING_NAME" >> "$2"; echo recorded',
      'fail.sh': 'echo "disk full" >&2; exit 3',
      'install.sh': 'cmp -s "$2" "$3" && echo "installed $(wc -c < "$2") bytes"',
      'warn.sh': 'echo w1 >&2; echo w2 >&2; exit 0',
    });
    files = await startFileServer({ 'fw.bin': firmware });
    signer = await codeSigner();
    writeFileSync(join(work, 'expected.bin'), firmware);
    writeFileSync(join(work, 'signer.pem'), signer.certificatePem);
  });
  afterAll(async () => {
    await files.close();
    await t.stop();
  });

  it('runs a job: runHandler steps from the handler directory, SUCCEEDED with status details', async () => {
    const dir = await provision('a1');
    const out = join(work, 'a1-record.txt');
    await createJob('run-1', 'a1', {
      version: '1.0',
      includeStdOut: true,
      steps: [step('record.sh', [out], { runAsUser: 'nobody' }), step('record.sh', [out])],
    });
    const r = await agentOnce(dir);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/a1: job run-1 \(execution 1\) started\n/);
    expect(r.stderr).toMatch(/a1: job run-1: reported SUCCEEDED \(2 steps succeeded\)\n/);
    expect(readFileSync(out, 'utf8')).toBe('user=[nobody] job=run-1 thing=a1\nuser=[] job=run-1 thing=a1\n');
    const e = await execution('run-1', 'a1');
    expect(e.status).toBe('SUCCEEDED');
    expect(e.statusDetails?.detailsMap).toEqual({ reason: '2 steps succeeded', stdout: 'recorded' });
  });

  it('reports FAILED with the reason and stderr, REJECTED for what the device refuses', async () => {
    const dir = await provision('a2');
    await createJob('fail-1', 'a2', { version: '1.0', steps: [step('fail.sh'), step('record.sh', ['/nope'])] });
    await createJob('rej-cmd', 'a2', {
      version: '1.0',
      steps: [{ action: { name: 'cmd', type: 'runCommand', input: { command: 'echo,hi' } } }],
    });
    await createJob('rej-handler', 'a2', { version: '1.0', steps: [step('../fail.sh')] });
    await createJob('rej-missing', 'a2', { version: '1.0', steps: [step('absent.sh')] });
    await createJob('rej-doc', 'a2', { operation: 'reboot' });
    await createJob('stderr-1', 'a2', { version: '1.0', steps: [step('warn.sh', [], { allowStdErr: 1 })] });
    await createJob('ignored-1', 'a2', {
      version: '1.0',
      steps: [step('fail.sh', [], { ignoreStepFailure: 'true' }), step('record.sh', [join(work, 'a2.txt')])],
    });
    expect((await agentOnce(dir)).code).toBe(0);
    const details = async (jobId: string) => {
      const e = await execution(jobId, 'a2');
      return { status: e.status, ...e.statusDetails?.detailsMap } as Record<string, string | undefined>;
    };
    expect(await details('fail-1')).toEqual({
      status: 'FAILED',
      reason: 'step 1/2 fail: Exited with status: 3',
      stderr: 'disk full',
    });
    expect(await details('rej-cmd')).toEqual({
      status: 'REJECTED',
      reason: 'step cmd: runCommand is disabled on this device (agent --enable-run-command)',
    });
    expect(await details('rej-handler')).toMatchObject({
      status: 'REJECTED',
      reason: 'steps[0].action.input.handler must be a plain file name',
    });
    expect(await details('rej-missing')).toMatchObject({
      status: 'REJECTED',
      reason: 'step absent: handler absent.sh is not in the handler directory',
    });
    expect((await details('rej-doc')).reason).toMatch(/^unsupported job document: version must be "1.0"/);
    expect(await details('stderr-1')).toMatchObject({
      status: 'FAILED',
      reason: 'step 1/1 warn: 2 lines on stderr, more than allowStdErr 1',
    });
    expect(await details('ignored-1')).toMatchObject({ status: 'SUCCEEDED' });
    // A handler others may write to is refused too.
    const lax = handlerDir({ 'lax.sh': 'exit 0' });
    chmodSync(join(lax, 'lax.sh'), 0o777);
    await createJob('rej-lax', 'a2', { version: '1.0', steps: [step('lax.sh')] });
    await cli(['agent', '--device-dir', dir, '--handler-dir', lax, '--once'], { env: {}, cwd: work });
    expect((await details('rej-lax')).reason).toBe(
      "step lax: handler lax.sh must be owned by the agent's user and not writable by others",
    );
    // runCommand runs once enabled.
    await createJob('cmd-ok', 'a2', {
      version: '1.0',
      includeStdOut: true,
      steps: [{ action: { name: 'cmd', type: 'runCommand', input: { command: 'echo,a\\,b' } } }],
    });
    await agentOnce(dir, '--enable-run-command');
    expect(await details('cmd-ok')).toEqual({ status: 'SUCCEEDED', reason: '1 step succeeded', stdout: 'a,b' });
  });

  it('downloads files (resuming with Range), verifies code signatures and REJECTS a tampered file', async () => {
    const dir = await provision('a3');
    const cut = await startFileServer({ 'fw.bin': firmware }, { cutFirst: 10_000 });
    try {
      await createJob('fw-ok', 'a3', {
        version: '1.0',
        files: [{ name: 'fw.bin', url: cut.url('fw.bin'), codesign: signer.block(firmware) }],
        includeStdOut: true,
        steps: [step('install.sh', ['${file:fw.bin}', join(work, 'expected.bin')])],
      });
      const ok = await agentOnce(dir, '--signer-cert', 'signer.pem');
      expect(ok.stderr).toMatch(/fw.bin: code signature verified \(CN=fleetjobs test signer\)/);
      expect(ok.stderr).toMatch(/downloaded fw\.bin \(60000 bytes, resumed at 10000\)/);
      expect(ok.stderr).toMatch(/fw\.bin 100% \(60000\/60000 bytes\)/);
      expect(cut.requests).toEqual([{ path: 'fw.bin' }, { path: 'fw.bin', range: 'bytes=10000-' }]);
      const e = await execution('fw-ok', 'a3');
      expect(e.status).toBe('SUCCEEDED');
      expect(e.statusDetails?.detailsMap?.stdout).toBe('installed 60000 bytes');
    } finally {
      await cut.close();
    }

    const tampered = Buffer.from(firmware);
    tampered[100] = 0x41;
    files.set('evil.bin', tampered);
    const marker = join(work, 'a3-ran.txt');
    await createJob('fw-evil', 'a3', {
      version: '1.0',
      files: [{ name: 'fw.bin', url: files.url('evil.bin'), codesign: signer.block(firmware) }],
      steps: [step('record.sh', [marker])],
    });
    await createJob('fw-unsigned', 'a3', {
      version: '1.0',
      files: [{ name: 'fw.bin', url: files.url('fw.bin') }],
      steps: [step('record.sh', [marker])],
    });
    await agentOnce(dir, '--signer-cert', 'signer.pem', '--require-signature');
    const evil = await execution('fw-evil', 'a3');
    expect(evil.status).toBe('REJECTED');
    expect(evil.statusDetails?.detailsMap).toEqual({
      reason:
        'code signature verification failed for fw.bin: the SHA256withECDSA signature does not match the file and the certificate',
      file: 'fw.bin',
    });
    const unsigned = await execution('fw-unsigned', 'a3');
    expect(unsigned.statusDetails?.detailsMap?.reason).toBe('fw.bin: no code signature, and this device requires one');
    expect(existsSync(marker)).toBe(false);
    // Without a trusted signer certificate a signed file cannot be verified: refused as well.
    await createJob('fw-notrust', 'a3', {
      version: '1.0',
      files: [{ name: 'fw.bin', url: files.url('fw.bin'), codesign: signer.block(firmware) }],
      steps: [step('record.sh', [marker])],
    });
    await agentOnce(dir);
    expect((await execution('fw-notrust', 'a3')).statusDetails?.detailsMap?.reason).toBe(
      'code signature verification failed for fw.bin: no trusted signer certificate is configured',
    );
  });

  it('follows notify-next while running, and stops a step when its job is force-canceled', async () => {
    const dir = await provision('a4');
    const h = handlerDir({
      'wait.sh': 'echo started > "$2"; while [ ! -f "$3" ]; do sleep 0.05; done; echo done >> "$2"',
    });
    const ac = new AbortController();
    const agent = cli(['agent', '--device-dir', dir, '--handler-dir', h], { env: {}, cwd: work, interrupt: ac.signal });
    const started = join(work, 'a4-started.txt');
    const never = join(work, 'a4-never');
    await createJob('long-1', 'a4', { version: '1.0', steps: [step('wait.sh', [started, never])] });
    await eventually(async () => (existsSync(started) ? true : undefined), 20_000, 'the step to start');
    expect((await execution('long-1', 'a4')).statusDetails?.detailsMap).toEqual({ step: '1/1', action: 'wait' });
    expect((await run('jobs', 'cancel', 'long-1', '--force')).code).toBe(0);
    // The agent stops the step and takes the next job, announced by notify-next.
    const go = join(work, 'a4-go');
    writeFileSync(go, '');
    const second = join(work, 'a4-second.txt');
    await createJob('long-2', 'a4', { version: '1.0', steps: [step('wait.sh', [second, go])] });
    await eventually(
      async () => ((await execution('long-2', 'a4')).status === 'SUCCEEDED' ? true : undefined),
      20_000,
      'long-2',
    );
    expect(readFileSync(started, 'utf8')).toBe('started\n');
    expect((await execution('long-1', 'a4')).status).toBe('CANCELED');
    ac.abort();
    const r = await agent;
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/job long-1: CANCELED by the service; stopped/);
    expect(r.stderr).toMatch(/job long-2: reported SUCCEEDED/);
  });

  it('fails clearly when it cannot connect', async () => {
    const dir = await provision('a5');
    const certId = JSON.parse(readFileSync(join(dir, 'endpoints.json'), 'utf8')).certificateId;
    await run('certificates', 'deactivate', certId);
    const r = await agentOnce(dir);
    expect(r.code).toBe(6);
    expect(r.stderr).toBe('fleetjobs: the server refused the device: Connection refused: Not authorized\n');
    const usage = await cli(['agent', '--thing', 'x'], { env: {}, cwd: work });
    expect(usage.code).toBe(2);
    expect(usage.stderr).toBe('fleetjobs: agent needs --endpoint, --cert, --key, --ca (or --device-dir DIR)\n');
  });
});
