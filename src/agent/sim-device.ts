import mqtt, { type MqttClient } from 'mqtt';
import { setTimeout as sleep } from 'node:timers/promises';
import { JobsMqttClient, JobsRejected, type DeviceExecution } from './jobs-client.js';

/**
 * One virtual device of `fleetjobs simulate`: a real MQTT/TLS connection with its own certificate,
 * taking jobs the way a device does (spec 5: notify-next, start-next, update), with a chosen
 * latency and failure rate instead of real work.
 */
export type Outcome = 'SUCCEEDED' | 'FAILED' | 'REJECTED';

export interface Behaviour {
  latencyMs: number;
  /** Latency varies by ± this fraction. */
  jitter: number;
  failureRate: number;
  rejectRate: number;
  random: () => number;
}

export interface SimEvents {
  started(thing: string, jobId: string): void;
  finished(thing: string, jobId: string, outcome: Outcome, ms: number): void;
  error(thing: string, message: string): void;
}

export interface DeviceCredentials {
  thingName: string;
  cert: string;
  key: string;
  certificateArn?: string;
}

export class SimDevice {
  private client?: MqttClient;
  private jobs?: JobsMqttClient;
  private busy = false;
  private again = false;
  private stopped = false;

  constructor(
    readonly creds: DeviceCredentials,
    private readonly endpoint: string,
    private readonly ca: string,
    private readonly behaviour: Behaviour,
    private readonly events: SimEvents,
  ) {}

  get connected(): boolean {
    return this.client?.connected === true;
  }

  async connect(): Promise<void> {
    const client = await mqtt.connectAsync(
      this.endpoint,
      {
        clientId: this.creds.thingName,
        cert: this.creds.cert,
        key: this.creds.key,
        ca: this.ca,
        protocolVersion: 4,
        clean: true,
        reconnectPeriod: 0,
        connectTimeout: 30_000,
        keepalive: 60,
      },
      false,
    );
    client.options.reconnectPeriod = 2000;
    this.client = client;
    // Replies come to the requesting connection without a subscription (spec 0.4): a big fleet
    // subscribes to notify-next only.
    this.jobs = new JobsMqttClient(client, this.creds.thingName, { subscribeReplies: false, timeoutMs: 30_000 });
    this.jobs.on('notify-next', (next) => {
      if (next) this.work();
    });
    client.on('connect', () => this.work());
    client.on('error', (err) => this.events.error(this.creds.thingName, err.message));
    await this.jobs.subscribe();
    this.work();
  }

  /** Takes jobs until none is pending; a notification during a run makes it look again. */
  work(): void {
    if (this.stopped) return;
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = true;
    void this.drain().finally(() => {
      this.busy = false;
      if (this.again && !this.stopped) {
        this.again = false;
        this.work();
      }
    });
  }

  private async drain(): Promise<void> {
    for (;;) {
      this.again = false;
      let exec: DeviceExecution | undefined;
      try {
        exec = await this.jobs!.startNext();
      } catch (err) {
        if (!this.stopped) this.events.error(this.creds.thingName, `start-next: ${(err as Error).message}`);
        return;
      }
      if (!exec || this.stopped) return;
      await this.execute(exec);
    }
  }

  private async execute(exec: DeviceExecution): Promise<void> {
    const b = this.behaviour;
    const began = performance.now();
    this.events.started(this.creds.thingName, exec.jobId);
    const wait = Math.max(0, b.latencyMs * (1 + b.jitter * (2 * b.random() - 1)));
    await sleep(wait);
    const roll = b.random();
    const outcome: Outcome =
      roll < b.rejectRate ? 'REJECTED' : roll < b.rejectRate + b.failureRate ? 'FAILED' : 'SUCCEEDED';
    const reason = outcome === 'SUCCEEDED' ? 'simulated success' : `simulated ${outcome.toLowerCase()}`;
    try {
      await this.jobs!.update(exec.jobId, {
        status: outcome,
        executionNumber: exec.executionNumber,
        statusDetails: { reason, simulatedLatencyMs: String(Math.round(wait)) },
      });
      this.events.finished(this.creds.thingName, exec.jobId, outcome, performance.now() - began);
    } catch (err) {
      // A job canceled meanwhile is not an error of the device.
      if (err instanceof JobsRejected && err.code === 'InvalidStateTransition') return;
      this.events.error(this.creds.thingName, `update ${exec.jobId}: ${(err as Error).message}`);
      await sleep(1000);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.jobs?.close('simulator stopped');
    await this.client?.endAsync(true).catch(() => undefined);
  }
}

/** A small seeded PRNG (mulberry32), so a run can be repeated with --seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Runs `fn` over `items` with at most `limit` at a time; results in order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, i: number) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
