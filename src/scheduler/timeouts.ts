import type { ServiceContext } from '../context.js';
import { applyTransition } from '../jobs/execution-transitions.js';
import * as executions from '../jobs/executions.repository.js';
import * as jobs from '../jobs/jobs.repository.js';
import * as repo from './rollout.repository.js';
import { yieldToEventLoop } from '../store/yield.js';

const BATCH = 200;

/**
 * spec 3.7 / 4.6: IN_PROGRESS executions whose timer (the earlier of the in-progress and the step
 * deadline) has run out become TIMED_OUT through applyTransition, which announces them (notify,
 * notify-next), writes the timed_out event and queues a retry when the config allows. Each is a
 * compare-and-set under the job lock, so two scheduler replicas never time one out twice.
 * Returns how many this call timed out.
 */
export async function timeOutDue(ctx: ServiceContext, now: number): Promise<number> {
  let total = 0;
  for (;;) {
    const due = await repo.dueTimeouts(ctx.db, now, BATCH);
    let done = 0;
    for (const d of due) {
      const timedOut = await ctx.db.transaction().execute(async (trx) => {
        if (!(await jobs.lockJob(trx, ctx.dialect, d.job_id))) return false;
        const current = await executions.findById(trx, d.id);
        if (current?.status !== 'IN_PROGRESS' || current.timeout_at === null || current.timeout_at > now) return false;
        return (await applyTransition(trx, current, { cause: 'timeout', to: 'TIMED_OUT', now })) !== undefined;
      });
      if (timedOut) done++;
    }
    total += done;
    // Rows another replica took meanwhile drop out of the scan; stop when a page made no progress.
    if (due.length < BATCH || done === 0) return total;
    await yieldToEventLoop();
  }
}
