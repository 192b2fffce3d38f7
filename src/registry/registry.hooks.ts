import type { Executor } from '../store/database.js';

/**
 * What the registry tells other features inside its own transaction, so that e.g. a CONTINUOUS
 * job learns of a new member in the same commit as the membership itself (DESIGN.md rule 5).
 * A hook may throw a ServiceError to refuse the change.
 */
export interface RegistryHooks {
  beforeThingDeleted?(trx: Executor, thingName: string): Promise<void>;
  /** A thing was created, or its attributes, type, static groups or connectivity changed. */
  afterThingChanged?(trx: Executor, thingName: string): Promise<void>;
  afterMembershipChanged?(trx: Executor, change: MembershipChange): Promise<void>;
  beforeGroupDeleted?(trx: Executor, groupName: string): Promise<void>;
  /** The group and its memberships are gone (dynamic groups that query thingGroupNames follow). */
  afterGroupDeleted?(trx: Executor, groupName: string): Promise<void>;
}

export interface MembershipChange {
  thingName: string;
  groupName: string;
  kind: 'added' | 'removed';
  /** A dynamic group's query made the change. */
  dynamic?: boolean;
}

/** Several features may listen; they run in registration order. */
export class RegistryHookList implements RegistryHooks {
  private readonly hooks: RegistryHooks[] = [];

  add(hooks: RegistryHooks): void {
    this.hooks.push(hooks);
  }

  async beforeThingDeleted(trx: Executor, thingName: string): Promise<void> {
    for (const h of this.hooks) await h.beforeThingDeleted?.(trx, thingName);
  }

  async afterThingChanged(trx: Executor, thingName: string): Promise<void> {
    for (const h of this.hooks) await h.afterThingChanged?.(trx, thingName);
  }

  async afterMembershipChanged(trx: Executor, change: MembershipChange): Promise<void> {
    for (const h of this.hooks) await h.afterMembershipChanged?.(trx, change);
  }

  async beforeGroupDeleted(trx: Executor, groupName: string): Promise<void> {
    for (const h of this.hooks) await h.beforeGroupDeleted?.(trx, groupName);
  }

  async afterGroupDeleted(trx: Executor, groupName: string): Promise<void> {
    for (const h of this.hooks) await h.afterGroupDeleted?.(trx, groupName);
  }
}
