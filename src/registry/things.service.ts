import { ServiceError } from '../errors.js';
import { newUuid } from '../ids.js';
import type { ServiceContext } from '../context.js';
import type { Executor } from '../store/database.js';
import { decodeToken, toPage, DEFAULT_PAGE_SIZE } from '../store/pagination.js';
import { MAX_RESULTS_RULE, NAME_RULE, PATTERNS, validate } from '../validation.js';
import type { RegistryHooks } from './registry.hooks.js';
import { checkAttributePayload, checkName, mergeAttributes, type AttributePayload } from './registry.schemas.js';
import * as repo from './things.repository.js';

export interface CreateThingInput {
  thingName: string;
  thingTypeName?: string;
  attributePayload?: AttributePayload;
  billingGroupName?: string;
}

export interface UpdateThingInput {
  thingName: string;
  thingTypeName?: string;
  attributePayload?: AttributePayload;
  expectedVersion?: number;
  removeThingType?: boolean;
}

export interface ListThingsInput {
  maxResults?: number;
  nextToken?: string;
  attributeName?: string;
  attributeValue?: string;
  thingTypeName?: string;
  usePrefixAttributeValue?: boolean;
  /** fleetjobs extension for the console's search (ListThings has no name filter). */
  namePrefix?: string;
}

const parseAttributes = (json: string): Record<string, string> => JSON.parse(json) as Record<string, string>;

/** What ThingsService asks of thing types (ThingTypesService): may a thing be given this type? */
export interface ThingTypeRules {
  checkAssignable(trx: Executor, typeName: string): Promise<void>;
}

