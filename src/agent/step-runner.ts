import { spawn } from 'node:child_process';
import { existsSync, realpathSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join, sep } from 'node:path';
import { DocumentError, substituteFiles, type Action } from './job-document.js';

/**
 * Runs one step of a job document as the AWS IoT Device Client does (spec 5.8): runHandler
 * executes `<handler> <runAsUser> <args...>` from an allow-listed handler directory; runCommand
 * runs a command only when the agent was started with --enable-run-command.
 */
export interface StepContext {
  /** Allow-listed handler directories (real paths). */
  handlerDirs: readonly string[];
  enableRunCommand: boolean;
  env: Record<string, string>;
  /** Downloaded files by name, for `${file:NAME}` in args. */
  files: Record<string, string>;
  cwd: string;
  signal: AbortSignal;
  onOutput?: (stream: 'stdout' | 'stderr', line: string) => void;
  /** Grace period between SIGTERM and SIGKILL when a step is stopped. */
  killGraceMs?: number;
}

export interface StepResult {
  ok: boolean;
  exitCode: number | null;
  signal: string | null;
  /** Last 1024 characters, control characters replaced (statusDetails values allow none). */
  stdout: string;
  stderr: string;
  stderrLines: number;
  reason: string;
}

export const MAX_DETAIL = 1024;

/** A statusDetails value: no control characters (spec 4.3), at most 1024 characters, the end kept. */
export function detailValue(text: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').trim();
  return clean.length > MAX_DETAIL ? clean.slice(clean.length - MAX_DETAIL) : clean;
}

export function realDirs(dirs: readonly string[]): string[] {
  return dirs.filter((d) => existsSync(d)).map((d) => realpathSync(d));
}

function isInside(path: string, dir: string): boolean {
  return path.startsWith(dir.endsWith(sep) ? dir : dir + sep);
}

/** The handler's real path, or DocumentError: the device refuses the job (REJECTED). */
export function resolveHandler(action: Action, handlerDirs: readonly string[]): string {
  let dirs = handlerDirs;
  if (action.path !== undefined && action.path !== '' && action.path !== 'default') {
    const real = existsSync(action.path) ? realpathSync(action.path) : action.path;
    if (!handlerDirs.includes(real)) {
      throw new DocumentError(`step ${action.name}: ${action.path} is not an allowed handler directory`);
    }
    dirs = [real];
  }
  for (const dir of dirs) {
    const candidate = join(dir, action.handler!);
    if (!existsSync(candidate)) continue;
    const real = realpathSync(candidate);
    if (!isInside(real, dir)) throw new DocumentError(`step ${action.name}: handler ${action.handler} leaves ${dir}`);
    const st = statSync(real);
    const uid = process.getuid?.();
    if (!st.isFile() || (st.mode & 0o100) === 0) {
      throw new DocumentError(`step ${action.name}: handler ${action.handler} is not an executable file`);
    }
    // Like the Device Client's 700 rule: nobody else may have changed what we are about to run.
    if ((st.mode & 0o022) !== 0 || (uid !== undefined && st.uid !== uid && st.uid !== 0)) {
      throw new DocumentError(
        `step ${action.name}: handler ${action.handler} must be owned by the agent's user and not writable by others`,
      );
    }
    return real;
  }
  throw new DocumentError(`step ${action.name}: handler ${action.handler} is not in the handler directory`);
}

/** Checks a step before anything runs; throws DocumentError if the device must refuse it. */
export function checkAction(
  action: Action,
  ctx: Pick<StepContext, 'handlerDirs' | 'enableRunCommand' | 'files'>,
): void {
  if (action.type === 'runCommand') {
    if (!ctx.enableRunCommand) {
      throw new DocumentError(
        `step ${action.name}: runCommand is disabled on this device (agent --enable-run-command)`,
      );
    }
    return;
  }
  resolveHandler(action, ctx.handlerDirs);
  for (const a of action.args) substituteFiles(a, ctx.files);
}

function argvOf(action: Action, ctx: StepContext): string[] {
  if (action.type === 'runHandler') {
    return [
      resolveHandler(action, ctx.handlerDirs),
      action.runAsUser ?? '',
      ...action.args.map((a) => substituteFiles(a, ctx.files)),
    ];
  }
  const command = action.command!;
  if (action.runAsUser && action.runAsUser !== userInfo().username)
    return ['sudo', '-n', '-u', action.runAsUser, '--', ...command];
  return command;
}

class Tail {
  text = '';
  lines = 0;
  private partial = '';
  constructor(
    private readonly stream: 'stdout' | 'stderr',
    private readonly onLine?: StepContext['onOutput'],
  ) {}
  add(chunk: Buffer): void {
    const s = chunk.toString('utf8');
    this.text = (this.text + s).slice(-4 * MAX_DETAIL);
    const parts = (this.partial + s).split('\n');
    this.partial = parts.pop()!;
    for (const line of parts) {
      this.lines++;
      this.onLine?.(this.stream, line);
    }
  }
  end(): void {
    if (this.partial !== '') {
      this.lines++;
      this.onLine?.(this.stream, this.partial);
    }
  }
}

export async function runAction(action: Action, ctx: StepContext): Promise<StepResult> {
  const [file, ...args] = argvOf(action, ctx);
  const child = spawn(file!, args, {
    cwd: ctx.cwd,
    env: { ...process.env, ...ctx.env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so stopping a step stops what the step started too.
    detached: true,
  });
  const out = new Tail('stdout', ctx.onOutput);
  const err = new Tail('stderr', ctx.onOutput);
  child.stdout.on('data', (d: Buffer) => out.add(d));
  child.stderr.on('data', (d: Buffer) => err.add(d));
  const stop = (): void => {
    const kill = (sig: NodeJS.Signals): void => {
      try {
        process.kill(-child.pid!, sig);
      } catch {
        // already gone
      }
    };
    kill('SIGTERM');
    setTimeout(() => kill('SIGKILL'), ctx.killGraceMs ?? 5000).unref();
  };
  ctx.signal.addEventListener('abort', stop, { once: true });
  const [exitCode, signal, spawnError] = await new Promise<[number | null, string | null, Error | undefined]>(
    (resolve) => {
      child.on('error', (e) => resolve([null, null, e]));
      child.on('close', (code, sig) => resolve([code, sig, undefined]));
    },
  );
  ctx.signal.removeEventListener('abort', stop);
  out.end();
  err.end();
  const base = {
    exitCode,
    signal,
    stdout: detailValue(out.text),
    stderr: detailValue(err.text),
    stderrLines: err.lines,
  };
  if (spawnError) return { ...base, ok: false, reason: `cannot run ${file}: ${spawnError.message}` };
  if (ctx.signal.aborted) return { ...base, ok: false, reason: 'stopped' };
  if (exitCode !== 0) {
    return { ...base, ok: false, reason: signal ? `Killed by signal ${signal}` : `Exited with status: ${exitCode}` };
  }
  if (action.allowStdErr !== undefined && err.lines > action.allowStdErr) {
    return { ...base, ok: false, reason: `${err.lines} lines on stderr, more than allowStdErr ${action.allowStdErr}` };
  }
  return { ...base, ok: true, reason: 'Exited with status: 0' };
}
