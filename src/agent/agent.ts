import mqtt, { type MqttClient } from 'mqtt';
import { setTimeout as sleep } from 'node:timers/promises';
import { ExecutionRun, statusDetails, type RunContext } from './execution-run.js';
import { JobsMqttClient, JobsRejected, type DeviceExecution } from './jobs-client.js';
import { StateStore } from './state.js';
import { realDirs } from './step-runner.js';
import { defaultVerifier, type CodeSignatureVerifier } from './verify.js';

/**
 * The reference device agent (issue 9): connects like an AWS IoT device (MQTT over TLS, client
 * certificate, client id = thing name; spec 5), follows notify-next, takes jobs with start-next and
 * runs them one at a time (ExecutionRun), and picks an IN_PROGRESS job up again after a restart.
 */
export interface AgentOptions {
  thingName: string;
  /** mqtts://host:port */
  endpoint: string;
  cert: string;
  key: string;
  ca: string;
  handlerDirs: string[];
  stateDir: string;
  enableRunCommand?: boolean;
  /** Trusted code-signing certificates (PEM). */
  signerCertificates?: string[];
  requireSignature?: boolean;
  verifier?: CodeSignatureVerifier;
  /** Process what is pending, then return (instead of waiting for more jobs). */
  once?: boolean;
  log: (message: string) => void;
  reconnectMs?: number;
  requestTimeoutMs?: number;
}

export class Agent {
  private client?: MqttClient;
  private jobs?: JobsMqttClient;
  private current?: ExecutionRun;
  private wake?: () => void;
  private kicked = false;

  constructor(private readonly o: AgentOptions) {}

  /** Runs until `signal` aborts (or, with `once`, until nothing is pending). */
  async run(signal: AbortSignal): Promise<void> {
    const { o } = this;
    // The first connection must succeed (a refused certificate is an error to report); after
    // that, the client reconnects by itself.
    const client = await mqtt.connectAsync(
      o.endpoint,
      {
        clientId: o.thingName,
        cert: o.cert,
        key: o.key,
        ca: o.ca,
        protocolVersion: 4,
        clean: true,
        reconnectPeriod: 0,
        connectTimeout: 15_000,
        keepalive: 30,
      },
      false,
    );
    client.options.reconnectPeriod = o.reconnectMs ?? 2000;
    this.client = client;
    const jobs = new JobsMqttClient(client, o.thingName, { subscribeReplies: true, timeoutMs: o.requestTimeoutMs });
    this.jobs = jobs;
    o.log(`connected to ${o.endpoint} as ${o.thingName}`);
    client.on('connect', () => {
      o.log('reconnected');
      this.onChange();
    });
    client.on('offline', () => o.log('connection lost; reconnecting'));
    client.on('error', (err) => o.log(`connection error: ${err.message}`));
    jobs.on('notify-next', (next) => this.onNotifyNext(next));
    const onAbort = (): void => this.kick();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      await jobs.subscribe();
      await this.loop(signal);
    } finally {
      signal.removeEventListener('abort', onAbort);
      jobs.close('agent stopped');
      await client.endAsync(true).catch(() => undefined);
      o.log('stopped');
    }
  }

  private runContext(signal: AbortSignal): RunContext {
    const { o } = this;
    return {
      jobs: this.jobs!,
      thingName: o.thingName,
      store: new StateStore(o.stateDir),
      handlerDirs: realDirs(o.handlerDirs),
      enableRunCommand: o.enableRunCommand ?? false,
      signerCertificates: o.signerCertificates ?? [],
      requireSignature: o.requireSignature ?? false,
      verifier: o.verifier ?? defaultVerifier,
      tls: { ca: o.ca, cert: o.cert, key: o.key },
      log: o.log,
      shutdown: signal,
    };
  }

  private async loop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      this.kicked = false;
      let next: DeviceExecution | undefined;
      try {
        next = await this.jobs!.startNext();
      } catch (err) {
        this.o.log(`start-next failed: ${(err as Error).message}`);
        if (err instanceof JobsRejected && err.code === 'InvalidRequest' && (await this.rejectHead(err))) continue;
        await sleep(2000, undefined, { signal }).catch(() => undefined);
        continue;
      }
      if (next) {
        this.current = new ExecutionRun(this.runContext(signal), next);
        try {
          const outcome = await this.current.run();
          if (outcome === 'stopped') return;
        } catch (err) {
          this.o.log(`job ${next.jobId}: ${(err as Error).message}`);
          await sleep(2000, undefined, { signal }).catch(() => undefined);
        } finally {
          this.current = undefined;
        }
        continue;
      }
      if (this.o.once) return;
      this.o.log('no pending job; waiting for notify-next');
      await this.idle(signal);
    }
  }

  /**
   * The service refused to hand out the next job (e.g. it withholds a document whose file no
   * longer matches its code signature). Retrying would block the queue for good, so the device
   * REJECTS that job with the service's reason and moves on.
   */
  private async rejectHead(refusal: JobsRejected): Promise<boolean> {
    try {
      const p = await this.jobs!.getPending();
      const head = p.inProgressJobs[0] ?? p.queuedJobs[0];
      if (!head) return false;
      try {
        await this.jobs!.describe(head.jobId, { executionNumber: head.executionNumber, includeJobDocument: true });
        return false; // the head is fine: the refusal was about something else
      } catch (err) {
        if (!(err instanceof JobsRejected) || err.code !== 'InvalidRequest') return false;
      }
      const reason = `the service refused the job document: ${refusal.message.replace(/^InvalidRequest: /, '')}`;
      await this.jobs!.update(head.jobId, {
        status: 'REJECTED',
        executionNumber: head.executionNumber,
        statusDetails: statusDetails({ reason }),
      });
      this.o.log(`job ${head.jobId}: reported REJECTED (${reason})`);
      return true;
    } catch (err) {
      this.o.log(`cannot reject the refused job: ${(err as Error).message}`);
      return false;
    }
  }

  private idle(signal: AbortSignal): Promise<void> {
    if (this.kicked || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => (this.wake = resolve));
  }

  private kick(): void {
    this.kicked = true;
    const w = this.wake;
    this.wake = undefined;
    w?.();
  }

  private onNotifyNext(next: DeviceExecution | undefined): void {
    if (!this.current) {
      if (next) this.kick();
      return;
    }
    // The head of the queue is no longer our job: it may have been canceled or removed.
    if (!next || next.jobId !== this.current.jobId || next.executionNumber !== this.current.executionNumber)
      this.onChange();
  }

  /** Re-checks the job in hand (after a reconnect or a notify-next that names another job). */
  private onChange(): void {
    const run = this.current;
    if (!run) return this.kick();
    this.jobs!.describe(run.jobId, { executionNumber: run.executionNumber, includeJobDocument: false }).then(
      (e) => {
        if (!e || e.status !== 'IN_PROGRESS') run.cancel(e?.status ?? 'removed');
      },
      (err: unknown) => {
        if (err instanceof JobsRejected && err.code === 'ResourceNotFound') run.cancel('deleted');
      },
    );
  }
}
