import type { Logger } from 'pino';
import { epochSeconds, type Clock } from '../../clock.js';
import type { DeviceJobsApi } from './device-jobs-api.js';
import { notifyNextPayload, notifyPayload, pendingKey } from './jobs-payloads.js';
import { topicMatches } from './topic-filters.js';

export const notifyTopic = (thingName: string): string => `$aws/things/${thingName}/jobs/notify`;
export const notifyNextTopic = (thingName: string): string => `$aws/things/${thingName}/jobs/notify-next`;
export const notifyNamespaceTopic = (thingName: string, namespaceId: string): string =>
  `$aws/things/${thingName}/jobs/notify-namespace-${namespaceId}`;

/**
 * Our answer to "a device that reconnects gets the current state" (issue 4): when a device
 * subscribes to its notify or notify-next topic, the current pending list / head is sent to that
 * connection alone, computed from the database, but only when something is pending (an empty
 * state is no news). A device that was offline while its head changed thus learns of it without
 * polling; AWS devices that also call `$next/get` on connect simply get the answer twice.
 */
export class SubscribeReplay {
  constructor(private readonly deps: { jobs: () => DeviceJobsApi | undefined; clock: Clock; logger: Logger }) {}

  async messagesFor(thingName: string, filters: string[]): Promise<{ topic: string; payload: unknown }[]> {
    const wantsNotify = filters.some((f) => topicMatches(f, notifyTopic(thingName)));
    const wantsNext = filters.some((f) => topicMatches(f, notifyNextTopic(thingName)));
    const jobs = this.deps.jobs();
    if ((!wantsNotify && !wantsNext) || !jobs) return [];
    try {
      const state = await jobs.pendingState(thingName);
      const timestamp = epochSeconds(this.deps.clock.now());
      const out: { topic: string; payload: unknown }[] = [];
      if (wantsNotify && pendingKey(state) !== '') {
        out.push({ topic: notifyTopic(thingName), payload: notifyPayload(state, timestamp) });
      }
      if (wantsNext && state.head) {
        out.push({ topic: notifyNextTopic(thingName), payload: notifyNextPayload(state, timestamp) });
      }
      return out;
    } catch (err) {
      this.deps.logger.error({ err, thingName }, 'cannot compute the jobs state for a new subscription');
      return [];
    }
  }
}
