import type { ServiceContext } from '../context.js';
import { ServiceError } from '../errors.js';
import * as thingsRepo from '../registry/things.repository.js';
import { emitExecutionEvent } from '../scheduler/job-events.js';
import type { Executor } from '../store/database.js';
import { thingJobsChanged } from '../store/outbox.js';
import { decodeToken, toPage } from '../store/pagination.js';
import { NAME_RULE, validate } from '../validation.js';
import {
  checkStatusDetails,
  coerceDetails,
  executionNotFound,
  illegalTransition,
  versionMismatch,
} from './device-jobs.schemas.js';
import { EXECUTION_STATUSES, isPending, type ExecutionStatus } from './execution-states.js';
import { applyTransition } from './execution-transitions.js';
import * as executions from './executions.repository.js';
import { executionShape, executionSummaryShape } from './job-render.js';
import * as jobs from './jobs.repository.js';
import { checkJobId, checkNamespace, pageInput } from './jobs.schemas.js';
import { jobNotFound } from './jobs.service.js';

/** The control-plane view of executions (spec 2.1, 2.3, 2.7). */
export class JobExecutionsService {
  constructor(private readonly ctx: ServiceContext) {}

  private now(): number {
    return this.ctx.clock.now().getTime();
  }

  async describeJobExecution(input: { jobId: string; thingName: string; executionNumber?: number }) {
    validate((v) => {
      checkJobId(v, input.jobId);
      if (v.required('thingName', input.thingName)) v.string('thingName', input.thingName, NAME_RULE);
      v.number('executionNumber', input.executionNumber, { integer: true, min: 0 });
    });
    const row = await executions.findExecution(this.ctx.db, input.jobId, input.thingName, input.executionNumber);
    if (!row) throw executionNotFound(input.jobId, input.thingName, input.executionNumber);
    return { execution: executionShape(row, this.ctx.arns, this.now()) };
  }

  async listJobExecutionsForJob(input: { jobId: string; status?: string; maxResults?: number; nextToken?: string }) {
    validate((v) => {
      checkJobId(v, input.jobId);
      v.string('status', input.status, { enum: EXECUTION_STATUSES });
    });
    const limit = pageInput(input);
    const token = decodeToken(input.nextToken, 2);
    if (!(await jobs.findJob(this.ctx.db, input.jobId))) throw jobNotFound(input.jobId);
    const rows = await executions.listOfJob(this.ctx.db, input.jobId, {
      status: input.status as ExecutionStatus | undefined,
      after: token && [String(token[0]), Number(token[1])],
      limit,
    });
    const page = toPage(rows, limit, (r) => [r.thing_name, r.execution_number]);
    return {
      executionSummaries: page.items.map((r) => ({
        thingArn: this.ctx.arns.thing(r.thing_name),
        jobExecutionSummary: executionSummaryShape(r),
      })),
      ...(page.nextToken !== undefined && { nextToken: page.nextToken }),
    };
  }

  async listJobExecutionsForThing(input: {
    thingName: string;
    status?: string;
    namespaceId?: string;
    jobId?: string;
    maxResults?: number;
    nextToken?: string;
  }) {
    validate((v) => {
      if (v.required('thingName', input.thingName)) v.string('thingName', input.thingName, NAME_RULE);
      v.string('status', input.status, { enum: EXECUTION_STATUSES });
      checkNamespace(v, input.namespaceId);
      if (input.jobId !== undefined) checkJobId(v, input.jobId);
    });
    const limit = pageInput(input);
    const token = decodeToken(input.nextToken, 1);
    if (!(await thingsRepo.findThing(this.ctx.db, input.thingName))) {
      throw new ServiceError('ResourceNotFound', `Thing ${input.thingName} cannot be found.`);
    }
    const rows = await executions.listOfThing(this.ctx.db, input.thingName, {
      status: input.status as ExecutionStatus | undefined,
      namespaceId: input.namespaceId,
      jobId: input.jobId,
      before: token && Number(token[0]),
      limit,
    });
    const page = toPage(rows, limit, (r) => [r.id]);
    return {
      executionSummaries: page.items.map((r) => ({ jobId: r.job_id, jobExecutionSummary: executionSummaryShape(r) })),
      ...(page.nextToken !== undefined && { nextToken: page.nextToken }),
    };
  }

