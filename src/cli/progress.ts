/**
 * `jobs watch`: progress of a job from its execution counters (spec 3.10 jobProcessDetails).
 * Pure: the tracker takes timestamps, the renderers return text.
 */
export const WATCH_STATES = [
  ['QUEUED', 'numberOfQueuedThings'],
  ['IN_PROGRESS', 'numberOfInProgressThings'],
  ['SUCCEEDED', 'numberOfSucceededThings'],
  ['FAILED', 'numberOfFailedThings'],
  ['REJECTED', 'numberOfRejectedThings'],
  ['TIMED_OUT', 'numberOfTimedOutThings'],
  ['CANCELED', 'numberOfCanceledThings'],
  ['REMOVED', 'numberOfRemovedThings'],
] as const;

export type WatchState = (typeof WATCH_STATES)[number][0];
export type Counts = Record<WatchState, number>;

const PENDING: readonly WatchState[] = ['QUEUED', 'IN_PROGRESS'];
/** Outcomes that make `jobs watch` exit 8 (README "Exit codes"); REMOVED means the thing went away. */
export const UNSUCCESSFUL: readonly WatchState[] = ['FAILED', 'REJECTED', 'TIMED_OUT', 'CANCELED'];

export function countsOf(details: Record<string, unknown> | undefined): Counts {
  const out = {} as Counts;
  for (const [state, key] of WATCH_STATES) {
    const v = details?.[key];
    out[state] = typeof v === 'number' ? v : 0;
  }
  return out;
}

export const total = (c: Counts): number => WATCH_STATES.reduce((n, [s]) => n + c[s], 0);
export const pending = (c: Counts): number => PENDING.reduce((n, s) => n + c[s], 0);
export const finished = (c: Counts): number => total(c) - pending(c);

export interface Snapshot {
  jobId: string;
  status: string;
  counts: Counts;
  atMs: number;
  elapsedMs: number;
  /** Executions reaching a final state per second, over the recent window. */
  rate: number;
  /** Seconds until every pending execution is finished at that rate; undefined if unknown. */
  etaSeconds?: number;
  /** Our staged-rollout extension's state (DescribeJob `stagedRolloutStatus`), when the job has waves. */
  stage?: StageStatus;
  /** Where a held-back rollout stands (DescribeJob `rolloutStatus`, fleetjobs extension). */
  rollout?: RolloutStatus;
  /** Retries queued so far (DescribeJob `attemptDetails`): the counts above are things, not attempts. */
  retries?: number;
}

export interface RolloutStatus {
  releasedThings: number;
  waitingForRate: number;
  waitingForWindow: number;
  waitingForWave: number;
  waitingForResume: number;
  /** Epoch seconds. */
  nextReleaseAt?: number;
  paused?: boolean;
  stopped?: boolean;
}

export function rolloutOf(v: unknown): RolloutStatus | undefined {
  const r = v as Partial<RolloutStatus> | undefined;
  return r && typeof r.releasedThings === 'number' && typeof r.waitingForRate === 'number'
    ? (r as RolloutStatus)
    : undefined;
}

export function retriesOf(v: unknown): number | undefined {
  const n = (v as { numberOfRetryAttempts?: unknown } | undefined)?.numberOfRetryAttempts;
  return typeof n === 'number' ? n : undefined;
}

const clockTime = (epochSeconds: number): string => new Date(epochSeconds * 1000).toISOString().slice(11, 19);

/** `released 10; waiting: 20 for the rate (next 12:01:00), 0 for a window` and the like. */
export function rolloutText(r: RolloutStatus): string {
  const waits = [
    [r.waitingForRate, 'for the rate'],
    [r.waitingForWindow, 'for a window'],
    [r.waitingForWave, 'for later waves'],
    [r.waitingForResume, 'for resume'],
  ] as const;
  const parts = waits.filter(([n], i) => n > 0 || i < 2).map(([n, what]) => `${n} ${what}`);
  const next = r.nextReleaseAt !== undefined ? ` (next release ${clockTime(r.nextReleaseAt)} UTC)` : '';
  const state = r.stopped ? ' stopped' : r.paused ? ' paused' : '';
  return `released ${r.releasedThings}; waiting: ${parts.join(', ')}${next}${state}`;
}

export interface StageStatus {
  status: string;
  currentWave: number;
  waveCount: number;
  releasedThings: number;
  totalThings: number;
  pauseReason?: string;
}

export function stageOf(v: unknown): StageStatus | undefined {
  const s = v as Partial<StageStatus> | undefined;
  return s && typeof s.status === 'string' && typeof s.currentWave === 'number' ? (s as StageStatus) : undefined;
}

const stageText = (s: StageStatus): string =>
  `wave ${s.currentWave}/${s.waveCount} ${s.status} (${s.releasedThings}/${s.totalThings} released)` +
  (s.pauseReason ? `: ${s.pauseReason}` : '');

/** Rate over a sliding window of samples, so a pause in the rollout shows up quickly. */
export class ProgressTracker {
  private readonly samples: { atMs: number; finished: number }[] = [];

  constructor(
    private readonly startedMs: number,
    private readonly windowMs = 30_000,
  ) {}

