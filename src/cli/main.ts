import { readFileSync, realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { systemClock } from '../clock.js';
import type { CliContext, Io } from './context.js';
import { classify, describeError, EXIT_CODES } from './exit-codes.js';

// The same relative path from src/cli and from the compiled dist/cli.
const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

type Register = (program: Command, ctx: CliContext) => void;

/**
 * The command areas and the modules that define them. A command line loads only its own area's
 * module (and through it only the SDK clients it uses), so `fleetjobs --version` or
 * `fleetjobs things list` does not pay for the server, the agent or every AWS client.
 */
const jobsArea = async (): Promise<Register> => {
  const [jobs, watch, executions] = await Promise.all([
    import('./jobs.command.js'),
    import('./watch.command.js'),
    import('./executions.command.js'),
  ]);
  return (program, ctx) => {
    const cmd = jobs.registerJobsCommands(program, ctx);
    watch.registerWatchCommand(cmd, ctx);
    executions.registerExecutionsCommands(program, cmd, ctx);
  };
};
export const AREAS: ReadonlyArray<readonly [name: string, load: () => Promise<Register>]> = [
  ['serve', async () => (await import('./serve.command.js')).registerServeCommand],
  ['things', async () => (await import('./things.command.js')).registerThingsCommands],
  ['groups', async () => (await import('./groups.command.js')).registerGroupsCommands],
  ['types', async () => (await import('./fleet.command.js')).registerTypesCommands],
  ['index', async () => (await import('./fleet.command.js')).registerIndexCommands],
  ['certificates', async () => (await import('./certificates.command.js')).registerCertificatesCommands],
  ['device', async () => (await import('./device.command.js')).registerDeviceCommands],
  // `jobs executions JOB` and `executions ...` live in one area: each registers into the other.
  ['jobs', jobsArea],
  ['executions', jobsArea],
  ['templates', async () => (await import('./templates.command.js')).registerTemplatesCommands],
  ['files', async () => (await import('./files.command.js')).registerFilesCommands],
  ['roles', async () => (await import('./roles.command.js')).registerRolesCommands],
  ['streams', async () => (await import('./streams.command.js')).registerStreamsCommands],
  ['signing', async () => (await import('./signing.command.js')).registerSigningCommands],
  ['ota', async () => (await import('./ota.command.js')).registerOtaCommands],
  ['verify', async () => (await import('./verify.command.js')).registerVerifyCommand],
  ['agent', async () => (await import('./agent.command.js')).registerAgentCommand],
  ['simulate', async () => (await import('./simulate.command.js')).registerSimulateCommand],
  ['config', async () => (await import('./config.command.js')).registerConfigCommands],
];

/** The areas a command line needs: its own, none for `--version`, all for help or an unknown command. */
export function areasFor(argv: readonly string[]): Array<() => Promise<Register>> {
  const first = argv[0];
  const own = AREAS.find(([name]) => name === first);
  if (own) return [own[1]];
  if (argv.length === 1 && (first === '--version' || first === '-V')) return [];
  return [...new Set(AREAS.map(([, load]) => load))];
}

/** The program with the areas `argv` needs (all of them when argv is not given). */
export async function buildProgram(ctx: CliContext = { io: processIo() }, argv?: readonly string[]): Promise<Command> {
  const program = new Command('fleetjobs')
    .description('fleetjobs: AWS IoT Jobs compatible fleet update service')
    .version(VERSION)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => ctx.io.stdout.write(s),
      writeErr: (s) => ctx.io.stderr.write(s),
      // One readable line, like every other error of the CLI.
      outputError: (s, write) => write(`fleetjobs: ${s.replace(/^error: /, '').trim()}\n`),
    });
  const registers = await Promise.all((argv ? areasFor(argv) : [...new Set(AREAS.map(([, l]) => l))]).map((l) => l()));
  for (const register of registers) register(program, ctx);
  return program;
}

/** Runs one command line and answers its exit code (README "Exit codes"); never calls process.exit. */
export async function runCli(argv: string[], io: Io): Promise<number> {
  const program = await buildProgram({ io }, argv);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return EXIT_CODES.ok.code;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT_CODES.ok.code;
      if (err.code === 'commander.executeSubCommandAsync') return err.exitCode;
      // commander has already printed its message (outputError).
      return EXIT_CODES.usage.code;
    }
    io.stderr.write(`fleetjobs: ${describeError(err)}\n`);
    return EXIT_CODES[classify(err)].code;
  }
}

export function processIo(): Io {
  let interrupts: AbortController | undefined;
  return {
    env: process.env,
    cwd: process.cwd(),
    home: process.env.HOME ?? homedir(),
    stdout: process.stdout,
    stderr: process.stderr,
    clock: systemClock,
    interrupts() {
      if (!interrupts) {
        const ctrl = new AbortController();
        interrupts = ctrl;
        const onSignal = (): void => {
          // A second Ctrl-C while shutting down ends the process at once.
          if (ctrl.signal.aborted) process.exit(EXIT_CODES.interrupted.code);
          ctrl.abort();
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
      }
      return interrupts.signal;
    },
  };
}

/** True when this module is the program (bin/fleetjobs.js imports it), not a test's import. */
function isEntry(): boolean {
  const here = fileURLToPath(import.meta.url);
  const bin = resolve(dirname(here), '..', '..', 'bin', 'fleetjobs.js');
  try {
    const entry = process.argv[1] ? realpathSync(process.argv[1]) : '';
    return entry === bin || entry === here;
  } catch {
    return false;
  }
}

if (isEntry()) {
  // The SDK's notice about future Node versions is not something a CLI user can act on; it would
  // break the one-line error contract of stderr.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const code = await runCli(process.argv.slice(2), processIo());
  // `serve` keeps running after its action returns; everything else ends with its code.
  process.exitCode = code;
}
