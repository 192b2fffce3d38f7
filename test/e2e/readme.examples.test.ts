import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureCompiled, FLEETJOBS_BIN } from '../helpers/compiled.js';

const ROOT = join(import.meta.dirname, '..', '..');
const NOT_RUN = /^<!-- readme-examples: not run \((.+)\) -->$/;

interface Block {
  line: number;
  code: string;
}

/** README's ```sh blocks in order, but those marked `<!-- readme-examples: not run (why) -->`. */
export function shBlocks(markdown: string): { run: Block[]; skipped: { line: number; why: string }[] } {
  const lines = markdown.split('\n');
  const run: Block[] = [];
  const skipped: { line: number; why: string }[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i] !== '```sh') continue;
    const end = lines.indexOf('```', i + 1);
    const code = lines.slice(i + 1, end).join('\n');
    let prev = i - 1;
    while (prev >= 0 && lines[prev]!.trim() === '') prev--;
    const mark = NOT_RUN.exec(lines[prev] ?? '');
    if (mark) skipped.push({ line: i + 1, why: mark[1]! });
    else run.push({ line: i + 1, code });
    i = end;
  }
  return { run, skipped };
}

describe('README.md examples', () => {
  let checkout: string;
  let server: ChildProcess;
  let serverErr = '';

  beforeAll(async () => {
    await ensureCompiled();
    // Stands in for the checkout: its bin/ (the real one) and the data dir `npm start` makes there.
    checkout = mkdtempSync(join(tmpdir(), 'fj-readme-'));
    symlinkSync(join(ROOT, 'bin'), join(checkout, 'bin'));
    mkdirSync(join(checkout, 'home'));
    server = spawn(
      process.execPath,
      [
        FLEETJOBS_BIN,
        'serve',
        ...['--data-dir', join(checkout, 'fleetjobs-data'), '--log-level', 'warn'],
        ...['--http', '127.0.0.1:0', '--mqtt', '127.0.0.1:0', '--device-https', '127.0.0.1:0'],
      ],
      {
        cwd: checkout,
        env: { PATH: process.env.PATH, HOME: join(checkout, 'home') },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    server.stderr!.on('data', (d: Buffer) => (serverErr = (serverErr + d.toString()).slice(-20_000)));
    await new Promise<void>((resolve, reject) => {
      let out = '';
      server.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('}\n')) resolve();
      });
      server.once('exit', (code) => reject(new Error(`serve exited with ${code}: ${serverErr}`)));
    });
  });
  afterAll(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((r) => server.once('exit', r));
      server.kill('SIGTERM');
      await exited;
    }
    if (checkout) rmSync(checkout, { recursive: true, force: true });
  });

  it('leaves out only the blocks it says why for', () => {
    const { run, skipped } = shBlocks(readFileSync(join(ROOT, 'README.md'), 'utf8'));
    expect(skipped.map((s) => s.why)).toHaveLength(2);
    expect(run.length).toBeGreaterThanOrEqual(8);
  });

  it('runs every other sh example in order, in a scratch folder, against a fresh server', async () => {
    const { run } = shBlocks(readFileSync(join(ROOT, 'README.md'), 'utf8'));
    // Each block as it is, one after another in one shell, as someone pasting them would.
    const script = [
      'set -euo pipefail',
      ...run.map((b) => `echo "### README.md line ${b.line}" >&2\n${b.code}`),
      'echo "### done" >&2',
    ].join('\n');
    const child = spawn('bash', ['-c', script], {
      cwd: checkout,
      // This node first (the examples call `node`), then Debian's aws CLI (the suite's, README "Development").
      env: { PATH: [dirname(process.execPath), '/usr/bin', process.env.PATH].join(':'), HOME: join(checkout, 'home') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    const report = `exit ${code}\n--- stderr (tail)\n${err.slice(-6000)}\n--- stdout (tail)\n${out.slice(-3000)}\n--- server\n${serverErr.slice(-3000)}`;
    expect(code, report).toBe(0);
    expect(err).toContain('### done');
    // A few results the examples promise.
    expect(out).toContain('"thingName": "t1"');
    expect(out).toMatch(/"jobDocument":\s*\{\s*"hello":\s*"dev-1"/);
    expect(out).toMatch(/SUCCEEDED/);
  }, 600_000);
});
