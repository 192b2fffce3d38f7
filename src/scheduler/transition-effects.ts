import { isTerminal } from '../jobs/execution-states.js';
import type { ExecutionRow } from '../jobs/executions.repository.js';
import type { CounterMode } from '../jobs/job-counters.js';
import type { Executor } from '../store/database.js';
import { emitExecutionEvent, EXECUTION_EVENT_OP } from './job-events.js';
import { queueRetryIfDue } from './retries.js';

/**
 * What the rollout engine adds to every execution that reaches a terminal status, called by
 * applyTransition (src/jobs/execution-transitions.ts) inside its transaction, after the counters
 * and before the job's completion check (a queued retry keeps a SNAPSHOT job from completing):
 * the jobExecution event (spec 5.9) and the retry (spec 3.8, 4.6).
 */
export async function afterTerminalTransition(
  trx: Executor,
  exec: ExecutionRow,
  now: number,
  counters: CounterMode = 'row',
): Promise<void> {
  if (!isTerminal(exec.status) || exec.status === 'QUEUED' || exec.status === 'IN_PROGRESS') return;
  await emitExecutionEvent(trx, exec.job_id, exec, EXECUTION_EVENT_OP[exec.status], now);
  await queueRetryIfDue(trx, exec, now, counters);
}
