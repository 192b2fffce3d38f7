import { sql } from 'kysely';
import { ServiceError } from '../errors.js';
import type { ServiceContext } from '../context.js';
import type { Executor } from '../store/database.js';
import { validate } from '../validation.js';
import { TagsService, type Tag } from '../tags/tags.service.js';
import * as groups from './groups.repository.js';
import type { GroupsService, ThingGroupProperties } from './groups.service.js';
import { parseIndexQuery } from './index-query.js';
import { checkQuery, THINGS_INDEX, type IndexingService } from './indexing.service.js';
import type { MembershipChange, RegistryHooks } from './registry.hooks.js';
import { checkName } from './registry.schemas.js';

export interface DynamicGroupInput {
  thingGroupName: string;
  thingGroupProperties?: ThingGroupProperties;
  indexName?: string;
  queryString?: string;
  queryVersion?: string;
  tags?: Tag[];
  expectedVersion?: number;
}

const QUERY_VERSION = '2017-09-30';

/**
 * Dynamic thing groups (issue 19): a group whose members are the things its fleet-index query
 * matches. Members are rows of thing_group_members (dynamic = 1), so jobs, listings and the
 * CONTINUOUS machinery treat them as any member; the registry keeps them in step when a thing
 * changes (RegistryHooks.afterThingChanged), firing afterMembershipChanged as a static group does.
 */
