import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { CreateJobInput } from '../../jobs/jobs.schemas.js';
import { json, type ConsoleDeps } from '../console-app.js';
import { jsonBody, nonEmpty, optionalBool, optionalInt, query } from '../http.js';
import { registerJobEvents } from './job-events.js';
import { registerJobHistory } from './job-history.js';

type Params = Record<string, string>;
const params = (request: FastifyRequest): Params => request.params as Params;

/** How many ListJobs pages one search request reads before it hands back a token to go on. */
export const SEARCH_PAGES_PER_REQUEST = 20;

/** Jobs and their executions: each route maps to jobs service calls (no rule of its own). */
export function registerJobsRoutes(api: FastifyInstance, deps: ConsoleDeps): void {
  const { jobs, jobLifecycle, jobExecutions, deviceJobs } = deps.services;

  /** The list with each job's counters (ListJobs summaries have none), and an id search. */
  api.get(
    '/jobs',
    json(async (request) => {
      const q = query(request);
      const filter = {
        status: nonEmpty(q.status),
        targetSelection: nonEmpty(q.targetSelection),
        thingGroupName: nonEmpty(q.thingGroupName),
        maxResults: optionalInt(q.maxResults, 'maxResults'),
      };
      const search = nonEmpty(q.search)?.toLowerCase();
      let nextToken = nonEmpty(q.nextToken);
      const found = [];
      for (let pages = 0; pages < (search ? SEARCH_PAGES_PER_REQUEST : 1); pages++) {
        const page = await jobs.listJobs({ ...filter, ...(search && { maxResults: 250 }), nextToken });
        found.push(...page.jobs.filter((j) => !search || j.jobId.toLowerCase().includes(search)));
        nextToken = page.nextToken;
        if (!nextToken || found.length >= (filter.maxResults ?? 50)) break;
      }
      const withCounters = await Promise.all(
        found.map(async (summary) => {
          const { job } = await jobs.describeJob(summary.jobId).catch(() => ({ job: undefined }));
          return {
            ...summary,
            ...(job && {
              description: job.description,
              jobProcessDetails: job.jobProcessDetails,
              ...('attemptDetails' in job && { attemptDetails: job.attemptDetails }),
            }),
          };
        }),
      );
      return { jobs: withCounters, ...(nextToken !== undefined && { nextToken }) };
    }),
  );
  api.post(
    '/jobs',
    json(async (request) => jobs.createJob((await jsonBody(request)) as unknown as CreateJobInput)),
  );
  api.get(
    '/jobs/:jobId',
    json(async (request) => jobs.describeJob(params(request).jobId!)),
  );
  api.get(
    '/jobs/:jobId/document',
    json(async (request) =>
      jobs.getJobDocument(params(request).jobId!, optionalBool(query(request).beforeSubstitution)),
    ),
  );
  api.post(
    '/jobs/:jobId/cancel',
    json(async (request) => {
      const body = await jsonBody(request);
      return jobLifecycle.cancelJob({
        jobId: params(request).jobId!,
        force: body.force as boolean | undefined,
        reasonCode: body.reasonCode as string | undefined,
        comment: body.comment as string | undefined,
      });
    }),
  );
  api.delete(
    '/jobs/:jobId',
    json(async (request) => {
      await jobLifecycle.deleteJob({ jobId: params(request).jobId!, force: optionalBool(query(request).force) });
      return {};
    }),
  );
  api.get(
    '/jobs/:jobId/executions',
    json(async (request) => {
      const q = query(request);
      const jobId = params(request).jobId!;
      const page = await jobExecutions.listJobExecutionsForJob({
        jobId,
        status: nonEmpty(q.status),
        maxResults: optionalInt(q.maxResults, 'maxResults'),
        nextToken: nonEmpty(q.nextToken),
      });
      // The reason column: the device's statusDetails.reason (summaries carry no status details).
      const executionSummaries = await Promise.all(
        page.executionSummaries.map(async (e) => {
          const { execution } = await jobExecutions
            .describeJobExecution({
              jobId,
              thingName: e.thingArn.slice(e.thingArn.indexOf('/') + 1),
              executionNumber: e.jobExecutionSummary.executionNumber,
            })
            .catch(() => ({ execution: undefined }));
          const reason = execution?.statusDetails?.detailsMap?.reason;
          return reason === undefined ? e : { ...e, reason };
        }),
      );
      return { ...page, executionSummaries };
    }),
  );
  api.get(
    '/jobs/:jobId/executions/:thingName',
    json(async (request) => {
      const { jobId, thingName } = params(request);
      const executionNumber = optionalInt(query(request).executionNumber, 'executionNumber');
      return jobExecutions.describeJobExecution({ jobId: jobId!, thingName: thingName!, executionNumber });
    }),
  );
  /** The document exactly as this thing's device gets it (placeholders rendered by the device plane). */
  api.get(
    '/jobs/:jobId/executions/:thingName/device-document',
    json(async (request) => {
      const { jobId, thingName } = params(request);
      const { execution } = await deviceJobs.describeJobExecution(thingName!, jobId!, { includeJobDocument: true });
      return { thingName, jobId, jobDocument: execution?.jobDocument };
    }),
  );
  api.get(
    '/things/:thingName/jobs',
    json(async (request) => {
      const q = query(request);
      return jobExecutions.listJobExecutionsForThing({
        thingName: params(request).thingName!,
        status: nonEmpty(q.status),
        maxResults: optionalInt(q.maxResults, 'maxResults'),
        nextToken: nonEmpty(q.nextToken),
      });
    }),
  );
  registerJobEvents(api, deps);
  registerJobHistory(api, deps);
}
