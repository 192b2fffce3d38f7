import { ServiceError } from '../errors.js';
import { newUuid } from '../ids.js';
import type { ServiceContext } from '../context.js';
import type { Executor } from '../store/database.js';
import { decodeToken, toPage, DEFAULT_PAGE_SIZE } from '../store/pagination.js';
import { MAX_RESULTS_RULE, PATTERNS, validate, type Validator } from '../validation.js';
import * as groups from './groups.repository.js';
import type { RegistryHooks } from './registry.hooks.js';
import {
  checkAttributePayload,
  checkName,
  mergeAttributes,
  MAX_GROUP_DEPTH,
  MAX_GROUPS_PER_THING,
  type AttributePayload,
} from './registry.schemas.js';
import * as things from './things.repository.js';
import { versionConflict } from './things.service.js';

export interface ThingGroupProperties {
  thingGroupDescription?: string;
  attributePayload?: AttributePayload;
}

export interface CreateThingGroupInput {
  thingGroupName: string;
  parentGroupName?: string;
  thingGroupProperties?: ThingGroupProperties;
  /** CreateDynamicThingGroup (dynamic-groups.service.ts): the query, and work in the same transaction. */
  dynamic?: { queryString: string; indexName: string; queryVersion: string };
  afterInsert?: (trx: Executor) => Promise<void>;
}

export interface MembershipInput {
  thingGroupName?: string;
  thingGroupArn?: string;
  thingName?: string;
  thingArn?: string;
  overrideDynamicGroups?: boolean;
}

function checkProperties(v: Validator, value: unknown): void {
  if (!v.object('thingGroupProperties', value)) return;
  v.string('thingGroupProperties.thingGroupDescription', value.thingGroupDescription, {
    max: 2028,
    pattern: PATTERNS.graphOrSpace,
  });
  checkAttributePayload(v, 'thingGroupProperties.attributePayload', value.attributePayload);
}

const pageOf = (input: { maxResults?: number; nextToken?: string }) => {
  validate((v) => v.number('maxResults', input.maxResults, MAX_RESULTS_RULE));
  const after = decodeToken(input.nextToken, 1)?.[0];
  return { limit: input.maxResults ?? DEFAULT_PAGE_SIZE, after: after === undefined ? undefined : String(after) };
};

