import type { ServiceContext } from '../context.js';
import type { JobServices } from '../jobs/job-services.js';
import { describeRollout, summarizeRollouts } from './describe-extension.js';
import { EventConfigurationsService } from './event-configurations.service.js';
import { rolloutActionHandler } from './rollout-controls.js';
import { Scheduler } from './scheduler.js';

export interface SchedulerServices {
  scheduler: Scheduler;
  eventConfigurations: EventConfigurationsService;
}

/** The rollout engine (issue 5): the scheduler, event configuration, and DescribeJob's rollout fields. */
export function createSchedulerServices(
  ctx: ServiceContext,
  jobServices: Pick<JobServices, 'jobs' | 'jobLifecycle'>,
  options: { maxConcurrentJobs?: number } = {},
): SchedulerServices {
  const scheduler = new Scheduler(
    ctx,
    {
      startScheduledJob: (jobId, now) => jobServices.jobs.startScheduledJob(jobId, now),
      cancelLocked: (trx, job, opts, now) => jobServices.jobLifecycle.cancelLocked(trx, job, opts, now),
    },
    options.maxConcurrentJobs,
  );
  jobServices.jobs.describeExtensions.push((db, job) => describeRollout(db, job, ctx.clock.now().getTime()));
  jobServices.jobs.summaryExtensions.push(summarizeRollouts);
  jobServices.jobs.updateExtensions.push(rolloutActionHandler(ctx));
  return { scheduler, eventConfigurations: new EventConfigurationsService(ctx) };
}
