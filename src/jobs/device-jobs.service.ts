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
import { pendingThingsOf, type CounterMode } from './job-counters.js';
import { applyTransition, type TransitionRequest } from './execution-transitions.js';
import { StatementBatcher } from '../store/statement-batcher.js';
import {
  fitsOneStatement,
  readHeads,
  readUpdateTargets,
  transitionsInOneStatement,
  type HeadKey,
  type JobSettings,
  type StatementTransition,
  type UpdateTarget,
  type UpdateTargetKey,
} from './single-statement-transition.js';
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

const START_NEXT_ATTEMPTS = 5;
const startNextThrottled = (): ServiceError =>
  new ServiceError('Throttling', 'The pending jobs of this thing are changing too fast; try again.');

/** A StartNextPendingJobExecution request after validation. */
interface PlannedStart {
  thingName: string;
  ns: string;
  stepTimeoutInMinutes: number | undefined;
  statusDetails: Record<string, string> | undefined;
}

/** An UpdateJobExecution request after validation. */
interface PlannedUpdate {
  jobId: string;
  thingName: string;
  input: UpdateInput;
  to: DeviceSettableStatus;
  statusDetails: Record<string, string> | undefined;
}

type JobCache = Map<string, Promise<JobRow | undefined>>;
type PendingState = { pending: { IN_PROGRESS?: Summary[]; QUEUED?: Summary[] }; head?: DeviceExecution };

/** The device side of executions (spec 4, 5.1, 5.3-5.6); the MQTT and HTTPS transports call this. */
export class DeviceJobsService {
  renderDocumentForDevice: DocumentRenderer = (job) => job.document;
  readonly documentChecks: DocumentCheck[] = [];
  /** Device transitions from many devices commit together (issue 17); each keeps its own outcome. */
  private readonly transitions: TransactionBatcher;
  /** Issue 17: the reads and writes of device transitions on PostgreSQL, batched per event-loop turn. */
  private readonly postgresBatches:
    | {
        updates: StatementBatcher<UpdateTargetKey, UpdateTarget>;
        heads: StatementBatcher<HeadKey, { head: ExecutionRow | undefined; job: JobRow | undefined }>;
        writes: StatementBatcher<StatementTransition, ExecutionRow | undefined>;
      }
    | undefined;
  /** Post-commit completion checks running now, by job (PostgreSQL). */
  private readonly completionChecks = new Map<string, { again: boolean; done: Promise<void> }>();
  /** Issue 17: PostgreSQL devices share the job row and append counter deltas. */
  private readonly counters: CounterMode;

  constructor(private readonly ctx: ServiceContext) {
    this.transitions = new TransactionBatcher(ctx.db, ctx.dialect);
    this.counters = ctx.dialect === 'postgres' ? 'delta' : 'row';
    if (ctx.dialect === 'postgres') {
      this.postgresBatches = {
        updates: new StatementBatcher((keys) => readUpdateTargets(ctx.db, keys)),
        heads: new StatementBatcher((keys) => readHeads(ctx.db, keys)),
        // One lane per job: a job locked exclusively (CancelJob, DeleteJob) holds up only its own devices.
        writes: new StatementBatcher((items) => transitionsInOneStatement(ctx.db, items), {
          laneOf: (t) => t.exec.job_id,
        }),
      };
    }
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
    const start: PlannedStart = { thingName, ns, stepTimeoutInMinutes: input.stepTimeoutInMinutes, statusDetails };
    const jobCache: JobCache = new Map();
    const row =
      this.counters === 'delta'
        ? await this.startNextOnPostgres(start, jobCache)
        : await this.transitions.run((trx) => this.startNextIn(trx, start));
    return row ? { execution: await this.execution(row, true, jobCache) } : {};
  }

  private async startNextIn(trx: Executor, p: PlannedStart): Promise<ExecutionRow | undefined> {
    for (let attempt = 0; attempt < START_NEXT_ATTEMPTS; attempt++) {
      const head = (await executions.pendingOfThing(trx, p.thingName, p.ns, 1))[0];
      if (!head || head.status === 'IN_PROGRESS') return head;
      const job = await jobs.shareJob(trx, this.ctx.dialect, head.job_id);
      const started = await applyTransition(trx, head, { ...this.startRequest(p, job), counters: this.counters });
      if (started) return started;
      // Someone changed the head between our read and the job lock: look again.
    }
    throw startNextThrottled();
  }

  /**
   * Issue 17: on PostgreSQL the head and its job are read without a transaction and the start is
   * one statement (single-statement-transition.ts), whose compare-and-set fails if the head moved;
   * both are batched with the other devices' requests of the same event-loop turn. The job read
   * here renders the document too (the counters are not in it).
   */
  private async startNextOnPostgres(p: PlannedStart, jobCache: JobCache): Promise<ExecutionRow | undefined> {
    const batches = this.postgresBatches!;
    for (let attempt = 0; attempt < START_NEXT_ATTEMPTS; attempt++) {
      const { head, job } = await batches.heads.run({ thingName: p.thingName, namespaceId: p.ns });
      if (head) jobCache.set(head.job_id, Promise.resolve(job));
      if (!head || head.status === 'IN_PROGRESS') return head;
      const started = job && (await batches.writes.run({ exec: head, req: this.startRequest(p, job) }));
      if (started) return started;
    }
    throw startNextThrottled();
  }

