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

/**
 * One job's outcome on the fleet. succeeded / failed / rejected count things, each by its latest
 * attempt (as jobProcessDetails does); `started` counts attempts, `retried` the attempts beyond
 * each thing's first.
 */
export interface JobTally {
  jobId: string;
  started: number;
  things: number;
  retried: number;
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
  /** started and perSecond count attempts; succeeded / failed / rejected count things by their latest attempt. */
  executions: {
    started: number;
    retried: number;
    succeeded: number;
    failed: number;
    rejected: number;
    perSecond: number;
  };
  errors: number;
  sampleErrors: string[];
}

type Running = JobTally & { totalMs: number; attempts: number; latest: Map<string, Outcome | 'STARTED'> };

const KEY = { SUCCEEDED: 'succeeded', FAILED: 'failed', REJECTED: 'rejected' } as const satisfies Record<
  Outcome,
  string
>;

class Tally {
  readonly jobs = new Map<string, Running>();
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
        things: 0,
        retried: 0,
        succeeded: 0,
        failed: 0,
        rejected: 0,
        firstStartedAt: this.clock.now().toISOString(),
        meanMs: 0,
        totalMs: 0,
        attempts: 0,
        latest: new Map(),
      };
      this.jobs.set(jobId, j);
    }
    return j;
  }

  started(thing: string, jobId: string): void {
    this.active++;
    this.firstStart ??= this.clock.now().getTime();
    this.lastActivity = this.clock.now().getTime();
    const j = this.job(jobId);
    j.started++;
    this.move(j, thing, 'STARTED');
  }

  finished(thing: string, jobId: string, outcome: Outcome, ms: number): void {
    this.active--;
    this.lastActivity = this.clock.now().getTime();
    const j = this.job(jobId);
    this.move(j, thing, outcome);
    j.attempts++;
    j.totalMs += ms;
    j.lastFinishedAt = this.clock.now().toISOString();
  }

  /** A thing is counted by its latest attempt: a retry takes it out of its earlier outcome. */
  private move(j: Running, thing: string, to: Outcome | 'STARTED'): void {
    const from = j.latest.get(thing);
    if (from === undefined) j.things++;
    else if (from !== 'STARTED') j[KEY[from]]--;
    else if (to === 'STARTED') return;
    if (from !== undefined && to === 'STARTED') j.retried++;
    if (to !== 'STARTED') j[KEY[to]]++;
    j.latest.set(thing, to);
  }

  error(message: string): void {
    this.errors++;
    if (this.sampleErrors.length < 5) this.sampleErrors.push(message);
  }

  totals() {
    const all = [...this.jobs.values()];
    type Key = 'started' | 'retried' | 'succeeded' | 'failed' | 'rejected';
    const sum = (k: Key): number => all.reduce((n, j) => n + j[k], 0);
    return {
      started: sum('started'),
      retried: sum('retried'),
      succeeded: sum('succeeded'),
      failed: sum('failed'),
      rejected: sum('rejected'),
      attempts: all.reduce((n, j) => n + j.attempts, 0),
    };
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
      started: (thing: string, jobId: string) => tally.started(thing, jobId),
      finished: (thing: string, jobId: string, outcome: Outcome, ms: number) =>
        tally.finished(thing, jobId, outcome, ms),
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
      jobs: [...tally.jobs.values()].map(({ totalMs, attempts, latest: _latest, ...j }) => ({
        ...j,
        meanMs: attempts ? Math.round(totalMs / attempts) : 0,
      })),
      executions: {
        started: totals.started,
        retried: totals.retried,
        succeeded: totals.succeeded,
        failed: totals.failed,
        rejected: totals.rejected,
        perSecond: busyS > 0 ? round(totals.attempts / busyS) : 0,
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
          `working ${tally.active}; things finished ${t.succeeded + t.failed + t.rejected} (${t.succeeded} succeeded, ${t.failed} failed, ${t.rejected} rejected; ${t.retried} retries)`,
        );
      }
      await sleep(100, undefined, { signal }).catch(() => undefined);
    }
  }
}

const round = (n: number): number => Math.round(n * 100) / 100;

export const defaultCacheDir = (home: string, endpoint: string): string =>
  join(home, '.fleetjobs', 'simulator', endpoint.replace(/^[a-z]+:\/\//, '').replace(/[^A-Za-z0-9.-]+/g, '_'));
