import {
  AddThingToThingGroupCommand,
  AssociateTargetsWithJobCommand,
  CancelJobCommand,
  CancelJobExecutionCommand,
  CreateJobCommand,
  CreateJobTemplateCommand,
  CreateThingCommand,
  CreateThingGroupCommand,
  DeleteJobCommand,
  DeleteJobExecutionCommand,
  DeleteJobTemplateCommand,
  DescribeJobCommand,
  DescribeJobExecutionCommand,
  DescribeJobTemplateCommand,
  DescribeManagedJobTemplateCommand,
  GetJobDocumentCommand,
  ListJobExecutionsForJobCommand,
  ListJobExecutionsForThingCommand,
  ListJobsCommand,
  TagResourceCommand,
  UpdateJobCommand,
  type IoTClient,
} from '@aws-sdk/client-iot';
import type { TestServer } from './server.js';

/** The state the error cases run against (seeded once per server; no case changes it). */
export interface JobsWorld {
  thing: (name: string) => string;
  group: (name: string) => string;
  job: (id: string) => string;
  template: (id: string) => string;
}

export const DOC = JSON.stringify({ operation: 'firmware-update', version: '2.1.0' });

export async function seedJobsWorld(t: TestServer, iot: IoTClient): Promise<JobsWorld> {
  const arns = t.server.services.ctx.arns;
  const w: JobsWorld = { thing: arns.thing, group: arns.thingGroup, job: arns.job, template: arns.jobTemplate };
  for (const name of ['e-t1', 'e-t2', 'e-t3']) await iot.send(new CreateThingCommand({ thingName: name }));
  await iot.send(new CreateThingGroupCommand({ thingGroupName: 'e-g' }));
  await iot.send(new AddThingToThingGroupCommand({ thingGroupName: 'e-g', thingName: 'e-t1' }));
  await iot.send(
    new CreateJobCommand({ jobId: 'e-running', targets: [w.group('e-g'), w.thing('e-t2')], document: DOC }),
  );
  await iot.send(new CreateJobCommand({ jobId: 'e-done', targets: [w.thing('e-t3')], document: DOC }));
  await iot.send(
    new CreateJobCommand({ jobId: 'e-cont', targets: [w.group('e-g')], document: DOC, targetSelection: 'CONTINUOUS' }),
  );
  await iot.send(
    new CreateJobCommand({
      jobId: 'e-retry',
      targets: [w.thing('e-t3')],
      document: DOC,
      jobExecutionsRetryConfig: { criteriaList: [{ failureType: 'FAILED', numberOfRetries: 2 }] },
    }),
  );
  await iot.send(new CreateJobTemplateCommand({ jobTemplateId: 'e-tpl', description: 'seed', document: DOC }));
  const device = t.server.services.deviceJobs;
  await device.startNextPendingJobExecution('e-t1');
  await device.updateJobExecution('e-t3', 'e-done', { status: 'SUCCEEDED' });
  return w;
}

export interface ErrorCase {
  name: string;
  error: string;
  status: number;
  sdk: (iot: IoTClient, w: JobsWorld) => Promise<unknown>;
  cli: (w: JobsWorld) => string[];
}

const big = JSON.stringify({ blob: 'x'.repeat(33 * 1024) });
const elevenDetails = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, 'v']));
const json = (v: unknown): string => JSON.stringify(v);

