import { sql } from 'kysely';
import type { ServiceContext } from '../context.js';
import { ServiceError } from '../errors.js';
import type { TagsService } from '../tags/tags.service.js';
import type { Executor } from '../store/database.js';
import { decodeToken, toPage } from '../store/pagination.js';
import { DESCRIPTION_RULE, validate } from '../validation.js';
import { isUniqueViolation } from './db-errors.js';
import { jobShape, jobSummaryShape } from './job-render.js';
import { noDocumentSources, resolveSource, type DocumentSourceFetcher } from './job-sources.js';
import { JOB_STATUSES, TARGET_SELECTIONS, type JobStatus, type TargetSelection } from './job-states.js';
import * as jobs from './jobs.repository.js';
import type { JobRow } from './jobs.repository.js';
import {
  checkCreateJob,
  checkDocument,
  checkJobId,
  checkNamespace,
  checkTargets,
  checkUpdateJob,
  GROUP_ID_RULE,
  JOB_LIMITS,
  NAME_RULE,
  pageInput,
  type CreateJobInput,
  type UpdateJobInput,
} from './jobs.schemas.js';
import { checkRetryChange, newJobRow } from './job-rows.js';
import { pastEndTime } from './job-configs.js';
import { parseTargets, requireTargetsExist, rollOut, scopeOf } from './targets.js';
import { excludeMembershipChanges } from './jobs.hooks.js';

const toJson = (v: unknown): string | null => (v === undefined ? null : JSON.stringify(v));

/**
 * Rewrites a new job's document before it is checked and stored; runs outside any transaction, so
 * it may do I/O. Code signing fills `${aws:iot:code-sign-signature:...}` here (spec 6.3,
 * src/signing/job-document-signer.ts).
 */
export type DocumentPreprocessor = (document: string, input: CreateJobInput) => Promise<string>;

/** Adds members to DescribeJob's `job` (e.g. scheduledJobRollouts); reads only, outside any transaction. */
export type DescribeExtension = (db: Executor, job: JobRow) => Promise<Record<string, unknown>>;
/** Another feature's part of UpdateJob (the rollout engine: rolloutAction), in UpdateJob's transaction with the job locked. */
export type UpdateExtension = (trx: Executor, job: JobRow, input: UpdateJobInput, now: number) => Promise<void>;
/** Adds members to ListJobs' summaries (e.g. isConcurrent), for a page of jobs at once: members by job id. */
export type SummaryExtension = (db: Executor, jobs: readonly JobRow[]) => Promise<Map<string, Record<string, unknown>>>;

export function jobNotFound(jobId: string): ServiceError {
  return new ServiceError('ResourceNotFound', `Job ${jobId} does not exist.`);
}

/** Jobs: create, update, describe, list and target them (spec 2.1, 2.3, 2.7, 3). */
export class JobsService {
  /** The object store replaces this to read documentSource URLs. */
  fetchDocumentSource: DocumentSourceFetcher = noDocumentSources;
  /** Creation-time document rewriting, in order (see DocumentPreprocessor). */
  readonly documentPreprocessors: DocumentPreprocessor[] = [];
  /** Fields other features add to DescribeJob's `job` (the rollout engine: src/scheduler). */
  readonly describeExtensions: DescribeExtension[] = [];
  /** Fields other features add to ListJobs' summaries (the rollout engine: isConcurrent). */
  readonly summaryExtensions: SummaryExtension[] = [];
  readonly updateExtensions: UpdateExtension[] = [];

  constructor(
    private readonly ctx: ServiceContext,
    private readonly tags: TagsService,
  ) {}

  private now(): number {
    return this.ctx.clock.now().getTime();
  }

  async requireJob(db: Executor, jobId: string, lock = false): Promise<JobRow> {
    const row = lock ? await jobs.lockJob(db, this.ctx.dialect, jobId) : await jobs.findJob(db, jobId);
    if (!row) throw jobNotFound(jobId);
    return row;
  }

  async createJob(input: CreateJobInput) {
    const now = this.now();
    checkCreateJob(input, now);
    const source = await resolveSource(this.ctx.db, this.ctx.arns, this.fetchDocumentSource, input);
    let document = source.document;
    for (const preprocess of this.documentPreprocessors) document = await preprocess(document, input);
    checkDocument(document);
    const targets = parseTargets(this.ctx.arns, input.jobId, input.targets!);
    if (targets.length > JOB_LIMITS.maxTargets) {
      throw new ServiceError(
        'LimitExceeded',
        `A job may have at most ${JOB_LIMITS.maxTargets} targets, not ${targets.length}.`,
      );
    }
    const row = newJobRow(input, source, document, targets, now);
    const status = row.status;
    const jobArn = this.ctx.arns.job(input.jobId);
    const exists = () =>
      new ServiceError('ResourceAlreadyExists', `Job ${input.jobId} already exists.`, {
        resourceId: input.jobId,
        resourceArn: jobArn,
      });
    let created = 0;
    try {
      await this.ctx.db.transaction().execute(async (trx) => {
        if (await jobs.findJob(trx, input.jobId)) throw exists();
        await requireTargetsExist(trx, targets);
        await jobs.insertJob(trx, row, targets);
        if (input.tags && input.tags.length > 0) await this.tags.putTags(trx, jobArn, input.tags);
        if (status === 'IN_PROGRESS') created = await this.startRollout(trx, row, now);
      });
    } catch (err) {
      if (isUniqueViolation(err)) throw exists();
      throw err;
    }
    await this.refreshStatistics(created);
    return { jobArn, jobId: input.jobId, ...(row.description !== null && { description: row.description }) };
  }

