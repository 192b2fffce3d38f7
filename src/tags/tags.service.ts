import { ServiceError } from '../errors.js';
import type { ServiceContext } from '../context.js';
import type { Executor } from '../store/database.js';
import { decodeToken, toPage, DEFAULT_PAGE_SIZE } from '../store/pagination.js';
import { PATTERNS, validate } from '../validation.js';

export interface Tag {
  Key: string;
  Value?: string;
}

export const MAX_TAGS_PER_RESOURCE = 50;

/** Says whether the resource named by an ARN's id exists; each feature registers its types. */
export type ResourceExists = (db: Executor, id: string) => Promise<boolean>;

export class TagsService {
  private readonly resolvers = new Map<string, ResourceExists>();

  constructor(private readonly ctx: ServiceContext) {}

  registerResourceType(resource: string, exists: ResourceExists): void {
    this.resolvers.set(resource, exists);
  }

  private async requireResource(db: Executor, resourceArn: string): Promise<void> {
    const parsed = this.ctx.arns.parseIot(resourceArn);
    const exists = parsed && this.resolvers.get(parsed.resource);
    if (!parsed || !exists || !(await exists(db, parsed.id))) {
      throw new ServiceError('ResourceNotFound', `Resource ${resourceArn} does not exist`);
    }
  }

  static checkTags(tags: unknown, field = 'tags'): void {
    validate((v) => {
      if (!v.list(field, tags, { max: MAX_TAGS_PER_RESOURCE })) return;
      tags.forEach((t, i) => {
        const f = `${field}.${i + 1}.member`;
        if (!v.object(f, t)) return;
        if (v.required(`${f}.Key`, t.Key)) v.string(`${f}.Key`, t.Key, { min: 1, max: 128, pattern: PATTERNS.tagKey });
        v.string(`${f}.Value`, t.Value, { max: 256 });
      });
    });
  }

  /** Writes tags inside a caller's transaction (CreateJob, CreateThingGroup ... take tags). */
  async putTags(db: Executor, resourceArn: string, tags: readonly Tag[]): Promise<void> {
    for (const tag of tags) {
      await db
        .insertInto('tags')
        .values({ resource_arn: resourceArn, key: tag.Key, value: tag.Value ?? '' })
        .onConflict((oc) => oc.columns(['resource_arn', 'key']).doUpdateSet({ value: tag.Value ?? '' }))
        .execute();
    }
    const count = await db
      .selectFrom('tags')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('resource_arn', '=', resourceArn)
      .executeTakeFirstOrThrow();
    if (Number(count.n) > MAX_TAGS_PER_RESOURCE) {
      throw new ServiceError('LimitExceeded', `A resource may have at most ${MAX_TAGS_PER_RESOURCE} tags.`);
    }
  }

  async deleteAllTags(db: Executor, resourceArn: string): Promise<void> {
    await db.deleteFrom('tags').where('resource_arn', '=', resourceArn).execute();
  }

  async tagResource(input: { resourceArn?: string; tags?: Tag[] }): Promise<void> {
    validate((v) => {
      if (v.required('resourceArn', input.resourceArn)) v.string('resourceArn', input.resourceArn, { max: 2048 });
      v.required('tags', input.tags);
    });
    TagsService.checkTags(input.tags);
    await this.ctx.db.transaction().execute(async (trx) => {
      await this.requireResource(trx, input.resourceArn!);
      await this.putTags(trx, input.resourceArn!, input.tags!);
    });
  }

  async untagResource(input: { resourceArn?: string; tagKeys?: string[] }): Promise<void> {
    validate((v) => {
      if (v.required('resourceArn', input.resourceArn)) v.string('resourceArn', input.resourceArn, { max: 2048 });
      if (v.required('tagKeys', input.tagKeys) && v.list('tagKeys', input.tagKeys)) {
        input.tagKeys!.forEach((k, i) => v.string(`tagKeys.${i + 1}.member`, k, { min: 1, max: 128 }));
      }
    });
    await this.ctx.db.transaction().execute(async (trx) => {
      await this.requireResource(trx, input.resourceArn!);
      if (input.tagKeys!.length > 0) {
        await trx
          .deleteFrom('tags')
          .where('resource_arn', '=', input.resourceArn!)
          .where('key', 'in', input.tagKeys!)
          .execute();
      }
    });
  }

  async listTagsForResource(input: { resourceArn?: string; nextToken?: string }) {
    validate((v) => v.required('resourceArn', input.resourceArn));
    await this.requireResource(this.ctx.db, input.resourceArn!);
    const after = decodeToken(input.nextToken, 1)?.[0];
    let q = this.ctx.db.selectFrom('tags').select(['key', 'value']).where('resource_arn', '=', input.resourceArn!);
    if (after !== undefined) q = q.where('key', '>', String(after));
    const rows = await q
      .orderBy('key')
      .limit(DEFAULT_PAGE_SIZE + 1)
      .execute();
    const page = toPage(rows, DEFAULT_PAGE_SIZE, (r) => [r.key]);
    return {
      tags: page.items.map((r) => ({ Key: r.key, Value: r.value })),
      ...(page.nextToken !== undefined && { nextToken: page.nextToken }),
    };
  }
}
