import { realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError } from 'commander';
import { systemClock } from '../clock.js';
import type { CliContext, Io } from './context.js';
import { classify, describeError, EXIT_CODES } from './exit-codes.js';
import { registerAgentCommand } from './agent.command.js';
import { registerCertificatesCommands } from './certificates.command.js';
import { registerConfigCommands } from './config.command.js';
import { registerDeviceCommands } from './device.command.js';
import { registerExecutionsCommands } from './executions.command.js';
import { registerFilesCommands } from './files.command.js';
import { registerGroupsCommands } from './groups.command.js';
import { registerJobsCommands } from './jobs.command.js';
import { registerRolesCommands } from './roles.command.js';
import { registerServeCommand } from './serve.command.js';
import { registerSigningCommands } from './signing.command.js';
import { registerSimulateCommand } from './simulate.command.js';
import { registerTemplatesCommands } from './templates.command.js';
import { registerThingsCommands } from './things.command.js';
import { registerVerifyCommand } from './verify.command.js';
import { registerWatchCommand } from './watch.command.js';

export function buildProgram(ctx: CliContext = { io: processIo() }): Command {
  const program = new Command('fleetjobs')
    .description('fleetjobs: AWS IoT Jobs compatible fleet update service')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => ctx.io.stdout.write(s),
      writeErr: (s) => ctx.io.stderr.write(s),
      // One readable line, like every other error of the CLI.
      outputError: (s, write) => write(`fleetjobs: ${s.replace(/^error: /, '').trim()}\n`),
    });
  registerServeCommand(program);
  registerThingsCommands(program, ctx);
  registerGroupsCommands(program, ctx);
  registerCertificatesCommands(program, ctx);
  registerDeviceCommands(program, ctx);
  const jobs = registerJobsCommands(program, ctx);
  registerWatchCommand(jobs, ctx);
  registerExecutionsCommands(program, jobs, ctx);
  registerTemplatesCommands(program, ctx);
  registerFilesCommands(program, ctx);
  registerRolesCommands(program, ctx);
  registerSigningCommands(program, ctx);
  registerVerifyCommand(program, ctx);
  registerAgentCommand(program, ctx);
  registerSimulateCommand(program, ctx);
  registerConfigCommands(program, ctx);
  return program;
}

/** Runs one command line and answers its exit code (README "Exit codes"); never calls process.exit. */
export async function runCli(argv: string[], io: Io): Promise<number> {
  const program = buildProgram({ io });
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
