import type { Updateable } from 'kysely';
import type { ServiceContext } from '../context.js';
import { ServiceError } from '../errors.js';
import type { Executor } from '../store/database.js';
import { TransactionBatcher } from '../store/transaction-batcher.js';
import { absentNulls, validate } from '../validation.js';
import {
  checkDeviceStatus,
  checkJobIdOrNext,
  checkStatusDetails,
  checkThingAndNamespace,
  coerceDetails,
  earliest,
  executionNotFound,
  executionState,
  illegalTransition,
  NEXT,
  PENDING_LIST_LIMIT,
  PENDING_LIST_LIMIT_SCHEDULED,
  parseExpectedVersion,
  STEP_TIMEOUT,
  versionMismatch,
} from './device-jobs.schemas.js';
import { canTransition, isTerminal, type DeviceSettableStatus } from './execution-states.js';
import type { CounterMode } from './job-counters.js';
import { applyTransition } from './execution-transitions.js';
import * as executions from './executions.repository.js';
import type { ExecutionRow } from './executions.repository.js';
import { detailsOf, deviceTime, secondsBeforeTimeout } from './job-render.js';
import type { TimeoutConfig } from './job-configs.js';
import * as jobs from './jobs.repository.js';
import type { JobRow } from './jobs.repository.js';
import type { JobExecutionsTable } from './jobs.tables.js';
import type {
  DeviceExecution,
  DocumentCheck,
  DocumentRenderer,
  ExecutionState,
  Summary,
  UpdateInput,
} from './device-jobs.types.js';

export type {
  DeviceExecution,
  DocumentCheck,
  DocumentRenderer,
  ExecutionState,
  Summary,
  UpdateInput,
} from './device-jobs.types.js';

const minutes = (n: number): number => n * 60_000;

type JobCache = Map<string, Promise<JobRow | undefined>>;
type PendingState = { pending: { IN_PROGRESS?: Summary[]; QUEUED?: Summary[] }; head?: DeviceExecution };

/** The device side of executions (spec 4, 5.1, 5.3-5.6); the MQTT and HTTPS transports call this. */
export class DeviceJobsService {
  renderDocumentForDevice: DocumentRenderer = (job) => job.document;
  readonly documentChecks: DocumentCheck[] = [];
  /** Device transitions from many devices commit together (issue 17); each keeps its own outcome. */
  private readonly transitions: TransactionBatcher;
  /** Issue 17: PostgreSQL devices share the job row and append counter deltas. */
  private readonly counters: CounterMode;

  constructor(private readonly ctx: ServiceContext) {
    this.transitions = new TransactionBatcher(ctx.db, ctx.dialect);
    this.counters = ctx.dialect === 'postgres' ? 'delta' : 'row';
  }

  private now(): number {
    return this.ctx.clock.now().getTime();
  }

  private summary(row: ExecutionRow): Summary {
    return {
      jobId: row.job_id,
      queuedAt: deviceTime(row.queued_at),
      ...(row.started_at !== null && { startedAt: deviceTime(row.started_at) }),
      lastUpdatedAt: deviceTime(row.last_updated_at),
      versionNumber: row.version_number,
      executionNumber: row.execution_number,
    };
  }

  private async execution(row: ExecutionRow, withDocument: boolean, jobCache?: JobCache): Promise<DeviceExecution> {
    const details = detailsOf(row);
    const left = secondsBeforeTimeout(row, this.now());
    let jobDocument: string | undefined;
    if (withDocument) {
      const job = await this.jobOf(row.job_id, jobCache);
      if (job) jobDocument = await this.documentFor(job, row.thing_name);
    }
    return {
      jobId: row.job_id,
      thingName: row.thing_name,
      status: row.status,
      ...(Object.keys(details).length > 0 && { statusDetails: details }),
      queuedAt: deviceTime(row.queued_at),
      ...(row.started_at !== null && { startedAt: deviceTime(row.started_at) }),
      lastUpdatedAt: deviceTime(row.last_updated_at),
      versionNumber: row.version_number,
      executionNumber: row.execution_number,
      ...(left !== undefined && { approximateSecondsBeforeTimedOut: left }),
      ...(jobDocument !== undefined && { jobDocument }),
    };
  }

