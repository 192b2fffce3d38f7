import type { Logger } from 'pino';
import { epochSeconds, systemClock, type Clock } from '../clock.js';
import type { Db, Dialect } from '../store/database.js';
import type { DeviceJobsApi } from '../protocols/mqtt/device-jobs-api.js';
import { headKey, notifyNextPayload, notifyPayload, pendingKey } from '../protocols/mqtt/jobs-payloads.js';
import { notifyNamespaceTopic, notifyNextTopic, notifyTopic } from '../protocols/mqtt/notify-topics.js';
import * as repo from './notifier.repository.js';
import { yieldToEventLoop } from '../store/yield.js';
import type { OutboxSignal } from './outbox-signal.js';

export type Publish = (topic: string, payload: unknown) => Promise<void>;

export interface NotifierOptions {
  db: Db;
  dialect: Dialect;
  /** Stamps payload timestamps (the service clock). */
  clock: Clock;
  logger: Logger;
  jobs: () => DeviceJobsApi | undefined;
  publish: Publish;
  signal: OutboxSignal;
  /** Safety-net poll; the signal does the real work. */
  pollMs?: number;
  leaseMs?: number;
  batch?: number;
  /** Times the leases; the wall clock unless a test drives it. */
  leaseClock?: Clock;
  /**
   * This replica's connection name (Store.origin, PostgreSQL): claims prefer the rows this
   * replica wrote and take another's only once they waited a poll (issue 17 item 3). Without
   * it, every free row is anyone's.
   */
  origin?: string;
}

const CONCURRENCY = 16;

type PendingState = Awaited<ReturnType<DeviceJobsApi['pendingState']>>;
const namespaceOf = (key: repo.ThingKey): string | undefined => (key.namespaceId === '' ? undefined : key.namespaceId);

/**
 * Publishes from the outbox (DESIGN.md rule 5), at least once: a row is deleted only after what
 * it caused was handed to the broker, in the same commit that records the announced state. For
 * 'thing-jobs-changed' it recomputes the thing's pending list and head and publishes notify /
 * notify-next only for what changed since the last announcement (spec 5.6).
 *
 * Leases use the wall clock: they coordinate live replicas in real time, whatever clock the
 * service runs on.
 */
export class Notifier {
  private running: Promise<void> = Promise.resolve();
  private pollTimer: NodeJS.Timeout | undefined;
  private stopWake: (() => void) | undefined;
  private stopped = false;
  private readonly leaseMs: number;
  private readonly batch: number;
  private readonly leaseClock: Clock;
  /** Rows up to this id waited a whole poll: anyone's (see claimAffinity). */
  private foreignUpTo = 0;
  private seenUpTo = 0;
  private nextMarkAt = 0;

  constructor(private readonly o: NotifierOptions) {
    this.leaseMs = o.leaseMs ?? 30_000;
    this.batch = o.batch ?? 200;
    this.leaseClock = o.leaseClock ?? systemClock;
  }

  start(): void {
    // SQLite has one server process (--cluster needs PostgreSQL): claims and leases found in the
    // database at start belong to a process that died (kill -9, power loss). Freed now, its
    // notifications go out at once instead of after leaseMs (issue 17).
    if (this.o.dialect === 'sqlite') {
      this.running = repo.freeAllClaims(this.o.db).catch((err: unknown) => {
        this.o.logger.error({ err }, 'freeing the claims of a previous process failed; they expire with their lease');
      });
    }
    this.stopWake = this.o.signal.onWake(() => void this.drain());
    this.pollTimer = setInterval(() => void this.drain(), this.o.pollMs ?? 1000);
    this.pollTimer.unref();
    void this.drain();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopWake?.();
    if (this.pollTimer) clearInterval(this.pollTimer);
    await this.running;
  }

  /** Processes until no free row is left; runs are serialised, so awaiting it means "caught up". */
  drain(): Promise<void> {
    this.running = this.running.then(async () => {
      try {
        while (!this.stopped && (await this.runOnce()) > 0) {
          // Without a turn of the event loop here, HTTP replies wait for the whole outbox.
          await yieldToEventLoop();
        }
      } catch (err) {
        this.o.logger.error({ err }, 'notifier run failed; retrying at the next wake-up');
      }
    });
    return this.running;
  }

  /** One batch; returns the number of rows claimed. */
  async runOnce(): Promise<number> {
    const now = this.leaseClock.now().getTime();
    const affinity = await this.claimAffinity(now);
    const rows = await repo.claimRows(this.o.db, this.o.dialect, now, now + this.leaseMs, this.batch, affinity);
    if (rows.length === 0) return 0;
    const groups = new Map<string, repo.OutboxRow[]>();
    const published: number[] = [];
    for (const row of rows) {
      if (row.kind === 'publish') {
        if (await this.publishRow(row)) published.push(row.id);
        continue;
      }
      const key = JSON.stringify([row.thing_name, row.namespace_id]);
      groups.set(key, [...(groups.get(key) ?? []), row]);
    }
    await repo.deleteRows(this.o.db, published);
    await this.thingsChanged([...groups.values()], now);
    return rows.length;
  }

