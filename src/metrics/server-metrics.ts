import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import type { Clock } from '../clock.js';
import type { ListenAddress } from '../config.js';
import type { AwsDispatcher } from '../protocols/aws/dispatcher.js';
import type { DeviceJobsApi } from '../protocols/mqtt/device-jobs-api.js';
import type { Scheduler } from '../scheduler/scheduler.js';
import type { Db } from '../store/database.js';
import type { ReadinessCheck } from './health.js';
import {
  deviceJobsFor,
  instrumentDispatcher,
  instrumentScheduler,
  instrumentTransactions,
  metricsPlugin,
  registerStateGauges,
  type StateSources,
} from './instrument.js';
import { ServerMetrics } from './metrics.js';
import { registerOpsHandlers } from './ops.routes.js';

/** What server.ts wraps, one call per composition point (README "Health checks and metrics"). */
export function instrument(clock: Clock) {
  const registry = new ServerMetrics();
  return {
    registry,
    db: (db: Db): Db => instrumentTransactions(db.withPlugin(metricsPlugin(registry, clock)), registry),
    dispatcher: (d: AwsDispatcher): void => instrumentDispatcher(d, registry),
    deviceJobs: (get: () => DeviceJobsApi | undefined, protocol: 'mqtt' | 'http') =>
      deviceJobsFor(get, protocol, registry),
    scheduler: (s: Scheduler): void => instrumentScheduler(s, registry),
    state: (o: StateSources): void => registerStateGauges(registry, o),
  };
}

/** `--metrics host:port`: /metrics (and the probes) on a listener of its own, e.g. reachable only from the monitoring network. */
export async function startMetricsListener(
  at: ListenAddress,
  o: { metrics: ServerMetrics; checks: Record<string, ReadinessCheck> },
): Promise<{ port: number; stop: () => Promise<void> }> {
  const app = Fastify({ logger: false, return503OnClosing: true });
  registerOpsHandlers(app, o);
  await app.listen({ host: at.host, port: at.port });
  return { port: (app.server.address() as AddressInfo).port, stop: () => app.close() };
}
