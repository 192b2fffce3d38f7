import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { download, HttpStatusError } from './download.js';
import { checkFile, ProgressLog } from './file-checks.js';
import {
  DocumentError,
  fileEnvName,
  parseJobDocument,
  type Action,
  type FileSpec,
  type JobDocument,
} from './job-document.js';
import { JobsRejected, JobsTimeout, type DeviceExecution, type JobsMqttClient } from './jobs-client.js';
import type { AgentState, StateStore } from './state.js';
import { checkAction, detailValue, runAction } from './step-runner.js';
import type { CodeSignatureVerifier } from './verify.js';

/** One job execution on the device, from start-next to its final status (issue 9, spec 5). */
export interface RunContext {
  jobs: JobsMqttClient;
  thingName: string;
  store: StateStore;
  handlerDirs: readonly string[];
  enableRunCommand: boolean;
  signerCertificates: readonly string[];
  requireSignature: boolean;
  verifier: CodeSignatureVerifier;
  tls: { ca?: string; cert?: string; key?: string };
  log: (message: string) => void;
  /** Aborted when the agent shuts down: the job is left IN_PROGRESS and resumed after a restart. */
  shutdown: AbortSignal;
}

export type RunOutcome = 'reported' | 'stopped' | 'canceled';
type Final = NonNullable<AgentState['final']>;

class Canceled extends Error {}
class Refused extends Error {
  constructor(
    readonly status: 'FAILED' | 'REJECTED',
    readonly details: Record<string, string>,
  ) {
    super(details.reason);
  }
}

/** At most 10 pairs of non-empty strings without control characters (spec 4.3). */
export function statusDetails(d: Record<string, string | number | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(d)) {
    if (v === undefined) continue;
    const value = detailValue(String(v));
    if (value !== '' && Object.keys(out).length < 10) out[k] = value;
  }
  return out;
}

export class ExecutionRun {
  private readonly stop = new AbortController();
  private canceledAs?: string;
  private state!: AgentState;

  constructor(
    private readonly ctx: RunContext,
    private exec: DeviceExecution,
  ) {}

  get jobId(): string {
    return this.exec.jobId;
  }
  get executionNumber(): number | undefined {
    return this.exec.executionNumber;
  }

  /** The service canceled or removed the execution: stop what runs and forget the job. */
  cancel(status: string): void {
    this.canceledAs = status;
    this.stop.abort();
  }

  async run(): Promise<RunOutcome> {
    const onShutdown = (): void => this.stop.abort();
    this.ctx.shutdown.addEventListener('abort', onShutdown, { once: true });
    try {
      return await this.runOnce();
    } finally {
      this.ctx.shutdown.removeEventListener('abort', onShutdown);
    }
  }

  private async runOnce(): Promise<RunOutcome> {
    const { store, log } = this.ctx;
    const n = this.exec.executionNumber ?? 1;
    const saved = store.load();
    const resuming = saved?.jobId === this.exec.jobId && saved.executionNumber === n;
    this.state = resuming ? saved : { jobId: this.exec.jobId, executionNumber: n, nextStep: 0 };
    if (!resuming) store.save(this.state);
    log(`job ${this.jobId} (execution ${n}) ${resuming ? `resumed at step ${this.state.nextStep + 1}` : 'started'}`);
    try {
      if (!this.state.final) this.state.final = await this.execute();
      store.save(this.state);
      await this.report(this.state.final.status, this.state.final.statusDetails);
      log(
        `job ${this.jobId}: reported ${this.state.final.status}${this.state.final.statusDetails.reason ? ` (${this.state.final.statusDetails.reason})` : ''}`,
      );
      this.forget();
      return 'reported';
    } catch (err) {
      if (err instanceof Canceled || this.canceledAs !== undefined) {
        log(`job ${this.jobId}: ${this.canceledAs ?? 'canceled'} by the service; stopped`);
        this.forget();
        return 'canceled';
      }
      if (this.ctx.shutdown.aborted) {
        log(
          `job ${this.jobId}: interrupted at step ${this.state.nextStep + 1}; it resumes when the agent starts again`,
        );
        return 'stopped';
      }
      throw err;
    }
  }

  private forget(): void {
    this.ctx.store.clear();
    this.ctx.store.removeWorkDir(this.state.jobId, this.state.executionNumber);
  }

  /** Runs the document; answers the final status (a refusal is a final status too). */
  private async execute(): Promise<Final> {
    try {
      const doc = await this.document();
      const workDir = this.ctx.store.workDir(this.state.jobId, this.state.executionNumber);
      const files = Object.fromEntries(doc.files.map((f) => [f.name, join(workDir, 'files', f.name)]));
      // Refuse before doing anything if any step cannot run here (spec 4.2: REJECTED).
      for (const a of [...doc.steps, ...(doc.finalStep ? [doc.finalStep] : [])]) checkAction(a, { ...this.ctx, files });
      for (const f of doc.files) await this.fetchFile(f, files[f.name]!);
      return await this.runSteps(doc, files, workDir);
    } catch (err) {
      if (err instanceof DocumentError)
        return { status: 'REJECTED', statusDetails: statusDetails({ reason: err.message }) };
      if (err instanceof Refused) return { status: err.status, statusDetails: err.details };
      throw err;
    }
  }

  private async document(fresh = false): Promise<JobDocument> {
    if (fresh || this.exec.jobDocument === undefined) {
      // Asking again gets newly presigned URLs (spec 6.1: filled in on every request).
      const e = await this.call(() =>
        this.ctx.jobs.describe(this.jobId, { executionNumber: this.exec.executionNumber, includeJobDocument: true }),
      );
      if (!e) throw new Canceled();
      this.exec = { ...this.exec, jobDocument: e.jobDocument };
    }
    return parseJobDocument(this.exec.jobDocument);
  }

