/** The IPC messages between a bench and its device processes (bench/lib/device-worker.ts). */
interface ConnectPhase {
  phase: 'connect';
  /**
   * The MQTT endpoint, or several (the replicas of a scaled-out deployment): then the fleet's i-th
   * device, `things[i - first]` here, connects to `url[i % url.length]`.
   */
  url: string | string[];
  /** The fleet index of `things[0]` (default 0), so that several processes spread devices alike. */
  first?: number;
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
  /**
   * Each device, on its first notify-next naming an execution (or at once if one came before this
   * phase), publishes start-next then update SUCCEEDED for the job start-next gave it, `jobs`
   * times (default 1; when start-next finds nothing yet, it waits for the next notify-next);
   * resolves when every device of the process did (lastNotifiedAt, lastCompletedAt).
   */
  | { phase: 'jobsOnNotify'; jobs?: number }
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
  lastCompletedAt?: number;
  /** This process's resident set size (bytes) at the end of the phase. */
  rss?: number;
  error?: string;
}