  async getPendingJobExecutions(
    thingName: string,
    namespaceId?: string,
  ): Promise<{ inProgressJobs: Summary[]; queuedJobs: Summary[] }> {
    validate((v) => checkThingAndNamespace(v, thingName, namespaceId));
    const rows = await executions.pendingList(this.ctx.db, thingName, namespaceId ?? '');
    return {
      inProgressJobs: rows.filter((r) => r.status === 'IN_PROGRESS').map((r) => this.summary(r)),
      queuedJobs: rows.filter((r) => r.status === 'QUEUED').map((r) => this.summary(r)),
    };
  }

  /** What notify / notify-next announce (spec 5.6); the notifier calls this after a change. */
  async pendingState(thingName: string, namespaceId?: string): Promise<PendingState> {
    const rows = await executions.pendingList(this.ctx.db, thingName, namespaceId ?? '');
    return this.stateOf(rows, new Map());
  }

  /**
   * pendingState of many things at once, for the notifier's batches (issue 17): the pending
   * executions of all of them in one query and each job read once, instead of two queries a thing.
   */
  async pendingStates(keys: readonly { thingName: string; namespaceId?: string }[]): Promise<PendingState[]> {
    const rows = await executions.pendingOfThings(
      this.ctx.db,
      keys.map((k) => k.thingName),
      PENDING_LIST_LIMIT_SCHEDULED,
    );
    const byKey = new Map<string, ExecutionRow[]>();
    for (const r of rows) {
      const key = JSON.stringify([r.thing_name, r.namespace_id]);
      byKey.set(key, [...(byKey.get(key) ?? []), r]);
    }
    const long = [...byKey.values()].filter((list) => list.length > PENDING_LIST_LIMIT);
    const scheduled = await executions.scheduledAmong(
      this.ctx.db,
      long.flatMap((list) => list.map((r) => r.job_id)),
    );
    const jobCache = new Map<string, Promise<JobRow | undefined>>();
    return Promise.all(
      keys.map((k) => {
        let list = byKey.get(JSON.stringify([k.thingName, k.namespaceId ?? ''])) ?? [];
        // spec 3.9, 7: 15 only when one of them comes from a job with a schedulingConfig.
        if (list.length > PENDING_LIST_LIMIT && !list.some((r) => scheduled.has(r.job_id))) {
          list = list.slice(0, PENDING_LIST_LIMIT);
        }
        return this.stateOf(list, jobCache);
      }),
    );
  }

  private async stateOf(rows: ExecutionRow[], jobCache: JobCache): Promise<PendingState> {
    const inProgress = rows.filter((r) => r.status === 'IN_PROGRESS').map((r) => this.summary(r));
    const queued = rows.filter((r) => r.status === 'QUEUED').map((r) => this.summary(r));
    const head = rows[0];
    return {
      pending: {
        ...(inProgress.length > 0 && { IN_PROGRESS: inProgress }),
        ...(queued.length > 0 && { QUEUED: queued }),
      },
      ...(head !== undefined && { head: await this.headForNotify(head, jobCache) }),
    };
  }

  /** spec 5.1: an IN_PROGRESS head is returned unchanged; else the oldest QUEUED one starts. */
  async startNextPendingJobExecution(
    thingName: string,
    input: { statusDetails?: Record<string, string>; stepTimeoutInMinutes?: number } = {},
    namespaceId?: string,
  ): Promise<{ execution?: DeviceExecution }> {
    // MQTT requests reach the service without the restJson parser: nulls are absent here too.
    input = absentNulls(input);
    const statusDetails = coerceDetails(input.statusDetails) as Record<string, string> | undefined;
    validate((v) => {
      checkThingAndNamespace(v, thingName, namespaceId);
      checkStatusDetails(v, statusDetails);
      v.number('stepTimeoutInMinutes', input.stepTimeoutInMinutes, { ...STEP_TIMEOUT, integer: true });
    });
    const ns = namespaceId ?? '';
    const row = await this.transitions.run(async (trx) => {
      for (let attempt = 0; attempt < 5; attempt++) {
        const head = (await executions.pendingOfThing(trx, thingName, ns, 1))[0];
        if (!head || head.status === 'IN_PROGRESS') return head;
        const job = await jobs.shareJob(trx, this.ctx.dialect, head.job_id);
        const now = this.now();
        const inProgressDeadline = this.inProgressDeadline(job, now);
        const stepDeadline =
          input.stepTimeoutInMinutes !== undefined ? now + minutes(input.stepTimeoutInMinutes) : null;
        const started = await applyTransition(trx, head, {
          cause: 'start-next',
          to: 'IN_PROGRESS',
          now,
          announce: false,
          counters: this.counters,
          changes: {
            started_at: now,
            ...(statusDetails !== undefined && { status_details: detailsJson(statusDetails) }),
            in_progress_deadline: inProgressDeadline,
            step_deadline: stepDeadline,
            timeout_at: earliest(inProgressDeadline, stepDeadline),
          },
        });
        if (started) return started;
        // Someone changed the head between our read and the job lock: look again.
      }
      throw new ServiceError('Throttling', 'The pending jobs of this thing are changing too fast; try again.');
    });
    return row ? { execution: await this.execution(row, true) } : {};
  }

