import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SharedSettings } from './cluster.js';
import { ensureCompiled, FLEETJOBS_BIN as BIN } from './compiled.js';

export interface ReplicaProcess {
  name: string;
  child: ChildProcess;
  /** The ready line: http, mqtt, deviceHttps, caCertificate. */
  ready: Record<string, string>;
  dataDir: string;
  stderr(): string;
  /** kill -9: no shutdown of any kind. */
  crash(): Promise<void>;
  /** SIGTERM and wait for the exit; removes the data dir. */
  stop(): Promise<void>;
}

/**
 * One replica as a real `node bin/fleetjobs.js serve` child process on loopback ports, given the
 * deployment's shared settings as flags and environment (README "Scaled-out deployment").
 */
export async function spawnReplica(
  shared: SharedSettings,
  name: string,
  extraFlags: string[] = [],
): Promise<ReplicaProcess> {
  await ensureCompiled();
  const dataDir = mkdtempSync(join(tmpdir(), `fj-${name}-`));
  const args = [
    // e.g. '--cpu-prof --cpu-prof-dir=/tmp/prof' to see where a replica's time goes in a bench.
    ...(process.env.FLEETJOBS_REPLICA_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
    BIN,
    'serve',
    ...['--data-dir', dataDir, '--log-level', 'warn'],
    ...['--http', '127.0.0.1:0', '--mqtt', '127.0.0.1:0', '--device-https', '127.0.0.1:0'],
    ...['--database', shared.database, '--cluster', shared.cluster, '--objects', shared.objects],
    ...extraFlags,
  ];
  const child = spawn(process.execPath, args, {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...shared.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-20_000)));
  let out = '';
  const exited = once(child, 'exit');
  const ready = await new Promise<Record<string, string>>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line && out.includes('\n')) resolve(JSON.parse(line) as Record<string, string>);
    });
    child.on('exit', (code) => reject(new Error(`replica ${name} exited with ${code}: ${err}`)));
  });
  const gone = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) await exited;
  };
  return {
    name,
    child,
    ready,
    dataDir,
    stderr: () => err,
    crash: async () => {
      child.kill('SIGKILL');
      await gone();
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await gone();
      clearTimeout(timer);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
