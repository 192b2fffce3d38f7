import { randomInt } from 'node:crypto';
import type { Command } from 'commander';
import { seededRandom } from '../agent/sim-device.js';
import { CERT_MODES, type CertMode } from '../agent/sim-fleet.js';
import { defaultCacheDir, Simulator, type SimulationReport } from '../agent/simulator.js';
import { int, num } from './args.js';
import { apiCommand, type ApiOptions, type CliContext } from './context.js';
import { caPemOf, deviceEndpoints } from './device-files.js';
import { UsageError } from './exit-codes.js';
import { renderTable } from './output.js';

interface SimulateFlags extends ApiOptions {
  devices: number;
  latency?: number;
  jitter?: number;
  failureRate?: number;
  rejectRate?: number;
  prefix?: string;
  group?: string;
  concurrency?: number;
  certificates?: CertMode;
  reprovision?: boolean;
  cacheDir?: string;
  duration?: number;
  idleExit?: number;
  seed?: number;
  ca?: string;
}

const oneOfLower =
  <T extends string>(flag: string, values: readonly T[]) =>
  (v: string): T => {
    if (!(values as readonly string[]).includes(v))
      throw new UsageError(`${flag} '${v}' must be one of ${values.join(', ')}`);
    return v as T;
  };

/** `fleetjobs simulate`: rehearse a rollout on a virtual fleet (README "The fleet simulator"). */
export function registerSimulateCommand(program: Command, ctx: CliContext): void {
  apiCommand<SimulateFlags>(
    ctx,
    program,
    'simulate',
    'a virtual fleet of N devices (provisioned on demand) taking jobs over MQTT/TLS with a latency and failure rate',
    (c) =>
      c
        .requiredOption('--devices <n>', 'number of virtual devices', int('--devices', 1, 100_000))
        .option('--latency <ms>', 'time a device spends on a job (default 1000)', int('--latency', 0))
        .option('--jitter <fraction>', 'latency varies by ± this fraction (default 0.2)', num('--jitter', 0, 1))
        .option(
          '--failure-rate <p>',
          'share of executions reported FAILED, 0-1 (default 0)',
          num('--failure-rate', 0, 1),
        )
        .option(
          '--reject-rate <p>',
          'share of executions reported REJECTED, 0-1 (default 0)',
          num('--reject-rate', 0, 1),
        )
        .option('--prefix <text>', 'thing names are <prefix>0001... (default sim-)')
        .option(
          '--group <name>',
          'thing group of the fleet, created if needed; target it with jobs (default simulated-fleet)',
        )
        .option(
          '--concurrency <n>',
          'devices provisioned or connected at a time (default 16)',
          int('--concurrency', 1, 1000),
        )
        .option(
          '--certificates <mode>',
          "ca: one certificate per device from the fleet's own registered CA (default, fast); keys: CreateKeysAndCertificate per device; shared: one for all",
          oneOfLower('--certificates', CERT_MODES),
        )
        .option('--reprovision', 'make new certificates even if cached ones exist')
        .option(
          '--cache-dir <dir>',
          'where device certificates are kept between runs (default ~/.fleetjobs/simulator/<server>)',
        )
        .option('--duration <seconds>', 'stop after this long (default: on Ctrl-C)', num('--duration', 0, 1e9))
        .option(
          '--idle-exit <seconds>',
          'stop once the fleet has done work and then had none for this long',
          num('--idle-exit', 0, 1e9),
        )
        .option('--seed <n>', 'seed of the random outcomes, to repeat a run', int('--seed', 0, 2 ** 32 - 1))
        .option('--ca <file>', "the server's CA certificate (default: from the profile or local data dir)"),
    async (s, _args, o) => {
      const failureRate = o.failureRate ?? 0;
      const rejectRate = o.rejectRate ?? 0;
      if (failureRate + rejectRate > 1) throw new UsageError('--failure-rate plus --reject-rate must not exceed 1');
      const ca = caPemOf(s, o.ca);
      const { mqtt } = await deviceEndpoints(s);
      const seed = o.seed ?? randomInt(2 ** 32 - 1);
      const log = (m: string): void => s.out.note(`${s.io.clock.now().toISOString()} simulate: ${m}`);
      log(`${o.devices} devices, latency ${o.latency ?? 1000} ms, failure rate ${failureRate}, seed ${seed}`);
      const sim = new Simulator({
        iot: s.iot(),
        devices: o.devices,
        prefix: o.prefix ?? 'sim-',
        group: o.group ?? 'simulated-fleet',
        cacheDir: o.cacheDir ?? defaultCacheDir(s.io.home, s.conn.endpoint),
        concurrency: o.concurrency ?? 16,
        certMode: o.certificates ?? 'ca',
        reprovision: o.reprovision,
        endpoint: mqtt,
        ca,
        behaviour: {
          latencyMs: o.latency ?? 1000,
          jitter: o.jitter ?? 0.2,
          failureRate,
          rejectRate,
          random: seededRandom(seed),
        },
        ...(o.duration !== undefined && { durationMs: o.duration * 1000 }),
        ...(o.idleExit !== undefined && { idleExitMs: o.idleExit * 1000 }),
        clock: s.io.clock,
        log,
      });
      const report = await sim.run(s.io.interrupts());
      s.out.result(report, () => renderReport(report));
    },
  );
}

export function renderReport(r: SimulationReport): string {
  const e = r.executions;
  const lines = [
    `fleet: ${r.devices} devices (${r.provisioned.created} provisioned, ${r.provisioned.reused} reused, in ${r.provisioned.seconds} s), ${r.connected} connected` +
      (r.connectFailures ? `, ${r.connectFailures} failed to connect` : ''),
    `ran ${r.seconds} s: ${e.started} executions started (${e.retried} retries); things: ${e.succeeded} succeeded, ${e.failed} failed, ${e.rejected} rejected (${e.perSecond} executions/s)`,
  ];
  if (r.jobs.length) {
    lines.push(
      renderTable(r.jobs, [
        { header: 'job', get: (j) => j.jobId },
        { header: 'things', get: (j) => j.things },
        { header: 'started', get: (j) => j.started },
        { header: 'retried', get: (j) => j.retried },
        { header: 'succeeded', get: (j) => j.succeeded },
        { header: 'failed', get: (j) => j.failed },
        { header: 'rejected', get: (j) => j.rejected },
        { header: 'mean ms', get: (j) => j.meanMs },
        { header: 'first start', get: (j) => j.firstStartedAt },
        { header: 'last finish', get: (j) => j.lastFinishedAt },
      ]),
    );
  } else lines.push('no job reached the fleet');
  if (r.errors) lines.push(`errors: ${r.errors}, e.g. ${r.sampleErrors.join('; ')}`);
  return lines.join('\n');
}
