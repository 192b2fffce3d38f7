import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { num } from './args.js';
import { apiCommand, type ApiOptions, type CliContext, type Session } from './context.js';
import { CliError } from './exit-codes.js';
import { describeJob } from './jobs.command.js';
import {
  countsOf,
  finished,
  formatDuration,
  ProgressTracker,
  renderBars,
  renderLine,
  retriesOf,
  rolloutOf,
  sameCounts,
  sameRollout,
  sameStage,
  stageOf,
  total,
  UNSUCCESSFUL,
  type Counts,
  type Snapshot,
} from './progress.js';

export interface WatchOptions extends ApiOptions {
  interval?: number;
  timeout?: number;
}

const FINAL_STATUSES = ['COMPLETED', 'CANCELED'];

/** `fleetjobs jobs watch JOB`: live progress until the job is COMPLETED or CANCELED. */
export function registerWatchCommand(jobs: Command, ctx: CliContext): void {
  apiCommand<WatchOptions>(
    ctx,
    jobs,
    'watch <jobId>',
    'follow a job live: a bar per execution state, rate and ETA, until it completes or is canceled',
    (c) =>
      c
        .option('--interval <seconds>', 'how often to poll DescribeJob (default 1)', num('--interval', 0.1, 3600))
        .option(
          '--timeout <seconds>',
          'stop watching after this long (exit 8 if the job has not completed)',
          num('--timeout', 0.1, 1e9),
        ),
    (s, [jobId], o) => watch(s, jobId!, o),
  );
}

class Screen {
  private drawn = 0;
  private last?: Counts;
  private lastStatus?: string;
  private lastStage?: Snapshot['stage'];
  private lastRollout?: Snapshot['rollout'];

  constructor(private readonly s: Session) {}

  private get tty(): boolean {
    return this.s.io.stdout.isTTY === true && !this.s.out.json;
  }

  show(snap: Snapshot, force = false): void {
    const changed =
      !sameCounts(this.last, snap.counts) ||
      this.lastStatus !== snap.status ||
      !sameStage(this.lastStage, snap.stage) ||
      !sameRollout(this.lastRollout, snap.rollout);
    this.lastRollout = snap.rollout;
    this.last = snap.counts;
    this.lastStatus = snap.status;
    this.lastStage = snap.stage;
    if (this.tty) {
      const lines = renderBars(snap, this.s.io.stdout.columns ?? 80);
      // Move up over the previous drawing and clear it, then draw again.
      const up = this.drawn > 0 ? `\x1b[${this.drawn}A\x1b[0J` : '';
      this.s.io.stdout.write(`${up}${lines.join('\n')}\n`);
      this.drawn = lines.length;
    } else if (changed || force) {
      // Pipes and logs get a line only when something changed.
      if (this.s.out.json) this.s.out.write(JSON.stringify(snapshotJson(snap)));
      else this.s.out.write(renderLine(snap, new Date(snap.atMs).toISOString()));
    }
  }
}

const snapshotJson = (snap: Snapshot) => ({
  time: new Date(snap.atMs).toISOString(),
  jobId: snap.jobId,
  status: snap.status,
  counts: snap.counts,
  finished: finished(snap.counts),
  total: total(snap.counts),
  ratePerSecond: Number(snap.rate.toFixed(3)),
  etaSeconds: snap.etaSeconds ?? null,
  ...(snap.stage && { stagedRolloutStatus: snap.stage }),
  ...(snap.rollout && { rolloutStatus: snap.rollout }),
  ...(snap.retries !== undefined && { retries: snap.retries }),
});

export async function watch(s: Session, jobId: string, o: WatchOptions): Promise<void> {
  const clock = s.io.clock;
  const signal = s.io.interrupts();
  const started = clock.now().getTime();
  const tracker = new ProgressTracker(started);
  const screen = new Screen(s);
  const intervalMs = (o.interval ?? 1) * 1000;
  const deadline = o.timeout !== undefined ? started + o.timeout * 1000 : Infinity;
  let snap: Snapshot;
  for (;;) {
    const job = await describeJob(s, jobId);
    const status = String(job.status);
    snap = tracker.sample(
      jobId,
      status,
      countsOf(job.jobProcessDetails as Record<string, unknown>),
      clock.now().getTime(),
      stageOf(job.stagedRolloutStatus),
      { rollout: rolloutOf(job.rolloutStatus), retries: retriesOf(job.attemptDetails) },
    );
    screen.show(snap);
    if (FINAL_STATUSES.includes(status) || signal.aborted || clock.now().getTime() >= deadline) break;
    try {
      await sleep(Math.min(intervalMs, Math.max(0, deadline - clock.now().getTime())), undefined, { signal });
    } catch {
      // Ctrl-C: fall through to the summary.
    }
    if (signal.aborted) break;
  }
  finish(s, snap, signal.aborted);
}

function finish(s: Session, snap: Snapshot, interrupted: boolean): void {
  const bad = UNSUCCESSFUL.filter((st) => snap.counts[st] > 0).map((st) => `${snap.counts[st]} ${st.toLowerCase()}`);
  const summary =
    `job ${snap.jobId} ${snap.status} after ${formatDuration(snap.elapsedMs / 1000)}: ` +
    `${snap.counts.SUCCEEDED} of ${total(snap.counts)} succeeded` +
    (bad.length ? `, ${bad.join(', ')}` : '');
  if (interrupted) throw new CliError('interrupted', `stopped watching; ${summary}`);
  if (!FINAL_STATUSES.includes(snap.status)) throw new CliError('jobNotSucceeded', `timed out watching; ${summary}`);
  if (snap.status === 'CANCELED' || bad.length > 0) throw new CliError('jobNotSucceeded', summary);
  s.out.note(summary);
}
