import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Arns } from '../../src/arns.js';
import { FakeClock } from '../../src/clock.js';
import type { ServiceContext } from '../../src/context.js';
import { createJobServices, type JobServices } from '../../src/jobs/job-services.js';
import { silentLogger } from '../../src/logger.js';
import { GroupsService } from '../../src/registry/groups.service.js';
import { RegistryHookList } from '../../src/registry/registry.hooks.js';
import { ThingsService } from '../../src/registry/things.service.js';
import { openStore, type Store } from '../../src/store/database.js';
import { TagsService } from '../../src/tags/tags.service.js';
import { createPostgresDatabase, type TestDialect } from './postgres.js';

/** The jobs feature and the registry on a fresh database with a FakeClock, without a server. */
export interface JobsFixture extends JobServices {
  ctx: ServiceContext;
  clock: FakeClock;
  store: Store;
  things: ThingsService;
  groups: GroupsService;
  tags: TagsService;
  /** Outbox rows of kind thing-jobs-changed, in order: [thing_name, namespace_id]. */
  announced(): Promise<[string, string][]>;
  clearOutbox(): Promise<void>;
  close(): Promise<void>;
}

export async function jobsFixture(dialect: TestDialect = 'sqlite'): Promise<JobsFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'fleetjobs-jobs-'));
  const pg = dialect === 'postgres' ? await createPostgresDatabase() : undefined;
  const store = await openStore({ database: pg?.url ?? join(dir, 'db.sqlite') });
  const clock = new FakeClock(Date.UTC(2030, 0, 1));
  const ctx: ServiceContext = {
    db: store.db,
    dialect: store.dialect,
    clock,
    arns: new Arns({ region: 'us-east-1', account: '123456789012' }),
    logger: silentLogger(),
  };
  const hooks = new RegistryHookList();
  const tags = new TagsService(ctx);
  const jobServices = createJobServices(ctx, tags, hooks);
  return {
    ...jobServices,
    ctx,
    clock,
    store,
    tags,
    things: new ThingsService(ctx, hooks),
    groups: new GroupsService(ctx, hooks),
    announced: async () =>
      (
        await store.db
          .selectFrom('outbox')
          .select(['thing_name', 'namespace_id'])
          .where('kind', '=', 'thing-jobs-changed')
          .orderBy('id')
          .execute()
      ).map((r) => [r.thing_name ?? '', r.namespace_id]),
    clearOutbox: async () => {
      await store.db.deleteFrom('outbox').execute();
    },
    close: async () => {
      await jobServices.jobDeletions.stop();
      await store.close();
      await pg?.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const thingArn = (f: JobsFixture, name: string): string => f.ctx.arns.thing(name);
export const groupArn = (f: JobsFixture, name: string): string => f.ctx.arns.thingGroup(name);