  private async documentFor(job: JobRow, thingName: string): Promise<string> {
    for (const check of this.documentChecks) await check(job, thingName);
    return this.renderDocumentForDevice(job, thingName);
  }

  /** notify-next goes out even when the document is withheld (or cannot be rendered): then without it. */
  private async headForNotify(head: ExecutionRow, jobCache: JobCache): Promise<DeviceExecution> {
    try {
      return await this.execution(head, true, jobCache);
    } catch (err) {
      if (err instanceof ServiceError) return this.execution(head, false);
      throw err;
    }
  }

  /** Each job read once per notifier batch; documents are still rendered per thing (placeholders). */
  private jobOf(jobId: string, cache: JobCache | undefined): Promise<JobRow | undefined> {
    if (!cache) return jobs.findJob(this.ctx.db, jobId);
    let job = cache.get(jobId);
    if (!job) cache.set(jobId, (job = jobs.findJob(this.ctx.db, jobId)));
    return job;
  }

  private inProgressDeadline(job: JobRow | undefined, now: number): number | null {
    const timeout = job?.timeout_config ? (JSON.parse(job.timeout_config) as TimeoutConfig) : undefined;
    return timeout?.inProgressTimeoutInMinutes !== undefined ? now + minutes(timeout.inProgressTimeoutInMinutes) : null;
  }

  async describeJobExecution(
    thingName: string,
    jobIdOrNext: string,
    input: { executionNumber?: number; includeJobDocument?: boolean } = {},
    namespaceId?: string,
  ): Promise<{ execution?: DeviceExecution }> {
    input = absentNulls(input);
    validate((v) => {
      checkThingAndNamespace(v, thingName, namespaceId);
      checkJobIdOrNext(v, jobIdOrNext);
      v.number('executionNumber', input.executionNumber, { integer: true, min: 0 });
      v.boolean('includeJobDocument', input.includeJobDocument);
    });
    const withDocument = input.includeJobDocument !== false;
    if (jobIdOrNext === NEXT) {
      const head = (await executions.pendingOfThing(this.ctx.db, thingName, namespaceId ?? '', 1))[0];
      return head ? { execution: await this.execution(head, withDocument) } : {};
    }
    const row = await executions.findExecution(this.ctx.db, jobIdOrNext, thingName, input.executionNumber);
    // An execution the rollout has not released does not exist for the device yet (spec 3.5).
    if (!row || row.released_at === null) throw executionNotFound(jobIdOrNext, thingName, input.executionNumber);
    return { execution: await this.execution(row, withDocument) };
  }