  /**
   * Once a poll period, the newest row id seen a period ago becomes the limit up to which other
   * replicas' rows are claimable: a row still free after a whole period is one its own replica
   * is not announcing (stopped, or behind), and is taken here 1-2 periods after it was written.
   */
  private async claimAffinity(now: number): Promise<repo.ClaimAffinity | undefined> {
    if (this.o.origin === undefined) return undefined;
    if (now >= this.nextMarkAt) {
      this.foreignUpTo = this.seenUpTo;
      this.seenUpTo = await repo.newestRowId(this.o.db);
      this.nextMarkAt = now + (this.o.pollMs ?? 1000);
    }
    return { origin: this.o.origin, foreignUpTo: this.foreignUpTo };
  }

  /**
   * One commit takes the leases of the batch's things and one records what was announced, so a
   * busy outbox costs a few commits per batch rather than a few per thing.
   */
  private async thingsChanged(groups: repo.OutboxRow[][], now: number): Promise<void> {
    if (groups.length === 0) return;
    const jobs = this.o.jobs();
    const keyOf = (g: repo.OutboxRow[]): repo.ThingKey => ({
      thingName: g[0]!.thing_name!,
      namespaceId: g[0]!.namespace_id,
    });
    const leased = jobs ? await repo.leaseThings(this.o.db, groups.map(keyOf), now, now + this.leaseMs) : [];
    const byKey = new Map(leased.map((l) => [JSON.stringify([l.thingName, l.namespaceId]), l]));
    const mine = groups.filter((g) => byKey.has(JSON.stringify([g[0]!.thing_name, g[0]!.namespace_id])));
    // Things another notifier is announcing (or jobs not wired yet): try again shortly.
    const others = groups.filter((g) => !mine.includes(g)).flatMap((g) => g.map((r) => r.id));
    await repo.releaseRows(this.o.db, others, now + 250);
    const done: repo.Announced[] = [];
    const failed: repo.ThingKey[] = [];
    const states = jobs && mine.length > 0 ? await this.readStates(jobs, mine.map(keyOf)) : [];
    for (let i = 0; i < mine.length; i += CONCURRENCY) {
      await Promise.all(
        mine.slice(i, i + CONCURRENCY).map(async (g, k) => {
          const key = keyOf(g);
          const last = byKey.get(JSON.stringify([key.thingName, key.namespaceId]))!;
          try {
            const state = states[i + k];
            if (!state) throw new Error('the pending jobs of this thing could not be read');
            done.push({ ...key, state: await this.announce(key, last, state), rowIds: g.map((r) => r.id) });
          } catch (err) {
            this.o.logger.error(
              { err, thingName: key.thingName },
              'notifying a thing failed; its rows stay for a retry',
            );
            failed.push(key);
          }
        }),
      );
    }
    await repo.completeThings(this.o.db, done, this.o.clock.now().getTime());
    await repo.unleaseThings(this.o.db, failed);
  }

  /** One read of the whole batch's pending executions (issue 17); on failure, none (all retried). */
  private async readStates(jobs: DeviceJobsApi, keys: repo.ThingKey[]): Promise<(PendingState | undefined)[]> {
    try {
      return await jobs.pendingStates(keys.map((k) => ({ thingName: k.thingName, namespaceId: namespaceOf(k) })));
    } catch (err) {
      this.o.logger.error({ err }, 'reading the pending jobs of a batch of things failed; they stay for a retry');
      return [];
    }
  }

  /** Publishes what changed since `last` (spec 5.6) and returns the new announced state. */
  private async announce(key: repo.ThingKey, last: repo.NotifyState, state: PendingState): Promise<repo.NotifyState> {
    const { thingName, namespaceId } = key;
    const next = { pending_key: pendingKey(state), head_key: headKey(state) };
    const timestamp = epochSeconds(this.o.clock.now());
    if (next.pending_key !== last.pending_key) {
      const topic = namespaceId === '' ? notifyTopic(thingName) : notifyNamespaceTopic(thingName, namespaceId);
      await this.o.publish(topic, notifyPayload(state, timestamp));
    }
    // spec 5.7: namespaced jobs announce on notify-namespace-<ns> only.
    if (namespaceId === '' && next.head_key !== last.head_key) {
      await this.o.publish(notifyNextTopic(thingName), notifyNextPayload(state, timestamp));
    }
    return next;
  }

  /** True when handed to the broker; a failed row stays claimed and is retried after its lease. */
  private async publishRow(row: repo.OutboxRow): Promise<boolean> {
    try {
      await this.o.publish(row.topic!, row.payload === null ? {} : (JSON.parse(row.payload) as unknown));
      return true;
    } catch (err) {
      this.o.logger.error({ err, topic: row.topic }, 'publish from the outbox failed; it stays for a retry');
      return false;
    }
  }
}
