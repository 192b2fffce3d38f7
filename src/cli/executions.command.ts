import type { Command } from 'commander';
import {
  CancelJobExecutionCommand,
  DeleteJobExecutionCommand,
  DescribeJobExecutionCommand,
  ListJobExecutionsForJobCommand,
  ListJobExecutionsForThingCommand,
  type JobExecutionStatus,
} from '@aws-sdk/client-iot';
import { collect, int, keyValues, oneOf } from './args.js';
import { apiCommand, type ApiOptions, type CliContext, type Session } from './context.js';
import { UsageError } from './exit-codes.js';
import { plain } from './output.js';

export const EXECUTION_STATUSES = [
  'QUEUED',
  'IN_PROGRESS',
  'SUCCEEDED',
  'FAILED',
  'TIMED_OUT',
  'REJECTED',
  'REMOVED',
  'CANCELED',
] as const;

interface ListOptions extends ApiOptions {
  job?: string;
  thing?: string;
  status?: JobExecutionStatus;
  namespace?: string;
  maxItems?: number;
}

const thingOf = (arn: string | undefined): string => arn?.slice(arn.indexOf(':thing/') + ':thing/'.length) ?? '';

function listFlags(c: Command): Command {
  return c
    .option('--status <status>', EXECUTION_STATUSES.join('|'), oneOf('--status', EXECUTION_STATUSES))
    .option('--max-items <n>', 'stop after this many', int('--max-items', 1));
}

async function listForJob(s: Session, jobId: string, o: ListOptions): Promise<void> {
  const { items, nextToken } = await collect(async (token, size) => {
    const r = await s
      .iot()
      .send(new ListJobExecutionsForJobCommand({ jobId, status: o.status, nextToken: token, maxResults: size }));
    return { items: r.executionSummaries, nextToken: r.nextToken };
  }, o.maxItems);
  const rows = items.map((e) => ({ thingName: thingOf(e.thingArn), thingArn: e.thingArn, ...e.jobExecutionSummary }));
  s.out.list(
    'executions',
    rows,
    [
      { header: 'thing', get: (e) => e.thingName },
      { header: 'status', get: (e) => e.status },
      { header: 'execution', get: (e) => e.executionNumber },
      { header: 'retry', get: (e) => e.retryAttempt },
      { header: 'queued', get: (e) => e.queuedAt },
      { header: 'started', get: (e) => e.startedAt },
      { header: 'updated', get: (e) => e.lastUpdatedAt },
    ],
    nextToken ? { nextToken } : {},
  );
}

async function listForThing(s: Session, thingName: string, o: ListOptions): Promise<void> {
  const { items, nextToken } = await collect(async (token, size) => {
    const r = await s.iot().send(
      new ListJobExecutionsForThingCommand({
        thingName,
        status: o.status,
        namespaceId: o.namespace,
        jobId: o.job,
        nextToken: token,
        maxResults: size,
      }),
    );
    return { items: r.executionSummaries, nextToken: r.nextToken };
  }, o.maxItems);
  const rows = items.map((e) => ({ jobId: e.jobId, ...e.jobExecutionSummary }));
  s.out.list(
    'executions',
    rows,
    [
      { header: 'job', get: (e) => e.jobId },
      { header: 'status', get: (e) => e.status },
      { header: 'execution', get: (e) => e.executionNumber },
      { header: 'retry', get: (e) => e.retryAttempt },
      { header: 'queued', get: (e) => e.queuedAt },
      { header: 'updated', get: (e) => e.lastUpdatedAt },
    ],
    nextToken ? { nextToken } : {},
  );
}

/** `fleetjobs executions ...` and `fleetjobs jobs executions JOB`: one job on one thing (spec 4). */
export function registerExecutionsCommands(program: Command, jobs: Command, ctx: CliContext): void {
  apiCommand<ListOptions>(
    ctx,
    jobs,
    'executions <jobId>',
    "a job's executions, one per thing",
    listFlags,
    (s, [jobId], o) => listForJob(s, jobId!, o),
  );

  const executions = program.command('executions').description('job executions: one job on one thing');

  apiCommand<ListOptions>(
    ctx,
    executions,
    'list',
    'executions of a job (--job) or of a thing (--thing)',
    (c) =>
      listFlags(c)
        .option('--job <jobId>', 'the executions of this job (with --thing: only this job)')
        .option('--thing <name>', 'the executions on this thing')
        .option('--namespace <id>', 'with --thing: only jobs of this namespace'),
    async (s, _args, o) => {
      if (o.thing !== undefined) return listForThing(s, o.thing, o);
      if (o.job !== undefined) return listForJob(s, o.job, o);
      throw new UsageError('give --job JOB or --thing THING');
    },
  );

  apiCommand<ApiOptions & { executionNumber?: number }>(
    ctx,
    executions,
    'describe <jobId> <thing>',
    'show one execution (the latest, or --execution-number)',
    (c) => c.option('--execution-number <n>', 'a given execution (retries make new ones)', int('--execution-number')),
    async (s, [jobId, thingName], o) => {
      const r = await s
        .iot()
        .send(new DescribeJobExecutionCommand({ jobId, thingName, executionNumber: o.executionNumber }));
      const e = r.execution ?? {};
      s.out.object({
        ...(plain(e) as Record<string, unknown>),
        thingName: thingOf(e.thingArn),
        statusDetails: e.statusDetails?.detailsMap ?? {},
      });
    },
  );

  apiCommand<ApiOptions & { force?: boolean; expectedVersion?: number; details?: Record<string, string> }>(
    ctx,
    executions,
    'cancel <jobId> <thing>',
    'cancel a QUEUED execution (IN_PROGRESS with --force)',
    (c) =>
      c
        .option('--force', 'also when IN_PROGRESS (the device is told through its next update)')
        .option('--expected-version <n>', 'fail unless the execution is at this version', int('--expected-version'))
        .option('--details <k=v,...>', 'status details to record', keyValues('--details')),
    async (s, [jobId, thingName], o) => {
      await s.iot().send(
        new CancelJobExecutionCommand({
          jobId,
          thingName,
          force: o.force,
          expectedVersion: o.expectedVersion,
          statusDetails: o.details,
        }),
      );
      s.out.object({ jobId, thingName, canceled: true });
    },
  );

  apiCommand<ApiOptions & { force?: boolean; namespace?: string }>(
    ctx,
    executions,
    'delete <jobId> <thing> <executionNumber>',
    'delete a finished execution (any with --force)',
    (c) => c.option('--force', 'also when QUEUED or IN_PROGRESS').option('--namespace <id>', 'namespace id'),
    async (s, [jobId, thingName, n], o) => {
      const executionNumber = int('executionNumber')(n!);
      await s.iot().send(
        new DeleteJobExecutionCommand({
          jobId,
          thingName,
          executionNumber,
          force: o.force,
          namespaceId: o.namespace,
        }),
      );
      s.out.object({ jobId, thingName, executionNumber, deleted: true });
    },
  );
}