const createJob = (
  name: string,
  error: string,
  status: number,
  input: (w: JobsWorld) => Record<string, unknown>,
): ErrorCase => ({
  name: `CreateJob: ${name}`,
  error,
  status,
  sdk: (iot, w) =>
    iot.send(new CreateJobCommand({ jobId: 'never', targets: [w.thing('e-t1')], document: DOC, ...input(w) } as never)),
  cli: (w) => {
    const i: Record<string, unknown> = { jobId: 'never', targets: [w.thing('e-t1')], document: DOC, ...input(w) };
    const args = ['iot', 'create-job'];
    for (const [k, v] of Object.entries(i)) {
      if (v === undefined) continue;
      const flag = `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
      if (k === 'targets') args.push(flag, ...(v as string[]));
      else args.push(flag, typeof v === 'string' ? v : json(v));
    }
    return args;
  },
});

const INVALID = ['InvalidRequestException', 400] as const;
const NOT_FOUND = ['ResourceNotFoundException', 404] as const;
const TRANSITION = ['InvalidStateTransitionException', 409] as const;

/** Every error case of issue 3, each run through @aws-sdk/client-iot and /usr/bin/aws. */
export const ERROR_CASES: ErrorCase[] = [
  createJob('jobId with a dot', ...INVALID, () => ({ jobId: 'bad.id' })),
  createJob('jobId of 65 characters', ...INVALID, () => ({ jobId: 'j'.repeat(65) })),
  createJob('duplicate job id', 'ResourceAlreadyExistsException', 409, () => ({ jobId: 'e-running' })),
  createJob('unknown thing target', ...NOT_FOUND, (w) => ({ targets: [w.thing('ghost')] })),
  createJob('unknown group target', ...NOT_FOUND, (w) => ({ targets: [w.group('ghosts')] })),
  createJob('101 targets', 'LimitExceededException', 410, (w) => ({
    targets: Array.from({ length: 101 }, (_, i) => w.thing(`many-${i}`)),
  })),
  createJob('target that is not an ARN', ...INVALID, () => ({ targets: ['e-t1'] })),
  createJob('document over 32 KB', ...INVALID, () => ({ document: big })),
  createJob('document that is not JSON', ...INVALID, () => ({ document: '{"a": ' })),
  createJob('document and documentSource', ...INVALID, () => ({
    documentSource: 'https://s3.us-east-1.amazonaws.com/b/k.json',
  })),
  createJob('no document at all', ...INVALID, () => ({ document: undefined })),
  createJob('bad targetSelection', ...INVALID, () => ({ targetSelection: 'SOMETIMES' })),
  createJob('description with a control character', ...INVALID, () => ({ description: 'bad\u0007bell' })),
  createJob('maximumPerMinute over 1000', ...INVALID, () => ({
    jobExecutionsRolloutConfig: { maximumPerMinute: 1001 },
  })),
  createJob('incrementFactor over 5', ...INVALID, () => ({
    jobExecutionsRolloutConfig: {
      exponentialRate: {
        baseRatePerMinute: 10,
        incrementFactor: 6,
        rateIncreaseCriteria: { numberOfNotifiedThings: 5 },
      },
    },
  })),
  createJob('abort threshold over 100 %', ...INVALID, () => ({
    abortConfig: {
      criteriaList: [
        { failureType: 'FAILED', action: 'CANCEL', thresholdPercentage: 100.5, minNumberOfExecutedThings: 1 },
      ],
    },
  })),
  createJob('in-progress timeout over 7 days', ...INVALID, () => ({
    timeoutConfig: { inProgressTimeoutInMinutes: 10081 },
  })),
  createJob('11 retries', ...INVALID, () => ({
    jobExecutionsRetryConfig: { criteriaList: [{ failureType: 'FAILED', numberOfRetries: 11 }] },
  })),
  createJob('startTime in the past', ...INVALID, () => ({ schedulingConfig: { startTime: '2020-01-01T00:00' } })),
  createJob('presigned URL expiry over an hour', ...INVALID, () => ({
    presignedUrlConfig: { roleArn: 'arn:aws:iam::000000000000:role/jobs-s3', expiresInSec: 4000 },
  })),
  createJob('unknown custom template', ...NOT_FOUND, (w) => ({
    document: undefined,
    jobTemplateArn: w.template('ghost'),
  })),
  createJob('managed template without its required parameter', ...INVALID, () => ({
    document: undefined,
    jobTemplateArn: 'arn:aws:iot:us-east-1::jobtemplate/AWS-Run-Command:1.0',
  })),
  createJob('documentParameters without a managed template', ...INVALID, () => ({
    documentParameters: { command: 'ls' },
  })),
  createJob('bad namespaceId', ...INVALID, () => ({ namespaceId: 'bad ns' })),
  {
    name: 'UpdateJob: unknown job',
    error: NOT_FOUND[0],
    status: NOT_FOUND[1],
    sdk: (iot) => iot.send(new UpdateJobCommand({ jobId: 'ghost', description: 'x' })),
    cli: () => ['iot', 'update-job', '--job-id', 'ghost', '--description', 'x'],
  },
  {
    name: 'UpdateJob: raising a retry count',
    ...err(INVALID),
    sdk: (iot) =>
      iot.send(
        new UpdateJobCommand({
          jobId: 'e-retry',
          jobExecutionsRetryConfig: { criteriaList: [{ failureType: 'FAILED', numberOfRetries: 5 }] },
        }),
      ),
    cli: () => [
      'iot',
      'update-job',
      '--job-id',
      'e-retry',
      '--job-executions-retry-config',
      json({ criteriaList: [{ failureType: 'FAILED', numberOfRetries: 5 }] }),
    ],
  },
  {
    name: 'CancelJob: unknown job',
    ...err(NOT_FOUND),
    sdk: (iot) => iot.send(new CancelJobCommand({ jobId: 'ghost' })),
    cli: () => ['iot', 'cancel-job', '--job-id', 'ghost'],
  },
  {
    name: 'CancelJob: a COMPLETED job',
    ...err(INVALID),
    sdk: (iot) => iot.send(new CancelJobCommand({ jobId: 'e-done' })),
    cli: () => ['iot', 'cancel-job', '--job-id', 'e-done'],
  },
  {
    name: 'CancelJob: lower-case reasonCode',
    ...err(INVALID),
    sdk: (iot) => iot.send(new CancelJobCommand({ jobId: 'e-running', reasonCode: 'lower' })),
    cli: () => ['iot', 'cancel-job', '--job-id', 'e-running', '--reason-code', 'lower'],
  },
  {
    name: 'DeleteJob: IN_PROGRESS without force',
    ...err(TRANSITION),
    sdk: (iot) => iot.send(new DeleteJobCommand({ jobId: 'e-running' })),
    cli: () => ['iot', 'delete-job', '--job-id', 'e-running'],
  },
  {
    name: 'DeleteJob: unknown job',
    ...err(NOT_FOUND),
    sdk: (iot) => iot.send(new DeleteJobCommand({ jobId: 'ghost' })),
    cli: () => ['iot', 'delete-job', '--job-id', 'ghost'],
  },
  {
    name: 'DescribeJob: unknown job',
    ...err(NOT_FOUND),
    sdk: (iot) => iot.send(new DescribeJobCommand({ jobId: 'ghost' })),
    cli: () => ['iot', 'describe-job', '--job-id', 'ghost'],
  },
  {
    name: 'GetJobDocument: unknown job',
    ...err(NOT_FOUND),
    sdk: (iot) => iot.send(new GetJobDocumentCommand({ jobId: 'ghost' })),
    cli: () => ['iot', 'get-job-document', '--job-id', 'ghost'],
  },
  {
    name: 'ListJobs: unknown status',
    ...err(INVALID),
    sdk: (iot) => iot.send(new ListJobsCommand({ status: 'RUNNING' as never })),
    cli: () => ['iot', 'list-jobs', '--status', 'RUNNING'],
  },
  {
    name: 'ListJobs: unknown thingGroupId',
    ...err(NOT_FOUND),
    sdk: (iot) => iot.send(new ListJobsCommand({ thingGroupId: '00000000-0000-0000-0000-000000000000' })),
    cli: () => ['iot', 'list-jobs', '--thing-group-id', '00000000-0000-0000-0000-000000000000'],
  },
  {
    name: 'ListJobs: maxResults over 250',
    ...err(INVALID),
    sdk: (iot) => iot.send(new ListJobsCommand({ maxResults: 251 })),
    cli: () => ['iot', 'list-jobs', '--page-size', '251'],
  },
  {
    name: 'ListJobs: a forged nextToken',
    ...err(INVALID),
    sdk: (iot) => iot.send(new ListJobsCommand({ nextToken: 'garbage!' })),
    cli: () => ['iot', 'list-jobs', '--starting-token', 'garbage!'],
  },
  {
    name: 'AssociateTargetsWithJob: a SNAPSHOT job',
    ...err(INVALID),
    sdk: (iot, w) => iot.send(new AssociateTargetsWithJobCommand({ jobId: 'e-running', targets: [w.group('e-g')] })),
    cli: (w) => ['iot', 'associate-targets-with-job', '--job-id', 'e-running', '--targets', w.group('e-g')],
  },
  {
    name: 'AssociateTargetsWithJob: unknown job',
    ...err(NOT_FOUND),
    sdk: (iot, w) => iot.send(new AssociateTargetsWithJobCommand({ jobId: 'ghost', targets: [w.group('e-g')] })),
    cli: (w) => ['iot', 'associate-targets-with-job', '--job-id', 'ghost', '--targets', w.group('e-g')],
  },
  {
    name: 'AssociateTargetsWithJob: unknown group',
    ...err(NOT_FOUND),
    sdk: (iot, w) => iot.send(new AssociateTargetsWithJobCommand({ jobId: 'e-cont', targets: [w.group('ghosts')] })),
    cli: (w) => ['iot', 'associate-targets-with-job', '--job-id', 'e-cont', '--targets', w.group('ghosts')],
  },
  {
    name: 'AssociateTargetsWithJob: more than 100 targets in all',
    error: 'LimitExceededException',
    status: 410,
    sdk: (iot, w) =>
      iot.send(
        new AssociateTargetsWithJobCommand({
          jobId: 'e-cont',
          targets: Array.from({ length: 100 }, (_, i) => w.group(`more-${i}`)),
        }),
      ),
    cli: (w) => [
      'iot',
      'associate-targets-with-job',
      '--job-id',
      'e-cont',
      '--targets',
      ...Array.from({ length: 100 }, (_, i) => w.group(`more-${i}`)),
    ],
  },
  {
    name: 'AssociateTargetsWithJob: a thing instead of a group',
    ...err(INVALID),
    sdk: (iot, w) => iot.send(new AssociateTargetsWithJobCommand({ jobId: 'e-cont', targets: [w.thing('e-t2')] })),
    cli: (w) => ['iot', 'associate-targets-with-job', '--job-id', 'e-cont', '--targets', w.thing('e-t2')],
  },
  {
    name: 'DescribeJobExecution: unknown execution',
    ...err(NOT_FOUND),
    sdk: (iot) => iot.send(new DescribeJobExecutionCommand({ jobId: 'e-running', thingName: 'e-t3' })),
    cli: () => ['iot', 'describe-job-execution', '--job-id', 'e-running', '--thing-name', 'e-t3'],
  },
  {
    name: 'ListJobExecutionsForJob: unknown job',
    ...err(NOT_FOUND),
    sdk: (iot) => iot.send(new ListJobExecutionsForJobCommand({ jobId: 'ghost' })),
    cli: () => ['iot', 'list-job-executions-for-job', '--job-id', 'ghost'],
  },
  {
    name: 'ListJobExecutionsForJob: unknown status',
    ...err(INVALID),
    sdk: (iot) => iot.send(new ListJobExecutionsForJobCommand({ jobId: 'e-running', status: 'DONE' as never })),
    cli: () => ['iot', 'list-job-executions-for-job', '--job-id', 'e-running', '--status', 'DONE'],
  },
  {
    name: 'ListJobExecutionsForThing: unknown thing',
    ...err(NOT_FOUND),
    sdk: (iot) => iot.send(new ListJobExecutionsForThingCommand({ thingName: 'ghost' })),
    cli: () => ['iot', 'list-job-executions-for-thing', '--thing-name', 'ghost'],
  },
  {
    name: 'CancelJobExecution: wrong expectedVersion',
    error: 'VersionConflictException',
    status: 409,
    sdk: (iot) =>
      iot.send(new CancelJobExecutionCommand({ jobId: 'e-running', thingName: 'e-t2', expectedVersion: 7 })),
    cli: () => [
      'iot',
      'cancel-job-execution',
      '--job-id',
      'e-running',
      '--thing-name',
      'e-t2',
      '--expected-version',
      '7',
    ],
  },
  {
    name: 'CancelJobExecution: IN_PROGRESS without force',
    ...err(TRANSITION),
    sdk: (iot) => iot.send(new CancelJobExecutionCommand({ jobId: 'e-running', thingName: 'e-t1' })),
    cli: () => ['iot', 'cancel-job-execution', '--job-id', 'e-running', '--thing-name', 'e-t1'],
  },
  {
    name: 'CancelJobExecution: a terminal execution',
    ...err(TRANSITION),
    sdk: (iot) => iot.send(new CancelJobExecutionCommand({ jobId: 'e-done', thingName: 'e-t3', force: true })),
    cli: () => ['iot', 'cancel-job-execution', '--job-id', 'e-done', '--thing-name', 'e-t3', '--force'],
  },
  {
    name: 'CancelJobExecution: unknown execution',
    ...err(NOT_FOUND),
    sdk: (iot) => iot.send(new CancelJobExecutionCommand({ jobId: 'ghost', thingName: 'e-t1' })),
    cli: () => ['iot', 'cancel-job-execution', '--job-id', 'ghost', '--thing-name', 'e-t1'],
  },
  {
    name: 'CancelJobExecution: 11 statusDetails',
    ...err(INVALID),
    sdk: (iot) =>
      iot.send(new CancelJobExecutionCommand({ jobId: 'e-running', thingName: 'e-t2', statusDetails: elevenDetails })),
    cli: () => [
      'iot',
      'cancel-job-execution',
      '--job-id',
      'e-running',
      '--thing-name',
      'e-t2',
      '--status-details',
      json(elevenDetails),
    ],
  },
  {
    name: 'DeleteJobExecution: pending without force',
    ...err(TRANSITION),
    sdk: (iot) =>
      iot.send(new DeleteJobExecutionCommand({ jobId: 'e-running', thingName: 'e-t2', executionNumber: 1 })),
    cli: () => [
      'iot',
      'delete-job-execution',
      '--job-id',
      'e-running',
      '--thing-name',
      'e-t2',
      '--execution-number',
      '1',
    ],
  },
  {
    name: 'DeleteJobExecution: unknown execution number',
    ...err(NOT_FOUND),
    sdk: (iot) => iot.send(new DeleteJobExecutionCommand({ jobId: 'e-done', thingName: 'e-t3', executionNumber: 9 })),
    cli: () => ['iot', 'delete-job-execution', '--job-id', 'e-done', '--thing-name', 'e-t3', '--execution-number', '9'],
  },
  {
    name: 'CreateJobTemplate: duplicate id',
    error: 'ConflictException',
    status: 409,
    sdk: (iot) => iot.send(new CreateJobTemplateCommand({ jobTemplateId: 'e-tpl', description: 'd', document: DOC })),
    cli: () => ['iot', 'create-job-template', '--job-template-id', 'e-tpl', '--description', 'd', '--document', DOC],
  },
  {
    name: 'CreateJobTemplate: no document and no jobArn',
    ...err(INVALID),
    sdk: (iot) => iot.send(new CreateJobTemplateCommand({ jobTemplateId: 'never', description: 'd' })),
    cli: () => ['iot', 'create-job-template', '--job-template-id', 'never', '--description', 'd'],
  },
  {
    name: 'CreateJobTemplate: from an unknown job',
    ...err(NOT_FOUND),
    sdk: (iot, w) =>
      iot.send(new CreateJobTemplateCommand({ jobTemplateId: 'never', description: 'd', jobArn: w.job('ghost') })),
    cli: (w) => [
      'iot',
      'create-job-template',
      '--job-template-id',
      'never',
      '--description',
      'd',
      '--job-arn',
      w.job('ghost'),
    ],
  },
  {
    name: 'DescribeJobTemplate: unknown template',
    ...err(NOT_FOUND),
    sdk: (iot) => iot.send(new DescribeJobTemplateCommand({ jobTemplateId: 'ghost' })),
    cli: () => ['iot', 'describe-job-template', '--job-template-id', 'ghost'],
  },
  {
    name: 'DeleteJobTemplate: unknown template',
    ...err(NOT_FOUND),
    sdk: (iot) => iot.send(new DeleteJobTemplateCommand({ jobTemplateId: 'ghost' })),
    cli: () => ['iot', 'delete-job-template', '--job-template-id', 'ghost'],
  },
  {
    name: 'DescribeManagedJobTemplate: unknown template',
    ...err(NOT_FOUND),
    sdk: (iot) => iot.send(new DescribeManagedJobTemplateCommand({ templateName: 'AWS-Fly' })),
    cli: () => ['iot', 'describe-managed-job-template', '--template-name', 'AWS-Fly'],
  },
  {
    name: 'TagResource: unknown job',
    ...err(NOT_FOUND),
    sdk: (iot, w) =>
      iot.send(new TagResourceCommand({ resourceArn: w.job('ghost'), tags: [{ Key: 'a', Value: 'b' }] })),
    cli: (w) => ['iot', 'tag-resource', '--resource-arn', w.job('ghost'), '--tags', 'Key=a,Value=b'],
  },
];

function err(pair: readonly [string, number]): { error: string; status: number } {
  return { error: pair[0], status: pair[1] };
}
