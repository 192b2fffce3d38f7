import type { Arns } from '../arns.js';
import { ServiceError } from '../errors.js';
import * as groupsRepo from '../registry/groups.repository.js';
import * as thingsRepo from '../registry/things.repository.js';
import { releasedAtCreation } from '../scheduler/job-plan.js';
import type { Executor } from '../store/database.js';
import { thingJobsChanged } from '../store/outbox.js';
import { OUTBOX_BATCH } from './execution-transitions.js';
import * as executions from './executions.repository.js';
import * as fanout from './fanout.repository.js';
import * as jobs from './jobs.repository.js';
import type { JobRow, JobTargetRow } from './jobs.repository.js';

/** spec 3.2: targets are thing and thing-group ARNs of this account and region. */
export function parseTargets(arns: Arns, jobId: string, targets: readonly string[]): JobTargetRow[] {
  const seen = new Map<string, JobTargetRow>();
  for (const arn of targets) {
    const parsed = arns.parseIot(arn);
    if (!parsed) {
      if (arn.startsWith('arn:aws:iot:')) {
        throw new ServiceError('ResourceNotFound', `Target ${arn} does not exist in this account and region.`);
      }
      throw new ServiceError('InvalidRequest', `Target '${arn}' is not a thing or thing group ARN.`);
    }
    if (parsed.resource !== 'thing' && parsed.resource !== 'thinggroup') {
      throw new ServiceError(
        'InvalidRequest',
        `Target ${arn} is a ${parsed.resource}; targets are things or thing groups.`,
      );
    }
    seen.set(arn, { job_id: jobId, arn, kind: parsed.resource === 'thing' ? 'thing' : 'group', name: parsed.id });
  }
  return [...seen.values()];
}

/** spec 2.7: an unknown target is ResourceNotFound. */
export async function requireTargetsExist(db: Executor, targets: readonly JobTargetRow[]): Promise<void> {
  for (const t of targets) {
    const exists = t.kind === 'thing' ? await thingsRepo.findThing(db, t.name) : await groupsRepo.findGroup(db, t.name);
    if (!exists) {
      const what = t.kind === 'thing' ? 'Thing' : 'Thing group';
      throw new ServiceError('ResourceNotFound', `${what} ${t.name} (target ${t.arn}) does not exist.`);
    }
  }
}

export interface TargetScope {
  /** Target groups with all their descendants (spec 3.2: a group target includes child groups). */
  groups: string[];
  things: string[];
}

export async function scopeOf(db: Executor, targets: readonly JobTargetRow[]): Promise<TargetScope> {
  const groupNames = targets.filter((t) => t.kind === 'group').map((t) => t.name);
  return {
    groups: await groupsRepo.selfAndDescendants(db, groupNames),
    things: targets.filter((t) => t.kind === 'thing').map((t) => t.name),
  };
}

/**
 * Creates the executions of `add` (minus things `except` already covered) in one INSERT ... SELECT,
 * counts them, and tells the notifier about each new execution in batches, all in the caller's
 * transaction. Returns the number created.
 */
export async function rollOut(
  trx: Executor,
  job: JobRow,
  add: TargetScope,
  now: number,
  except?: TargetScope,
): Promise<number> {
  const released = releasedAtCreation(job);
  const before = await fanout.maxExecutionId(trx);
  const created = await fanout.fanOut(trx, {
    jobId: job.job_id,
    namespaceId: job.namespace_id,
    now,
    groups: add.groups,
    things: add.things,
    exceptGroups: except?.groups,
    exceptThings: except?.things,
    continueNumbering: except !== undefined,
    released,
  });
  if (created === 0) return 0;
  // A thing that had the job before (and left its targets) is counted by its new execution only.
  const superseded = except !== undefined ? await fanout.supersededStatuses(trx, job.job_id, before) : {};
  await jobs.addToCounters(trx, job.job_id, { ...superseded, QUEUED: created });
  // Held-back executions are announced when the rollout engine releases them.
  if (!released) return created;
  let after = before;
  for (;;) {
    const page = await fanout.newExecutionsPage(trx, job.job_id, after, OUTBOX_BATCH);
    if (page.length === 0) break;
    await thingJobsChanged(
      trx,
      page.map((r) => r.thing_name),
      job.namespace_id,
      now,
    );
    after = page[page.length - 1]!.id;
  }
  return created;
}

/** Announces to the notifier every thing with an execution of the job in `statuses`. */
export async function announceThingsInStatus(
  trx: Executor,
  job: JobRow,
  statuses: Parameters<typeof executions.thingsInStatus>[2],
  now: number,
): Promise<void> {
  let after: string | undefined;
  for (;;) {
    const names = await executions.thingsInStatus(trx, job.job_id, statuses, after, OUTBOX_BATCH);
    if (names.length === 0) return;
    await thingJobsChanged(trx, names, job.namespace_id, now);
    after = names[names.length - 1];
  }
}
