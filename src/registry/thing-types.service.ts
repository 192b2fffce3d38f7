import { ServiceError } from '../errors.js';
import { newUuid } from '../ids.js';
import type { ServiceContext } from '../context.js';
import type { Executor } from '../store/database.js';
import { decodeToken, toPage, DEFAULT_PAGE_SIZE } from '../store/pagination.js';
import { MAX_RESULTS_RULE, NAME_RULE, PATTERNS, validate, type Validator } from '../validation.js';
import { TagsService, type Tag } from '../tags/tags.service.js';
import * as repo from './thing-types.repository.js';

/** AWS: a thing type names at most 3 searchable attributes. */
export const MAX_SEARCHABLE_ATTRIBUTES = 3;

export interface ThingTypeProperties {
  thingTypeDescription?: string;
  searchableAttributes?: string[];
}

function checkProperties(v: Validator, value: unknown): void {
  if (!v.object('thingTypeProperties', value)) return;
  v.string('thingTypeProperties.thingTypeDescription', value.thingTypeDescription, {
    max: 2028,
    pattern: PATTERNS.graphOrSpace,
  });
  const attrs = value.searchableAttributes;
  if (v.list('thingTypeProperties.searchableAttributes', attrs, { max: MAX_SEARCHABLE_ATTRIBUTES })) {
    attrs.forEach((a, i) =>
      v.string(`thingTypeProperties.searchableAttributes.${i + 1}.member`, a, {
        min: 1,
        max: 128,
        pattern: PATTERNS.attributeName,
      }),
    );
  }
}

const checkTypeName = (v: Validator, value: unknown): void => {
  if (v.required('thingTypeName', value)) v.string('thingTypeName', value, NAME_RULE);
};

export const thingTypeNotFound = (name: string): ServiceError =>
  new ServiceError('ResourceNotFound', `Thing type ${name} cannot be found.`);

