import { Aedes, type AedesPublishPacket, type Client, type PublishPacket, type Subscription } from 'aedes';
import { once, type EventEmitter } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import type { DeviceIdentity, DeviceIdentityService } from '../../certificates/device-identity.service.js';
import type { IdentityEvents } from '../../certificates/identity-events.js';
import type { Clock } from '../../clock.js';
import type { ListenAddress } from '../../config.js';
import { ServiceError } from '../../errors.js';
import type { DeviceJobsApi } from './device-jobs-api.js';
import { JobsRequestHandler } from './jobs-requests.js';
import { parseJobsTopic } from './jobs-topics.js';
import { StreamsRequestHandler } from './streams-requests.js';
import { parseStreamsTopic, type StreamsTopic } from './streams-topics.js';
import type { StreamDelivery } from '../../streams/stream-delivery.js';
import { ThingRateLimiter, type RateLimit } from './rate-limit.js';
import type { TopicPolicy } from './topic-policy.js';
import type { AedesCluster } from './cluster.js';
import { ConnectionHeadroom, openFileLimit } from './open-files.js';
import { RequestWindow } from './request-window.js';
import { settlesWithin } from './settle.js';
import type { ConnectivityFeed } from '../../registry/connectivity.service.js';

export interface TlsMaterial {
  key: string;
  cert: string;
  /** PEMs of every CA whose device certificates may connect. */
  ca: string[];
}

export interface BrokerOptions {
  listen: ListenAddress;
  tls: () => Promise<TlsMaterial>;
  identity: DeviceIdentityService;
  identityEvents: IdentityEvents;
  jobs: () => DeviceJobsApi | undefined;
  /** MQTT-based file delivery (streams topics); absent, stream requests are answered InternalError. */
  streams?: () => StreamDelivery | undefined;
  policy: TopicPolicy;
  clock: Clock;
  logger: Logger;
  rateLimit?: RateLimit;
  /** How often connected devices are re-checked against the database (changes from other replicas). */
  sweepMs?: number;
  /** Scaled out: the Redis-joined emitter and persistence (cluster.ts); in memory when absent. */
  cluster?: AedesCluster;
  /** The fleet index's connectivity (issue 19), told of each device's connect and disconnect. */
  connectivity?: ConnectivityFeed;
  /** The open-file limit to warn against; read from the process when absent. */
  openFileLimit?: number;
  /** Device requests worked on at once (request-window.ts); DEFAULT_REQUEST_WINDOW when absent. */
  requestWindow?: number;
}

/**
 * Enough to keep several group-commit batches (256 requests each, store/transaction-batcher.ts) or
 * a PostgreSQL pool busy, and a bounded heap however many devices ask at once.
 */
export const DEFAULT_REQUEST_WINDOW = 1024;

const NOT_AUTHORIZED = 5;
const IDENTIFIER_REJECTED = 2;
/** MQTT 5 reason code 0x95 (Packet too large) on the DISCONNECT a v5 client is sent. */
const PACKET_TOO_LARGE = 0x95;

/**
 * AWS IoT's message size limit (spec 7, STACK.md): a payload over 128 KiB is refused by
 * closing the connection (MQTT 5 clients first get DISCONNECT 0x95). The packet limit adds room
 * for the topic (AWS: 256 bytes) and MQTT 5 properties; Aedes enforces it as soon as a packet's
 * fixed header is read, so an oversized message is never buffered.
 */
export const MAX_PAYLOAD_BYTES = 128 * 1024;
export const MAX_PACKET_BYTES = MAX_PAYLOAD_BYTES + 8 * 1024;
const CLOSE_TIMEOUT_MS = 5000;
/**
 * Stream requests waiting in one connection's queue: each may send up to 128 KiB, so a device
 * that publishes faster than it is answered has the excess dropped (QoS 0 semantics) instead of
 * queued without bound.
 */
export const MAX_QUEUED_STREAM_REQUESTS = 32;

