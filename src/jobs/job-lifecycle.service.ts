import { sql } from 'kysely';
import type { ServiceContext } from '../context.js';
import { ServiceError } from '../errors.js';
import { emitExecutionEventsOfJob, emitJobEvent } from '../scheduler/job-events.js';
import type { Executor } from '../store/database.js';
import { DESCRIPTION_RULE, PATTERNS, validate } from '../validation.js';
import { PENDING_STATUSES, sourcesOf, type ExecutionStatus } from './execution-states.js';
import * as executions from './executions.repository.js';
import type { JobDeletions } from './job-deletions.js';
import { jobSourcesOf, jobTargetOf } from './job-states.js';
import * as jobs from './jobs.repository.js';
import type { JobRow } from './jobs.repository.js';
import { checkJobId, checkNamespace, JOB_LIMITS } from './jobs.schemas.js';
import { jobNotFound } from './jobs.service.js';
import { announceThingsInStatus } from './targets.js';

/** CancelJob and DeleteJob (spec 2.7, 3.11, 4.5). */
export class JobLifecycleService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly deletions: JobDeletions,
  ) {}

  private async lock(trx: Executor, jobId: string): Promise<JobRow> {
    const job = await jobs.lockJob(trx, this.ctx.dialect, jobId);
    if (!job) throw jobNotFound(jobId);
    return job;
  }

  async cancelJob(input: { jobId: string; force?: boolean; reasonCode?: string; comment?: string }) {
    validate((v) => {
      checkJobId(v, input.jobId);
      v.boolean('force', input.force);
      v.string('reasonCode', input.reasonCode, { max: 128, pattern: PATTERNS.reasonCode });
      v.string('comment', input.comment, DESCRIPTION_RULE);
    });
    const force = input.force === true;
    const job = await this.ctx.db.transaction().execute(async (trx) => {
      const job = await this.lock(trx, input.jobId);
      const event = force ? 'force-cancel' : 'cancel';
      if (job.status === 'CANCELED' && !force) return job; // already done; CancelJob is idempotent
      if (jobTargetOf(event, job.status) === undefined) {
        throw new ServiceError('InvalidRequest', `Job ${job.job_id} is ${job.status} and cannot be canceled.`);
      }
      const opts = { force, reasonCode: input.reasonCode, comment: input.comment };
      await this.cancelLocked(trx, job, opts, this.ctx.clock.now().getTime());
      return job;
    });
    return {
      jobArn: this.ctx.arns.job(job.job_id),
      jobId: job.job_id,
      ...(job.description !== null && { description: job.description }),
    };
  }

  /**
   * CancelJob's effect on a job the caller has locked in `trx` and checked may be canceled; the
   * rollout engine's abort criteria and endBehavior use it too (src/scheduler).
   */
  async cancelLocked(
    trx: Executor,
    job: JobRow,
    opts: { force: boolean; reasonCode?: string; comment?: string },
    now: number,
  ): Promise<void> {
    const event = opts.force ? 'force-cancel' : 'cancel';
    await jobs.setJobStatus(trx, job.job_id, jobSourcesOf(event), 'CANCELED', {
      force_canceled: opts.force || job.force_canceled === 1 ? 1 : 0,
      ...(opts.reasonCode !== undefined && { reason_code: opts.reasonCode }),
      ...(opts.comment !== undefined && { comment: opts.comment }),
      last_updated_at: now,
      completed_at: job.completed_at ?? now,
    });
    // spec 5.9: cancellation_in_progress, the executions' canceled events, then canceled.
    await emitJobEvent(trx, job.job_id, 'cancellation_in_progress', now);
    // spec 2.7: QUEUED executions are canceled; IN_PROGRESS ones only with force.
    await this.cancelExecutions(trx, job, 'QUEUED', now);
    if (opts.force) await this.cancelExecutions(trx, job, 'IN_PROGRESS', now);
    await emitJobEvent(trx, job.job_id, 'canceled', now);
  }

  private async cancelExecutions(trx: Executor, job: JobRow, from: ExecutionStatus, now: number): Promise<void> {
    const cause = from === 'IN_PROGRESS' ? 'force-cancel' : 'cancel';
    if (!sourcesOf(cause, 'CANCELED').includes(from)) return;
    await announceThingsInStatus(trx, job, [from], now);
    await emitExecutionEventsOfJob(
      trx,
      job.job_id,
      [from],
      () => 'canceled',
      () => 'CANCELED',
      now,
    );
    const n = await executions.bulkTransition(trx, job.job_id, from, 'CANCELED', now, {
      ...(from === 'IN_PROGRESS' && { force_canceled: 1 }),
    });
    await jobs.addToCounters(trx, job.job_id, { [from]: -n, CANCELED: n });
  }

  async deleteJob(input: { jobId: string; force?: boolean; namespaceId?: string }): Promise<void> {
    validate((v) => {
      checkJobId(v, input.jobId);
      v.boolean('force', input.force);
      checkNamespace(v, input.namespaceId);
    });
    const force = input.force === true;
    await this.ctx.db.transaction().execute(async (trx) => {
      const job = await this.lock(trx, input.jobId);
      if (job.status === 'DELETION_IN_PROGRESS') {
        throw new ServiceError('InvalidStateTransition', `Job ${job.job_id} is already being deleted.`);
      }
      if (jobTargetOf(force ? 'force-delete' : 'delete', job.status) === undefined) {
        throw new ServiceError(
          'InvalidStateTransition',
          `Job ${job.job_id} is ${job.status}; without force only COMPLETED or CANCELED jobs can be deleted.`,
        );
      }
      if (this.ctx.dialect === 'postgres') {
        // Serializes the count below across concurrent DeleteJobs.
        await sql`select pg_advisory_xact_lock(hashtext('fleetjobs.job-deletions'))`.execute(trx);
      }
      if ((await jobs.countJobsInStatus(trx, 'DELETION_IN_PROGRESS')) >= JOB_LIMITS.maxDeleting) {
        throw new ServiceError(
          'LimitExceeded',
          `At most ${JOB_LIMITS.maxDeleting} jobs can be deleted at once; try again when a deletion has finished.`,
        );
      }
      const now = this.ctx.clock.now().getTime();
      await jobs.setJobStatus(trx, job.job_id, [job.status], 'DELETION_IN_PROGRESS', { last_updated_at: now });
      await emitJobEvent(trx, job.job_id, 'deletion_in_progress', now);
      // Devices stop seeing the job at once; the rest of its executions are purged in the background.
      await announceThingsInStatus(trx, job, PENDING_STATUSES, now);
      await emitExecutionEventsOfJob(
        trx,
        job.job_id,
        PENDING_STATUSES,
        () => 'deleted',
        (s) => s,
        now,
      );
      await executions.deleteExecutionsOfJob(trx, job.job_id, PENDING_STATUSES);
    });
    this.deletions.schedule(input.jobId);
  }
}
