import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeJobExecutionCommand } from '@aws-sdk/client-iot';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeSigner, eventually, handlerDir, startFileServer, type FileServer } from '../helpers/agent.js';
import { cli, cliEnv } from '../helpers/cli.js';
import { ensureCompiled, FLEETJOBS_BIN } from '../helpers/compiled.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** The agent as a real process, so that it can be killed without any chance to clean up. */
function startAgent(args: string[], cwd: string): { child: ChildProcess; stderr: () => string } {
  const child = spawn(process.execPath, [FLEETJOBS_BIN, 'agent', ...args], {
    cwd,
    env: { PATH: process.env.PATH, HOME: cwd },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return { child, stderr: () => err };
}

const killHard = async (child: ChildProcess): Promise<void> => {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
};

describe('fleetjobs agent: a restart in the middle of a job', () => {
  let t: TestServer;
  let work: string;
  let files: FileServer;
  const firmware = Buffer.from('signed firmware image '.repeat(20_000));

  beforeAll(async () => {
    await ensureCompiled();
    t = await startTestServer();
    work = mkdtempSync(join(tmpdir(), 'fj-restart-'));
    files = await startFileServer({ 'fw.bin': firmware }, { stallFirst: 100_000 });
  });
  afterAll(async () => {
    await files.close();
    await t.stop();
  });

  it('resumes the download with Range after a kill, then resumes at the interrupted step after another', async () => {
    const env = cliEnv(t);
    const dir = join(work, 'dev');
    const p = await cli(['device', 'provision', 'r1', '--out', dir, '--ca', t.server.endpoints.caCertificate!], {
      env,
      cwd: work,
    });
    expect(p.code).toBe(0);
    const log = join(work, 'steps.log');
    const go = join(work, 'go');
    const pidFile = join(work, 'step2.pid');
    const handlers = handlerDir({
      'one.sh': `echo one >> ${log}`,
      'two.sh': `echo $$ > ${pidFile}; echo two-start >> ${log}; while [ ! -f ${go} ]; do sleep 0.05; done; echo two-end >> ${log}`,
      'three.sh': `cmp -s "$2" "$3" && echo three >> ${log}`,
    });
    const signer = await codeSigner();
    writeFileSync(join(work, 'signer.pem'), signer.certificatePem);
    writeFileSync(join(work, 'expected.bin'), firmware);
    const doc = {
      version: '1.0',
      files: [{ name: 'fw.bin', url: files.url('fw.bin'), codesign: signer.block(firmware) }],
      steps: ['one.sh', 'two.sh', 'three.sh'].map((handler) => ({
        action: {
          name: handler,
          type: 'runHandler',
          input: { handler, args: ['${file:fw.bin}', join(work, 'expected.bin')] },
        },
      })),
    };
    writeFileSync(join(work, 'job.json'), JSON.stringify(doc));
    expect(
      (await cli(['jobs', 'create', 'upd-1', '--document', 'job.json', '--thing', 'r1'], { env, cwd: work })).code,
    ).toBe(0);
    const args = ['--device-dir', dir, '--handler-dir', handlers, '--signer-cert', join(work, 'signer.pem')];
    const execution = async () =>
      (await t.iot().send(new DescribeJobExecutionCommand({ jobId: 'upd-1', thingName: 'r1' }))).execution!;

    // 1. Killed while the download is stalled half way.
    const first = startAgent(args, work);
    const part = join(dir, 'state', 'jobs', 'upd-1.1', 'files', 'fw.bin.part');
    await eventually(
      async () => (existsSync(part) && statSync(part).size === 100_000 ? true : undefined),
      20_000,
      'a partial download',
    );
    await killHard(first.child);
    expect((await execution()).status).toBe('IN_PROGRESS');
    expect((await execution()).statusDetails?.detailsMap).toMatchObject({ step: 'download', file: 'fw.bin' });

    // 2. Started again: the download continues where it stopped; killed during step 2.
    const second = startAgent(args, work);
    await eventually(async () => (existsSync(pidFile) ? true : undefined), 20_000, 'step 2 to start');
    expect(files.requests).toEqual([{ path: 'fw.bin' }, { path: 'fw.bin', range: 'bytes=100000-' }]);
    expect(second.stderr()).toMatch(/job upd-1 \(execution 1\) resumed at step 1\n/);
    expect(second.stderr()).toMatch(/downloaded fw\.bin \(440000 bytes, resumed at 100000\)/);
    expect((await execution()).statusDetails?.detailsMap).toEqual({ step: '2/3', action: 'two.sh' });
    await killHard(second.child);
    // The handler outlives a killed agent, as any child would; stop it the same way.
    process.kill(-Number(readFileSync(pidFile, 'utf8')), 'SIGKILL');

    // 3. Started again: step 1 is not run again, step 2 is, then step 3; the job SUCCEEDS.
    writeFileSync(pidFile, '');
    const third = cli(['agent', ...args, '--once'], { env: {}, cwd: work });
    await eventually(
      async () => (readFileSync(pidFile, 'utf8') !== '' ? true : undefined),
      20_000,
      'step 2 to start again',
    );
    writeFileSync(go, '');
    const r = await third;
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/job upd-1 \(execution 1\) resumed at step 2\n/);
    expect(readFileSync(log, 'utf8')).toBe('one\ntwo-start\ntwo-start\ntwo-end\nthree\n');
    const e = await execution();
    expect(e.status).toBe('SUCCEEDED');
    expect(e.statusDetails?.detailsMap).toEqual({ reason: '3 steps succeeded' });
    // Finished jobs leave no state behind.
    expect(existsSync(join(dir, 'state', 'state.json'))).toBe(false);
    expect(existsSync(join(dir, 'state', 'jobs', 'upd-1.1'))).toBe(false);
  });
});
