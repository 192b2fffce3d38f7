/** The IPC messages between a bench and its device processes (bench/lib/device-worker.ts). */
interface ConnectPhase {
  phase: 'connect';
  url: string;
  cert: string;
  key: string;
  ca: string;
  things: string[];
  /** Connections opened at once by this process. */
  batch: number;
}

export type PhaseRequest =
  | ConnectPhase
  | { phase: 'echo'; rounds: number }
  | { phase: 'notified' }
  /** Resolves when every device of the process got a message on bench/<thing>/push. */
  | { phase: 'pushed' }
  | { phase: 'jobs'; jobId: string }
  | { phase: 'get'; rounds: number }
  | { phase: 'close' };

export interface PhaseReply {
  phase: PhaseRequest['phase'] | 'ready';
  /** Wall-clock ms (performance.timeOrigin + performance.now()), comparable across processes. */
  startedAt: number;
  endedAt: number;
  latencies: number[];
  lastNotifiedAt?: number;
  lastPushedAt?: number;
  /** This process's resident set size (bytes) at the end of the phase. */
  rss?: number;
  error?: string;
}
