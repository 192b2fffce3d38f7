import {
  closeSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';

/**
 * What the agent remembers across restarts (issue 9: pick up an IN_PROGRESS job again): which
 * execution it works on, the next step to run, and, once decided, the final status still to be
 * reported. Written atomically (temp file, fsync, rename) before each step starts.
 */
export interface AgentState {
  jobId: string;
  executionNumber: number;
  /** Index into steps of the step to run next; steps.length means finalStep (if any) is next. */
  nextStep: number;
  /** Set once the outcome is known: the update to send (again, after a restart). */
  final?: { status: 'SUCCEEDED' | 'FAILED' | 'REJECTED'; statusDetails: Record<string, string> };
}

const FILE = 'state.json';

export class StateStore {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  load(): AgentState | undefined {
    const path = join(this.dir, FILE);
    if (!existsSync(path)) return undefined;
    try {
      const s = JSON.parse(readFileSync(path, 'utf8')) as AgentState;
      return typeof s.jobId === 'string' && typeof s.executionNumber === 'number' ? s : undefined;
    } catch {
      // A damaged state file means "no job in hand": the service still knows the truth.
      return undefined;
    }
  }

  save(state: AgentState): void {
    const path = join(this.dir, FILE);
    const tmp = `${path}.tmp`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, JSON.stringify(state));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  }

  clear(): void {
    rmSync(join(this.dir, FILE), { force: true });
  }

  /** Where an execution's downloads live; kept across restarts so downloads resume. */
  workDir(jobId: string, executionNumber: number): string {
    const dir = join(this.dir, 'jobs', `${jobId}.${executionNumber}`);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return dir;
  }

  removeWorkDir(jobId: string, executionNumber: number): void {
    rmSync(join(this.dir, 'jobs', `${jobId}.${executionNumber}`), { recursive: true, force: true });
  }
}
