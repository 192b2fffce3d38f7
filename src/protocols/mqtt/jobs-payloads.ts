import type { DeviceExecution, JobExecutionSummary, PendingState } from './device-jobs-api.js';

/**
 * MQTT renderings (spec 5.4, 5.6): jobDocument is a JSON object (not the text the HTTP plane
 * sends), thingName is left out as in real payloads, times are integer epoch seconds.
 */
export function documentObject(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

export function executionForMqtt(e: DeviceExecution): Record<string, unknown> {
  return {
    jobId: e.jobId,
    status: e.status,
    ...(e.statusDetails && Object.keys(e.statusDetails).length > 0 && { statusDetails: e.statusDetails }),
    queuedAt: e.queuedAt,
    ...(e.startedAt !== undefined && { startedAt: e.startedAt }),
    lastUpdatedAt: e.lastUpdatedAt,
    versionNumber: e.versionNumber,
    executionNumber: e.executionNumber,
    ...(e.approximateSecondsBeforeTimedOut !== undefined && {
      approximateSecondsBeforeTimedOut: e.approximateSecondsBeforeTimedOut,
    }),
    ...(e.jobDocument !== undefined && { jobDocument: documentObject(e.jobDocument) }),
  };
}

/** spec 5.6: at most 10 executions, IN_PROGRESS first; a list is omitted when empty. */
export const NOTIFY_LIST_LIMIT = 10;

export function summaryForMqtt(s: JobExecutionSummary): JobExecutionSummary {
  return {
    jobId: s.jobId,
    queuedAt: s.queuedAt,
    ...(s.startedAt !== undefined && { startedAt: s.startedAt }),
    lastUpdatedAt: s.lastUpdatedAt,
    executionNumber: s.executionNumber,
    versionNumber: s.versionNumber,
  };
}

export function notifyPayload(state: PendingState, timestamp: number): Record<string, unknown> {
  const inProgress = (state.pending.IN_PROGRESS ?? []).slice(0, NOTIFY_LIST_LIMIT);
  const queued = (state.pending.QUEUED ?? []).slice(0, NOTIFY_LIST_LIMIT - inProgress.length);
  return {
    timestamp,
    jobs: {
      ...(inProgress.length > 0 && { IN_PROGRESS: inProgress.map(summaryForMqtt) }),
      ...(queued.length > 0 && { QUEUED: queued.map(summaryForMqtt) }),
    },
  };
}

/** spec 5.6: the head as `$next` resolves it, or `{timestamp}` alone when nothing is pending. */
export function notifyNextPayload(state: PendingState, timestamp: number): Record<string, unknown> {
  return { timestamp, ...(state.head && { execution: executionForMqtt(state.head) }) };
}

/** The identity of the pending set (notify) and of the head (notify-next), to tell what changed. */
export function pendingKey(state: PendingState): string {
  const all = [...(state.pending.IN_PROGRESS ?? []), ...(state.pending.QUEUED ?? [])];
  return all
    .map((s) => `${s.jobId}#${s.executionNumber}`)
    .sort()
    .join(',');
}

export const headKey = (state: PendingState): string =>
  state.head ? `${state.head.jobId}#${state.head.executionNumber}` : '';