  /** spec 5.1: StartNext's transition of the head, with its timers (spec 3.7). */
  private startRequest(p: PlannedStart, job: JobSettings | undefined): TransitionRequest {
    const now = this.now();
    const inProgressDeadline = this.inProgressDeadline(job, now);
    const stepDeadline = p.stepTimeoutInMinutes !== undefined ? now + minutes(p.stepTimeoutInMinutes) : null;
    return {
      cause: 'start-next',
      to: 'IN_PROGRESS',
      now,
      // spec 0.6, 5.6: the head itself turning IN_PROGRESS changes neither notify nor notify-next.
      announce: false,
      changes: {
        started_at: now,
        ...(p.statusDetails !== undefined && { status_details: detailsJson(p.statusDetails) }),
        in_progress_deadline: inProgressDeadline,
        step_deadline: stepDeadline,
        timeout_at: earliest(inProgressDeadline, stepDeadline),
      },
    };
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

  private inProgressDeadline(job: JobSettings | undefined, now: number): number | null {
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
    const update: PlannedUpdate = { jobId, thingName, input, to: input.status as DeviceSettableStatus, statusDetails };
    const updated =
      this.counters === 'delta'
        ? await this.updateOnPostgres(update, expectedVersion)
        : await this.transitions.run((trx) => this.updateIn(trx, update, expectedVersion));
    if (this.counters === 'delta' && isTerminal(updated.status)) await this.completeIfDone(jobId);
    const job = input.includeJobDocument ? await jobs.findJob(this.ctx.db, jobId) : undefined;
    return {
      ...(input.includeJobExecutionState && { executionState: executionState(updated) }),
      ...(job && { jobDocument: await this.documentFor(job, thingName) }),
    };
  }

  /** The update in the caller's transaction, the job held (SQLite: the one writer; PostgreSQL: its lock shared). */
  private async updateIn(trx: Executor, u: PlannedUpdate, expectedVersion: number | undefined): Promise<ExecutionRow> {
    const job = await jobs.shareJob(trx, this.ctx.dialect, u.jobId);
    const row = job && (await executions.findExecution(trx, u.jobId, u.thingName, u.input.executionNumber));
    const req = this.checkUpdate(u, job, row, expectedVersion);
    const next = await applyTransition(trx, req.row, { ...req.transition, counters: this.counters });
    if (!next) throw await this.lostRace(trx, req.row, expectedVersion ?? req.row.version_number);
    return next;
  }

  /**
   * Issue 17: on PostgreSQL one read and, for most updates, one write statement
   * (single-statement-transition.ts); terminal updates with events or a possible retry take the
   * transactional path, which re-reads under the job lock.
   */
  private async updateOnPostgres(u: PlannedUpdate, expectedVersion: number | undefined): Promise<ExecutionRow> {
    const batches = this.postgresBatches!;
    const key = { jobId: u.jobId, thingName: u.thingName, executionNumber: u.input.executionNumber };
    const target = await batches.updates.run(key);
    const req = this.checkUpdate(u, target.job, target.execution, expectedVersion);
    if (!fitsOneStatement(u.to, req.job, target.eventsEnabled)) {
      return this.transitions.run((trx) => this.updateIn(trx, u, expectedVersion));
    }
    const next = await batches.writes.run({ exec: req.row, req: req.transition });
    if (!next) throw await this.lostRace(this.ctx.db, req.row, expectedVersion ?? req.row.version_number);
    return next;
  }

  /** spec 4.3: the checks of UpdateJobExecution on what was read, and the transition they allow. */
  private checkUpdate(
    u: PlannedUpdate,
    job: JobSettings | undefined,
    row: ExecutionRow | undefined,
    expectedVersion: number | undefined,
  ): { job: JobSettings; row: ExecutionRow; transition: TransitionRequest } {
    if (!job || !row || row.released_at === null)
      throw executionNotFound(u.jobId, u.thingName, u.input.executionNumber);
    if (expectedVersion !== undefined && expectedVersion !== row.version_number) {
      throw versionMismatch(row, expectedVersion);
    }
    if (!canTransition('device-update', row.status, u.to)) throw illegalTransition(row, u.to);
    const now = this.now();
    const changes = this.updateChanges(row, job, u.to, now, u.statusDetails, u.input.stepTimeoutInMinutes);
    return { job, row, transition: { cause: 'device-update', to: u.to, now, changes } };
  }

  private updateChanges(
    row: ExecutionRow,
    job: JobSettings,
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
   *
   * Checks of one job coalesce: devices that finish while a check runs wait for one more check,
   * which starts after their commits. Without this, a burst of devices finishing together each
   * took the job's exclusive lock (829 of 1,000 in bench/devices.ts), queueing on it again.
   */
  private completeIfDone(jobId: string): Promise<void> {
    const running = this.completionChecks.get(jobId);
    if (running) {
      running.again = true;
      return running.done;
    }
    const check = { again: false, done: Promise.resolve() };
    check.done = (async () => {
      try {
        do {
          check.again = false;
          await this.completeIfDoneNow(jobId);
        } while (check.again);
      } finally {
        this.completionChecks.delete(jobId);
      }
    })();
    this.completionChecks.set(jobId, check);
    return check.done;
  }

  private async completeIfDoneNow(jobId: string): Promise<void> {
    const job = await pendingThingsOf(this.ctx.db, jobId);
    if (!job || !jobs.looksDone(job)) return;
    await this.ctx.db.transaction().execute(async (trx) => {
      if (await jobs.lockJob(trx, this.ctx.dialect, jobId)) await jobs.completeIfDone(trx, jobId, this.now());
    });
  }

  private async lostRace(trx: Executor, row: ExecutionRow, expected: number): Promise<ServiceError> {
    const current = await executions.findById(trx, row.id);
    // Deleted meanwhile (DeleteJob, a deleted thing): gone, as a read now would say.
    if (!current) return executionNotFound(row.job_id, row.thing_name, row.execution_number);
    return versionMismatch(current, expected);
  }
}

const detailsJson = (details: Record<string, string>): string | null =>
  Object.keys(details).length === 0 ? null : JSON.stringify(details);
