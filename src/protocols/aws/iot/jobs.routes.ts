import { ServiceError } from '../../../errors.js';
import type { JobExecutionsService } from '../../../jobs/job-executions.service.js';
import type { JobLifecycleService } from '../../../jobs/job-lifecycle.service.js';
import type { JobTemplatesService } from '../../../jobs/job-templates.service.js';
import type { JobsService } from '../../../jobs/jobs.service.js';
import type { RestJsonAdapter } from '../adapter.js';
import type { AwsRequest } from '../request.js';

// Bodies are passed through as the service's input type: the services check every member's type.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const body = (req: AwsRequest): any => req.body ?? {};

export interface JobRouteDeps {
  jobs: JobsService;
  jobLifecycle: JobLifecycleService;
  jobExecutions: JobExecutionsService;
  jobTemplates: JobTemplatesService;
}

function executionNumberLabel(raw: string | undefined): number {
  if (raw === undefined || !/^\d{1,15}$/.test(raw)) {
    throw new ServiceError('InvalidRequest', `The execution number in the path must be a whole number, got '${raw}'.`);
  }
  return Number(raw);
}

/** spec 2.1 / 2.3: the jobs and job-template routes of the iot control plane. */
export function registerJobRoutes(api: RestJsonAdapter, s: JobRouteDeps): void {
  api
    .add('PUT', '/jobs/{jobId}', 'CreateJob', (r) => s.jobs.createJob({ ...body(r), jobId: r.params.jobId! }))
    .add('PATCH', '/jobs/{jobId}', 'UpdateJob', (r) =>
      s.jobs.updateJob({ ...body(r), jobId: r.params.jobId!, namespaceId: r.query.string('namespaceId') }),
    )
    .add('PUT', '/jobs/{jobId}/cancel', 'CancelJob', (r) =>
      s.jobLifecycle.cancelJob({ ...body(r), jobId: r.params.jobId!, force: r.query.bool('force') }),
    )
    .add('DELETE', '/jobs/{jobId}', 'DeleteJob', (r) =>
      s.jobLifecycle.deleteJob({
        jobId: r.params.jobId!,
        force: r.query.bool('force'),
        namespaceId: r.query.string('namespaceId'),
      }),
    )
    .add('GET', '/jobs/{jobId}', 'DescribeJob', (r) =>
      s.jobs.describeJob(r.params.jobId!, r.query.bool('beforeSubstitution')),
    )
    .add('GET', '/jobs/{jobId}/job-document', 'GetJobDocument', (r) =>
      s.jobs.getJobDocument(r.params.jobId!, r.query.bool('beforeSubstitution')),
    )
    .add('GET', '/jobs', 'ListJobs', (r) =>
      s.jobs.listJobs({
        status: r.query.string('status'),
        targetSelection: r.query.string('targetSelection'),
        maxResults: r.query.int('maxResults'),
        nextToken: r.query.string('nextToken'),
        thingGroupName: r.query.string('thingGroupName'),
        thingGroupId: r.query.string('thingGroupId'),
        namespaceId: r.query.string('namespaceId'),
      }),
    )
    .add('POST', '/jobs/{jobId}/targets', 'AssociateTargetsWithJob', (r) =>
      s.jobs.associateTargetsWithJob({
        ...body(r),
        jobId: r.params.jobId!,
        namespaceId: r.query.string('namespaceId'),
      }),
    )
    .add('GET', '/things/{thingName}/jobs/{jobId}', 'DescribeJobExecution', (r) =>
      s.jobExecutions.describeJobExecution({
        jobId: r.params.jobId!,
        thingName: r.params.thingName!,
        executionNumber: r.query.int('executionNumber'),
      }),
    )
    .add('GET', '/jobs/{jobId}/things', 'ListJobExecutionsForJob', (r) =>
      s.jobExecutions.listJobExecutionsForJob({
        jobId: r.params.jobId!,
        status: r.query.string('status'),
        maxResults: r.query.int('maxResults'),
        nextToken: r.query.string('nextToken'),
      }),
    )
    .add('GET', '/things/{thingName}/jobs', 'ListJobExecutionsForThing', (r) =>
      s.jobExecutions.listJobExecutionsForThing({
        thingName: r.params.thingName!,
        status: r.query.string('status'),
        namespaceId: r.query.string('namespaceId'),
        jobId: r.query.string('jobId'),
        maxResults: r.query.int('maxResults'),
        nextToken: r.query.string('nextToken'),
      }),
    )
    .add('PUT', '/things/{thingName}/jobs/{jobId}/cancel', 'CancelJobExecution', (r) =>
      s.jobExecutions.cancelJobExecution({
        ...body(r),
        jobId: r.params.jobId!,
        thingName: r.params.thingName!,
        force: r.query.bool('force'),
      }),
    )
    .add('DELETE', '/things/{thingName}/jobs/{jobId}/executionNumber/{executionNumber}', 'DeleteJobExecution', (r) =>
      s.jobExecutions.deleteJobExecution({
        jobId: r.params.jobId!,
        thingName: r.params.thingName!,
        executionNumber: executionNumberLabel(r.params.executionNumber),
        force: r.query.bool('force'),
        namespaceId: r.query.string('namespaceId'),
      }),
    )
    .add('PUT', '/job-templates/{jobTemplateId}', 'CreateJobTemplate', (r) =>
      s.jobTemplates.createJobTemplate({ ...body(r), jobTemplateId: r.params.jobTemplateId! }),
    )
    .add('GET', '/job-templates/{jobTemplateId}', 'DescribeJobTemplate', (r) =>
      s.jobTemplates.describeJobTemplate(r.params.jobTemplateId!),
    )
    .add('GET', '/job-templates', 'ListJobTemplates', (r) =>
      s.jobTemplates.listJobTemplates({
        maxResults: r.query.int('maxResults'),
        nextToken: r.query.string('nextToken'),
      }),
    )
    .add('DELETE', '/job-templates/{jobTemplateId}', 'DeleteJobTemplate', (r) =>
      s.jobTemplates.deleteJobTemplate(r.params.jobTemplateId!),
    )
    .add('GET', '/managed-job-templates/{templateName}', 'DescribeManagedJobTemplate', (r) =>
      s.jobTemplates.describeManagedJobTemplate(r.params.templateName!, r.query.string('templateVersion')),
    )
    .add('GET', '/managed-job-templates', 'ListManagedJobTemplates', (r) =>
      s.jobTemplates.listManagedJobTemplates({
        templateName: r.query.string('templateName'),
        maxResults: r.query.int('maxResults'),
        nextToken: r.query.string('nextToken'),
      }),
    );
}
