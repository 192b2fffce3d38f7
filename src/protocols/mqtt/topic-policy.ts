import { filterCovers, topicMatches } from './topic-filters.js';

/** Stands for the device's own thing name in operator-allowed topic filters. */
export const THING_VARIABLE = '{thing}';

/**
 * What a connected device may publish and subscribe to (issue 4): its own thing's jobs and streams topics,
 * plus filters the operator allows (`--device-topics`, `{thing}` = the device's thing name).
 * Everything else is refused.
 */
export class TopicPolicy {
  constructor(private readonly operatorFilters: readonly string[] = []) {}

  static parse(option: string | undefined): TopicPolicy {
    const filters = (option ?? '')
      .split(',')
      .map((f) => f.trim())
      .filter((f) => f !== '');
    return new TopicPolicy(filters);
  }

  private filtersFor(thingName: string): string[] {
    return [
      `$aws/things/${thingName}/jobs/#`,
      // MQTT-based file delivery; which streams it may read is the delivery's question (issue 20).
      `$aws/things/${thingName}/streams/#`,
      ...this.operatorFilters.map((f) => f.split(THING_VARIABLE).join(thingName)),
    ];
  }

  canPublish(thingName: string, topic: string): boolean {
    return this.filtersFor(thingName).some((f) => topicMatches(f, topic));
  }

  /** A filter is allowed only if it cannot match any topic outside what the device may read. */
  canSubscribe(thingName: string, filter: string): boolean {
    return this.filtersFor(thingName).some((allowed) => filterCovers(allowed, filter));
  }
}
