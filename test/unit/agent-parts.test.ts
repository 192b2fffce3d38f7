import { mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { download, HttpStatusError } from '../../src/agent/download.js';
import { statusDetails } from '../../src/agent/execution-run.js';
import {
  DocumentError,
  fileEnvName,
  parseCommand,
  parseJobDocument,
  substituteFiles,
} from '../../src/agent/job-document.js';
import { StateStore } from '../../src/agent/state.js';
import { detailValue, realDirs, resolveHandler, runAction } from '../../src/agent/step-runner.js';
import { defaultVerifier } from '../../src/agent/verify.js';
import { codeSigner, handlerDir, startFileServer } from '../helpers/agent.js';

const doc = (steps: unknown[], extra: Record<string, unknown> = {}) => ({ version: '1.0', steps, ...extra });
const handlerStep = (input: Record<string, unknown>, more: Record<string, unknown> = {}) => ({
  action: { name: 'x', type: 'runHandler', input, ...more },
});

describe('job documents (Device Client schema 1.0 + files)', () => {
  it('parses steps, finalStep, files and the Device Client string booleans', () => {
    const d = parseJobDocument(
      JSON.stringify(
        doc(
          [
            handlerStep(
              { handler: 'a.sh', args: ['1'], path: 'default' },
              { runAsUser: 'root', ignoreStepFailure: 'true', allowStdErr: 2 },
            ),
          ],
          {
            includeStdOut: 'true',
            finalStep: { action: { name: 'f', type: 'runCommand', input: { command: 'echo,done' } } },
            files: [
              {
                name: 'fw.bin',
                url: 'https://h/fw.bin',
                sha256: 'A'.repeat(64),
                size: 3,
                codesign: { signature: 'c2ln' },
              },
            ],
          },
        ),
      ),
    );
    expect(d).toEqual({
      includeStdOut: true,
      steps: [
        {
          name: 'x',
          type: 'runHandler',
          handler: 'a.sh',
          path: 'default',
          args: ['1'],
          runAsUser: 'root',
          ignoreStepFailure: true,
          allowStdErr: 2,
        },
      ],
      finalStep: { name: 'f', type: 'runCommand', command: ['echo', 'done'], args: [], ignoreStepFailure: false },
      files: [
        { name: 'fw.bin', url: 'https://h/fw.bin', sha256: 'a'.repeat(64), size: 3, codesign: { signature: 'c2ln' } },
      ],
    });
  });

  it.each([
    ['not json', 'the job document is not valid JSON'],
    [
      { operation: 'x' },
      'unsupported job document: version must be "1.0" (the AWS IoT Device Client schema), got undefined',
    ],
    [doc([]), 'steps must be a non-empty list'],
    [
      doc([{ action: { name: 'x', type: 'runScript', input: {} } }]),
      'steps[0].action.type must be one of runHandler, runCommand',
    ],
    [doc([handlerStep({ handler: '../x.sh' })]), 'steps[0].action.input.handler must be a plain file name'],
    [doc([handlerStep({ handler: 'x.sh', args: [1] })]), 'steps[0].action.input.args must be a list of strings'],
    [doc([handlerStep({ handler: 'x.sh' }, { runAsUser: 'a b' })]), 'steps[0].action.runAsUser is not a user name'],
    [
      doc([handlerStep({ handler: 'x.sh' })], { files: [{ name: 'a', url: '${aws:iot:s3-presigned-url:x}' }] }),
      'files[0].url must be an http(s) URL (was the presigned-URL placeholder filled in?)',
    ],
    [
      doc([handlerStep({ handler: 'x.sh' })], { files: [{ name: 'a/b', url: 'https://x' }] }),
      'files[0].name must be a plain file name',
    ],
    [
      doc([handlerStep({ handler: 'x.sh' })], {
        files: [
          { name: 'a', url: 'https://x' },
          { name: 'a', url: 'https://y' },
        ],
      }),
      'files[1].name a is used twice',
    ],
    [
      doc([handlerStep({ handler: 'x.sh' })], { files: [{ name: 'a', url: 'https://x', codesign: {} }] }),
      'files[0].codesign must be a signature block or a base64 signature',
    ],
    [
      doc([handlerStep({ handler: 'x.sh' })], {
        files: [{ name: 'a', url: 'https://x', codesign: '${aws:iot:code-sign-signature:s3://us-east-1.b/k@v}' }],
      }),
      'files[0].codesign is a code-sign placeholder nobody filled in',
    ],
    [
      doc([handlerStep({ handler: 'x.sh' })], {
        files: [{ name: 'a', url: 'https://x', codesign: 'c2ln', 'sig-sha256-ecdsa': 'c2ln' }],
      }),
      'files[0] carries more than one signature',
    ],
  ])('refuses bad documents (%#)', (raw, message) => {
    expect(() => parseJobDocument(raw)).toThrow(DocumentError);
    expect(() => parseJobDocument(raw)).toThrow(message);
  });

  it('takes a file signature in every form CreateJob makes of a code-sign placeholder (spec 6.3-6.5)', () => {
    const files = (entry: Record<string, unknown>) =>
      parseJobDocument(doc([handlerStep({ handler: 'x.sh' })], { files: [{ name: 'a', url: 'https://x', ...entry }] }))
        .files[0]!.codesign;
    const block = { signature: 'c2ln', signatureAlgorithm: 'SHA256withECDSA', rawPayloadSize: 3 };
    expect(files({ codesign: block })).toEqual(block);
    expect(files({ codesign: 'c2ln' })).toEqual({ signature: 'c2ln' });
    expect(files({ 'sig-sha256-ecdsa': 'c2ln' })).toEqual({
      signature: 'c2ln',
      signatureAlgorithm: 'sig-sha256-ecdsa',
    });
    expect(files({})).toBeUndefined();
  });

  it('splits runCommand strings like the Device Client and substitutes files in args', () => {
    expect(parseCommand('echo, a\\,b ,c')).toEqual(['echo', 'a,b', 'c']);
    expect(parseCommand(['ls', '-l'])).toEqual(['ls', '-l']);
    expect(() => parseCommand(',x')).toThrow('command names no command');
    expect(substituteFiles('--image=${file:fw.bin}', { 'fw.bin': '/w/fw.bin' })).toBe('--image=/w/fw.bin');
    expect(() => substituteFiles('${file:nope}', {})).toThrow('${file:nope}: the document has no file named nope');
    expect(fileEnvName('fw-v2.bin')).toBe('FLEETJOBS_FILE_FW_V2_BIN');
  });

  it('makes status details AWS accepts: no control characters, at most 1024 characters and 10 pairs', () => {
    expect(detailValue('a\nb\t\u0007c')).toBe('a b c');
    expect(detailValue('x'.repeat(2000) + 'END')).toHaveLength(1024);
    expect(detailValue('x'.repeat(2000) + 'END').endsWith('END')).toBe(true);
    const many = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`k${i}`, String(i)]));
    expect(Object.keys(statusDetails({ ...many, empty: '', none: undefined }))).toHaveLength(10);
  });
});

