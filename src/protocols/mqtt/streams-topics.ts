/**
 * The MQTT-based file delivery topics (AWS IoT developer guide, "MQTT-based file delivery
 * topics"; FreeRTOS ota_mqtt.c MQTT_API_STREAMS / MQTT_API_GET_CBOR / MQTT_API_DATA_CBOR):
 *   $aws/things/<thing>/streams/<streamId>/get/<fmt>       -> .../data/<fmt>
 *   $aws/things/<thing>/streams/<streamId>/describe/<fmt>  -> .../description/<fmt>
 *   either may be answered on                               .../rejected/<fmt>
 * where <fmt> is json or cbor.
 */
export const STREAM_FORMATS = ['json', 'cbor'] as const;
export type StreamFormat = (typeof STREAM_FORMATS)[number];

export const STREAM_OPERATIONS = {
  get: { operation: 'GetStream', reply: 'data' },
  describe: { operation: 'DescribeStream', reply: 'description' },
} as const;
export type StreamOperation = (typeof STREAM_OPERATIONS)[keyof typeof STREAM_OPERATIONS]['operation'];

/** Topics only the service publishes on. */
const SERVICE_ONLY = new Set(['data', 'description', 'rejected']);

export type StreamsTopic =
  | { kind: 'request'; thingName: string; streamId: string; operation: StreamOperation; format: StreamFormat }
  | { kind: 'service-only'; thingName: string }
  /** Under a stream but no API: answered InvalidTopic when the format is known (reply has a topic). */
  | { kind: 'unknown'; thingName: string; streamId?: string; format?: StreamFormat }
  | { kind: 'other' };

const PREFIX = /^\$aws\/things\/([^/]+)\/streams\/(.*)$/;

const isFormat = (s: string | undefined): s is StreamFormat => (STREAM_FORMATS as readonly string[]).includes(s ?? '');

export function parseStreamsTopic(topic: string): StreamsTopic {
  const m = PREFIX.exec(topic);
  if (!m) return { kind: 'other' };
  const thingName = m[1]!;
  const levels = m[2]!.split('/');
  const [streamId, op, format] = levels;
  if (levels.length === 3 && streamId && op && SERVICE_ONLY.has(op)) return { kind: 'service-only', thingName };
  if (levels.length === 3 && streamId && isFormat(format)) {
    const known = op === 'get' || op === 'describe' ? STREAM_OPERATIONS[op] : undefined;
    if (known) return { kind: 'request', thingName, streamId, operation: known.operation, format };
    return { kind: 'unknown', thingName, streamId, format };
  }
  return { kind: 'unknown', thingName };
}

export const replyTopic = (
  thingName: string,
  streamId: string,
  reply: 'data' | 'description' | 'rejected',
  format: StreamFormat,
): string => `$aws/things/${thingName}/streams/${streamId}/${reply}/${format}`;
