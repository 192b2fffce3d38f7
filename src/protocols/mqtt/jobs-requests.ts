import type { Logger } from 'pino';
import { epochSeconds, type Clock } from '../../clock.js';
import { errorMapping, ServiceError } from '../../errors.js';
import type { DeviceJobsApi, RequestFields } from './device-jobs-api.js';
import { runJobsRequest, type JobsTopic } from './jobs-topics.js';
import type { ThingRateLimiter } from './rate-limit.js';

export interface JobsReply {
  topic: string;
  payload: Record<string, unknown>;
}

const STATEFUL_CODES = new Set(['InvalidStateTransition', 'VersionMismatch']);

type Parsed = { ok: true; body: RequestFields } | { ok: false; error: ServiceError };

const utf8 = new TextDecoder('utf-8');

/**
 * spec 5.3: the payload must be a JSON object; anything else is InvalidJson. Bytes that are not
 * UTF-8 are read as U+FFFD instead of refusing the request: the AWS IoT Device Client cuts
 * handler output to its last 1,024 bytes, which can split a multi-byte character, and treats a
 * rejection as final (the execution would stay IN_PROGRESS and block the thing's queue). JSON's
 * structure is ASCII, so this never turns a malformed document into a valid one.
 */
function parsePayload(payload: Buffer): Parsed {
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(payload));
  } catch {
    return { ok: false, error: new ServiceError('InvalidJson', 'Payload is not valid UTF-8 JSON.') };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { ok: false, error: new ServiceError('InvalidJson', 'Payload must be a JSON object.') };
  }
  return { ok: true, body: value as RequestFields };
}

/**
 * Answers one device request on a jobs topic (spec 5.2-5.5): the reply goes to
 * `<request topic>/accepted` or `/rejected`, echoes clientToken only when one was sent, and
 * carries an integer epoch-second timestamp.
 */
export class JobsRequestHandler {
  constructor(
    private readonly deps: {
      jobs: () => DeviceJobsApi | undefined;
      clock: Clock;
      logger: Logger;
      limiter: ThingRateLimiter;
    },
  ) {}

  /**
   * Counts a request against its thing's rate when it arrives (not when its turn comes in the
   * connection's queue), so a flood is throttled however slowly the queue drains.
   */
  admit(thingName: string): boolean {
    return this.deps.limiter.take(thingName);
  }

  async handle(
    topic: string,
    parsedTopic: Exclude<JobsTopic, { kind: 'other' | 'service-only' }>,
    payload: Buffer,
    admitted: boolean,
  ) {
    const parsed = parsePayload(payload);
    const clientToken = parsed.ok ? parsed.body.clientToken : undefined;
    try {
      if (!parsed.ok) throw parsed.error;
      if (clientToken !== undefined && typeof clientToken !== 'string') {
        throw new ServiceError('InvalidRequest', 'clientToken must be a string.');
      }
      if (!admitted) {
        throw new ServiceError('Throttling', 'Rate exceeded for the jobs topics of this thing.');
      }
      if (parsedTopic.kind === 'unknown') {
        throw new ServiceError('InvalidTopic', `The topic ${topic} does not name a jobs operation.`);
      }
      const jobs = this.deps.jobs();
      if (!jobs) throw new ServiceError('ServiceUnavailable', 'The jobs service is not available.');
      const data = await runJobsRequest(jobs, parsedTopic, parsed.body);
      return this.reply(`${topic}/accepted`, typeof clientToken === 'string' ? clientToken : undefined, data);
    } catch (err) {
      return this.rejected(topic, typeof clientToken === 'string' ? clientToken : undefined, err);
    }
  }

  private reply(topic: string, clientToken: string | undefined, data: Record<string, unknown>): JobsReply {
    const timestamp = epochSeconds(this.deps.clock.now());
    return { topic, payload: { ...(clientToken !== undefined && { clientToken }), timestamp, ...data } };
  }

  /** spec 5.5: code, message, clientToken?, timestamp, and executionState where the code has one. */
  private rejected(topic: string, clientToken: string | undefined, err: unknown): JobsReply {
    const error =
      err instanceof ServiceError ? err : new ServiceError('InternalFailure', 'An internal error occurred.');
    if (!(err instanceof ServiceError)) this.deps.logger.error({ err, topic }, 'jobs request failed');
    const code = errorMapping(error.code).mqtt;
    // spec 5.5: only these two codes carry the current executionState.
    const executionState = STATEFUL_CODES.has(code) ? error.extras.executionState : undefined;
    return {
      topic: `${topic}/rejected`,
      payload: {
        code,
        message: error.message,
        ...(clientToken !== undefined && { clientToken }),
        timestamp: epochSeconds(this.deps.clock.now()),
        ...(executionState !== undefined && { executionState }),
      },
    };
  }
}
