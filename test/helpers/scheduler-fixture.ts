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
import { createSchedulerServices, type SchedulerServices } from '../../src/scheduler/scheduler.services.js';
import { openStore, type Store } from '../../src/store/database.js';
import { TagsService } from '../../src/tags/tags.service.js';
import { createPostgresDatabase, type TestDialect } from './postgres.js';

/** One "server" worth of services on a shared database: what a replica runs. */
export interface Replica extends JobServices, SchedulerServices {
  ctx: ServiceContext;
  store: Store;
  things: ThingsService;
  groups: GroupsService;
}

export interface Published {
  topic: string;
  payload: Record<string, unknown>;
}

/** The jobs feature, the registry and the rollout engine on a fresh database, driven by a FakeClock. */
export interface SchedulerFixture extends Replica {
  clock: FakeClock;
  now(): number;
  /** Another replica on the same database (its own pool and scheduler). */
  replica(): Promise<Replica>;
  /** thing-jobs-changed outbox rows, in order. */
  announced(): Promise<string[]>;
  /** publish outbox rows ($aws/events/...), in order. */
  published(): Promise<Published[]>;
  clearOutbox(): Promise<void>;
  thingArn(name: string): string;
  groupArn(name: string): string;
  close(): Promise<void>;
}

export interface SchedulerFixtureOptions {
  /** The scheduler's job concurrency limit (default DEFAULT_MAX_CONCURRENT_JOBS). */
  maxConcurrentJobs?: number;
}

async function openReplica(
  database: string,
  clock: FakeClock,
  options: SchedulerFixtureOptions = {},
): Promise<Replica> {
  const store = await openStore({ database });
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
    ...createSchedulerServices(ctx, jobServices, options),
    ctx,
    store,
    things: new ThingsService(ctx, hooks),
    groups: new GroupsService(ctx, hooks),
  };
}

export async function schedulerFixture(
  dialect: TestDialect = 'sqlite',
  options: SchedulerFixtureOptions = {},
): Promise<SchedulerFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'fleetjobs-scheduler-'));
  const pg = dialect === 'postgres' ? await createPostgresDatabase() : undefined;
  const database = pg?.url ?? join(dir, 'db.sqlite');
  const clock = new FakeClock(Date.UTC(2030, 0, 1));
  const main = await openReplica(database, clock, options);
  const replicas: Replica[] = [main];
  const db = main.store.db;
  return {
    ...main,
    clock,
    now: () => clock.now().getTime(),
    replica: async () => {
      const r = await openReplica(database, clock);
      replicas.push(r);
      return r;
    },
    announced: async () =>
      (
        await db
          .selectFrom('outbox')
          .select('thing_name')
          .where('kind', '=', 'thing-jobs-changed')
          .orderBy('id')
          .execute()
      ).map((r) => r.thing_name ?? ''),
    published: async () =>
      (
        await db.selectFrom('outbox').select(['topic', 'payload']).where('kind', '=', 'publish').orderBy('id').execute()
      ).map((r) => ({ topic: r.topic ?? '', payload: JSON.parse(r.payload ?? '{}') as Record<string, unknown> })),
    clearOutbox: async () => {
      await db.deleteFrom('outbox').execute();
    },
    thingArn: (name) => main.ctx.arns.thing(name),
    groupArn: (name) => main.ctx.arns.thingGroup(name),
    close: async () => {
      for (const r of replicas) {
        await r.scheduler.stop();
        await r.jobDeletions.stop();
        await r.store.close();
      }
      await pg?.drop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