describe('handlers', () => {
  it('runs only allow-listed, private, executable handlers', () => {
    const dir = handlerDir({ 'ok.sh': 'exit 0' });
    const other = handlerDir({ 'ok.sh': 'exit 0' });
    const dirs = realDirs([dir]);
    const action = { name: 'x', type: 'runHandler' as const, handler: 'ok.sh', args: [], ignoreStepFailure: false };
    expect(resolveHandler(action, dirs)).toBe(join(dirs[0]!, 'ok.sh'));
    expect(resolveHandler({ ...action, path: 'default' }, dirs)).toBe(join(dirs[0]!, 'ok.sh'));
    expect(resolveHandler({ ...action, path: dir }, dirs)).toBe(join(dirs[0]!, 'ok.sh'));
    expect(() => resolveHandler({ ...action, path: other }, dirs)).toThrow(
      `${other} is not an allowed handler directory`,
    );
    // A symlink out of the directory is not followed.
    symlinkSync(join(other, 'ok.sh'), join(dir, 'escape.sh'));
    expect(() => resolveHandler({ ...action, handler: 'escape.sh' }, dirs)).toThrow('handler escape.sh leaves');
    writeFileSync(join(dir, 'plain.txt'), 'x', { mode: 0o600 });
    expect(() => resolveHandler({ ...action, handler: 'plain.txt' }, dirs)).toThrow('is not an executable file');
  });

  it('passes runAsUser first (Device Client convention), captures output and stops on abort', async () => {
    const dir = realDirs([handlerDir({ 'echo.sh': 'echo "[$1] $2"; echo oops >&2', 'sleep.sh': 'sleep 30' })]);
    const ctx = {
      handlerDirs: dir,
      enableRunCommand: false,
      env: {},
      files: {},
      cwd: tmpdir(),
      signal: new AbortController().signal,
    };
    const step = {
      name: 'e',
      type: 'runHandler' as const,
      handler: 'echo.sh',
      args: ['a'],
      runAsUser: 'svc',
      ignoreStepFailure: false,
    };
    const r = await runAction(step, ctx);
    expect(r).toMatchObject({ ok: true, exitCode: 0, stdout: '[svc] a', stderr: 'oops', stderrLines: 1 });
    expect((await runAction({ ...step, allowStdErr: 0 }, ctx)).reason).toBe(
      '1 lines on stderr, more than allowStdErr 0',
    );
    const ac = new AbortController();
    const running = runAction({ ...step, handler: 'sleep.sh' }, { ...ctx, signal: ac.signal, killGraceMs: 100 });
    setTimeout(() => ac.abort(), 100);
    expect(await running).toMatchObject({ ok: false, reason: 'stopped', signal: 'SIGTERM' });
  });
});