  async updateJobExecution(
    thingName: string,
    jobId: string,
    input: UpdateInput,
    namespaceId?: string,
  ): Promise<{ executionState?: ExecutionState; jobDocument?: string }> {
    input = absentNulls(input);
    const statusDetails = coerceDetails(input.statusDetails) as Record<string, string> | undefined;
    validate((v) => {
      checkThingAndNamespace(v, thingName, namespaceId);
      checkJobIdOrNext(v, jobId);
      checkDeviceStatus(v, input.status);
      checkStatusDetails(v, statusDetails);
      v.number('executionNumber', input.executionNumber, { integer: true, min: 0 });
      v.boolean('includeJobExecutionState', input.includeJobExecutionState);
      v.boolean('includeJobDocument', input.includeJobDocument);
      if (input.stepTimeoutInMinutes !== -1) {
        v.number('stepTimeoutInMinutes', input.stepTimeoutInMinutes, { ...STEP_TIMEOUT, integer: true });
      }
    });
    if (jobId === NEXT) throw new ServiceError('InvalidRequest', 'UpdateJobExecution needs a job id, not $next.');
    const expectedVersion = parseExpectedVersion(input.expectedVersion);
    const to = input.status as DeviceSettableStatus;
    const updated = await this.transitions.run(async (trx) => {
      const job = await jobs.shareJob(trx, this.ctx.dialect, jobId);
      const row = job && (await executions.findExecution(trx, jobId, thingName, input.executionNumber));
      if (!row || row.released_at === null) throw executionNotFound(jobId, thingName, input.executionNumber);
      if (expectedVersion !== undefined && expectedVersion !== row.version_number) {
        throw versionMismatch(row, expectedVersion);
      }
      if (!canTransition('device-update', row.status, to)) throw illegalTransition(row, to);
      const now = this.now();
      const changes = this.updateChanges(row, job, to, now, statusDetails, input.stepTimeoutInMinutes);
      const next = await applyTransition(trx, row, {
        cause: 'device-update',
        to,
        now,
        changes,
        counters: this.counters,
      });
      if (!next) throw await this.lostRace(trx, row, expectedVersion ?? row.version_number);
      return next;
    });
    if (this.counters === 'delta' && isTerminal(updated.status)) await this.completeIfDone(jobId);
    const job = input.includeJobDocument ? await jobs.findJob(this.ctx.db, jobId) : undefined;
    return {
      ...(input.includeJobExecutionState && { executionState: executionState(updated) }),
      ...(job && { jobDocument: await this.documentFor(job, thingName) }),
    };
  }

  private updateChanges(
    row: ExecutionRow,
    job: JobRow,
    to: DeviceSettableStatus,
    now: number,
    statusDetails: Record<string, string> | undefined,
    stepTimeoutInMinutes: number | undefined,
  ): Updateable<JobExecutionsTable> {
    const changes: Updateable<JobExecutionsTable> = {
      // spec 4.3: omitted details are kept; given details replace the stored ones.
      ...(statusDetails !== undefined && { status_details: detailsJson(statusDetails) }),
    };
    if (to !== 'IN_PROGRESS') return changes;
    // spec 3.7: the in-progress timer starts with IN_PROGRESS and is then fixed for this execution.
    const inProgress = row.status === 'QUEUED' ? this.inProgressDeadline(job, now) : row.in_progress_deadline;
    let step = row.step_deadline;
    if (stepTimeoutInMinutes === -1) step = null;
    else if (stepTimeoutInMinutes !== undefined) step = now + minutes(stepTimeoutInMinutes);
    return {
      ...changes,
      ...(row.started_at === null && { started_at: now }),
      in_progress_deadline: inProgress,
      step_deadline: step,
      timeout_at: earliest(inProgress, step),
    };
  }

  /**
   * After a terminal device transition committed under the shared job lock (PostgreSQL): of
   * several devices finishing at once none may see the others' uncommitted changes, but the last
   * to commit sees every one of them here. The job then completes under its exclusive lock, once
   * (completeIfDone is a compare-and-set). A crash before this line is made good by the scheduler,
   * which folds left-over deltas and completes what is done (Scheduler.foldCounters).
   */
  private async completeIfDone(jobId: string): Promise<void> {
    const job = await jobs.findJob(this.ctx.db, jobId);
    if (!job || !jobs.looksDone(job)) return;
    await this.ctx.db.transaction().execute(async (trx) => {
      if (await jobs.lockJob(trx, this.ctx.dialect, jobId)) await jobs.completeIfDone(trx, jobId, this.now());
    });
  }

  private async lostRace(trx: Executor, row: ExecutionRow, expected: number): Promise<ServiceError> {
    const current = (await executions.findById(trx, row.id)) ?? row;
    return versionMismatch(current, expected);
  }
}

const detailsJson = (details: Record<string, string>): string | null =>
  Object.keys(details).length === 0 ? null : JSON.stringify(details);
