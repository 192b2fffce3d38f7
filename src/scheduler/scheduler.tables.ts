/** The rollout engine's per-job state (one row per job the scheduler has looked at). */
export interface JobRolloutsTable {
  job_id: string;
  /** Executions the rollout has released so far (retries and CONTINUOUS joins not counted). */
  released: number;
  /** The releases of the last 60 s, JSON [[epochMs, n], ...] (src/scheduler/release-window.ts). */
  recent_releases: string | null;
  /** 0-based staged-rollout wave being released. */
  wave: number;
  /** 1 while the rollout is held: a failed success gate (onGateFailure PAUSE) or UpdateJob rolloutAction PAUSE. */
  paused: number;
  pause_reason: string | null;
  /** Who paused it: GATE or OPERATOR (PAUSE_KINDS); null while not paused. */
  pause_kind: string | null;
  /** 1 once the schedulingConfig endBehavior has been applied. */
  end_applied: number;
  /** 1 after endBehavior STOP_ROLLOUT: nothing more is released. */
  stopped: number;
  /** The scheduler replica working on the job, until lease_until (epoch ms of its tick time). */
  lease_owner: string | null;
  lease_until: number;
  updated_at: number;
}

/** UpdateEventConfigurations (spec 2.7, 5.9): one row per event type ever configured. */
export interface EventConfigurationsTable {
  event_type: string;
  enabled: number;
  created_at: number;
  updated_at: number;
}

declare module '../store/database.js' {
  interface Database {
    job_rollouts: JobRolloutsTable;
    event_configurations: EventConfigurationsTable;
  }
}