describe('code signatures', () => {
  it("verifies AWS Signer blocks against the trusted certificates only (the signing feature's verifier)", async () => {
    const signer = await codeSigner();
    const stranger = await codeSigner('stranger');
    const dir = mkdtempSync(join(tmpdir(), 'fj-sig-'));
    const file = join(dir, 'fw.bin');
    const data = Buffer.from('payload '.repeat(1000));
    writeFileSync(file, data);
    const block = signer.block(data);
    expect(await defaultVerifier.verifyFile(file, block, [stranger.certificatePem, signer.certificatePem])).toEqual({
      ok: true,
      signer: 'CN=fleetjobs test signer',
    });
    expect(await defaultVerifier.verifyFile(file, block, [stranger.certificatePem])).toEqual({
      ok: false,
      reason: 'the SHA256withECDSA signature does not match the file and the certificate',
    });
    expect(await defaultVerifier.verifyFile(file, block, [])).toEqual({
      ok: false,
      reason: 'no trusted signer certificate is configured',
    });
    expect((await defaultVerifier.verifyFile(file, { ...block, rawPayloadSize: 1 }, [signer.certificatePem])).ok).toBe(
      false,
    );
  });
});

describe('downloads and state', () => {
  it('starts over when the server ignores Range, and reports HTTP errors', async () => {
    const server = await startFileServer({ 'a.bin': Buffer.from('0123456789') });
    const dir = mkdtempSync(join(tmpdir(), 'fj-dl-'));
    try {
      writeFileSync(join(dir, 'a.bin.part'), 'XYZXYZXYZXYZXYZ'); // longer than the object: 416, start over
      const r = await download(server.url('a.bin'), join(dir, 'a.bin'), { retries: 0 });
      expect(r).toMatchObject({ bytes: 10, resumedFrom: 0 });
      await expect(download(server.url('missing'), join(dir, 'm'), { retries: 3 })).rejects.toThrow(HttpStatusError);
      await expect(download(server.url('missing'), join(dir, 'm'))).rejects.toThrow(/answered HTTP 404$/);
    } finally {
      await server.close();
    }
  });

  it('keeps the job in hand across restarts, atomically', () => {
    const store = new StateStore(mkdtempSync(join(tmpdir(), 'fj-state-')));
    expect(store.load()).toBeUndefined();
    store.save({ jobId: 'j', executionNumber: 2, nextStep: 1 });
    expect(new StateStore(store.dir).load()).toEqual({ jobId: 'j', executionNumber: 2, nextStep: 1 });
    writeFileSync(join(store.dir, 'state.json'), '{broken');
    expect(store.load()).toBeUndefined();
    store.clear();
    expect(store.load()).toBeUndefined();
  });
});