export class ThingsService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly hooks: RegistryHooks,
    private readonly types?: ThingTypeRules,
  ) {}

  private describe(row: repo.ThingRow) {
    return {
      defaultClientId: row.name,
      thingName: row.name,
      thingId: row.id,
      thingArn: this.ctx.arns.thing(row.name),
      ...(row.thing_type_name !== null && { thingTypeName: row.thing_type_name }),
      attributes: parseAttributes(row.attributes),
      version: row.version,
      ...(row.billing_group_name !== null && { billingGroupName: row.billing_group_name }),
    };
  }

  async createThing(input: CreateThingInput) {
    validate((v) => {
      checkName(v, 'thingName', input.thingName);
      v.string('thingTypeName', input.thingTypeName, NAME_RULE);
      v.string('billingGroupName', input.billingGroupName, NAME_RULE);
      checkAttributePayload(v, 'attributePayload', input.attributePayload);
    });
    // CreateThing stores the attributes as given (an empty value is a value here, not a removal).
    const attributes = { ...(input.attributePayload?.attributes ?? {}) };
    const row: repo.ThingRow = {
      name: input.thingName,
      id: newUuid(),
      thing_type_name: input.thingTypeName ?? null,
      billing_group_name: input.billingGroupName ?? null,
      attributes: JSON.stringify(attributes),
      version: 1,
      created_at: this.ctx.clock.now().getTime(),
    };
    const stored = await this.ctx.db.transaction().execute(async (trx) => {
      const existing = await repo.findThing(trx, input.thingName);
      if (existing) return existing;
      if (row.thing_type_name !== null) await this.types?.checkAssignable(trx, row.thing_type_name);
      await repo.insertThing(trx, row);
      await this.hooks.afterThingChanged?.(trx, row.name);
      return row;
    });
    if (stored !== row && !sameThingConfig(stored, row)) {
      const arn = this.ctx.arns.thing(input.thingName);
      throw new ServiceError(
        'ResourceAlreadyExists',
        `Thing ${input.thingName} already exists with different tags or attributes`,
        {
          resourceId: stored.id,
          resourceArn: arn,
        },
      );
    }
    return { thingName: stored.name, thingArn: this.ctx.arns.thing(stored.name), thingId: stored.id };
  }

  async describeThing(thingName: string) {
    validate((v) => checkName(v, 'thingName', thingName));
    const row = await repo.findThing(this.ctx.db, thingName);
    if (!row) throw new ServiceError('ResourceNotFound', `Thing ${thingName} cannot be found.`);
    return this.describe(row);
  }

  async requireThing(thingName: string): Promise<repo.ThingRow> {
    const row = await repo.findThing(this.ctx.db, thingName);
    if (!row) throw new ServiceError('ResourceNotFound', `Thing ${thingName} cannot be found.`);
    return row;
  }

  async listThings(input: ListThingsInput) {
    validate((v) => {
      v.number('maxResults', input.maxResults, MAX_RESULTS_RULE);
      v.string('attributeName', input.attributeName, { max: 128, pattern: PATTERNS.attributeName });
      v.string('attributeValue', input.attributeValue, { max: 800, pattern: PATTERNS.attributeValue });
      v.string('thingTypeName', input.thingTypeName, NAME_RULE);
      v.string('namePrefix', input.namePrefix, { max: 128, pattern: PATTERNS.thingName });
      if (input.attributeValue !== undefined && input.attributeName === undefined) {
        v.fail('attributeName', null, 'Member must not be null when attributeValue is given');
      }
    });
    const limit = input.maxResults ?? DEFAULT_PAGE_SIZE;
    const after = decodeToken(input.nextToken, 1)?.[0];
    const rows = await repo.listThingRows(this.ctx.db, {
      after: after === undefined ? undefined : String(after),
      limit,
      attributeName: input.attributeName,
      attributeValue: input.attributeValue,
      usePrefixAttributeValue: input.usePrefixAttributeValue,
      thingTypeName: input.thingTypeName,
      namePrefix: input.namePrefix,
    });
    const page = toPage(rows, limit, (r) => [r.name]);
    return {
      things: page.items.map((row) => ({
        thingName: row.name,
        ...(row.thing_type_name !== null && { thingTypeName: row.thing_type_name }),
        thingArn: this.ctx.arns.thing(row.name),
        attributes: parseAttributes(row.attributes),
        version: row.version,
      })),
      ...(page.nextToken !== undefined && { nextToken: page.nextToken }),
    };
  }

  async updateThing(input: UpdateThingInput): Promise<void> {
    validate((v) => {
      checkName(v, 'thingName', input.thingName);
      v.string('thingTypeName', input.thingTypeName, NAME_RULE);
      checkAttributePayload(v, 'attributePayload', input.attributePayload);
      v.number('expectedVersion', input.expectedVersion, { integer: true });
      v.boolean('removeThingType', input.removeThingType);
      if (input.removeThingType && input.thingTypeName !== undefined) {
        v.fail('removeThingType', true, 'Member must not be true when thingTypeName is given');
      }
    });
    await this.ctx.db.transaction().execute(async (trx) => {
      const row = await repo.findThing(trx, input.thingName);
      if (!row) throw new ServiceError('ResourceNotFound', `Thing ${input.thingName} cannot be found.`);
      if (input.expectedVersion !== undefined && input.expectedVersion !== row.version) {
        throw versionConflict('thing', input.thingName, row.version, input.expectedVersion);
      }
      const attributes = mergeAttributes(parseAttributes(row.attributes), input.attributePayload);
      const thingType = input.removeThingType ? null : (input.thingTypeName ?? row.thing_type_name);
      // Things keep a type that was deprecated after they got it; only a new assignment is checked.
      if (thingType !== null && thingType !== row.thing_type_name) await this.types?.checkAssignable(trx, thingType);
      const ok = await repo.updateThingRow(trx, row.name, row.version, {
        thing_type_name: thingType,
        attributes: JSON.stringify(attributes),
      });
      if (!ok) throw versionConflict('thing', input.thingName, row.version + 1, row.version);
      await this.hooks.afterThingChanged?.(trx, row.name);
    });
  }

  async deleteThing(thingName: string, expectedVersion?: number): Promise<void> {
    validate((v) => {
      checkName(v, 'thingName', thingName);
      v.number('expectedVersion', expectedVersion, { integer: true });
    });
    await this.ctx.db.transaction().execute(async (trx) => {
      const row = await repo.findThing(trx, thingName);
      // DeleteThing succeeds for a thing that does not exist (spec 2.7).
      if (!row) return;
      if (expectedVersion !== undefined && expectedVersion !== row.version) {
        throw versionConflict('thing', thingName, row.version, expectedVersion);
      }
      await this.hooks.beforeThingDeleted?.(trx, thingName);
      await repo.deleteThingRow(trx, thingName);
    });
  }
}

function sameThingConfig(a: repo.ThingRow, b: repo.ThingRow): boolean {
  return (
    a.thing_type_name === b.thing_type_name &&
    a.billing_group_name === b.billing_group_name &&
    JSON.stringify(sortKeys(parseAttributes(a.attributes))) === JSON.stringify(sortKeys(parseAttributes(b.attributes)))
  );
}

const sortKeys = (o: Record<string, string>): [string, string][] =>
  Object.entries(o).sort(([x], [y]) => (x < y ? -1 : 1));

export function versionConflict(kind: string, name: string, current: number, expected: number): ServiceError {
  return new ServiceError(
    'VersionConflict',
    `The version of ${kind} ${name} is ${current}, which does not match the expected version ${expected}.`,
  );
}
