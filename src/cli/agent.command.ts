import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { Agent } from '../agent/agent.js';
import { readDeviceDir } from '../agent/device-dir.js';
import { checkUrl } from './connection.js';
import type { CliContext } from './context.js';
import { CliError, UsageError } from './exit-codes.js';

interface AgentFlags {
  deviceDir?: string;
  cert?: string;
  key?: string;
  ca?: string;
  endpoint?: string;
  thing?: string;
  handlerDir?: string[];
  stateDir?: string;
  enableRunCommand?: boolean;
  signerCert?: string[];
  requireSignature?: boolean;
  once?: boolean;
}

const repeat = (v: string, p: string[] = []): string[] => [...p, v];

/** `fleetjobs agent`: the reference device agent (README "The device agent"). */
export function registerAgentCommand(program: Command, ctx: CliContext): void {
  program
    .command('agent')
    .description('run the reference device agent: take jobs over MQTT/TLS and run their steps')
    .option('--device-dir <dir>', 'a directory from `fleetjobs device provision` (cert, key, CA, endpoints)')
    .option('--cert <file>', 'device certificate (PEM)')
    .option('--key <file>', 'device private key (PEM)')
    .option('--ca <file>', "the server's CA certificate (PEM)")
    .option('--endpoint <url>', 'mqtts://host:port of the server')
    .option('--thing <name>', 'thing name (also the MQTT client id)')
    .option(
      '--handler-dir <dir>',
      'allow-listed handler directory (repeatable; default ~/.fleetjobs-agent/handlers)',
      repeat,
    )
    .option(
      '--state-dir <dir>',
      'where the agent keeps its state and downloads (default <device-dir>/state, else ~/.fleetjobs-agent/state/<thing>)',
    )
    .option('--enable-run-command', 'allow runCommand steps (off: such jobs are REJECTED)')
    .option('--signer-cert <file>', 'trusted code-signing certificate (repeatable)', repeat)
    .option('--require-signature', 'REJECT jobs whose files carry no code signature')
    .option('--once', 'run the pending jobs, then exit')
    .action(async (flags: AgentFlags) => {
      const io = ctx.io;
      const options = agentOptions(flags, io.cwd, io.home);
      const log = (m: string): void => {
        io.stderr.write(`${io.clock.now().toISOString()} ${options.thingName}: ${m}\n`);
      };
      const agent = new Agent({ ...options, log });
      try {
        await agent.run(io.interrupts());
      } catch (err) {
        const message = (err as Error).message;
        if (/not authori[sz]ed|bad user ?name|certificate|handshake/i.test(message)) {
          throw new CliError('denied', `the server refused the device: ${message}`);
        }
        if (/Couldn't connect/i.test(message)) {
          throw new CliError(
            'unreachable',
            `${options.endpoint} closed the connection (is the certificate ACTIVE and attached to ${options.thingName}?)`,
          );
        }
        if (/ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|connack|timeout/i.test(message)) {
          throw new CliError('unreachable', `cannot reach ${options.endpoint}: ${message}`);
        }
        throw err;
      }
    });
}

function agentOptions(f: AgentFlags, cwd: string, home: string) {
  const file = (flag: string, path: string | undefined): string | undefined => {
    if (path === undefined) return undefined;
    const full = resolve(cwd, path);
    if (!existsSync(full)) throw new UsageError(`${flag}: ${full} does not exist`);
    return readFileSync(full, 'utf8');
  };
  let dir;
  if (f.deviceDir !== undefined) {
    try {
      dir = readDeviceDir(resolve(cwd, f.deviceDir));
    } catch (err) {
      throw new UsageError(`--device-dir: ${(err as Error).message}`);
    }
  }
  const thingName = f.thing ?? dir?.endpoints.thingName;
  const endpoint = f.endpoint ?? dir?.endpoints.mqtt;
  const cert = file('--cert', f.cert) ?? dir?.cert;
  const key = file('--key', f.key) ?? dir?.key;
  const ca = file('--ca', f.ca) ?? dir?.ca;
  const missing = Object.entries({
    '--thing': thingName,
    '--endpoint': endpoint,
    '--cert': cert,
    '--key': key,
    '--ca': ca,
  })
    .filter(([, v]) => v === undefined)
    .map(([k]) => k);
  if (missing.length) throw new UsageError(`agent needs ${missing.join(', ')} (or --device-dir DIR)`);
  checkUrl(endpoint!, '--endpoint', ['mqtts:', 'mqtt:', 'ssl:', 'tls:']);
  const base = join(home, '.fleetjobs-agent');
  const stateDir = resolve(cwd, f.stateDir ?? (dir ? join(dir.dir, 'state') : join(base, 'state', thingName!)));
  const handlerDirs = (f.handlerDir ?? [join(base, 'handlers')]).map((d) => resolve(cwd, d));
  for (const d of handlerDirs) {
    if (!existsSync(d)) throw new UsageError(`--handler-dir: ${d} does not exist`);
  }
  const signerCertificates = (f.signerCert ?? []).map((c) => file('--signer-cert', c)!);
  return {
    thingName: thingName!,
    endpoint: endpoint!,
    cert: cert!,
    key: key!,
    ca: ca!,
    handlerDirs,
    stateDir,
    enableRunCommand: f.enableRunCommand ?? false,
    signerCertificates,
    requireSignature: f.requireSignature ?? false,
    once: f.once ?? false,
  };
}
