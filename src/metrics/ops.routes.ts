import type { FastifyInstance } from 'fastify';
import { isAwsSigned, type AwsDispatcher } from '../protocols/aws/dispatcher.js';
import { readiness, type ReadinessCheck } from './health.js';

export interface OpsRoutesOptions {
  dispatcher: AwsDispatcher;
  checks: Record<string, ReadinessCheck>;
  /** Serves /metrics here too (unless the operator moved it to its own --metrics listener). */
  metrics?: { contentType: string; scrape(): Promise<string> };
}

/**
 * `/healthz` (the process serves HTTP), `/readyz` (it can do its work: database, migrations,
 * listeners, Redis in cluster mode) and `/metrics` (Prometheus text format), unauthenticated, for
 * orchestrators and scrapers. A SigV4-signed request is AWS traffic whatever its path (a bucket may
 * be called "metrics"), so it goes to the AWS dispatcher instead.
 */
export function registerOpsRoutes(app: FastifyInstance, o: OpsRoutesOptions): void {
  void app.register(async (scope) => {
    scope.addHook('onRequest', async (request, reply) => {
      if (!isAwsSigned(request)) return;
      await o.dispatcher.dispatch(request, reply);
      return reply;
    });
    registerOpsHandlers(scope, o);
  });
}

/** The handlers alone: also the whole of the --metrics listener. */
export function registerOpsHandlers(scope: FastifyInstance, o: Omit<OpsRoutesOptions, 'dispatcher'>): void {
  scope.get('/healthz', async (_request, reply) => {
    void reply.header('cache-control', 'no-store').send({ status: 'ok' });
  });
  scope.get('/readyz', async (_request, reply) => {
    const r = await readiness(o.checks);
    void reply
      .code(r.ready ? 200 : 503)
      .header('cache-control', 'no-store')
      .send({ status: r.ready ? 'ready' : 'unavailable', checks: r.checks });
  });
  const metrics = o.metrics;
  if (metrics) {
    scope.get('/metrics', async (_request, reply) => {
      const text = await metrics.scrape();
      void reply.header('content-type', metrics.contentType).header('cache-control', 'no-store').send(text);
    });
  }
}