export class GroupsService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly hooks: RegistryHooks,
  ) {}

  private notFound(name: string): ServiceError {
    return new ServiceError('ResourceNotFound', `Thing group ${name} cannot be found.`);
  }

  async requireGroup(db: Executor, name: string): Promise<groups.GroupRow> {
    const row = await groups.findGroup(db, name);
    if (!row) throw this.notFound(name);
    return row;
  }

  async createThingGroup(input: CreateThingGroupInput) {
    validate((v) => {
      checkName(v, 'thingGroupName', input.thingGroupName);
      checkName(v, 'parentGroupName', input.parentGroupName, false);
      checkProperties(v, input.thingGroupProperties);
    });
    const props = input.thingGroupProperties ?? {};
    const row: groups.GroupRow = {
      name: input.thingGroupName,
      id: newUuid(),
      parent_name: input.parentGroupName ?? null,
      description: props.thingGroupDescription ?? null,
      attributes: JSON.stringify(mergeAttributes({}, { attributes: props.attributePayload?.attributes ?? {} })),
      version: 1,
      created_at: this.ctx.clock.now().getTime(),
      query_string: input.dynamic?.queryString ?? null,
      index_name: input.dynamic?.indexName ?? null,
      query_version: input.dynamic?.queryVersion ?? null,
    };
    const stored = await this.ctx.db.transaction().execute(async (trx) => {
      const existing = await groups.findGroup(trx, row.name);
      if (existing) return existing;
      if (row.parent_name !== null) {
        await this.requireGroup(trx, row.parent_name);
        const depth = (await groups.ancestorsOf(trx, row.parent_name)).length + 1;
        if (depth >= MAX_GROUP_DEPTH) {
          throw new ServiceError(
            'InvalidRequest',
            `Thing group hierarchies may be at most ${MAX_GROUP_DEPTH} levels deep.`,
          );
        }
      }
      await groups.insertGroup(trx, row);
      await input.afterInsert?.(trx);
      return row;
    });
    // spec 2.7: creating an identical group again answers 200; a different one is a conflict.
    if (
      stored !== row &&
      (stored.parent_name !== row.parent_name ||
        stored.description !== row.description ||
        stored.attributes !== row.attributes ||
        (stored.query_string ?? null) !== row.query_string)
    ) {
      throw new ServiceError(
        'ResourceAlreadyExists',
        `Thing group ${row.name} already exists with different properties`,
        {
          resourceId: stored.id,
          resourceArn: this.ctx.arns.thingGroup(stored.name),
        },
      );
    }
    return {
      thingGroupName: stored.name,
      thingGroupArn: this.ctx.arns.thingGroup(stored.name),
      thingGroupId: stored.id,
    };
  }

  async describeThingGroup(name: string) {
    validate((v) => checkName(v, 'thingGroupName', name));
    const row = await this.requireGroup(this.ctx.db, name);
    const ancestors = await groups.ancestorsOf(this.ctx.db, name);
    const attributes = JSON.parse(row.attributes) as Record<string, string>;
    return {
      thingGroupName: row.name,
      thingGroupId: row.id,
      thingGroupArn: this.ctx.arns.thingGroup(row.name),
      version: row.version,
      thingGroupProperties: {
        ...(row.description !== null && { thingGroupDescription: row.description }),
        // A group without attributes has no attributePayload, as in AWS (also after an update to {}).
        ...(Object.keys(attributes).length > 0 && { attributePayload: { attributes } }),
      },
      thingGroupMetadata: {
        ...(row.parent_name !== null && { parentGroupName: row.parent_name }),
        ...(ancestors.length > 0 && {
          rootToParentThingGroups: ancestors.map((g) => ({
            groupName: g.name,
            groupArn: this.ctx.arns.thingGroup(g.name),
          })),
        }),
        creationDate: row.created_at / 1000,
      },
      ...(row.query_string && {
        indexName: row.index_name ?? undefined,
        queryString: row.query_string,
        queryVersion: row.query_version ?? undefined,
        status: 'ACTIVE',
      }),
    };
  }

  async updateThingGroup(input: {
    thingGroupName: string;
    thingGroupProperties?: ThingGroupProperties;
    expectedVersion?: number;
  }) {
    validate((v) => {
      checkName(v, 'thingGroupName', input.thingGroupName);
      if (v.required('thingGroupProperties', input.thingGroupProperties))
        checkProperties(v, input.thingGroupProperties);
      v.number('expectedVersion', input.expectedVersion, { integer: true });
    });
    return this.ctx.db.transaction().execute((trx) => this.updateThingGroupIn(trx, input));
  }

  /** UpdateThingGroup inside a transaction; UpdateDynamicThingGroup also sets the query. */
  async updateThingGroupIn(
    trx: Executor,
    input: {
      thingGroupName: string;
      thingGroupProperties?: ThingGroupProperties;
      expectedVersion?: number;
      queryString?: string;
    },
  ): Promise<{ version: number }> {
    const row = await this.requireGroup(trx, input.thingGroupName);
    if (input.expectedVersion !== undefined && input.expectedVersion !== row.version) {
      throw versionConflict('thing group', row.name, row.version, input.expectedVersion);
    }
    const props = input.thingGroupProperties ?? {};
    const attributes = mergeAttributes(JSON.parse(row.attributes) as Record<string, string>, props.attributePayload);
    const ok = await groups.updateGroupRow(trx, row.name, row.version, {
      description: props.thingGroupDescription ?? row.description,
      attributes: JSON.stringify(attributes),
      ...(input.queryString !== undefined && { query_string: input.queryString }),
    });
    if (!ok) throw versionConflict('thing group', row.name, row.version + 1, row.version);
    return { version: row.version + 1 };
  }

  async deleteThingGroup(name: string, expectedVersion?: number): Promise<void> {
    validate((v) => {
      checkName(v, 'thingGroupName', name);
      v.number('expectedVersion', expectedVersion, { integer: true });
    });
    await this.ctx.db.transaction().execute(async (trx) => {
      const row = await groups.findGroup(trx, name);
      if (!row) return;
      if (expectedVersion !== undefined && expectedVersion !== row.version) {
        throw versionConflict('thing group', name, row.version, expectedVersion);
      }
      if (await groups.hasChildGroups(trx, name)) {
        throw new ServiceError('InvalidRequest', `Cannot delete thing group ${name} while it still has child groups.`);
      }
      await this.hooks.beforeGroupDeleted?.(trx, name);
      await groups.deleteGroupRow(trx, name);
      await this.hooks.afterGroupDeleted?.(trx, name);
    });
  }

  async listThingGroups(input: {
    maxResults?: number;
    nextToken?: string;
    parentGroup?: string;
    namePrefixFilter?: string;
    recursive?: boolean;
  }) {
    validate((v) => {
      checkName(v, 'parentGroup', input.parentGroup, false);
      checkName(v, 'namePrefixFilter', input.namePrefixFilter, false);
      v.boolean('recursive', input.recursive);
    });
    const { limit, after } = pageOf(input);
    let within: string[] | undefined;
    let parentGroup = input.parentGroup;
    if (input.parentGroup !== undefined) {
      await this.requireGroup(this.ctx.db, input.parentGroup);
      // AWS lists every descendant of parentGroup unless recursive is false.
      if (input.recursive !== false) {
        within = (await groups.selfAndDescendants(this.ctx.db, [input.parentGroup])).filter(
          (n) => n !== input.parentGroup,
        );
        parentGroup = undefined;
      }
    }
    const rows = await groups.listGroupRows(this.ctx.db, {
      after,
      limit,
      parentGroup,
      within,
      namePrefix: input.namePrefixFilter,
      recursive: input.recursive !== false,
    });
    const rootsOnly = input.parentGroup === undefined && input.recursive === false;
    const filtered = rootsOnly ? rows.filter((r) => r.parent_name === null) : rows;
    const page = toPage(filtered, limit, (r) => [r.name]);
    return {
      thingGroups: page.items.map((g) => ({ groupName: g.name, groupArn: this.ctx.arns.thingGroup(g.name) })),
      ...(page.nextToken !== undefined && { nextToken: page.nextToken }),
    };
  }

  private resolveMembership(input: MembershipInput): { thingName: string; groupName: string } {
    let groupName = input.thingGroupName;
    let thingName = input.thingName;
    validate((v) => {
      checkName(v, 'thingGroupName', input.thingGroupName, false);
      checkName(v, 'thingName', input.thingName, false);
      v.string('thingGroupArn', input.thingGroupArn, { max: 2048 });
      v.string('thingArn', input.thingArn, { max: 2048 });
      v.boolean('overrideDynamicGroups', input.overrideDynamicGroups);
    });
    if (groupName === undefined && input.thingGroupArn !== undefined) {
      groupName = this.ctx.arns.idOf(input.thingGroupArn, 'thinggroup', 'thingGroupArn');
    }
    if (thingName === undefined && input.thingArn !== undefined) {
      thingName = this.ctx.arns.idOf(input.thingArn, 'thing', 'thingArn');
    }
    if (groupName === undefined)
      throw new ServiceError('InvalidRequest', 'Either thingGroupName or thingGroupArn must be given.');
    if (thingName === undefined)
      throw new ServiceError('InvalidRequest', 'Either thingName or thingArn must be given.');
    return { thingName, groupName };
  }

  async addThingToThingGroup(input: MembershipInput): Promise<void> {
    const { thingName, groupName } = this.resolveMembership(input);
    await this.ctx.db.transaction().execute((trx) => this.addMember(trx, thingName, groupName));
  }

  private async addMember(trx: Executor, thingName: string, groupName: string): Promise<void> {
    if (!(await things.findThing(trx, thingName))) {
      throw new ServiceError('ResourceNotFound', `Thing ${thingName} cannot be found.`);
    }
    this.refuseDynamic(await this.requireGroup(trx, groupName));
    if ((await groups.countGroupsOfThing(trx, thingName)) >= MAX_GROUPS_PER_THING) {
      const already = await groups.groupsOfThing(trx, thingName, undefined, MAX_GROUPS_PER_THING);
      if (!already.includes(groupName)) {
        throw new ServiceError(
          'InvalidRequest',
          `Thing ${thingName} cannot be in more than ${MAX_GROUPS_PER_THING} thing groups.`,
        );
      }
    }
    const added = await groups.addMember(trx, groupName, thingName, this.ctx.clock.now().getTime());
    if (added) {
      await this.hooks.afterMembershipChanged?.(trx, { thingName, groupName, kind: 'added' });
      await this.hooks.afterThingChanged?.(trx, thingName);
    }
  }

  /** A dynamic group's members follow its query; nobody adds or removes them by hand. */
  private refuseDynamic(group: groups.GroupRow): void {
    if (group.query_string) {
      throw new ServiceError(
        'InvalidRequest',
        `Thing group ${group.name} is a dynamic group; its members follow its query (UpdateDynamicThingGroup).`,
      );
    }
  }

  async removeThingFromThingGroup(input: MembershipInput): Promise<void> {
    const { thingName, groupName } = this.resolveMembership(input);
    await this.ctx.db.transaction().execute((trx) => this.removeMember(trx, thingName, groupName));
  }

  private async removeMember(trx: Executor, thingName: string, groupName: string): Promise<void> {
    if (!(await things.findThing(trx, thingName))) {
      throw new ServiceError('ResourceNotFound', `Thing ${thingName} cannot be found.`);
    }
    this.refuseDynamic(await this.requireGroup(trx, groupName));
    const removed = await groups.removeMember(trx, groupName, thingName);
    if (removed) {
      await this.hooks.afterMembershipChanged?.(trx, { thingName, groupName, kind: 'removed' });
      await this.hooks.afterThingChanged?.(trx, thingName);
    }
  }

  async updateThingGroupsForThing(input: {
    thingName?: string;
    thingGroupsToAdd?: string[];
    thingGroupsToRemove?: string[];
    overrideDynamicGroups?: boolean;
  }): Promise<void> {
    validate((v) => {
      checkName(v, 'thingName', input.thingName);
      for (const field of ['thingGroupsToAdd', 'thingGroupsToRemove'] as const) {
        if (v.list(field, input[field], { max: MAX_GROUPS_PER_THING })) {
          input[field]!.forEach((g, i) => checkName(v, `${field}.${i + 1}.member`, g));
        }
      }
    });
    const thingName = input.thingName!;
    await this.ctx.db.transaction().execute(async (trx) => {
      for (const g of input.thingGroupsToRemove ?? []) await this.removeMember(trx, thingName, g);
      for (const g of input.thingGroupsToAdd ?? []) await this.addMember(trx, thingName, g);
    });
  }

  async listThingsInThingGroup(input: {
    thingGroupName: string;
    recursive?: boolean;
    maxResults?: number;
    nextToken?: string;
  }) {
    validate((v) => {
      checkName(v, 'thingGroupName', input.thingGroupName);
      v.boolean('recursive', input.recursive);
    });
    const { limit, after } = pageOf(input);
    await this.requireGroup(this.ctx.db, input.thingGroupName);
    const scope = input.recursive
      ? await groups.selfAndDescendants(this.ctx.db, [input.thingGroupName])
      : [input.thingGroupName];
    const names = await groups.listMemberThings(this.ctx.db, scope, after, limit);
    const page = toPage(names, limit, (n) => [n]);
    return { things: page.items, ...(page.nextToken !== undefined && { nextToken: page.nextToken }) };
  }

  async listThingGroupsForThing(input: { thingName: string; maxResults?: number; nextToken?: string }) {
    validate((v) => checkName(v, 'thingName', input.thingName));
    const { limit, after } = pageOf(input);
    if (!(await things.findThing(this.ctx.db, input.thingName))) {
      throw new ServiceError('ResourceNotFound', `Thing ${input.thingName} cannot be found.`);
    }
    const names = await groups.groupsOfThing(this.ctx.db, input.thingName, after, limit);
    const page = toPage(names, limit, (n) => [n]);
    return {
      thingGroups: page.items.map((n) => ({ groupName: n, groupArn: this.ctx.arns.thingGroup(n) })),
      ...(page.nextToken !== undefined && { nextToken: page.nextToken }),
    };
  }
}
