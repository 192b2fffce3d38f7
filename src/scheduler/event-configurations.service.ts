import type { ServiceContext } from '../context.js';
import { validate } from '../validation.js';
import { EVENT_TYPES, listConfigs, setConfig, type EventType } from './events.repository.js';

export interface UpdateEventConfigurationsInput {
  eventConfigurations?: Record<string, { Enabled?: boolean } | undefined>;
}

/** UpdateEventConfigurations / DescribeEventConfigurations (spec 2.2, 2.7, 5.9). */
export class EventConfigurationsService {
  constructor(private readonly ctx: ServiceContext) {}

  async updateEventConfigurations(input: UpdateEventConfigurationsInput): Promise<Record<string, never>> {
    const configs = input.eventConfigurations;
    validate((v) => {
      if (!v.object('eventConfigurations', configs)) return;
      for (const [type, config] of Object.entries(configs)) {
        v.string('eventConfigurations.key', type, { enum: EVENT_TYPES });
        if (v.object(`eventConfigurations.${type}`, config)) {
          v.boolean(`eventConfigurations.${type}.Enabled`, config.Enabled);
        }
      }
    });
    const now = this.ctx.clock.now().getTime();
    await this.ctx.db.transaction().execute(async (trx) => {
      for (const [type, config] of Object.entries(configs ?? {})) {
        // A configuration without Enabled leaves the stored switch as it is.
        if (config?.Enabled !== undefined) await setConfig(trx, type as EventType, config.Enabled, now);
      }
    });
    return {};
  }

  /** Every event type with its switch (false until enabled), and when the settings were made. */
  async describeEventConfigurations() {
    const rows = await listConfigs(this.ctx.db);
    const byType = new Map(rows.map((r) => [r.event_type, r]));
    const eventConfigurations: Record<string, { Enabled: boolean }> = {};
    for (const type of EVENT_TYPES) eventConfigurations[type] = { Enabled: byType.get(type)?.enabled === 1 };
    const created = rows.map((r) => r.created_at);
    const updated = rows.map((r) => r.updated_at);
    return {
      eventConfigurations,
      ...(created.length > 0 && {
        creationDate: Math.min(...created) / 1000,
        lastModifiedDate: Math.max(...updated) / 1000,
      }),
    };
  }
}