/** Thing types (CreateThingType and friends, issue 19) and the rules things follow about them. */
export class ThingTypesService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly tags: TagsService,
  ) {}

  private async require(db: Executor, name: string, mode?: 'share' | 'update'): Promise<repo.ThingTypeRow> {
    const row = await repo.findThingType(db, name, mode && { dialect: this.ctx.dialect, mode });
    if (!row) throw thingTypeNotFound(name);
    return row;
  }

  /**
   * Inside the caller's transaction: a thing may be given this type (it exists and is not
   * deprecated). Holds a share lock so the type cannot be deprecated or deleted meanwhile.
   */
  async checkAssignable(trx: Executor, name: string): Promise<void> {
    const row = await this.require(trx, name, 'share');
    if (row.deprecated_at !== null) {
      throw new ServiceError(
        'InvalidRequest',
        `Thing type ${name} is deprecated; a deprecated type cannot be given to a thing.`,
      );
    }
  }

  private properties(row: repo.ThingTypeRow) {
    const searchable = JSON.parse(row.searchable_attributes) as string[];
    return {
      ...(row.description !== null && { thingTypeDescription: row.description }),
      ...(searchable.length > 0 && { searchableAttributes: searchable }),
    };
  }

  private render(row: repo.ThingTypeRow) {
    return {
      thingTypeName: row.name,
      thingTypeArn: this.ctx.arns.thingType(row.name),
      thingTypeProperties: this.properties(row),
      thingTypeMetadata: {
        deprecated: row.deprecated_at !== null,
        ...(row.deprecated_at !== null && { deprecationDate: row.deprecated_at / 1000 }),
        creationDate: row.created_at / 1000,
      },
    };
  }

  async createThingType(input: { thingTypeName: string; thingTypeProperties?: ThingTypeProperties; tags?: Tag[] }) {
    validate((v) => {
      checkTypeName(v, input.thingTypeName);
      checkProperties(v, input.thingTypeProperties);
    });
    if (input.tags !== undefined) TagsService.checkTags(input.tags);
    const props = input.thingTypeProperties ?? {};
    const row: repo.ThingTypeRow = {
      name: input.thingTypeName,
      id: newUuid(),
      description: props.thingTypeDescription ?? null,
      searchable_attributes: JSON.stringify(props.searchableAttributes ?? []),
      deprecated_at: null,
      created_at: this.ctx.clock.now().getTime(),
    };
    const arn = this.ctx.arns.thingType(row.name);
    const stored = await this.ctx.db.transaction().execute(async (trx) => {
      const existing = await repo.findThingType(trx, row.name);
      if (existing) return existing;
      await repo.insertThingType(trx, row);
      if (input.tags && input.tags.length > 0) await this.tags.putTags(trx, arn, input.tags);
      return row;
    });
    // As for things and groups: the same type again answers 200, a different one is a conflict.
    if (
      stored !== row &&
      (stored.description !== row.description || stored.searchable_attributes !== row.searchable_attributes)
    ) {
      throw new ServiceError(
        'ResourceAlreadyExists',
        `Thing type ${row.name} already exists with different properties`,
        {
          resourceId: stored.id,
          resourceArn: arn,
        },
      );
    }
    return { thingTypeName: stored.name, thingTypeArn: arn, thingTypeId: stored.id };
  }

  async describeThingType(name: string) {
    validate((v) => checkTypeName(v, name));
    const row = await this.require(this.ctx.db, name);
    return { ...this.render(row), thingTypeId: row.id };
  }

  async listThingTypes(input: { maxResults?: number; nextToken?: string; thingTypeName?: string }) {
    validate((v) => {
      v.number('maxResults', input.maxResults, MAX_RESULTS_RULE);
      v.string('thingTypeName', input.thingTypeName, NAME_RULE);
    });
    const limit = input.maxResults ?? DEFAULT_PAGE_SIZE;
    const after = decodeToken(input.nextToken, 1)?.[0];
    const rows = await repo.listThingTypeRows(this.ctx.db, {
      limit,
      after: after === undefined ? undefined : String(after),
      name: input.thingTypeName,
    });
    const page = toPage(rows, limit, (r) => [r.name]);
    return {
      thingTypes: page.items.map((r) => this.render(r)),
      ...(page.nextToken !== undefined && { nextToken: page.nextToken }),
    };
  }

  async updateThingType(input: { thingTypeName: string; thingTypeProperties?: ThingTypeProperties }): Promise<void> {
    validate((v) => {
      checkTypeName(v, input.thingTypeName);
      checkProperties(v, input.thingTypeProperties);
    });
    const props = input.thingTypeProperties ?? {};
    await this.ctx.db.transaction().execute(async (trx) => {
      const row = await this.require(trx, input.thingTypeName, 'update');
      await repo.updateThingTypeRow(trx, row.name, {
        description: props.thingTypeDescription ?? row.description,
        searchable_attributes:
          props.searchableAttributes !== undefined
            ? JSON.stringify(props.searchableAttributes)
            : row.searchable_attributes,
      });
    });
  }

  async deprecateThingType(input: { thingTypeName: string; undoDeprecate?: boolean }): Promise<void> {
    validate((v) => {
      checkTypeName(v, input.thingTypeName);
      v.boolean('undoDeprecate', input.undoDeprecate);
    });
    await this.ctx.db.transaction().execute(async (trx) => {
      const row = await this.require(trx, input.thingTypeName, 'update');
      const deprecatedAt = input.undoDeprecate ? null : (row.deprecated_at ?? this.ctx.clock.now().getTime());
      await repo.updateThingTypeRow(trx, row.name, { deprecated_at: deprecatedAt });
    });
  }

  async deleteThingType(name: string): Promise<void> {
    validate((v) => checkTypeName(v, name));
    await this.ctx.db.transaction().execute(async (trx) => {
      await this.require(trx, name, 'update');
      if (await repo.typeHasThings(trx, name)) {
        throw new ServiceError(
          'InvalidRequest',
          `Thing type ${name} still has things; remove the type from them (UpdateThing removeThingType) first.`,
        );
      }
      await repo.deleteThingTypeRow(trx, name);
      await trx.deleteFrom('tags').where('resource_arn', '=', this.ctx.arns.thingType(name)).execute();
    });
  }
}