  /** spec 2.7: QUEUED -> CANCELED; IN_PROGRESS only with force; terminal is refused. */
  async cancelJobExecution(input: {
    jobId: string;
    thingName: string;
    force?: boolean;
    expectedVersion?: number;
    statusDetails?: Record<string, string>;
  }): Promise<void> {
    const statusDetails = coerceDetails(input.statusDetails) as Record<string, string> | undefined;
    validate((v) => {
      checkJobId(v, input.jobId);
      if (v.required('thingName', input.thingName)) v.string('thingName', input.thingName, NAME_RULE);
      v.boolean('force', input.force);
      v.number('expectedVersion', input.expectedVersion, { integer: true, min: 0 });
      checkStatusDetails(v, statusDetails);
    });
    const cause = input.force === true ? 'force-cancel' : 'cancel';
    await this.ctx.db.transaction().execute(async (trx) => {
      const row = await this.lockLatest(trx, input.jobId, input.thingName);
      if (input.expectedVersion !== undefined && input.expectedVersion !== row.version_number) {
        throw versionMismatch(row, input.expectedVersion);
      }
      if (row.status === 'IN_PROGRESS' && cause === 'cancel') {
        throw new ServiceError(
          'InvalidStateTransition',
          `The job execution of ${row.job_id} on ${row.thing_name} is IN_PROGRESS; cancel it with force=true.`,
        );
      }
      if (!isPending(row.status)) throw illegalTransition(row, 'CANCELED');
      const done = await applyTransition(trx, row, {
        cause,
        to: 'CANCELED',
        now: this.now(),
        changes: {
          ...(row.status === 'IN_PROGRESS' && { force_canceled: 1 }),
          // spec 2.7: omitted details are kept.
          ...(statusDetails !== undefined && {
            status_details: Object.keys(statusDetails).length > 0 ? JSON.stringify(statusDetails) : null,
          }),
        },
      });
      if (!done) throw versionMismatch((await executions.findById(trx, row.id)) ?? row, row.version_number);
    });
  }

  private async lockLatest(trx: Executor, jobId: string, thingName: string, executionNumber?: number) {
    const job = await jobs.lockJob(trx, this.ctx.dialect, jobId);
    const row = job && (await executions.findExecution(trx, jobId, thingName, executionNumber));
    if (!row) throw executionNotFound(jobId, thingName, executionNumber);
    return row;
  }

  /** spec 2.7: terminal executions, or any with force; the number may be reused afterwards. */
  async deleteJobExecution(input: {
    jobId: string;
    thingName: string;
    executionNumber: number;
    force?: boolean;
    namespaceId?: string;
  }): Promise<void> {
    validate((v) => {
      checkJobId(v, input.jobId);
      if (v.required('thingName', input.thingName)) v.string('thingName', input.thingName, NAME_RULE);
      if (v.required('executionNumber', input.executionNumber)) {
        v.number('executionNumber', input.executionNumber, { integer: true, min: 0 });
      }
      v.boolean('force', input.force);
      checkNamespace(v, input.namespaceId);
    });
    await this.ctx.db.transaction().execute(async (trx) => {
      const row = await this.lockLatest(trx, input.jobId, input.thingName, input.executionNumber);
      const pending = isPending(row.status);
      if (pending && input.force !== true) {
        throw new ServiceError(
          'InvalidStateTransition',
          `The job execution of ${row.job_id} on ${row.thing_name} is ${row.status}; only terminal executions can be deleted without force.`,
        );
      }
      const now = this.now();
      const latest = await executions.findExecution(trx, row.job_id, row.thing_name);
      await executions.deleteExecutionRow(trx, row.id);
      // spec 3.6: deleted executions no longer count. Counters count things by their latest
      // execution (issue 15): deleting an older attempt changes nothing; deleting the latest one
      // leaves its thing counted by the attempt before it, if any.
      if (latest?.id === row.id) {
        const previous = await executions.findExecution(trx, row.job_id, row.thing_name);
        const deltas: Partial<Record<ExecutionStatus, number>> = { [row.status]: -1 };
        if (previous) deltas[previous.status] = (deltas[previous.status] ?? 0) + 1;
        await jobs.addToCounters(trx, row.job_id, deltas);
      }
      // spec 5.9: a `deleted` event with the status before deletion (if the device ever saw it).
      if (row.released_at !== null) await emitExecutionEvent(trx, row.job_id, row, 'deleted', now);
      if (pending) {
        await jobs.completeIfDone(trx, row.job_id, now);
        await thingJobsChanged(trx, [row.thing_name], row.namespace_id, now);
      }
    });
  }
}
