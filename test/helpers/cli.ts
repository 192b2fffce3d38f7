import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { systemClock, type Clock } from '../../src/clock.js';
import type { Io } from '../../src/cli/context.js';
import { runCli } from '../../src/cli/main.js';
import { ensureCompiled, FLEETJOBS_BIN } from './compiled.js';
import type { TestServer } from './server.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON, or undefined when it is not JSON. */
  json: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

class Collector extends Writable {
  text = '';
  isTTY = false;
  constructor(private readonly onText?: (t: string) => void) {
    super();
  }
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    const t = chunk.toString();
    this.text += t;
    this.onText?.(t);
    done();
  }
}

export interface CliOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  home?: string;
  clock?: Clock;
  /** Abort to simulate Ctrl-C. */
  interrupt?: AbortSignal;
  onStdout?: (text: string) => void;
  onStderr?: (text: string) => void;
  /** Make stdout look like a terminal (80 columns). */
  tty?: boolean;
}

const parse = (s: string): unknown => {
  try {
    return s.trim() === '' ? undefined : JSON.parse(s);
  } catch {
    return undefined;
  }
};

/** Runs the fleetjobs CLI in this process (same code path as bin/fleetjobs.js, minus process.exit). */
export async function cli(args: string[], options: CliOptions = {}): Promise<CliRun> {
  const stdout = Object.assign(new Collector(options.onStdout), options.tty ? { isTTY: true, columns: 80 } : {});
  const stderr = new Collector(options.onStderr);
  const home = options.home ?? mkdtempSync(join(tmpdir(), 'fj-home-'));
  const io: Io = {
    env: { HOME: home, ...options.env },
    cwd: options.cwd ?? home,
    home,
    stdout,
    stderr,
    clock: options.clock ?? systemClock,
    interrupts: () => options.interrupt ?? new AbortController().signal,
  };
  const code = await runCli(args, io);
  return { code, stdout: stdout.text, stderr: stderr.text, json: parse(stdout.text) };
}

/** Env that points the CLI at a test server through the standard variables. */
export function cliEnv(t: TestServer): NodeJS.ProcessEnv {
  return {
    FLEETJOBS_ENDPOINT: t.endpoint,
    AWS_ACCESS_KEY_ID: t.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: t.credentials.secretAccessKey,
    AWS_REGION: 'us-east-1',
  };
}

/** Runs bin/fleetjobs.js as a real process: the compiled CLI, as users run it. */
export async function cliProcess(
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; input?: string } = {},
): Promise<CliRun> {
  await ensureCompiled();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [FLEETJOBS_BIN, ...args], {
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...options.env },
      cwd: options.cwd,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.stdin.end(options.input ?? '');
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr, json: parse(stdout) }));
  });
}