  sample(
    jobId: string,
    status: string,
    counts: Counts,
    atMs: number,
    stage?: StageStatus,
    extra: { rollout?: RolloutStatus; retries?: number } = {},
  ): Snapshot {
    this.samples.push({ atMs, finished: finished(counts) });
    while (this.samples.length > 2 && this.samples[0]!.atMs < atMs - this.windowMs) this.samples.shift();
    const first = this.samples[0]!;
    const spanS = (atMs - first.atMs) / 1000;
    const rate = spanS > 0 ? Math.max(0, (finished(counts) - first.finished) / spanS) : 0;
    const left = pending(counts);
    const etaSeconds = left === 0 ? 0 : rate > 0 ? Math.ceil(left / rate) : undefined;
    return {
      jobId,
      status,
      counts,
      atMs,
      elapsedMs: atMs - this.startedMs,
      rate,
      ...(etaSeconds !== undefined && { etaSeconds }),
      ...(stage && { stage }),
      ...(extra.rollout && { rollout: extra.rollout }),
      ...(extra.retries !== undefined && { retries: extra.retries }),
    };
  }
}

export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
}

export function bar(fraction: number, width: number): string {
  const full = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return '█'.repeat(full) + '░'.repeat(width - full);
}

const rateText = (snap: Snapshot): string => `${snap.rate.toFixed(snap.rate >= 10 ? 0 : 1)}/s`;
const etaText = (snap: Snapshot): string =>
  snap.etaSeconds === undefined ? '?' : snap.etaSeconds === 0 ? '0:00' : formatDuration(snap.etaSeconds);

/** The multi-line view for a terminal: one bar per state that has (or had) executions. */
export function renderBars(snap: Snapshot, columns = 80): string[] {
  const all = total(snap.counts);
  const width = Math.max(10, Math.min(40, columns - 32));
  const lines = [
    `job ${snap.jobId}  ${snap.status}  ${finished(snap.counts)}/${all} finished  elapsed ${formatDuration(snap.elapsedMs / 1000)}`,
  ];
  if (snap.stage) lines.push(`  ${stageText(snap.stage)}`);
  if (snap.rollout) lines.push(`  ${rolloutText(snap.rollout)}`);
  for (const [state] of WATCH_STATES) {
    const n = snap.counts[state];
    if (n === 0 && !['QUEUED', 'IN_PROGRESS', 'SUCCEEDED'].includes(state)) continue;
    const pct = all === 0 ? 0 : (100 * n) / all;
    lines.push(
      `  ${state.padEnd(11)} ${bar(all === 0 ? 0 : n / all, width)} ${String(n).padStart(6)} ${pct.toFixed(1).padStart(5)}%`,
    );
  }
  const retries = snap.retries ? `  (things; ${snap.retries} retries)` : '';
  lines.push(`  rate ${rateText(snap)}  ETA ${etaText(snap)}${retries}`);
  return lines;
}

/** One plain line, for logs and pipes. */
export function renderLine(snap: Snapshot, isoTime: string): string {
  const counts = WATCH_STATES.filter(([s]) => snap.counts[s] > 0 || PENDING.includes(s) || s === 'SUCCEEDED')
    .map(([s]) => `${s.toLowerCase()}=${snap.counts[s]}`)
    .join(' ');
  const all = total(snap.counts);
  const stage = snap.stage ? ` wave=${snap.stage.currentWave}/${snap.stage.waveCount}:${snap.stage.status}` : '';
  const r = snap.rollout;
  const rollout = r
    ? ` released=${r.releasedThings} waiting_rate=${r.waitingForRate} waiting_window=${r.waitingForWindow}` +
      (r.waitingForWave ? ` waiting_wave=${r.waitingForWave}` : '') +
      (r.waitingForResume ? ` waiting_resume=${r.waitingForResume}` : '')
    : '';
  const retries = snap.retries ? ` retries=${snap.retries}` : '';
  return `${isoTime} ${snap.jobId} ${snap.status} ${counts} finished=${finished(snap.counts)}/${all}${stage}${rollout}${retries} rate=${rateText(snap)} eta=${etaText(snap)}`;
}

export const sameStage = (a: StageStatus | undefined, b: StageStatus | undefined): boolean =>
  a?.status === b?.status && a?.currentWave === b?.currentWave && a?.releasedThings === b?.releasedThings;

export const sameRollout = (a: RolloutStatus | undefined, b: RolloutStatus | undefined): boolean =>
  a?.releasedThings === b?.releasedThings &&
  a?.waitingForRate === b?.waitingForRate &&
  a?.waitingForWindow === b?.waitingForWindow &&
  a?.waitingForResume === b?.waitingForResume;

export const sameCounts = (a: Counts | undefined, b: Counts): boolean =>
  a !== undefined && WATCH_STATES.every(([s]) => a[s] === b[s]);

export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`;
}

/** One transfer line: `[████░░░░] 45% 12.3 MB/27.0 MB 5.1 MB/s`. */
export function renderTransfer(label: string, bytes: number, total: number, elapsedMs: number, width = 24): string {
  const fraction = total === 0 ? 1 : bytes / total;
  const rate = elapsedMs > 0 ? (bytes * 1000) / elapsedMs : 0;
  return `${label} [${bar(fraction, width)}] ${Math.floor(fraction * 100)}% ${formatBytes(bytes)}/${formatBytes(total)} ${formatBytes(rate)}/s`;
}
