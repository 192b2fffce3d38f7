import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ServerResponse } from 'node:http';
import { ServiceError } from '../../errors.js';
import { sessionCookieOf, type ConsoleDeps } from '../console-app.js';
import { CONTENT_SECURITY_POLICY } from '../static.js';

export const DEFAULT_POLL_MS = 1000;
const KEEPALIVE_MS = 15_000;

/** What the job page shows live: the job's status and its execution counters. */
export interface JobSnapshot {
  at: number;
  status: string;
  jobProcessDetails: Record<string, number>;
  /** The attempts behind the things (retries), apart from jobProcessDetails. */
  attemptDetails?: Record<string, number>;
  forceCanceled?: boolean;
  reasonCode?: string;
  comment?: string;
  completedAt?: number;
}

const send = (res: ServerResponse, event: string, data: unknown): boolean =>
  res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);

/**
 * GET /jobs/:jobId/events: server-sent events with the job's counters. The server reads the job
 * every poll interval and sends a `job` event when something changed; `deleted` or `signed-out`
 * end the stream.
 */
export function registerJobEvents(api: FastifyInstance, deps: ConsoleDeps): void {
  const open = new Set<ServerResponse>();
  // Streams never end on their own: end them so the listener can close.
  api.addHook('preClose', async () => {
    for (const res of open) res.end();
  });

  const snapshot = async (jobId: string): Promise<JobSnapshot> => {
    const { job } = await deps.services.jobs.describeJob(jobId);
    return {
      at: deps.services.ctx.clock.now().getTime(),
      status: job.status,
      jobProcessDetails: job.jobProcessDetails,
      ...('attemptDetails' in job && { attemptDetails: job.attemptDetails }),
      forceCanceled: job.forceCanceled,
      ...(job.reasonCode !== undefined && { reasonCode: job.reasonCode }),
      ...(job.comment !== undefined && { comment: job.comment }),
      ...(job.completedAt !== undefined && { completedAt: job.completedAt }),
    };
  };

  api.get('/jobs/:jobId/events', async (request: FastifyRequest, reply) => {
    const { jobId } = request.params as { jobId: string };
    let last = await snapshot(jobId); // an unknown job is a plain 404 before the stream starts
    const res = reply.raw;
    reply.hijack();
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      'content-security-policy': CONTENT_SECURITY_POLICY,
      'x-content-type-options': 'nosniff',
    });
    res.write(`retry: 2000\n\n`);
    send(res, 'job', last);
    open.add(res);
    const pollMs = deps.pollIntervalMs ?? DEFAULT_POLL_MS;
    const keepaliveTicks = Math.max(1, Math.round(KEEPALIVE_MS / pollMs));
    let quietTicks = 0;
    let busy = false;
    const stop = (): void => {
      clearInterval(timer);
      open.delete(res);
      if (!res.writableEnded) res.end();
    };
    const tick = async (): Promise<void> => {
      if (busy) return;
      busy = true;
      try {
        if (!(await deps.auth.resume(sessionCookieOf(request)))) {
          send(res, 'signed-out', {});
          return stop();
        }
        const next = await snapshot(jobId);
        if (JSON.stringify({ ...next, at: 0 }) !== JSON.stringify({ ...last, at: 0 })) {
          send(res, 'job', next);
          last = next;
          quietTicks = 0;
        } else if (++quietTicks >= keepaliveTicks) {
          res.write(': keep-alive\n\n');
          quietTicks = 0;
        }
      } catch (err) {
        if (err instanceof ServiceError && err.code === 'ResourceNotFound') {
          send(res, 'deleted', { jobId });
          return stop();
        }
        deps.logger.warn({ err, jobId }, 'live job stream: cannot read the job');
      } finally {
        busy = false;
      }
    };
    const timer = setInterval(() => void tick(), pollMs);
    request.raw.on('close', stop);
  });
}
