import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import type { IAMClient } from '@aws-sdk/client-iam';
import { IoTClient } from '@aws-sdk/client-iot';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SignerClient } from '@aws-sdk/client-signer';
import type { Clock } from '../clock.js';
import { resolveConnection, type Connection, type ConnectionFlags, type Environment } from './connection.js';
import { Output, parseOutputFormat } from './output.js';

/** Everything a command touches of the outside world, so tests can run the CLI in-process. */
export interface Io extends Environment {
  stdout: Writable & { isTTY?: boolean; columns?: number };
  stderr: Writable & { isTTY?: boolean };
  clock: Clock;
  /**
   * A signal aborted on Ctrl-C (or SIGTERM). Only long-running commands (watch, agent, simulate) ask
   * for it, so every other command keeps Node's default: Ctrl-C ends the process at once.
   */
  interrupts(): AbortSignal;
}

export interface ApiOptions extends ConnectionFlags {
  output?: string;
}

interface Destroyable {
  destroy(): void;
}

/** What commands use of the S3, IAM and Signer clients. */
type Sender<C extends { send: unknown }> = Pick<C, 'send'> & Destroyable;

/**
 * A client whose SDK package is imported at its first request: most commands need only the IoT
 * client, and each other client costs a command's start about a tenth of a second.
 */
function lazyClient<C extends Destroyable & { send: (...a: never[]) => Promise<unknown> }>(
  load: () => Promise<C>,
): Sender<C> {
  let made: Promise<C> | undefined;
  let client: C | undefined;
  const send = async (...args: Parameters<C['send']>): Promise<unknown> => {
    made ??= load().then((c) => (client = c));
    return (await made).send(...args);
  };
  return { send: send as C['send'], destroy: () => client?.destroy() };
}

/** One command run: the resolved connection, its output and lazily made SDK clients. */
export class Session {
  private readonly clients = new Map<string, Destroyable>();

  constructor(
    readonly io: Io,
    readonly conn: Connection,
    readonly out: Output,
  ) {}

  private client<T extends Destroyable>(key: string, make: () => T): T {
    let c = this.clients.get(key) as T | undefined;
    if (!c) {
      c = make();
      this.clients.set(key, c);
    }
    return c;
  }

  private base() {
    return { endpoint: this.conn.endpoint, region: this.conn.region, credentials: this.conn.credentials };
  }

  iot(): IoTClient {
    return this.client('iot', () => new IoTClient(this.base()));
  }

  /** Path-style: our server serves every bucket on one host. */
  s3(): Sender<S3Client> {
    return this.client('s3', () =>
      lazyClient(
        async () => new (await import('@aws-sdk/client-s3')).S3Client({ ...this.base(), forcePathStyle: true }),
      ),
    );
  }

  iam(): Sender<IAMClient> {
    return this.client('iam', () =>
      lazyClient(async () => new (await import('@aws-sdk/client-iam')).IAMClient(this.base())),
    );
  }

  signer(): Sender<SignerClient> {
    return this.client('signer', () =>
      lazyClient(async () => new (await import('@aws-sdk/client-signer')).SignerClient(this.base())),
    );
  }

  close(): void {
    for (const c of this.clients.values()) c.destroy();
    this.clients.clear();
  }
}

export interface CliContext {
  io: Io;
}

/** Adds the connection and output options every API command takes. */
export function withApiOptions(cmd: Command): Command {
  return cmd
    .option('--endpoint-url <url>', 'server URL (env FLEETJOBS_ENDPOINT; default: profile, then ./fleetjobs-data)')
    .option('--region <region>', 'region to sign for (env AWS_REGION; default us-east-1)')
    .option('--profile <name>', 'named profile from ~/.fleetjobs/config.json (env FLEETJOBS_PROFILE)')
    .option('--data-dir <dir>', "a local server's data dir to take the endpoint and admin credentials from")
    .option('-o, --output <format>', 'table or json (env FLEETJOBS_OUTPUT)');
}

export function outputOf(ctx: CliContext, opts: ApiOptions): Output {
  return new Output(ctx.io.stdout, ctx.io.stderr, parseOutputFormat(opts.output ?? ctx.io.env.FLEETJOBS_OUTPUT));
}

export function openSession(ctx: CliContext, opts: ApiOptions): Session {
  const out = outputOf(ctx, opts);
  return new Session(ctx.io, resolveConnection(opts, ctx.io), out);
}

/** Positional arguments and options of a commander action, whatever the number of arguments. */
function split(a: unknown[]): { args: unknown[]; opts: Record<string, unknown> } {
  const cmd = a[a.length - 1] as Command;
  return { args: a.slice(0, -2), opts: cmd.opts() };
}

/**
 * An API command: `fn` gets a session (closed afterwards), the positional arguments and the options.
 */
export function apiCommand<O extends ApiOptions = ApiOptions>(
  ctx: CliContext,
  parent: Command,
  nameAndArgs: string,
  description: string,
  configure: (cmd: Command) => Command,
  fn: (s: Session, args: string[], opts: O) => Promise<void>,
): Command {
  const cmd = withApiOptions(configure(parent.command(nameAndArgs).description(description)));
  cmd.action(async (...a: unknown[]) => {
    const { args, opts } = split(a);
    const session = openSession(ctx, opts as ApiOptions);
    try {
      await fn(session, args as string[], opts as O);
    } finally {
      session.close();
    }
  });
  return cmd;
}

/** A command that needs no server (verify, config): `fn` gets the arguments and options. */
export function localCommand<O>(
  parent: Command,
  nameAndArgs: string,
  description: string,
  configure: (cmd: Command) => Command,
  fn: (args: string[], opts: O) => Promise<void>,
): Command {
  const cmd = configure(parent.command(nameAndArgs).description(description));
  cmd.action(async (...a: unknown[]) => {
    const { args, opts } = split(a);
    await fn(args as string[], opts as O);
  });
  return cmd;
}
