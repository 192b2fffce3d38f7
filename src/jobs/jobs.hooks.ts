import { sql } from 'kysely';
import type { ServiceContext } from '../context.js';
import * as groupsRepo from '../registry/groups.repository.js';
import { MAX_ALL_GROUPS_PER_THING } from '../registry/registry.schemas.js';
import type { MembershipChange, RegistryHooks } from '../registry/registry.hooks.js';
import type { Dialect, Executor } from '../store/database.js';
import { thingJobsChanged } from '../store/outbox.js';
import { isPending } from './execution-states.js';
import { applyTransition } from './execution-transitions.js';
import * as executions from './executions.repository.js';
import { pastEndTime } from './job-configs.js';
import * as jobs from './jobs.repository.js';
import type { JobRow } from './jobs.repository.js';

const MEMBER_PAGE = 1000;
/** The two-key advisory lock space (apart from the one-key per-thing locks): fleetjobs, memberships. */
const MEMBERSHIPS_LOCK = 0x666a6d;

/**
 * Holds off group membership changes until the caller's transaction ends, and waits for those in
 * flight: a CONTINUOUS job's fan-out then sees every membership committed before it, and every
 * later change sees the job (else a thing joining a target group while the job is created would
 * get no execution from either side).
 */
export async function excludeMembershipChanges(trx: Executor, dialect: Dialect): Promise<void> {
  if (dialect !== 'postgres') return;
  await sql`select pg_advisory_xact_lock(${MEMBERSHIPS_LOCK}, 0)`.execute(trx);
}

/**
 * What the registry's changes mean for jobs, inside the registry's own transaction (DESIGN.md
 * rule 5): a thing that comes under a CONTINUOUS job's targets gets a QUEUED execution, one that
 * leaves them has its pending execution REMOVED (spec 3.2), and a deleted thing's pending
 * executions become REMOVED before its executions go with it (spec 2.7).
 */
export class JobsRegistryHooks implements RegistryHooks {
  constructor(private readonly ctx: ServiceContext) {}

  private now(): number {
    return this.ctx.clock.now().getTime();
  }

  async beforeThingDeleted(trx: Executor, thingName: string): Promise<void> {
    const pending = await executions.allPendingOfThing(trx, thingName);
    if (pending.length > 0) {
      await jobs.lockJobs(
        trx,
        this.ctx.dialect,
        pending.map((p) => p.job_id),
      );
      const now = this.now();
      for (const p of pending) {
        const current = await executions.findById(trx, p.id);
        if (current && isPending(current.status)) {
          await applyTransition(trx, current, { cause: 'remove', to: 'REMOVED', now });
        }
      }
    }
    // The REMOVED counts stay on the jobs (numberOfRemovedThings); the rows go with the thing.
    await executions.deleteExecutionsOfThing(trx, thingName);
  }

  async afterMembershipChanged(trx: Executor, change: MembershipChange): Promise<void> {
    await this.serializeMemberships(trx, change.thingName);
    const current = await groupsRepo.groupsOfThing(trx, change.thingName, undefined, MAX_ALL_GROUPS_PER_THING);
    const without = current.filter((g) => g !== change.groupName);
    const withG = [...without, change.groupName];
    if (change.kind === 'added') await this.reconcile(trx, change.thingName, without, withG);
    else await this.reconcile(trx, change.thingName, withG, without);
  }

  async beforeGroupDeleted(trx: Executor, groupName: string): Promise<void> {
    const reach = [...(await groupsRepo.ancestorsOf(trx, groupName)).map((g) => g.name), groupName];
    if ((await jobs.continuousJobsTargeting(trx, reach)).length === 0) return;
    await this.excludeMemberships(trx);
    let after: string | undefined;
    for (;;) {
      const members = await groupsRepo.listMemberThings(trx, [groupName], after, MEMBER_PAGE);
      for (const thing of members.slice(0, MEMBER_PAGE)) {
        const current = await groupsRepo.groupsOfThing(trx, thing, undefined, MAX_ALL_GROUPS_PER_THING);
        await this.reconcile(
          trx,
          thing,
          current,
          current.filter((g) => g !== groupName),
        );
      }
      if (members.length <= MEMBER_PAGE) return;
      after = members[MEMBER_PAGE - 1];
    }
  }

