import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** Seconds; from a fast local call up to a slow batch (a big fan-out, a scheduler tick of many jobs). */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Seconds between a change and its notification; minutes when the notifier is down or far behind. */
const LAG_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/**
 * The server's Prometheus metrics, one registry per server (tests run several in one process).
 * Names follow Prometheus conventions: `_total` counters, `_seconds` histograms, base units. The
 * instrumentation lives in src/metrics/instrument.ts, wrapped around the composition points.
 */
export class ServerMetrics {
  readonly registry = new Registry();

  readonly awsRequests = new Counter({
    name: 'fleetjobs_aws_requests_total',
    help: 'AWS API requests by signing service, operation and HTTP status (after authentication)',
    labelNames: ['service', 'operation', 'code'] as const,
    registers: [this.registry],
  });
  readonly awsRequestDuration = new Histogram({
    name: 'fleetjobs_aws_request_duration_seconds',
    help: 'Time to handle an AWS API request, by signing service and operation',
    labelNames: ['service', 'operation'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly awsRejected = new Counter({
    name: 'fleetjobs_aws_rejected_requests_total',
    help: 'AWS API requests refused before reaching a service (signature, credentials, unknown service), by HTTP status',
    labelNames: ['code'] as const,
    registers: [this.registry],
  });
  readonly deviceRequests = new Counter({
    name: 'fleetjobs_device_requests_total',
    help: 'Device jobs API requests (spec 5) by protocol (mqtt, http), operation and outcome (ok or the error code)',
    labelNames: ['protocol', 'operation', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly deviceRequestDuration = new Histogram({
    name: 'fleetjobs_device_request_duration_seconds',
    help: 'Time to handle a device jobs API request, by protocol and operation',
    labelNames: ['protocol', 'operation'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly executionStatusChanges = new Counter({
    name: 'fleetjobs_job_execution_status_changes_total',
    help: 'Job executions entering a status (QUEUED when created), counted when the statement runs',
    labelNames: ['status'] as const,
    registers: [this.registry],
  });
  readonly notifierLag = new Histogram({
    name: 'fleetjobs_notifier_lag_seconds',
    help: 'Time from an outbox row being written (a state change) to a notifier taking it up',
    buckets: LAG_BUCKETS,
    registers: [this.registry],
  });
  readonly schedulerTickDuration = new Histogram({
    name: 'fleetjobs_scheduler_tick_duration_seconds',
    help: 'Duration of one rollout scheduler tick',
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly dbTransactionDuration = new Histogram({
    name: 'fleetjobs_db_transaction_duration_seconds',
    help: 'Duration of database transactions (begin to commit or rollback), by outcome',
    labelNames: ['outcome'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  constructor() {
    // CPU, memory, event loop lag, handles, GC: prom-client's standard process metrics.
    collectDefaultMetrics({ register: this.registry });
  }

  /** A gauge read at each scrape (connected devices, outbox depth). */
  gauge(name: string, help: string, read: () => number | Promise<number>): void {
    new Gauge({
      name,
      help,
      registers: [this.registry],
      async collect() {
        this.set(await read());
      },
    });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  scrape(): Promise<string> {
    return this.registry.metrics();
  }
}
