import type { Command } from 'commander';
import { ConfigError, envName, OPTIONS, resolveConfig, type RawConfig } from '../config.js';
import { adminCredentialsPath } from '../iam/admin-credentials.js';
import { applyServerV8Flags } from '../v8-flags.js';

export function registerServeCommand(program: Command): void {
  const serve = program.command('serve').description('run the fleetjobs server');
  serve.option('--config <file>', 'JSON config file (env FLEETJOBS_CONFIG)');
  for (const o of OPTIONS) {
    serve.option(
      `--${o.flag} <value>`,
      // An option without a default value says in its help what happens when it is not set.
      `${o.help} (env ${envName(o.flag)}${o.def === '' ? '' : `; default ${o.def}`})`,
    );
  }
  serve.action(async (flags: RawConfig & { config?: string }) => {
    // Before the server allocates anything: how far the heap may grow between full GCs.
    const v8Flags = applyServerV8Flags();
    let config;
    try {
      config = resolveConfig({ flags, env: process.env });
    } catch (err) {
      if (err instanceof ConfigError) {
        process.stderr.write(`fleetjobs: ${err.message}\n`);
        process.exit(2);
      }
      throw err;
    }
    let server;
    try {
      // Loaded here so that the other commands (and the device agent) start without the server's code.
      const { startServer } = await import('../server.js');
      server = await startServer(config);
    } catch (err) {
      process.stderr.write(`fleetjobs: cannot start: ${(err as Error).message}\n`);
      process.exit(1);
    }
    if (server.admin.generated) {
      process.stderr.write(
        [
          '',
          'Generated admin credentials (shown once; stored in ' + adminCredentialsPath(config.dataDir) + '):',
          `  AWS_ACCESS_KEY_ID=${server.admin.accessKeyId}`,
          `  AWS_SECRET_ACCESS_KEY=${server.admin.secretAccessKey}`,
          `  AWS_REGION=${config.region}`,
          `  AWS_DEFAULT_REGION=${config.region}`,
          '',
          '',
        ].join('\n'),
      );
    }
    if (server.consoleAdmin.generatedPassword !== undefined) {
      process.stderr.write(
        [
          `Console sign-in (shown once; set FLEETJOBS_CONSOLE_PASSWORD to choose another): ${server.endpoints.http}/`,
          `  user: ${server.consoleAdmin.username}`,
          `  password: ${server.consoleAdmin.generatedPassword}`,
          '',
          '',
        ].join('\n'),
      );
    }
    if (v8Flags.length > 0) server.logger.info({ v8Flags }, 'V8 flags set by serve');
    let stopping = false;
    const shutdown = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      server.logger.info({ signal }, 'shutting down');
      server.stop().then(
        () => process.exit(0),
        (err: unknown) => {
          process.stderr.write(`fleetjobs: error during shutdown: ${(err as Error).message}\n`);
          process.exit(1);
        },
      );
    };
    process.on('SIGINT', () => shutdown('SIGINT'));
    process.on('SIGTERM', () => shutdown('SIGTERM'));
    // After the handlers: whoever starts on the ready line may stop the server at once, gracefully.
    process.stdout.write(`${JSON.stringify(server.endpoints)}\n`);
  });
}
