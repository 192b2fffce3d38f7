/**
 * The topics the service publishes a thing's notifications on (spec 5.2, 5.7). They go out only
 * when the pending set or its head changes (spec 5.6), never because a device subscribed.
 */
export const notifyTopic = (thingName: string): string => `$aws/things/${thingName}/jobs/notify`;
export const notifyNextTopic = (thingName: string): string => `$aws/things/${thingName}/jobs/notify-next`;
export const notifyNamespaceTopic = (thingName: string, namespaceId: string): string =>
  `$aws/things/${thingName}/jobs/notify-namespace-${namespaceId}`;
