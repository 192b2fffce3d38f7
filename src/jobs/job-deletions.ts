import type { ServiceContext } from '../context.js';
import type { TagsService } from '../tags/tags.service.js';
import { deleteExecutionsWithEvents, emitJobEvent } from '../scheduler/job-events.js';
import { deleteState as deleteRolloutState } from '../scheduler/rollout.repository.js';
import type { Executor } from '../store/database.js';
import * as jobs from './jobs.repository.js';
import { yieldToEventLoop } from '../store/yield.js';

const BATCH = 5000;

/**
 * Finishes DeleteJob in the background (spec 2.7: DELETION_IN_PROGRESS, then gone): executions go
 * in batches of 5,000 per transaction so a 100,000-thing job never holds the database for long,
 * then the job row. Jobs left in DELETION_IN_PROGRESS by a crash are resumed on start.
 */
export class JobDeletions {
  private readonly queue: string[] = [];
  private running: Promise<void> | undefined;
  private paused = false;
  private stopped = false;
  private resumeTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ctx: ServiceContext,
    private readonly tags: TagsService,
  ) {}

  schedule(jobId: string): void {
    if (!this.queue.includes(jobId)) this.queue.push(jobId);
    this.kick();
  }

  /** Picks up jobs a previous process left half-deleted. */
  async resume(): Promise<void> {
    for (const id of await jobs.jobIdsInStatus(this.ctx.db, 'DELETION_IN_PROGRESS')) this.schedule(id);
  }

  /**
   * Scaled out, a replica may die in the middle of a purge: every replica looks for unfinished
   * deletions now and then (joining a purge another replica is running costs a little time, no
   * duplicate: batches take the job lock).
   */
  resumeEvery(intervalMs: number): void {
    if (this.resumeTimer) return;
    this.resumeTimer = setInterval(() => {
      this.resume().catch((err: unknown) =>
        this.ctx.logger.warn({ err }, 'looking for unfinished job deletions failed'),
      );
    }, intervalMs);
    this.resumeTimer.unref();
  }

  /** Holds purging (tests use it to observe DELETION_IN_PROGRESS and its limit). */
  pause(): void {
    this.paused = true;
  }

  resumePurging(): void {
    this.paused = false;
    this.kick();
  }

  /** Resolves when nothing is left to purge (or purging is paused). */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.resumeTimer) clearInterval(this.resumeTimer);
    await this.idle();
  }

  private kick(): void {
    if (this.running || this.paused || this.stopped || this.queue.length === 0) return;
    this.running = this.drain().finally(() => {
      this.running = undefined;
      this.kick();
    });
  }

  private async drain(): Promise<void> {
    while (!this.paused && !this.stopped) {
      const jobId = this.queue[0];
      if (jobId === undefined) return;
      try {
        await this.purge(jobId);
        this.queue.shift();
      } catch (err) {
        this.ctx.logger.error({ err, jobId }, 'purging a deleted job failed; it stays DELETION_IN_PROGRESS');
        this.queue.shift();
      }
    }
  }

  private async purge(jobId: string): Promise<void> {
    const now = () => this.ctx.clock.now().getTime();
    // spec 5.9: each execution's `deleted` event goes out with its batch.
    const purgeBatch = (trx: Executor) => deleteExecutionsWithEvents(trx, jobId, BATCH, now());
    // Several replicas may purge one job (each resumes what it finds): under the job lock a batch
    // reads only executions no other replica has deleted, so no `deleted` event goes out twice.
    const purgeLocked = async (trx: Executor) =>
      (await jobs.lockJob(trx, this.ctx.dialect, jobId))?.status === 'DELETION_IN_PROGRESS' ? purgeBatch(trx) : 0;
    while (!this.stopped) {
      const n = await this.ctx.db.transaction().execute(purgeLocked);
      if (n < BATCH) break;
      await yieldToEventLoop();
    }
    if (this.stopped) return;
    await this.ctx.db.transaction().execute(async (trx) => {
      const job = await jobs.lockJob(trx, this.ctx.dialect, jobId);
      if (job?.status !== 'DELETION_IN_PROGRESS') return;
      await purgeBatch(trx);
      await this.tags.deleteAllTags(trx, this.ctx.arns.job(jobId));
      await emitJobEvent(trx, jobId, 'deleted', now());
      await deleteRolloutState(trx, jobId);
      await jobs.deleteJobRow(trx, jobId);
    });
  }
}
