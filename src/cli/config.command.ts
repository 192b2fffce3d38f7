import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Command } from 'commander';
import { PROFILE_KEYS, profilesPath, readProfiles, resolveConnection, type Profile } from './connection.js';
import { localCommand, outputOf, withApiOptions, type ApiOptions, type CliContext } from './context.js';
import { UsageError } from './exit-codes.js';

type ProfileFlags = { [K in keyof Profile]?: string } & { endpointUrl?: string };

/** `fleetjobs config ...`: named profiles in ~/.fleetjobs/config.json, and where settings come from. */
export function registerConfigCommands(program: Command, ctx: CliContext): void {
  const config = program.command('config').description('connection profiles (~/.fleetjobs/config.json)');
  const io = ctx.io;

  localCommand<ProfileFlags>(
    config,
    'set-profile <name>',
    'create or change a named profile (only the given settings change)',
    (c) =>
      c
        .option('--endpoint-url <url>', 'server URL')
        .option('--region <region>', 'region')
        .option('--access-key-id <id>', 'access key id')
        .option('--secret-access-key <secret>', 'secret access key')
        .option('--session-token <token>', 'session token')
        .option('--mqtt <url>', 'mqtts://host:port of the device listener')
        .option('--device-https <url>', 'https://host:port of the device HTTPS listener')
        .option('--ca-certificate <file>', "the server's CA certificate (PEM file)"),
    async ([name], o) => {
      const path = profilesPath(io);
      const file = readProfiles(path);
      const next: Profile = { ...file.profiles[name!] };
      const given = { ...o, endpoint: o.endpointUrl };
      for (const k of PROFILE_KEYS) if (given[k] !== undefined) next[k] = given[k];
      if (o.caCertificate !== undefined) next.caCertificate = resolve(io.cwd, o.caCertificate);
      if ((next.accessKeyId === undefined) !== (next.secretAccessKey === undefined)) {
        throw new UsageError('give --access-key-id and --secret-access-key together');
      }
      file.profiles[name!] = next;
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      // Secrets inside: readable by the user only.
      writeFileSync(path, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
      io.stderr.write(`fleetjobs: profile '${name}' saved in ${path}\n`);
    },
  );

  localCommand<ApiOptions>(
    config,
    'show',
    'the connection the other commands would use, and where each setting comes from',
    withApiOptions,
    async (_args, o) => {
      const conn = resolveConnection(o, io);
      const shown = {
        endpoint: conn.endpoint,
        region: conn.region,
        accessKeyId: conn.credentials.accessKeyId,
        device: conn.device,
        sources: conn.sources,
      };
      outputOf(ctx, o).object(shown);
    },
  );

  localCommand<ApiOptions>(
    config,
    'profiles',
    'list the named profiles',
    (c) => c.option('-o, --output <format>', 'table or json'),
    async (_a, o) => {
      const profiles = readProfiles(profilesPath(io)).profiles;
      const rows = Object.entries(profiles).map(([name, p]) => ({
        name,
        endpoint: p.endpoint,
        region: p.region,
        accessKeyId: p.accessKeyId,
      }));
      outputOf(ctx, o).list('profiles', rows, [
        { header: 'profile', get: (r) => r.name },
        { header: 'endpoint', get: (r) => r.endpoint },
        { header: 'region', get: (r) => r.region },
        { header: 'access key', get: (r) => r.accessKeyId },
      ]);
    },
  );
}