  /** Creates every execution of a job that starts rolling out (spec 2.7), in the caller's transaction. */
  private async startRollout(trx: Executor, job: JobRow, now: number): Promise<number> {
    if (job.target_selection === 'CONTINUOUS') await excludeMembershipChanges(trx, this.ctx.dialect);
    const scope = await scopeOf(trx, await jobs.targetsOf(trx, [job.job_id]));
    const created = await rollOut(trx, job, scope, now);
    // A SNAPSHOT job on empty groups has nothing to wait for.
    if (created === 0) await jobs.completeIfDone(trx, job.job_id, now);
    return created;
  }

  /**
   * A big fan-out changes job_executions faster than PostgreSQL's autovacuum re-plans: until it
   * analyzes, listing the new job's executions sorts them all instead of walking the index.
   */
  private async refreshStatistics(created: number): Promise<void> {
    if (this.ctx.dialect !== 'postgres' || created < 10_000) return;
    await sql`analyze job_executions`.execute(this.ctx.db).catch((err: unknown) => {
      this.ctx.logger.warn({ err }, 'analyze job_executions failed');
    });
  }

  /** SCHEDULED -> IN_PROGRESS when startTime arrives (spec 3.9); the scheduler calls this. */
  async startScheduledJob(jobId: string, now = this.now()): Promise<boolean> {
    return this.ctx.db.transaction().execute(async (trx) => {
      const job = await this.requireJob(trx, jobId, true);
      if (!(await jobs.setJobStatus(trx, jobId, ['SCHEDULED'], 'IN_PROGRESS', { last_updated_at: now }))) return false;
      await this.startRollout(trx, { ...job, status: 'IN_PROGRESS' }, now);
      return true;
    });
  }

  async updateJob(input: UpdateJobInput): Promise<void> {
    checkUpdateJob(input);
    await this.ctx.db.transaction().execute(async (trx) => {
      const job = await this.requireJob(trx, input.jobId, true);
      if (job.status === 'DELETION_IN_PROGRESS') {
        throw new ServiceError('InvalidRequest', `Job ${input.jobId} is being deleted and cannot be updated.`);
      }
      if (input.jobExecutionsRetryConfig) checkRetryChange(job, input.jobExecutionsRetryConfig);
      await jobs.updateJob(trx, input.jobId, {
        last_updated_at: this.now(),
        ...(input.description !== undefined && { description: input.description }),
        ...(input.presignedUrlConfig && { presigned_url_config: toJson(input.presignedUrlConfig) }),
        ...(input.jobExecutionsRolloutConfig && { rollout_config: toJson(input.jobExecutionsRolloutConfig) }),
        ...(input.abortConfig && { abort_config: toJson(input.abortConfig) }),
        // spec 3.7: running executions keep the deadline they were given when they started.
        ...(input.timeoutConfig && { timeout_config: toJson(input.timeoutConfig) }),
        ...(input.jobExecutionsRetryConfig && { retry_config: toJson(input.jobExecutionsRetryConfig) }),
        ...(input.stagedRollout && { staged_rollout: toJson(input.stagedRollout) }),
      });
      const updated = await this.requireJob(trx, input.jobId);
      for (const extend of this.updateExtensions) await extend(trx, updated, input, this.now());
    });
  }

  async describeJob(jobId: string, beforeSubstitution?: boolean) {
    validate((v) => {
      checkJobId(v, jobId);
      v.boolean('beforeSubstitution', beforeSubstitution);
    });
    const job = await this.requireJob(this.ctx.db, jobId);
    const shape: Record<string, unknown> = jobShape(job, this.ctx.arns);
    for (const extend of this.describeExtensions) Object.assign(shape, await extend(this.ctx.db, job));
    return {
      ...(job.document_source !== null && { documentSource: job.document_source }),
      job: shape as ReturnType<typeof jobShape>,
    };
  }

  async getJobDocument(jobId: string, beforeSubstitution?: boolean) {
    validate((v) => {
      checkJobId(v, jobId);
      v.boolean('beforeSubstitution', beforeSubstitution);
    });
    const job = await this.requireJob(this.ctx.db, jobId);
    // spec 6.1: the control plane returns the stored document; presigned URLs are made for devices only.
    return { document: (beforeSubstitution && job.document_before_substitution) || job.document };
  }

