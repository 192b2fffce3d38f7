import type { ServiceContext } from '../context.js';
import type { RegistryHookList } from '../registry/registry.hooks.js';
import type { TagsService } from '../tags/tags.service.js';
import { DeviceJobsService } from './device-jobs.service.js';
import { JobDeletions } from './job-deletions.js';
import { JobExecutionsService } from './job-executions.service.js';
import { JobLifecycleService } from './job-lifecycle.service.js';
import * as templates from './job-templates.repository.js';
import { JobTemplatesService } from './job-templates.service.js';
import { JobsRegistryHooks } from './jobs.hooks.js';
import * as jobs from './jobs.repository.js';
import { JobsService } from './jobs.service.js';

export interface JobServices {
  jobs: JobsService;
  jobLifecycle: JobLifecycleService;
  jobExecutions: JobExecutionsService;
  jobTemplates: JobTemplatesService;
  deviceJobs: DeviceJobsService;
  jobDeletions: JobDeletions;
}

/** The jobs feature: its services, its tag resource types and its registry hooks. */
export function createJobServices(
  ctx: ServiceContext,
  tags: TagsService,
  registryHooks: RegistryHookList,
): JobServices {
  tags.registerResourceType('job', async (db, id) => {
    const job = await jobs.findJob(db, id);
    return job !== undefined && job.status !== 'DELETION_IN_PROGRESS';
  });
  tags.registerResourceType('jobtemplate', async (db, id) => (await templates.findTemplate(db, id)) !== undefined);
  registryHooks.add(new JobsRegistryHooks(ctx));
  const jobDeletions = new JobDeletions(ctx, tags);
  return {
    jobs: new JobsService(ctx, tags),
    jobLifecycle: new JobLifecycleService(ctx, jobDeletions),
    jobExecutions: new JobExecutionsService(ctx),
    jobTemplates: new JobTemplatesService(ctx, tags),
    deviceJobs: new DeviceJobsService(ctx),
    jobDeletions,
  };
}
