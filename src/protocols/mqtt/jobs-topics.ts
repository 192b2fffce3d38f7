import type { DeviceJobsApi, RequestFields } from './device-jobs-api.js';
import { executionForMqtt, documentObject } from './jobs-payloads.js';

/**
 * The jobs topic table (spec 5.2, 5.7). Topics are `$aws/things/<thing>/jobs/<rest>`; `rest` is
 * matched level by level against these patterns. `{jobId}` may be `$next` where the operation
 * allows it, and the reply topic keeps it literally (spec 5.2).
 */
export const JOBS_OPERATIONS = [
  'GetPendingJobExecutions',
  'StartNextPendingJobExecution',
  'DescribeJobExecution',
  'UpdateJobExecution',
] as const;
export type JobsOperation = (typeof JOBS_OPERATIONS)[number];

interface TopicRoute {
  readonly levels: readonly string[];
  readonly operation: JobsOperation;
}

export const JOBS_TOPIC_TABLE: readonly TopicRoute[] = [
  { levels: ['get'], operation: 'GetPendingJobExecutions' },
  { levels: ['start-next'], operation: 'StartNextPendingJobExecution' },
  { levels: ['{jobId}', 'get'], operation: 'DescribeJobExecution' },
  { levels: ['{jobId}', 'update'], operation: 'UpdateJobExecution' },
  // spec 5.7: the Greengrass nucleus's namespaced forms.
  { levels: ['{jobId}', 'namespace-{ns}', 'get'], operation: 'DescribeJobExecution' },
  { levels: ['{jobId}', 'namespace-{ns}', 'update'], operation: 'UpdateJobExecution' },
];

/** Topics only the service publishes; a device publishing to them is refused. */
const SERVICE_ONLY = [/^notify$/, /^notify-next$/, /^notify-namespace-[a-zA-Z0-9_-]+$/, /(^|\/)(accepted|rejected)$/];

export type JobsTopic =
  | { kind: 'request'; thingName: string; operation: JobsOperation; jobId?: string; namespaceId?: string }
  | { kind: 'service-only'; thingName: string }
  /** Under the jobs namespace but no API: answered with InvalidTopic (spec 5.5). */
  | { kind: 'unknown'; thingName: string }
  | { kind: 'other' };

const PREFIX = /^\$aws\/things\/([^/]+)\/jobs\/(.+)$/;

export function parseJobsTopic(topic: string): JobsTopic {
  const m = PREFIX.exec(topic);
  if (!m) return { kind: 'other' };
  const thingName = m[1]!;
  const rest = m[2]!;
  if (SERVICE_ONLY.some((re) => re.test(rest))) return { kind: 'service-only', thingName };
  const levels = rest.split('/');
  for (const route of JOBS_TOPIC_TABLE) {
    const params = matchLevels(route.levels, levels);
    if (params) return { kind: 'request', thingName, operation: route.operation, ...params };
  }
  return { kind: 'unknown', thingName };
}

function matchLevels(
  pattern: readonly string[],
  levels: string[],
): { jobId?: string; namespaceId?: string } | undefined {
  if (pattern.length !== levels.length) return undefined;
  const out: { jobId?: string; namespaceId?: string } = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    const l = levels[i]!;
    if (p === '{jobId}') {
      if (l === '') return undefined;
      out.jobId = l;
    } else if (p === 'namespace-{ns}') {
      if (!l.startsWith('namespace-') || l.length === 'namespace-'.length) return undefined;
      out.namespaceId = l.slice('namespace-'.length);
    } else if (p !== l) return undefined;
  }
  return out;
}

/** The data of an accepted reply (clientToken and timestamp are added by the caller). */
export async function runJobsRequest(
  jobs: DeviceJobsApi,
  request: Extract<JobsTopic, { kind: 'request' }>,
  body: RequestFields,
): Promise<Record<string, unknown>> {
  const { thingName, jobId, namespaceId } = request;
  switch (request.operation) {
    case 'GetPendingJobExecutions': {
      const out = await jobs.getPendingJobExecutions(thingName, namespaceId);
      return { inProgressJobs: out.inProgressJobs, queuedJobs: out.queuedJobs };
    }
    case 'StartNextPendingJobExecution': {
      const out = await jobs.startNextPendingJobExecution(
        thingName,
        pick(body, ['statusDetails', 'stepTimeoutInMinutes']),
        namespaceId,
      );
      return out.execution ? { execution: executionForMqtt(out.execution) } : {};
    }
    case 'DescribeJobExecution': {
      const out = await jobs.describeJobExecution(
        thingName,
        jobId!,
        pick(body, ['executionNumber', 'includeJobDocument']),
        namespaceId,
      );
      return out.execution ? { execution: executionForMqtt(out.execution) } : {};
    }
    case 'UpdateJobExecution': {
      const out = await jobs.updateJobExecution(
        thingName,
        jobId!,
        pick(body, [
          'status',
          'statusDetails',
          'expectedVersion',
          'executionNumber',
          'includeJobExecutionState',
          'includeJobDocument',
          'stepTimeoutInMinutes',
        ]),
        namespaceId,
      );
      return {
        ...(out.executionState && { executionState: out.executionState }),
        ...(out.jobDocument !== undefined && { jobDocument: documentObject(out.jobDocument) }),
      };
    }
  }
}

/** Only the members the operation defines reach the service (clientToken stays here). */
function pick(body: RequestFields, keys: readonly string[]): RequestFields {
  const out: RequestFields = {};
  for (const k of keys) if (body[k] !== undefined) out[k] = body[k];
  return out;
}
