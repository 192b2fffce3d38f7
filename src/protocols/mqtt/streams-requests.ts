import type { Logger } from 'pino';
import { errorMapping, ServiceError } from '../../errors.js';
import type { StreamDelivery } from '../../streams/stream-delivery.js';
import {
  checkClientToken,
  clientTokenOf,
  dataPayload,
  decodeRequest,
  descriptionPayload,
  getRequestOf,
  rejectedPayload,
  type RequestBody,
} from './streams-payloads.js';
import { replyTopic, type StreamsTopic } from './streams-topics.js';

/** Sends one reply to the requesting connection (subscribed or not, as jobs replies). */
export type SendReply = (topic: string, payload: Buffer) => Promise<void>;

/**
 * Answers one device request on a streams topic: DescribeStream with one description, GetStream
 * with one data message per block (each read when its turn comes), or one rejected message.
 */
export class StreamsRequestHandler {
  constructor(private readonly deps: { delivery: () => StreamDelivery | undefined; logger: Logger }) {}

  async handle(
    thingName: string,
    parsed: Exclude<StreamsTopic, { kind: 'other' | 'service-only' }>,
    payload: Buffer,
    send: SendReply,
  ): Promise<void> {
    if (parsed.kind === 'unknown') {
      // Without a stream id and a format there is no rejected topic to answer on.
      if (parsed.streamId === undefined || parsed.format === undefined) return;
      const error = new ServiceError('InvalidTopic', 'The topic names no MQTT-based file delivery operation.');
      return send(
        replyTopic(thingName, parsed.streamId, 'rejected', parsed.format),
        this.rejected(parsed.format, undefined, error),
      );
    }
    const { streamId, format } = parsed;
    let body: RequestBody = {};
    try {
      body = decodeRequest(format, payload);
      checkClientToken(body);
      const delivery = this.deps.delivery();
      if (!delivery) throw new ServiceError('ServiceUnavailable', 'Streams are not served here.');
      const c = clientTokenOf(body);
      if (parsed.operation === 'DescribeStream') {
        const description = await delivery.describe(thingName, streamId);
        return await send(
          replyTopic(thingName, streamId, 'description', format),
          descriptionPayload(format, c, description),
        );
      }
      const blocks = await delivery.getBlocks(thingName, streamId, getRequestOf(format, body));
      const topic = replyTopic(thingName, streamId, 'data', format);
      for await (const block of blocks) await send(topic, dataPayload(format, c, block));
    } catch (err) {
      await send(replyTopic(thingName, streamId, 'rejected', format), this.rejected(format, clientTokenOf(body), err));
    }
  }

  private rejected(format: 'json' | 'cbor', c: string | undefined, err: unknown): Buffer {
    const error =
      err instanceof ServiceError ? err : new ServiceError('InternalFailure', 'An internal error occurred.');
    if (!(err instanceof ServiceError)) this.deps.logger.error({ err }, 'stream request failed');
    return rejectedPayload(format, c, errorMapping(error.code).mqtt, error.message);
  }
}
