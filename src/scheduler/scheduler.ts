import type { ServiceContext } from '../context.js';
import { newUuid } from '../ids.js';
import * as jobs from '../jobs/jobs.repository.js';
import { jobsWithDeltas } from '../jobs/job-counters.js';
import { planOf } from './job-plan.js';
import { RolloutStep, type JobControls, type StepOutcome } from './rollout-engine.js';
import * as repo from './rollout.repository.js';
import { timeOutDue } from './timeouts.js';
import { startTickTimer } from '../tick-timer.js';

/** How long one replica holds a job (in tick time) before another may take it over. */
const LEASE_MS = 60_000;
/** A tick gives one job at most this many release batches, so one huge job cannot starve the rest. */
const MAX_BATCHES_PER_JOB = 20;
/** Jobs whose counter deltas one tick folds (the rest wait for the next tick). */
const FOLD_JOBS_PER_TICK = 100;
/**
 * The job concurrency limit (AWS "job-limits": jobs rolling out new executions). AWS's default
 * quota is not in the spec; ours is high enough never to stand in a self-hosted fleet's way and
 * is a safety valve rather than a quota. Only scheduled jobs meet it (below).
 */
export const DEFAULT_MAX_CONCURRENT_JOBS = 1000;
export const CONCURRENCY_REASON_CODE = 'JOB_CONCURRENCY_LIMIT_REACHED';

export interface TickResult {
  started: string[];
  /** Scheduled jobs canceled at their startTime because the job concurrency limit was reached. */
  canceledAtStart: string[];
  released: number;
  aborted: string[];
  ended: string[];
  paused: string[];
  timedOut: number;
  /** Jobs another replica held. */
  skipped: string[];
}

/**
 * The rollout engine's clock-driven half (DESIGN.md rule 4): a deterministic `tick(now)` that
 * starts scheduled jobs, applies abort criteria and end times, releases executions at the rollout
 * rate in maintenance windows and staged waves, and times out executions. Every piece of work is
 * claimed through the database (a per-job lease, then compare-and-set under the job lock), so
 * several replicas on one PostgreSQL may tick at once. `start()` runs it on a timer.
 */
export class Scheduler {
  readonly owner = newUuid();
  private readonly step: RolloutStep;
  private chain: Promise<unknown> = Promise.resolve();
  private stopTimer: (() => void) | undefined;
  /** Jobs whose unreadable maintenance windows were already logged (CreateJob refuses new ones). */
  private readonly warned = new Set<string>();

  constructor(
    private readonly ctx: ServiceContext,
    private readonly controls: JobControls,
    private readonly maxConcurrentJobs = DEFAULT_MAX_CONCURRENT_JOBS,
  ) {
    this.step = new RolloutStep(ctx, controls);
  }

  /** One pass at `now`. Ticks of one instance run one after another (a timer tick and a test's tick never overlap). */
  tick(now: number): Promise<TickResult> {
    const run = this.chain.then(() => this.runTick(now));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async runTick(now: number): Promise<TickResult> {
    const result: TickResult = {
      started: [],
      canceledAtStart: [],
      released: 0,
      aborted: [],
      ended: [],
      paused: [],
      timedOut: 0,
      skipped: [],
    };
    for (const job of await repo.candidateJobs(this.ctx.db)) {
      try {
        await this.tickJob(job.job_id, now, result);
      } catch (err) {
        this.ctx.logger.error({ err, jobId: job.job_id }, 'scheduler: job step failed; retried at the next tick');
      }
    }
    result.timedOut = await timeOutDue(this.ctx, now);
    await this.foldCounters(now);
    return result;
  }

  /**
   * Issue 17: folds the counter deltas device transitions append on PostgreSQL into their job
   * rows, and completes a job whose last device transition committed but whose process died
   * before its after-commit completion check (DeviceJobsService.completeIfDone).
   */
  private async foldCounters(now: number): Promise<void> {
    for (const jobId of await jobsWithDeltas(this.ctx.db, FOLD_JOBS_PER_TICK)) {
      await this.ctx.db.transaction().execute(async (trx) => {
        if (await jobs.lockJob(trx, this.ctx.dialect, jobId)) await jobs.completeIfDone(trx, jobId, now);
      });
    }
  }

  private async tickJob(jobId: string, now: number, result: TickResult): Promise<void> {
    await repo.ensureState(this.ctx.db, jobId, now);
    if (!(await repo.lease(this.ctx.db, jobId, this.owner, now, now + LEASE_MS))) {
      result.skipped.push(jobId);
      return;
    }
    try {
      const job = await jobs.findJob(this.ctx.db, jobId);
      if (!job) return;
      const plan = planOf(job);
      if (plan.badWindows.length > 0 && !this.warned.has(jobId)) {
        this.warned.add(jobId);
        this.ctx.logger.warn({ jobId, windows: plan.badWindows }, 'maintenance windows that cannot be read never open');
      }
      if (job.status === 'SCHEDULED') {
        // spec 3.9: nothing is released before startTime; then the job rolls out.
        if (plan.startAt === undefined || plan.startAt > now) return;
        if (await this.cancelAtConcurrencyLimit(jobId, now)) {
          result.canceledAtStart.push(jobId);
          return;
        }
        if (await this.controls.startScheduledJob(jobId, now)) result.started.push(jobId);
      }
      for (let i = 0; i < MAX_BATCHES_PER_JOB; i++) {
        const r = await this.ctx.db.transaction().execute((trx) => this.step.run(trx, jobId, now));
        result.released += r.released;
        this.record(result, jobId, r.outcome);
        if (!r.more) break;
      }
    } finally {
      await repo.unlease(this.ctx.db, jobId, this.owner);
    }
  }

  /**
   * AWS "job-limits": a scheduled job that reaches its startTime while the account is at its job
   * concurrency limit moves to CANCELED (spec 3.9, 3.11). Counted under the job's lock; two
   * replicas starting two jobs at the same instant may each see room for one (the limit is a
   * safety valve, not an exact quota).
   */
  private async cancelAtConcurrencyLimit(jobId: string, now: number): Promise<boolean> {
    return this.ctx.db.transaction().execute(async (trx) => {
      const job = await jobs.lockJob(trx, this.ctx.dialect, jobId);
      if (job?.status !== 'SCHEDULED') return false;
      const concurrent = await repo.countConcurrentJobs(trx);
      if (concurrent < this.maxConcurrentJobs) return false;
      const comment =
        `The job reached its schedulingConfig startTime while ${concurrent} jobs were rolling out ` +
        `(the job concurrency limit is ${this.maxConcurrentJobs}).`;
      await this.controls.cancelLocked(trx, job, { force: false, reasonCode: CONCURRENCY_REASON_CODE, comment }, now);
      return true;
    });
  }

  private record(result: TickResult, jobId: string, outcome: StepOutcome): void {
    if (outcome === 'aborted') result.aborted.push(jobId);
    if (outcome === 'ended') result.ended.push(jobId);
    if (outcome === 'paused') result.paused.push(jobId);
  }

  /** The thin timer loop: tick(clock.now()) every `intervalMs`. */
  start(intervalMs = 1000): void {
    if (this.stopTimer) return;
    this.stopTimer = startTickTimer(
      () => this.tick(this.ctx.clock.now().getTime()),
      intervalMs,
      (err) => this.ctx.logger.error({ err }, 'scheduler tick failed'),
    );
  }

  /** Stops the loop and waits for a pass in flight. */
  async stop(): Promise<void> {
    this.stopTimer?.();
    this.stopTimer = undefined;
    await this.chain;
  }
}