export class DynamicGroupsService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly hooks: RegistryHooks,
    private readonly index: IndexingService,
    private readonly groupsService: GroupsService,
    private readonly tags: TagsService,
  ) {}

  private check(input: DynamicGroupInput, create: boolean): void {
    validate((v) => {
      checkName(v, 'thingGroupName', input.thingGroupName);
      checkQuery(v, 'queryString', input.queryString, create);
      v.string('indexName', input.indexName, { min: 1, max: 128 });
      v.string('queryVersion', input.queryVersion, { max: 128 });
      v.number('expectedVersion', input.expectedVersion, { integer: true });
    });
    if (input.queryString !== undefined) parseIndexQuery(input.queryString);
    if (input.tags !== undefined) TagsService.checkTags(input.tags);
  }

  async createDynamicThingGroup(input: DynamicGroupInput) {
    this.check(input, true);
    const query = parseIndexQuery(input.queryString!);
    const arn = this.ctx.arns.thingGroup(input.thingGroupName);
    const created = await this.groupsService.createThingGroup({
      thingGroupName: input.thingGroupName,
      thingGroupProperties: input.thingGroupProperties,
      dynamic: { queryString: input.queryString!, indexName: THINGS_INDEX, queryVersion: QUERY_VERSION },
      afterInsert: async (trx) => {
        await this.index.requireThingIndex(trx, input.indexName);
        if (input.tags && input.tags.length > 0) await this.tags.putTags(trx, arn, input.tags);
        // A new group has no jobs yet: the members go in as one INSERT ... SELECT, no hooks.
        const now = this.ctx.clock.now().getTime();
        await sql`insert into thing_group_members (group_name, thing_name, added_at, dynamic)
          select ${input.thingGroupName}, n, ${now}, 1 from (${this.index.compile(query)}) as m`.execute(trx);
      },
    });
    return { ...created, indexName: THINGS_INDEX, queryString: input.queryString!, queryVersion: QUERY_VERSION };
  }

  async updateDynamicThingGroup(input: DynamicGroupInput) {
    this.check(input, false);
    return this.ctx.db.transaction().execute(async (trx) => {
      const row = await this.requireDynamic(trx, input.thingGroupName);
      const { version } = await this.groupsService.updateThingGroupIn(trx, {
        thingGroupName: input.thingGroupName,
        thingGroupProperties: input.thingGroupProperties ?? {},
        expectedVersion: input.expectedVersion,
        queryString: input.queryString,
      });
      if (input.queryString !== undefined && input.queryString !== row.query_string) {
        await this.index.requireThingIndex(trx, input.indexName);
        await this.rebuild(trx, input.thingGroupName, input.queryString);
      }
      return { version };
    });
  }

  async deleteDynamicThingGroup(name: string, expectedVersion?: number): Promise<void> {
    validate((v) => checkName(v, 'thingGroupName', name));
    const row = await groups.findGroup(this.ctx.db, name);
    if (row && !row.query_string) {
      throw new ServiceError('InvalidRequest', `Thing group ${name} is a static group; use DeleteThingGroup.`);
    }
    await this.groupsService.deleteThingGroup(name, expectedVersion);
  }

  private async requireDynamic(db: Executor, name: string): Promise<groups.GroupRow> {
    const row = await this.groupsService.requireGroup(db, name);
    if (!row.query_string) throw new ServiceError('InvalidRequest', `Thing group ${name} is not a dynamic group.`);
    return row;
  }

  /** A new query: members that stop matching leave, new matches join, each through the hooks. */
  private async rebuild(trx: Executor, groupName: string, queryString: string): Promise<void> {
    const now = this.ctx.clock.now().getTime();
    const matching = this.index.compile(parseIndexQuery(queryString));
    const { rows: leaving } = await sql<{ thing_name: string }>`
      select thing_name from thing_group_members where group_name = ${groupName}
      and thing_name not in (${matching})`.execute(trx);
    for (const r of leaving) await this.setMember(trx, groupName, r.thing_name, false, now);
    const { rows: joining } = await sql<{ n: string }>`
      select n from (${matching}) as m where n not in (
        select thing_name from thing_group_members where group_name = ${groupName})`.execute(trx);
    for (const r of joining) await this.setMember(trx, groupName, r.n, true, now);
  }

  private async setMember(trx: Executor, groupName: string, thingName: string, member: boolean, now: number) {
    const change: MembershipChange = { thingName, groupName, kind: member ? 'added' : 'removed', dynamic: true };
    if (member) {
      await trx
        .insertInto('thing_group_members')
        .values({ group_name: groupName, thing_name: thingName, added_at: now, dynamic: 1 })
        .onConflict((oc) => oc.columns(['group_name', 'thing_name']).doNothing())
        .execute();
    } else {
      await groups.removeMember(trx, groupName, thingName);
    }
    await this.hooks.afterMembershipChanged?.(trx, change);
  }

  /**
   * RegistryHooks.afterGroupDeleted: a deleted static group took its memberships with it, so the
   * dynamic groups whose query names group memberships are rebuilt.
   */
  async afterGroupDeleted(trx: Executor): Promise<void> {
    const dependent = await trx
      .selectFrom('thing_groups')
      .select(['name', 'query_string'])
      .where('query_string', 'like', '%thingGroupNames%')
      .execute();
    for (const g of dependent) await this.rebuild(trx, g.name, g.query_string!);
  }

  /**
   * RegistryHooks.afterThingChanged: one query answers which dynamic groups the thing now
   * matches; the difference with its current dynamic memberships is applied.
   */
  async refreshThing(trx: Executor, thingName: string): Promise<void> {
    const dynamic = await trx
      .selectFrom('thing_groups')
      .select(['name', 'query_string'])
      .where('query_string', 'is not', null)
      .execute();
    if (dynamic.length === 0) return;
    const checks = dynamic.map(
      (g, i) =>
        sql`select ${g.name} as g from (${this.index.compile(parseIndexQuery(g.query_string!), { thing: thingName })}) as ${sql.raw(`d${i}`)}`,
    );
    const { rows } = await sql<{ g: string }>`${sql.join(checks, sql` union all `)}`.execute(trx);
    const matching = new Set(rows.map((r) => r.g));
    const current = new Set(
      (
        await trx
          .selectFrom('thing_group_members')
          .select('group_name')
          .where('thing_name', '=', thingName)
          .where('dynamic', '=', 1)
          .execute()
      ).map((r) => r.group_name),
    );
    const now = this.ctx.clock.now().getTime();
    for (const g of dynamic) {
      const should = matching.has(g.name);
      if (should !== current.has(g.name)) await this.setMember(trx, g.name, thingName, should, now);
    }
  }
}
