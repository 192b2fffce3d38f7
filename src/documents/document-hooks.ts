import type { ServiceContext } from '../context.js';
import type { IamServices } from '../iam/iam.services.js';
import type { DeviceJobsService } from '../jobs/device-jobs.service.js';
import { findTemplate } from '../jobs/job-templates.repository.js';
import type { JobRow } from '../jobs/jobs.repository.js';
import type { CreateJobInput } from '../jobs/jobs.schemas.js';
import type { JobsService } from '../jobs/jobs.service.js';
import type { ObjectServices } from '../objects/objects.services.js';
import { documentSourceReader } from './document-source.js';
import { PresignedUrls, type PresignedUrlSettings } from './presigned-urls.js';

export interface DocumentHookDeps {
  iam: IamServices;
  objects: ObjectServices;
  jobs: JobsService;
  deviceJobs: DeviceJobsService;
  deviceHttpsUrl: () => string | undefined;
}

const parse = (text: string | null | undefined): PresignedUrlSettings | undefined =>
  text ? (JSON.parse(text) as PresignedUrlSettings) : undefined;

/**
 * Plugs the documents feature into the jobs feature's hooks (issue 6, items 4 and 5):
 * documentSource reading, the CreateJob presigned-URL check and delivery-time rendering.
 */
export function installDocumentHooks(ctx: ServiceContext, deps: DocumentHookDeps): PresignedUrls {
  const presigned = new PresignedUrls({
    iam: deps.iam,
    arns: ctx.arns,
    clock: ctx.clock,
    deviceHttpsUrl: deps.deviceHttpsUrl,
  });
  deps.jobs.fetchDocumentSource = documentSourceReader(deps.objects);
  deps.jobs.documentPreprocessors.push(async (document: string, input: CreateJobInput) => {
    await presigned.checkForCreate(document, input.jobId, await effectiveConfig(ctx, input));
    return document;
  });
  deps.deviceJobs.renderDocumentForDevice = (job: JobRow) =>
    presigned.render({
      jobId: job.job_id,
      document: job.document,
      presignedUrlConfig: parse(job.presigned_url_config),
    });
  return presigned;
}

/** CreateJob's own presignedUrlConfig, else the one its custom template supplies (spec 3.3). */
async function effectiveConfig(ctx: ServiceContext, input: CreateJobInput): Promise<PresignedUrlSettings | undefined> {
  if (input.presignedUrlConfig) return input.presignedUrlConfig;
  const arn = input.jobTemplateArn;
  const parsed = arn ? ctx.arns.parseIot(arn) : undefined;
  if (!parsed || parsed.resource !== 'jobtemplate') return undefined;
  return parse((await findTemplate(ctx.db, parsed.id))?.presigned_url_config);
}

/** https://host:port of the device HTTPS listener, as devices reach it (DescribeEndpoint's host). */
export function deviceHttpsBaseUrl(endpoint: { host: string; port: number } | undefined): string | undefined {
  if (!endpoint) return undefined;
  const host = endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host;
  return endpoint.port === 443 ? `https://${host}` : `https://${host}:${endpoint.port}`;
}
