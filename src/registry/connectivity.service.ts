import type { Logger } from 'pino';
import type { ServiceContext } from '../context.js';
import type { RegistryHooks } from './registry.hooks.js';

/**
 * What the MQTT broker calls at its connect and disconnect hooks. Neither ever rejects; the
 * broker awaits `connected` before CONNACK, so a device that is connected is searchable as such.
 */
export interface ConnectivityFeed {
  connected(thingName: string): Promise<void>;
  disconnected(thingName: string, reason: string): void;
}

/**
 * Connectivity of things for the fleet index (connectivity.connected / timestamp /
 * disconnectReason), written by the broker of whichever replica the device is on. A late event
 * never overwrites a newer one (compare on the timestamp).
 */
export class ConnectivityService {
  constructor(
    private readonly ctx: ServiceContext,
    private readonly hooks: RegistryHooks,
  ) {}

  recordConnected(thingName: string, at: number): Promise<void> {
    return this.record(thingName, at, true, null);
  }

  recordDisconnected(thingName: string, at: number, reason: string): Promise<void> {
    return this.record(thingName, at, false, reason);
  }

  private async record(thingName: string, at: number, connected: boolean, reason: string | null): Promise<void> {
    await this.ctx.db.transaction().execute(async (trx) => {
      const thing = await trx.selectFrom('things').select('name').where('name', '=', thingName).executeTakeFirst();
      if (!thing) return;
      const values = { thing_name: thingName, connected: connected ? 1 : 0, timestamp: at, disconnect_reason: reason };
      const result = await trx
        .insertInto('thing_connectivity')
        .values(values)
        .onConflict((oc) =>
          oc
            .column('thing_name')
            .doUpdateSet({ connected: values.connected, timestamp: at, disconnect_reason: reason })
            .where('thing_connectivity.timestamp', '<=', at),
        )
        .executeTakeFirst();
      // Dynamic groups that ask about connectivity follow it, in the same commit.
      if ((result.numInsertedOrUpdatedRows ?? 0n) > 0n) await this.hooks.afterThingChanged?.(trx, thingName);
    });
  }

  /** The broker's side: errors are logged, never thrown into the MQTT connection. */
  feed(logger: Logger): ConnectivityFeed {
    const run = (p: Promise<void>): Promise<void> =>
      p.catch((err: unknown) => logger.warn({ err }, 'cannot record device connectivity'));
    return {
      connected: (thing) => run(this.recordConnected(thing, this.ctx.clock.now().getTime())),
      disconnected: (thing, reason) => {
        void run(this.recordDisconnected(thing, this.ctx.clock.now().getTime(), reason));
      },
    };
  }
}
