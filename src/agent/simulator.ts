import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Clock } from '../clock.js';
import { mapLimit, SimDevice, type Behaviour, type Outcome } from './sim-device.js';
import { issuer, provisionFleet, provisionOne, type FleetOptions } from './sim-fleet.js';

/**
 * `fleetjobs simulate`: a virtual fleet to rehearse a rollout (issue 9). Provisions N devices on
 * demand, connects them over MQTT/TLS, lets them take jobs with a latency and failure rate, and
 * reports what the fleet did.
 */
export interface SimulatorOptions extends Omit<FleetOptions, 'log' | 'clock'> {
  endpoint: string;
  ca: string;
  behaviour: Behaviour;
  /** Stop after this long (ms). */
  durationMs?: number;
  /** Stop once the fleet has done some work and then had none for this long (ms). */
  idleExitMs?: number;
  clock: Clock;
  log: (message: string) => void;
  statusEveryMs?: number;
}

export interface JobTally {
  jobId: string;
  started: number;
  succeeded: number;
  failed: number;
  rejected: number;
  firstStartedAt: string;
  lastFinishedAt?: string;
  meanMs: number;
}

export interface SimulationReport {
  devices: number;
  provisioned: { created: number; reused: number; seconds: number };
  connected: number;
  connectFailures: number;
  seconds: number;
  jobs: JobTally[];
  executions: { started: number; succeeded: number; failed: number; rejected: number; perSecond: number };
  errors: number;
  sampleErrors: string[];
}

class Tally {
  readonly jobs = new Map<string, JobTally & { totalMs: number }>();
  active = 0;
  errors = 0;
  readonly sampleErrors: string[] = [];
  lastActivity: number;
  firstStart?: number;

  constructor(private readonly clock: Clock) {
    this.lastActivity = clock.now().getTime();
  }

  private job(jobId: string) {
    let j = this.jobs.get(jobId);
    if (!j) {
      j = {
        jobId,
        started: 0,
        succeeded: 0,
        failed: 0,
        rejected: 0,
        firstStartedAt: this.clock.now().toISOString(),
        meanMs: 0,
        totalMs: 0,
      };
      this.jobs.set(jobId, j);
    }
    return j;
  }

  started(jobId: string): void {
    this.active++;
    this.firstStart ??= this.clock.now().getTime();
    this.lastActivity = this.clock.now().getTime();
    this.job(jobId).started++;
  }

  finished(jobId: string, outcome: Outcome, ms: number): void {
    this.active--;
    this.lastActivity = this.clock.now().getTime();
    const j = this.job(jobId);
    j[outcome === 'SUCCEEDED' ? 'succeeded' : outcome === 'FAILED' ? 'failed' : 'rejected']++;
    j.totalMs += ms;
    j.lastFinishedAt = this.clock.now().toISOString();
  }

  error(message: string): void {
    this.errors++;
    if (this.sampleErrors.length < 5) this.sampleErrors.push(message);
  }

  totals() {
    const all = [...this.jobs.values()];
    const sum = (k: 'started' | 'succeeded' | 'failed' | 'rejected'): number => all.reduce((n, j) => n + j[k], 0);
    return { started: sum('started'), succeeded: sum('succeeded'), failed: sum('failed'), rejected: sum('rejected') };
  }
}

export class Simulator {
  private devices: SimDevice[] = [];

  constructor(private readonly o: SimulatorOptions) {}

  async run(signal: AbortSignal): Promise<SimulationReport> {
    const { o } = this;
    const now = (): number => o.clock.now().getTime();
    const t0 = now();
    const fleet = await provisionFleet({ ...o, log: o.log });
    const provisionedS = (now() - t0) / 1000;
    o.log(`fleet ready: ${fleet.created} devices provisioned, ${fleet.reused} reused from ${o.cacheDir}`);
    const tally = new Tally(o.clock);
    const events = {
      started: (_t: string, jobId: string) => tally.started(jobId),
      finished: (_t: string, jobId: string, outcome: Outcome, ms: number) => tally.finished(jobId, outcome, ms),
      error: (thing: string, message: string) => tally.error(`${thing}: ${message}`),
    };
    this.devices = fleet.devices.map((d) => new SimDevice(d, o.endpoint, o.ca, o.behaviour, events));
    let failures = 0;
    await mapLimit(this.devices, o.concurrency, async (d) => {
      if (signal.aborted) return;
      if (await this.connectOne(d)) return;
      failures++;
    });
    const connected = this.devices.filter((d) => d.connected).length;
    o.log(`connected ${connected}/${this.devices.length} devices${failures ? ` (${failures} failed)` : ''}`);
    const started = now();
    await this.waitForEnd(signal, tally, started);
    await mapLimit(this.devices, 100, (d) => d.stop());
    const seconds = (now() - started) / 1000;
    const totals = tally.totals();
    const busyS = tally.firstStart === undefined ? 0 : (tally.lastActivity - tally.firstStart) / 1000;
    return {
      devices: this.devices.length,
      provisioned: { created: fleet.created, reused: fleet.reused, seconds: round(provisionedS) },
      connected,
      connectFailures: failures,
      seconds: round(seconds),
      jobs: [...tally.jobs.values()].map(({ totalMs, ...j }) => {
        const finished = j.succeeded + j.failed + j.rejected;
        return { ...j, meanMs: finished ? Math.round(totalMs / finished) : 0 };
      }),
      executions: {
        ...totals,
        perSecond: busyS > 0 ? round((totals.succeeded + totals.failed + totals.rejected) / busyS) : 0,
      },
      errors: tally.errors,
      sampleErrors: tally.sampleErrors,
    };
  }

  /** A cached certificate the server no longer accepts is replaced once. */
  private async connectOne(d: SimDevice): Promise<boolean> {
    try {
      await d.connect();
      return true;
    } catch (first) {
      try {
        const fleet = { ...this.o, reprovision: false };
        const fresh = await provisionOne(fleet, d.creds.thingName, await issuer(fleet));
        Object.assign(d.creds, fresh);
        await d.connect();
        return true;
      } catch (err) {
        this.o.log(
          `${d.creds.thingName}: cannot connect: ${(err as Error).message} (first: ${(first as Error).message})`,
        );
        return false;
      }
    }
  }

  private async waitForEnd(signal: AbortSignal, tally: Tally, started: number): Promise<void> {
    const { o } = this;
    const now = (): number => o.clock.now().getTime();
    let lastStatus = now();
    while (!signal.aborted) {
      if (o.durationMs !== undefined && now() - started >= o.durationMs) return;
      const worked = tally.firstStart !== undefined;
      if (o.idleExitMs !== undefined && worked && tally.active === 0 && now() - tally.lastActivity >= o.idleExitMs)
        return;
      if (now() - lastStatus >= (o.statusEveryMs ?? 5000)) {
        lastStatus = now();
        const t = tally.totals();
        o.log(
          `working ${tally.active}; finished ${t.succeeded + t.failed + t.rejected} (${t.succeeded} succeeded, ${t.failed} failed, ${t.rejected} rejected)`,
        );
      }
      await sleep(100, undefined, { signal }).catch(() => undefined);
    }
  }
}

const round = (n: number): number => Math.round(n * 100) / 100;

export const defaultCacheDir = (home: string, endpoint: string): string =>
  join(home, '.fleetjobs', 'simulator', endpoint.replace(/^[a-z]+:\/\//, '').replace(/[^A-Za-z0-9.-]+/g, '_'));
