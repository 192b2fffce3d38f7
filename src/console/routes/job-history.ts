import type { FastifyInstance, FastifyRequest } from 'fastify';
import { COUNTER_OF, EXECUTION_STATUSES, type ExecutionStatus } from '../../jobs/execution-states.js';
import { json, type ConsoleDeps } from '../console-app.js';

/** More executions than this and the history is not rebuilt (the chart then starts live). */
export const HISTORY_MAX_EXECUTIONS = 10_000;
/** Points of a rebuilt history, at most (closer moments are merged). */
export const HISTORY_MAX_POINTS = 600;

interface Summary {
  thingArn: string;
  jobExecutionSummary: {
    status: ExecutionStatus;
    queuedAt?: number;
    startedAt?: number;
    lastUpdatedAt?: number;
    executionNumber?: number;
  };
}

type Change = { at: number; from?: ExecutionStatus; to: ExecutionStatus };

/**
 * The counts of things by status over time, rebuilt from each thing's latest execution and its
 * timestamps (queued, started, last updated), so that the chart of a job opened later, or after a
 * reload, shows how it got where it is. Like jobProcessDetails it counts things, not attempts; a
 * thing's earlier attempts are not drawn.
 */
export function rebuildHistory(summaries: Summary[], nowMs: number): { at: number; counts: Record<string, number> }[] {
  const latest = new Map<string, Summary>();
  for (const s of summaries) {
    const seen = latest.get(s.thingArn);
    if (!seen || (s.jobExecutionSummary.executionNumber ?? 0) > (seen.jobExecutionSummary.executionNumber ?? 0))
      latest.set(s.thingArn, s);
  }
  const changes: Change[] = [];
  for (const { jobExecutionSummary: e } of latest.values()) {
    const queued = (e.queuedAt ?? 0) * 1000;
    changes.push({ at: queued, to: 'QUEUED' });
    let current: ExecutionStatus = 'QUEUED';
    if (e.startedAt !== undefined) {
      changes.push({ at: e.startedAt * 1000, from: current, to: 'IN_PROGRESS' });
      current = 'IN_PROGRESS';
    }
    if (e.status !== current) {
      changes.push({ at: Math.min((e.lastUpdatedAt ?? 0) * 1000 || nowMs, nowMs), from: current, to: e.status });
    }
  }
  changes.sort((a, b) => a.at - b.at);
  const counts: Record<string, number> = Object.fromEntries(EXECUTION_STATUSES.map((s) => [COUNTER_OF[s], 0]));
  const points: { at: number; counts: Record<string, number> }[] = [];
  const first = changes[0]?.at ?? nowMs;
  const step = Math.max(1, (nowMs - first) / HISTORY_MAX_POINTS);
  for (const c of changes) {
    if (c.from) counts[COUNTER_OF[c.from]]! -= 1;
    counts[COUNTER_OF[c.to]]! += 1;
    const last = points[points.length - 1];
    if (last && c.at - last.at < step) last.counts = { ...counts };
    else points.push({ at: c.at, counts: { ...counts } });
  }
  return points;
}

/** GET /jobs/:jobId/history: the rebuilt history, for the chart's start. */
export function registerJobHistory(api: FastifyInstance, deps: ConsoleDeps): void {
  const { jobs, jobExecutions, ctx } = deps.services;
  api.get(
    '/jobs/:jobId/history',
    json(async (request: FastifyRequest) => {
      const { jobId } = request.params as { jobId: string };
      const { job } = await jobs.describeJob(jobId);
      const summaries: Summary[] = [];
      let nextToken: string | undefined;
      do {
        const page = await jobExecutions.listJobExecutionsForJob({ jobId, maxResults: 250, nextToken });
        summaries.push(...(page.executionSummaries as Summary[]));
        nextToken = page.nextToken;
        if (summaries.length > HISTORY_MAX_EXECUTIONS) return { history: [], complete: false };
      } while (nextToken);
      const now = ctx.clock.now().getTime();
      const history = rebuildHistory(summaries, now).map((p) => ({
        at: p.at,
        status: job.status,
        jobProcessDetails: p.counts,
      }));
      return { history, complete: true };
    }),
  );
}