/** AWS IoT's default persistent-session expiry (1 hour) bounds what an MQTT 5 client may ask for. */
const SESSION_EXPIRY_LIMIT_SECONDS = 3600;

function refuse(message: string, returnCode: number): Error & { returnCode: number } {
  return Object.assign(new Error(message), { returnCode });
}

/**
 * The built-in MQTT broker (Aedes over TLS with client certificates, DESIGN.md). A device is its
 * certificate's thing; it may touch only that thing's jobs topics (and what the operator allows).
 */
export class MqttBroker {
  private readonly identities = new Map<Client, DeviceIdentity>();
  /** Connections per thing on this broker (the fleet index's connectivity, issue 19). */
  private readonly sessions = new Map<string, number>();
  private readonly queues = new Map<Client, Promise<void>>();
  private readonly requests: JobsRequestHandler;
  private readonly streamRequests: StreamsRequestHandler;
  private readonly queuedStreamRequests = new Map<Client, number>();
  private readonly limiter: ThingRateLimiter;
  private readonly headroom: ConnectionHeadroom;
  private readonly window: RequestWindow;
  private aedes!: Aedes;
  private server!: Server;
  private sweepTimer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly o: BrokerOptions) {
    this.limiter = new ThingRateLimiter(o.clock, o.rateLimit);
    const limit = o.openFileLimit ?? openFileLimit();
    o.logger.info({ openFileLimit: limit ?? 'unknown' }, 'open-file limit (one per device connection)');
    this.headroom = new ConnectionHeadroom(limit, o.logger);
    this.window = new RequestWindow(o.requestWindow ?? DEFAULT_REQUEST_WINDOW);
    this.requests = new JobsRequestHandler({ jobs: o.jobs, clock: o.clock, logger: o.logger, limiter: this.limiter });
    this.streamRequests = new StreamsRequestHandler({ delivery: o.streams ?? (() => undefined), logger: o.logger });
  }

  async start(): Promise<AddressInfo> {
    this.aedes = new Aedes({
      ...this.o.cluster,
      authenticate: (client, _u, _p, done) => {
        this.authenticate(client).then(
          (ok) => done(null, ok),
          (err: Error & { returnCode: number }) => done(err as Parameters<typeof done>[0], false),
        );
      },
      authorizePublish: (client, packet, done) => this.authorizePublish(client, packet, done),
      authorizeSubscribe: (client, sub, done) => done(null, this.authorizeSubscribe(client, sub)),
      authorizeForward: (_client, packet) => this.forward(packet),
      drainTimeout: 30_000,
      maximumPacketSize: MAX_PACKET_BYTES,
      sessionExpiryIntervalLimit: SESSION_EXPIRY_LIMIT_SECONDS,
    });
    await this.aedes.listen();
    // Aedes reports its persistence's failures here (Redis unreachable, scaled out: a session's
    // cleanup, the periodic sweep of stale wills). Unheard, an 'error' event ends the process.
    (this.aedes as EventEmitter).on('error', (err: Error) =>
      this.o.logger.warn({ err: err.message }, 'MQTT broker error'),
    );
    this.aedes.on('clientDisconnect', (client) => this.forget(client));
    this.aedes.on('client', () => this.headroom.check(this.aedes.connectedClients));
    const tls = await this.o.tls();
    this.server = createServer({ ...tls, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2' });
    this.server.on('secureConnection', (socket) => this.handleConnection(socket));
    this.server.on('tlsClientError', (err) => this.o.logger.debug({ err }, 'MQTT TLS handshake refused'));
    this.server.listen(this.o.listen.port, this.o.listen.host);
    await once(this.server, 'listening');
    this.unsubscribe = this.o.identityEvents.on((change) => {
      if (change.caChanged) void this.reloadTls().then(() => this.sweep());
      else if (change.certificateId) void this.sweep(change.certificateId);
    });
    this.sweepTimer = setInterval(() => void this.sweep(), this.o.sweepMs ?? 30_000);
    this.sweepTimer.unref();
    return this.server.address() as AddressInfo;
  }

  /** Publishes as the service (notify, notify-next, events). */
  publish(topic: string, payload: unknown, qos: 0 | 1 = 1): Promise<void> {
    const packet: PublishPacket = {
      cmd: 'publish',
      topic,
      payload: Buffer.from(JSON.stringify(payload)),
      qos,
      retain: false,
      dup: false,
    };
    return new Promise((resolve, reject) => this.aedes.publish(packet, (err) => (err ? reject(err) : resolve())));
  }

  /**
   * Serves one TLS connection whose client certificate the TLS layer verified: the MQTT listener's
   * own, and the device HTTPS listener's when the client asks ALPN `x-amzn-mqtt-ca` (port 443).
   */
  handleConnection(socket: TLSSocket): void {
    this.aedes.handle(socket);
  }

  /** The request window: requests in progress, and read but waiting for a place. */
  get requestWindow(): { active: number; queued: number } {
    return { active: this.window.active, queued: this.window.queued };
  }

  get connectedDevices(): number {
    return this.identities.size;
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // Scaled out, Aedes' close goes through Redis (sessions, the emitter); with Redis gone it
    // would never finish, and a replica that cannot stop cannot be replaced.
    const stopped = await settlesWithin(
      new Promise<void>((resolve) => this.aedes.close(() => resolve())),
      CLOSE_TIMEOUT_MS,
    );
    if (!stopped) this.o.logger.warn('the MQTT broker did not close in time (is Redis reachable?); stopping anyway');
    for (const client of this.identities.keys()) client.conn.destroy();
    await closed;
  }

  private async reloadTls(): Promise<void> {
    try {
      this.server.setSecureContext({ ...(await this.o.tls()), minVersion: 'TLSv1.2' });
    } catch (err) {
      this.o.logger.error({ err }, 'cannot reload the MQTT TLS context');
    }
  }

  /** At connect: an ACTIVE certificate attached to the thing named by the client id. */
  private async authenticate(client: Client): Promise<boolean> {
    const peer = (client.conn as TLSSocket).getPeerCertificate?.(true);
    if (!peer?.raw) throw refuse('a client certificate is required', NOT_AUTHORIZED);
    if (!client.id) throw refuse('the client id must be the thing name', IDENTIFIER_REJECTED);
    try {
      const identity = await this.o.identity.authorize(peer.raw, client.id);
      this.identities.set(client, identity);
      this.sessions.set(identity.thingName, (this.sessions.get(identity.thingName) ?? 0) + 1);
      await this.o.connectivity?.connected(identity.thingName);
      // Not on 'clientError': Aedes reports an MQTT 5 client's refused publish there too, and
      // that client stays connected (PUBACK 0x87); the identity goes when the socket does.
      client.conn.once('close', () => this.forget(client));
      return true;
    } catch (err) {
      if (!(err instanceof ServiceError)) throw err;
      this.o.logger.info({ clientId: client.id, reason: err.message }, 'MQTT connection refused');
      throw refuse(err.message, NOT_AUTHORIZED);
    }
  }

  /**
   * Answers Aedes through `done`: at once for what is refused or routed, and for a device request
   * when the request window admits it. Until then Aedes neither acknowledges the packet nor reads
   * the connection further (request-window.ts).
   */
  private authorizePublish(client: Client | null, packet: PublishPacket, done: (err: Error | null) => void): void {
    const verdict = this.checkPublish(client, packet);
    if (typeof verdict !== 'function') return done(verdict);
    this.window.admit(() => {
      done(null);
      verdict();
    });
  }

  /** An error to refuse the publish, null to route it, or the start of a request to answer. */
  private checkPublish(client: Client | null, packet: PublishPacket): Error | null | (() => void) {
    const identity = client && this.identities.get(client);
    if (!client || !identity) return new Error('not authenticated');
    if ((packet.payload as Buffer).length > MAX_PAYLOAD_BYTES) return this.tooLarge(client, packet);
    if (!this.o.policy.canPublish(identity.thingName, packet.topic)) {
      this.o.logger.info({ thing: identity.thingName, topic: packet.topic }, 'MQTT publish refused');
      return new Error(`publishing to ${packet.topic} is not allowed`);
    }
    const stream = parseStreamsTopic(packet.topic);
    if (stream.kind !== 'other') return this.streamRequest(client, identity.thingName, packet, stream);
    const parsed = parseJobsTopic(packet.topic);
    if (parsed.kind === 'service-only') return new Error(`${packet.topic} is published by the service only`);
    if (parsed.kind === 'request' || parsed.kind === 'unknown') {
      // The service consumes requests: never retained, never routed to subscribers (see forward).
      packet.retain = false;
      const admitted = this.requests.admit(identity.thingName);
      const route = replyRoute(client, packet);
      return () =>
        this.enqueue(client, async () => {
          const reply = await this.requests.handle(packet.topic, parsed, packet.payload as Buffer, admitted);
          await this.sendTo(
            client,
            route.topic ?? reply.topic,
            reply.payload,
            packet.qos === 0 ? 0 : 1,
            route.properties,
          );
        });
    }
    return null;
  }

  /** A request on a streams topic: consumed by the service, answered on the requesting connection. */
  private streamRequest(
    client: Client,
    thingName: string,
    packet: PublishPacket,
    parsed: Exclude<StreamsTopic, { kind: 'other' }>,
  ): Error | null | (() => void) {
    if (parsed.kind === 'service-only') return new Error(`${packet.topic} is published by the service only`);
    packet.retain = false;
    const queued = this.queuedStreamRequests.get(client) ?? 0;
    if (queued >= MAX_QUEUED_STREAM_REQUESTS) {
      this.o.logger.info({ thing: thingName, topic: packet.topic }, 'stream request dropped: too many queued');
      return null;
    }
    this.queuedStreamRequests.set(client, queued + 1);
    const qos = packet.qos === 0 ? 0 : 1;
    const payload = packet.payload as Buffer;
    return () =>
      this.enqueue(client, async () => {
        try {
          await this.streamRequests.handle(thingName, parsed, payload, (topic, body) =>
            this.sendTo(client, topic, body, qos),
          );
        } finally {
          const left = (this.queuedStreamRequests.get(client) ?? 1) - 1;
          if (left > 0) this.queuedStreamRequests.set(client, left);
          else this.queuedStreamRequests.delete(client);
        }
      });
  }

  /** spec 7: a message over 128 KiB closes the connection (MQTT 5: DISCONNECT 0x95 first). */
  private tooLarge(client: Client, packet: PublishPacket): Error {
    const bytes = (packet.payload as Buffer).length;
    this.o.logger.info({ clientId: client.id, topic: packet.topic, bytes }, 'MQTT message over 128 KiB refused');
    if (client.version === 5) client.disconnect({ reasonCode: PACKET_TOO_LARGE }, () => undefined);
    return new Error(`the message is ${bytes} bytes; at most ${MAX_PAYLOAD_BYTES} are allowed`);
  }

  /**
   * spec 5.2: a device's requests are handled in the order it sent them. Each was admitted by the
   * request window, and gives its place back when done.
   */
  private enqueue(client: Client, work: () => Promise<void>): void {
    const next: Promise<void> = (this.queues.get(client) ?? Promise.resolve())
      .then(work)
      .catch((err: unknown) => {
        this.o.logger.error({ err, clientId: client.id }, 'MQTT request failed');
      })
      .then(() => {
        this.window.release();
        // The last of its queue: forget it, also for a connection gone before it was admitted.
        if (this.queues.get(client) === next) this.queues.delete(client);
      });
    this.queues.set(client, next);
  }

  /** spec 5.2: replies go to the requesting connection only, subscribed or not, exactly once. */
  private sendTo(
    client: Client,
    topic: string,
    payload: unknown,
    qos: 0 | 1,
    properties?: PublishPacket['properties'],
  ): Promise<void> {
    if (client.closed) return Promise.resolve();
    const packet: PublishPacket = {
      cmd: 'publish',
      topic,
      // Stream replies come encoded (JSON or CBOR); jobs replies are objects.
      payload: Buffer.isBuffer(payload) ? payload : Buffer.from(JSON.stringify(payload)),
      qos,
      retain: false,
      dup: false,
      ...(properties && { properties }),
    };
    return new Promise((resolve) => client.publish(packet, () => resolve()));
  }

  private authorizeSubscribe(client: Client, sub: Subscription): Subscription | null {
    const identity = this.identities.get(client);
    if (identity && this.o.policy.canSubscribe(identity.thingName, sub.topic)) return sub;
    this.o.logger.info({ thing: identity?.thingName, filter: sub.topic }, 'MQTT subscription refused');
    // SUBACK 0x80 (MQTT 3.1.1) or 0x87 Not authorized (MQTT 5) for this filter; the connection stays.
    return null;
  }

  /** Device requests are consumed by the service, never delivered to subscribers. */
  private forward(packet: AedesPublishPacket): AedesPublishPacket | null {
    // Aedes stamps the publisher's client id on packets that came from a connection.
    if ((packet as { clientId?: string }).clientId === undefined) return packet;
    if (parseStreamsTopic(packet.topic).kind !== 'other') return null;
    const kind = parseJobsTopic(packet.topic).kind;
    return kind === 'request' || kind === 'unknown' ? null : packet;
  }

  private forget(client: Client): void {
    const thing = this.identities.get(client)?.thingName;
    this.identities.delete(client);
    if (thing !== undefined) {
      // A takeover by the same client id connects the new session first: the thing stays connected.
      const left = (this.sessions.get(thing) ?? 1) - 1;
      if (left > 0) this.sessions.set(thing, left);
      else {
        this.sessions.delete(thing);
        this.o.connectivity?.disconnected(thing, 'CONNECTION_LOST');
      }
    }
    this.queues.delete(client);
    this.queuedStreamRequests.delete(client);
  }

  /** Drops connections whose certificate is no longer ACTIVE or attached to their thing. */
  private async sweep(certificateId?: string): Promise<void> {
    this.limiter.prune();
    const entries = [...this.identities].filter(([, id]) => !certificateId || id.certificateId === certificateId);
    if (entries.length === 0) return;
    try {
      const valid = await this.o.identity.stillValid(entries.map(([, id]) => id));
      for (const [client, id] of entries) {
        if (valid.has(`${id.certificateId}/${id.thingName}`)) continue;
        this.o.logger.info({ clientId: client.id }, 'disconnecting a device whose certificate is no longer valid');
        this.forget(client);
        client.close();
      }
    } catch (err) {
      this.o.logger.error({ err }, 'device sweep failed');
    }
  }
}

/**
 * MQTT 5 request/response (MQTT 5.0 4.10): a request's Correlation Data comes back on its reply,
 * and a request that names a Response Topic is answered there instead of on `<topic>/accepted` or
 * `/rejected`. Either way the reply goes to the requesting connection alone (sendTo), so a
 * Response Topic can never reach another device. MQTT 3.1.1 packets carry no properties.
 */
function replyRoute(
  client: Client,
  packet: PublishPacket,
): { topic?: string; properties?: PublishPacket['properties'] } {
  if (client.version !== 5 || !packet.properties) return {};
  const { responseTopic, correlationData } = packet.properties;
  const usable = responseTopic !== undefined && responseTopic !== '' && !/[+#]/.test(responseTopic);
  return {
    ...(usable && { topic: responseTopic }),
    ...(correlationData !== undefined && { properties: { correlationData } }),
  };
}