  async listJobs(input: {
    status?: string;
    targetSelection?: string;
    maxResults?: number;
    nextToken?: string;
    thingGroupName?: string;
    thingGroupId?: string;
    namespaceId?: string;
  }) {
    validate((v) => {
      v.string('status', input.status, { enum: JOB_STATUSES });
      v.string('targetSelection', input.targetSelection, { enum: TARGET_SELECTIONS });
      v.string('thingGroupName', input.thingGroupName, NAME_RULE);
      v.string('thingGroupId', input.thingGroupId, GROUP_ID_RULE);
      checkNamespace(v, input.namespaceId);
    });
    const limit = pageInput(input);
    const token = decodeToken(input.nextToken, 2);
    let groupName = input.thingGroupName;
    if (input.thingGroupId !== undefined) {
      const group = await this.ctx.db
        .selectFrom('thing_groups')
        .select('name')
        .where('id', '=', input.thingGroupId)
        .executeTakeFirst();
      if (!group)
        throw new ServiceError('ResourceNotFound', `Thing group with id ${input.thingGroupId} does not exist.`);
      if (groupName !== undefined && groupName !== group.name) return { jobs: [] };
      groupName = group.name;
    }
    const rows = await jobs.listJobRows(this.ctx.db, {
      status: input.status as JobStatus | undefined,
      targetSelection: input.targetSelection as TargetSelection | undefined,
      thingGroupName: groupName,
      namespaceId: input.namespaceId,
      after: token && [Number(token[0]), String(token[1])],
      limit,
    });
    const page = toPage(rows, limit, (r) => [r.created_at, r.job_id]);
    const groupIds = await jobs.firstGroupIds(
      this.ctx.db,
      page.items.map((r) => r.job_id),
    );
    const extras = await Promise.all(this.summaryExtensions.map((extend) => extend(this.ctx.db, page.items)));
    return {
      jobs: page.items.map((r) => ({
        ...jobSummaryShape(r, this.ctx.arns, groupIds.get(r.job_id)),
        ...Object.assign({}, ...extras.map((m) => m.get(r.job_id) ?? {})),
      })),
      ...(page.nextToken !== undefined && { nextToken: page.nextToken }),
    };
  }

  /** spec 2.7: more groups for a CONTINUOUS job that is IN_PROGRESS; at most 100 targets in all. */
  async associateTargetsWithJob(input: { jobId: string; targets?: string[]; comment?: string; namespaceId?: string }) {
    validate((v) => {
      checkJobId(v, input.jobId);
      checkTargets(v, input.targets);
      v.string('comment', input.comment, DESCRIPTION_RULE);
      checkNamespace(v, input.namespaceId);
    });
    const added = parseTargets(this.ctx.arns, input.jobId, input.targets!);
    const thing = added.find((t) => t.kind !== 'group');
    if (thing)
      throw new ServiceError(
        'InvalidRequest',
        `AssociateTargetsWithJob takes thing group ARNs; ${thing.arn} is a thing.`,
      );
    const job = await this.ctx.db.transaction().execute(async (trx) => {
      // Before the job lock: a membership change holding its share may be waiting for the job.
      await excludeMembershipChanges(trx, this.ctx.dialect);
      const job = await this.requireJob(trx, input.jobId, true);
      if (job.target_selection !== 'CONTINUOUS') {
        throw new ServiceError(
          'InvalidRequest',
          `Job ${job.job_id} is a SNAPSHOT job; only CONTINUOUS jobs take more targets.`,
        );
      }
      if (job.status !== 'IN_PROGRESS') {
        throw new ServiceError(
          'InvalidRequest',
          `Job ${job.job_id} is ${job.status}; targets can be added only while it is IN_PROGRESS.`,
        );
      }
      const existing = JSON.parse(job.targets) as string[];
      const fresh = added.filter((t) => !existing.includes(t.arn));
      const all = [...existing, ...fresh.map((t) => t.arn)];
      if (all.length > JOB_LIMITS.maxTargets) {
        throw new ServiceError(
          'LimitExceeded',
          `A job may have at most ${JOB_LIMITS.maxTargets} targets; this would make ${all.length}.`,
        );
      }
      await requireTargetsExist(trx, fresh);
      if (pastEndTime(job.scheduling_config, this.now())) {
        throw new ServiceError(
          'InvalidRequest',
          `Job ${job.job_id} is past its schedulingConfig endTime and creates no more executions.`,
        );
      }
      if (fresh.length > 0) {
        const before = await scopeOf(trx, await jobs.targetsOf(trx, [job.job_id]));
        const now = this.now();
        await jobs.addTargets(trx, job.job_id, all, fresh, now);
        // Things the job already covered keep their executions; newly covered things get one.
        await rollOut(trx, job, await scopeOf(trx, fresh), now, before);
      }
      return job;
    });
    return {
      jobArn: this.ctx.arns.job(job.job_id),
      jobId: job.job_id,
      ...(job.description !== null && { description: job.description }),
    };
  }
}
