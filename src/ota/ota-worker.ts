import { EventEmitter } from 'node:events';
import type { ServiceContext } from '../context.js';
import { ERROR_CATALOGUE, ServiceError } from '../errors.js';
import { newUuid } from '../ids.js';
import { buildOtaUpdate, type OtaBuildDeps } from './ota-build.js';
import * as repo from './ota.repository.js';
import type { OtaUpdateRow } from './ota.repository.js';
import { OTA_BUILDING } from './ota.schemas.js';
import { startTickTimer } from '../tick-timer.js';

/** How long one replica holds an update it builds (clock time) before another may take over. */
export const OTA_LEASE_MS = 10 * 60_000;
/** Transient failures (the database, an I/O error) are retried this many times, then the update fails. */
export const OTA_MAX_ATTEMPTS = 3;
const RETRY_AFTER_MS = 30_000;
const BATCH = 10;

export interface OtaTickResult {
  completed: string[];
  failed: string[];
  retried: string[];
}

const isFinal = (row: OtaUpdateRow | undefined): boolean =>
  row === undefined || !OTA_BUILDING.includes(row.status as (typeof OTA_BUILDING)[number]);

/**
 * Moves OTA updates CREATE_PENDING -> CREATE_IN_PROGRESS -> CREATE_COMPLETE | CREATE_FAILED.
 * A deterministic `tick(now)` claims updates through the database (a lease per update, a
 * compare-and-set, as the rollout scheduler does), so any number of replicas may run it; `kick()`
 * runs a tick right after CreateOTAUpdate and `start()` a timer loop that picks up what a replica
 * that died left behind. Tests wait on `settled(id)` (an event), never on time.
 */
export class OtaWorker {
  readonly owner = newUuid();
  private readonly events = new EventEmitter();
  private chain: Promise<unknown> = Promise.resolve();
  private stopTimer: (() => void) | undefined;

  constructor(
    private readonly ctx: ServiceContext,
    private readonly deps: Omit<OtaBuildDeps, 'save' | 'ctx'>,
  ) {
    this.events.setMaxListeners(0);
  }

  /** One pass at `now`; passes of one instance run one after another. */
  tick(now: number): Promise<OtaTickResult> {
    const run = this.chain.then(() => this.runTick(now));
    this.chain = run.catch(() => undefined);
    return run;
  }

  /** A tick now, in the background (after CreateOTAUpdate). */
  kick(): void {
    this.tick(this.ctx.clock.now().getTime()).catch((err: unknown) =>
      this.ctx.logger.error({ err }, 'OTA worker tick failed'),
    );
  }

  /** Resolves with the update once it is CREATE_COMPLETE or CREATE_FAILED (undefined if deleted). */
  async settled(id: string): Promise<OtaUpdateRow | undefined> {
    const done = new Promise<void>((resolve) => {
      const on = (settledId: string): void => {
        if (settledId !== id) return;
        this.events.off('settled', on);
        resolve();
      };
      this.events.on('settled', on);
      void repo.findUpdate(this.ctx.db, id).then((row) => {
        if (isFinal(row)) on(id);
      });
    });
    await done;
    return repo.findUpdate(this.ctx.db, id);
  }

  private async runTick(now: number): Promise<OtaTickResult> {
    const result: OtaTickResult = { completed: [], failed: [], retried: [] };
    for (const id of await repo.claimable(this.ctx.db, now, BATCH)) {
      if (!(await repo.lease(this.ctx.db, id, this.owner, now, now + OTA_LEASE_MS))) continue;
      try {
        await this.process(id, now, result);
      } catch (err) {
        this.ctx.logger.error({ err, otaUpdateId: id }, 'OTA worker: could not record the outcome; retried later');
      }
    }
    return result;
  }

  private async process(id: string, now: number, result: OtaTickResult): Promise<void> {
    const row = await repo.findUpdate(this.ctx.db, id);
    if (!row || row.lease_owner !== this.owner) return;
    const save = async (changes: Parameters<typeof repo.updateLeased>[3]): Promise<void> => {
      await repo.updateLeased(this.ctx.db, id, this.owner, { ...changes, updated_at: this.ctx.clock.now().getTime() });
    };
    await save({ status: 'CREATE_IN_PROGRESS' });
    const current = { ...row, status: 'CREATE_IN_PROGRESS' };
    try {
      const built = await buildOtaUpdate({ ...this.deps, ctx: this.ctx, save: (c) => save(c) }, current);
      await save({
        status: 'CREATE_COMPLETE',
        aws_iot_job_id: built.jobId,
        stream_id: built.streamId,
        stream_created: built.streamCreated ? 1 : 0,
        files: JSON.stringify(built.files),
        lease_owner: null,
        lease_until: 0,
      });
      result.completed.push(id);
    } catch (err) {
      const transient = !(err instanceof ServiceError) || err.code === 'InternalFailure';
      if (transient && row.attempts < OTA_MAX_ATTEMPTS) {
        this.ctx.logger.warn({ err, otaUpdateId: id, attempt: row.attempts }, 'OTA update build failed; retrying');
        await save({ lease_owner: null, lease_until: now + RETRY_AFTER_MS });
        result.retried.push(id);
        return;
      }
      const code = err instanceof ServiceError ? ERROR_CATALOGUE[err.code].aws : 'InternalFailureException';
      const message = err instanceof Error ? err.message : String(err);
      await save({
        status: 'CREATE_FAILED',
        error_code: code,
        error_message: message,
        lease_owner: null,
        lease_until: 0,
      });
      await this.dropStream(id);
      this.ctx.logger.info({ otaUpdateId: id, code, message }, 'OTA update failed');
      result.failed.push(id);
    }
    this.events.emit('settled', id);
  }

  /** A failed update leaves no stream of its own behind. */
  private async dropStream(id: string): Promise<void> {
    const row = await repo.findUpdate(this.ctx.db, id);
    const streams = this.deps.streams();
    if (!row?.stream_id || row.stream_created !== 1 || !streams) return;
    await streams.deleteStream(row.stream_id).catch(() => undefined);
  }

  /** The thin timer loop: tick(clock.now()) every `intervalMs`. */
  start(intervalMs = 5000): void {
    if (this.stopTimer) return;
    this.stopTimer = startTickTimer(
      () => this.tick(this.ctx.clock.now().getTime()),
      intervalMs,
      (err) => this.ctx.logger.error({ err }, 'OTA worker tick failed'),
    );
  }

  /** Stops the loop and waits for a pass in flight. */
  async stop(): Promise<void> {
    this.stopTimer?.();
    this.stopTimer = undefined;
    await this.chain;
  }
}