  private async fetchFile(f: FileSpec, dest: string): Promise<void> {
    const { log } = this.ctx;
    if (!existsSync(dest)) {
      await this.progress({ step: 'download', file: f.name, progress: '0%' });
      const progress = new ProgressLog(
        (text) => log(`job ${this.jobId}: ${f.name} ${text}`),
        (pct) => void this.progress({ step: 'download', file: f.name, progress: `${pct}%` }).catch(() => undefined),
      );
      let url = f.url;
      for (let attempt = 0; ; attempt++) {
        try {
          const r = await download(url, dest, {
            ...this.ctx.tls,
            signal: this.stop.signal,
            onProgress: (bytes, total) => progress.update(bytes, total ?? f.size),
          });
          log(
            `job ${this.jobId}: downloaded ${f.name} (${r.bytes} bytes${r.resumedFrom ? `, resumed at ${r.resumedFrom}` : ''})`,
          );
          break;
        } catch (err) {
          if (this.stop.signal.aborted) throw err;
          if (err instanceof HttpStatusError && err.status === 403 && attempt === 0) {
            log(`job ${this.jobId}: ${f.name}: URL refused (expired?); asking for the document again`);
            url = (await this.document(true)).files.find((x) => x.name === f.name)?.url ?? url;
            continue;
          }
          throw new Refused(
            'FAILED',
            statusDetails({ reason: `download of ${f.name} failed: ${(err as Error).message}`, file: f.name }),
          );
        }
      }
    }
    const check = await checkFile(f, dest, this.ctx);
    if (!check.ok) throw new Refused('REJECTED', statusDetails({ reason: check.reason, file: f.name }));
    if (check.signer) log(`job ${this.jobId}: ${f.name}: code signature verified (${check.signer})`);
  }

  private async runSteps(doc: JobDocument, files: Record<string, string>, workDir: string): Promise<Final> {
    const total = doc.steps.length;
    const env = {
      FLEETJOBS_THING_NAME: this.ctx.thingName,
      FLEETJOBS_JOB_ID: this.jobId,
      FLEETJOBS_EXECUTION_NUMBER: String(this.state.executionNumber),
      FLEETJOBS_WORK_DIR: workDir,
      ...Object.fromEntries(Object.entries(files).map(([name, p]) => [fileEnvName(name), p])),
    };
    let last = { stdout: '', reason: '' };
    const all: [Action, number][] = doc.steps.map((a, i) => [a, i]);
    if (doc.finalStep) all.push([doc.finalStep, total]);
    for (const [action, i] of all) {
      if (i < this.state.nextStep) continue;
      const label = i < total ? `${i + 1}/${total}` : 'final';
      await this.progress({ step: label, action: action.name });
      this.ctx.log(`job ${this.jobId}: step ${label} ${action.name}`);
      const r = await runAction(action, {
        handlerDirs: this.ctx.handlerDirs,
        enableRunCommand: this.ctx.enableRunCommand,
        env,
        files,
        cwd: workDir,
        signal: this.stop.signal,
        onOutput: (stream, line) => this.ctx.log(`job ${this.jobId} [${action.name}] ${stream}: ${line}`),
      });
      if (this.stop.signal.aborted) throw this.canceledAs !== undefined ? new Canceled() : new Error('stopped');
      if (!r.ok && !action.ignoreStepFailure) {
        return {
          status: 'FAILED',
          statusDetails: statusDetails({
            reason: `step ${label} ${action.name}: ${r.reason}`,
            stderr: r.stderr,
            ...(doc.includeStdOut && { stdout: r.stdout }),
          }),
        };
      }
      last = { stdout: r.stdout, reason: r.reason };
      this.state.nextStep = i + 1;
      this.ctx.store.save(this.state);
    }
    return {
      status: 'SUCCEEDED',
      statusDetails: statusDetails({
        reason: `${total} step${total === 1 ? '' : 's'} succeeded`,
        ...(doc.includeStdOut && { stdout: last.stdout }),
      }),
    };
  }

  private progress(details: Record<string, string>): Promise<unknown> {
    return this.report('IN_PROGRESS', statusDetails(details));
  }

  private report(status: Final['status'] | 'IN_PROGRESS', details: Record<string, string>): Promise<unknown> {
    return this.call(() =>
      this.ctx.jobs.update(this.jobId, { status, statusDetails: details, executionNumber: this.exec.executionNumber }),
    );
  }

  /**
   * A jobs request, retried while the connection is down or the service asks to retry (spec 5.5
   * InternalError, RequestThrottled); a terminal or missing execution means the job was canceled.
   */
  private async call<T>(fn: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      if (this.canceledAs !== undefined) throw new Canceled();
      try {
        return await fn();
      } catch (err) {
        if (err instanceof JobsRejected) {
          if (['InvalidStateTransition', 'ResourceNotFound', 'TerminalStateReached'].includes(err.code)) {
            this.canceledAs ??= err.executionState?.status ?? err.code;
            throw new Canceled();
          }
          if (!['InternalError', 'RequestThrottled'].includes(err.code)) throw err;
        } else if (!(err instanceof JobsTimeout) && this.ctx.jobs.mqtt.connected) throw err;
        if (this.ctx.shutdown.aborted) throw err;
        await sleep(Math.min(500 * 2 ** attempt, 10_000), undefined, { signal: this.ctx.shutdown }).catch(
          () => undefined,
        );
      }
    }
  }
}
