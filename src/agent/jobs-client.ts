import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { MqttClient } from 'mqtt';

/**
 * The AWS IoT Jobs device API over MQTT (spec 5.2-5.6), as a device SDK does it: requests on
 * `$aws/things/<thing>/jobs/...`, answers on `.../accepted|rejected` matched by clientToken, and
 * `notify-next` as an event.
 */
export interface DeviceExecution {
  jobId: string;
  status: string;
  statusDetails?: Record<string, string>;
  queuedAt?: number;
  startedAt?: number;
  lastUpdatedAt?: number;
  versionNumber?: number;
  executionNumber?: number;
  approximateSecondsBeforeTimedOut?: number;
  /** An object over MQTT (spec 0.2). */
  jobDocument?: unknown;
}

/** A `.../rejected` answer (spec 5.5). */
export class JobsRejected extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly executionState?: { status?: string; versionNumber?: number },
  ) {
    super(`${code}: ${message}`);
  }
}

export class JobsTimeout extends Error {}

export interface UpdateRequest {
  status: 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED' | 'REJECTED';
  statusDetails?: Record<string, string>;
  expectedVersion?: number;
  executionNumber?: number;
  stepTimeoutInMinutes?: number;
  includeJobExecutionState?: boolean;
}

interface Pending {
  resolve(payload: Record<string, unknown>): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

export interface JobsClientOptions {
  timeoutMs?: number;
  /**
   * Subscribe to the reply topics too (`+` wildcards, as the SDK v2 clients do). Not needed: the
   * service answers the requesting connection anyway (spec 0.4); a big simulated fleet skips it.
   */
  subscribeReplies?: boolean;
}

export class JobsMqttClient extends EventEmitter<{ 'notify-next': [DeviceExecution | undefined] }> {
  private readonly pending = new Map<string, Pending>();
  private readonly prefix: string;

  constructor(
    readonly mqtt: MqttClient,
    readonly thingName: string,
    private readonly o: JobsClientOptions = {},
  ) {
    super();
    this.prefix = `$aws/things/${thingName}/jobs`;
    mqtt.on('message', (topic, payload) => this.onMessage(topic, payload));
  }

  /** Subscribes (again after a reconnect with a clean session: mqtt.js resubscribes itself). */
  async subscribe(): Promise<void> {
    const filters = [`${this.prefix}/notify-next`];
    if (this.o.subscribeReplies) {
      filters.push(`${this.prefix}/start-next/+`, `${this.prefix}/+/get/+`, `${this.prefix}/+/update/+`);
    }
    const granted = await this.mqtt.subscribeAsync(filters, { qos: 1 });
    const refused = granted.filter((g) => g.qos === 128);
    if (refused.length) throw new Error(`subscription refused: ${refused.map((g) => g.topic).join(', ')}`);
  }

  private onMessage(topic: string, payload: Buffer): void {
    if (!topic.startsWith(`${this.prefix}/`)) return;
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(payload.toString('utf8')) as Record<string, unknown>;
    } catch {
      return;
    }
    if (topic === `${this.prefix}/notify-next`) {
      this.emit('notify-next', body.execution as DeviceExecution | undefined);
      return;
    }
    const accepted = topic.endsWith('/accepted');
    if (!accepted && !topic.endsWith('/rejected')) return;
    const token = typeof body.clientToken === 'string' ? body.clientToken : undefined;
    const p = token === undefined ? undefined : this.pending.get(token);
    if (!p) return;
    this.pending.delete(token!);
    clearTimeout(p.timer);
    if (accepted) p.resolve(body);
    else {
      p.reject(
        new JobsRejected(
          String(body.code ?? 'Unknown'),
          String(body.message ?? ''),
          body.executionState as JobsRejected['executionState'],
        ),
      );
    }
  }

  private async request(suffix: string, body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const clientToken = randomUUID();
    const answer = new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(clientToken);
        reject(new JobsTimeout(`no answer to ${suffix} within ${this.o.timeoutMs ?? 15_000} ms`));
      }, this.o.timeoutMs ?? 15_000);
      this.pending.set(clientToken, { resolve, reject, timer });
    });
    // Observed at once: close() may reject it while the publish below is still in flight.
    answer.catch(() => undefined);
    try {
      await this.mqtt.publishAsync(`${this.prefix}/${suffix}`, JSON.stringify({ ...body, clientToken }), { qos: 1 });
    } catch (err) {
      const p = this.pending.get(clientToken);
      if (p) {
        clearTimeout(p.timer);
        this.pending.delete(clientToken);
      }
      throw err;
    }
    return answer;
  }

  /** StartNextPendingJobExecution: the IN_PROGRESS execution, or the oldest QUEUED one, or none. */
  async startNext(
    statusDetails?: Record<string, string>,
    stepTimeoutInMinutes?: number,
  ): Promise<DeviceExecution | undefined> {
    const r = await this.request('start-next', {
      ...(statusDetails && { statusDetails }),
      ...(stepTimeoutInMinutes && { stepTimeoutInMinutes }),
    });
    return r.execution as DeviceExecution | undefined;
  }

  /** GetPendingJobExecutions: summaries only, no documents. */
  async getPending(): Promise<{ inProgressJobs: DeviceExecution[]; queuedJobs: DeviceExecution[] }> {
    const r = await this.request('get', {});
    return {
      inProgressJobs: (r.inProgressJobs as DeviceExecution[] | undefined) ?? [],
      queuedJobs: (r.queuedJobs as DeviceExecution[] | undefined) ?? [],
    };
  }

  async describe(
    jobId: string,
    o: { executionNumber?: number; includeJobDocument?: boolean } = {},
  ): Promise<DeviceExecution | undefined> {
    const r = await this.request(`${jobId}/get`, { ...o });
    return r.execution as DeviceExecution | undefined;
  }

  async update(jobId: string, u: UpdateRequest): Promise<Record<string, unknown>> {
    return this.request(`${jobId}/update`, { ...u });
  }

  /** Fails every waiting request (on close). */
  close(reason = 'closed'): void {
    for (const [token, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new JobsTimeout(reason));
      this.pending.delete(token);
    }
  }
}