  /**
   * One thing's membership changes are reconciled one after another (issue 10): two transactions
   * that each take the thing out of one of its two target groups would otherwise each still see
   * the other group (uncommitted) and neither would remove the execution. Held to the commit; on
   * PostgreSQL the next one then reads the groups as the first left them (READ COMMITTED). SQLite
   * runs one transaction at a time anyway.
   */
  private async serializeMemberships(trx: Executor, thingName: string): Promise<void> {
    if (this.ctx.dialect !== 'postgres') return;
    await sql`select pg_advisory_xact_lock_shared(${MEMBERSHIPS_LOCK}, 0)`.execute(trx);
    await sql`select pg_advisory_xact_lock(hashtext(${`fleetjobs/membership/${thingName}`}))`.execute(trx);
  }

  /**
   * A group deletion reconciles all its members at once: it waits for the membership changes in
   * flight and holds off new ones until it commits (one lock instead of one per member, so a
   * 100,000-thing group does not fill PostgreSQL's lock table). Taken before the group row is
   * touched; a change adding a thing to this very group at the same moment may meet a deadlock
   * error (and is refused, as it would be a moment later).
   */
  private async excludeMemberships(trx: Executor): Promise<void> {
    await excludeMembershipChanges(trx, this.ctx.dialect);
  }

  /** Groups whose targeting reaches a thing that is a member of `memberships`. */
  private async reach(trx: Executor, memberships: readonly string[]): Promise<Set<string>> {
    const out = new Set<string>();
    for (const g of memberships) {
      out.add(g);
      for (const a of await groupsRepo.ancestorsOf(trx, g)) out.add(a.name);
    }
    return out;
  }

  private async reconcile(trx: Executor, thingName: string, before: string[], after: string[]): Promise<void> {
    const was = await this.reach(trx, before);
    const is = await this.reach(trx, after);
    const candidates = await jobs.continuousJobsTargeting(trx, [...new Set([...was, ...is])]);
    if (candidates.length === 0) return;
    const locked = await jobs.lockJobs(trx, this.ctx.dialect, candidates);
    const targets = await jobs.targetsOf(
      trx,
      locked.map((j) => j.job_id),
    );
    for (const job of locked) {
      if (job.status !== 'IN_PROGRESS' || job.target_selection !== 'CONTINUOUS') continue;
      const mine = targets.filter((t) => t.job_id === job.job_id);
      if (mine.some((t) => t.kind === 'thing' && t.name === thingName)) continue; // targeted by name: unaffected
      const covered = (groups: Set<string>) => mine.some((t) => t.kind === 'group' && groups.has(t.name));
      const coveredBefore = covered(was);
      const coveredAfter = covered(is);
      if (!coveredBefore && coveredAfter) await this.queue(trx, job, thingName);
      if (coveredBefore && !coveredAfter) await this.remove(trx, job, thingName);
    }
  }

  /** spec 3.2: a thing joining a target group gets the job at once (the rollout rate does not apply). */
  private async queue(trx: Executor, job: JobRow, thingName: string): Promise<void> {
    const now = this.now();
    // spec 3.9: past endTime the job creates no new executions (issue 15: STOP_ROLLOUT stops joiners too).
    if (pastEndTime(job.scheduling_config, now)) return;
    if (await executions.pendingOfJobAndThing(trx, job.job_id, thingName)) return;
    const latest = await executions.findExecution(trx, job.job_id, thingName);
    await executions.insertExecution(trx, {
      job_id: job.job_id,
      thing_name: thingName,
      execution_number: (latest?.execution_number ?? 0) + 1,
      namespace_id: job.namespace_id,
      status: 'QUEUED',
      status_details: null,
      force_canceled: 0,
      version_number: 1,
      retry_attempt: 0,
      queued_at: now,
      started_at: null,
      last_updated_at: now,
      in_progress_deadline: null,
      step_deadline: null,
      timeout_at: null,
      // Released at once: the rollout rate and staged waves do not hold back joiners (spec 3.2).
      released_at: now,
      rollout_wave: null,
    });
    // Counted as things (issue 15): a thing coming back leaves the status of its previous execution.
    await jobs.addToCounters(trx, job.job_id, { QUEUED: 1, ...(latest && { [latest.status]: -1 }) });
    await thingJobsChanged(trx, [thingName], job.namespace_id, now);
  }

  /** spec 3.2: a thing that leaves every target group has its pending execution REMOVED. */
  private async remove(trx: Executor, job: JobRow, thingName: string): Promise<void> {
    const pending = await executions.pendingOfJobAndThing(trx, job.job_id, thingName);
    if (pending) await applyTransition(trx, pending, { cause: 'remove', to: 'REMOVED', now: this.now() });
  }
}
