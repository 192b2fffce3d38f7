import { Aedes, type AedesPublishPacket, type Client, type PublishPacket, type Subscription } from 'aedes';
import { once } from 'node:events';
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
import { ThingRateLimiter, type RateLimit } from './rate-limit.js';
import { SubscribeReplay } from './subscribe-replay.js';
import type { TopicPolicy } from './topic-policy.js';
import type { AedesCluster } from './cluster.js';

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
  policy: TopicPolicy;
  clock: Clock;
  logger: Logger;
  rateLimit?: RateLimit;
  /** How often connected devices are re-checked against the database (changes from other replicas). */
  sweepMs?: number;
  /** Scaled out: the Redis-joined emitter and persistence (cluster.ts); in memory when absent. */
  cluster?: AedesCluster;
}

const NOT_AUTHORIZED = 5;
const IDENTIFIER_REJECTED = 2;

function refuse(message: string, returnCode: number): Error & { returnCode: number } {
  return Object.assign(new Error(message), { returnCode });
}

/**
 * The built-in MQTT broker (Aedes over TLS with client certificates, DESIGN.md). A device is its
 * certificate's thing; it may touch only that thing's jobs topics (and what the operator allows).
 */
export class MqttBroker {
  private readonly identities = new Map<Client, DeviceIdentity>();
  private readonly queues = new Map<Client, Promise<void>>();
  private readonly requests: JobsRequestHandler;
  private readonly replay: SubscribeReplay;
  private readonly limiter: ThingRateLimiter;
  private aedes!: Aedes;
  private server!: Server;
  private sweepTimer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;

  constructor(private readonly o: BrokerOptions) {
    this.limiter = new ThingRateLimiter(o.clock, o.rateLimit);
    this.requests = new JobsRequestHandler({ jobs: o.jobs, clock: o.clock, logger: o.logger, limiter: this.limiter });
    this.replay = new SubscribeReplay({ jobs: o.jobs, clock: o.clock, logger: o.logger });
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
      authorizePublish: (client, packet, done) => done(this.authorizePublish(client, packet)),
      authorizeSubscribe: (client, sub, done) => done(null, this.authorizeSubscribe(client, sub)),
      authorizeForward: (_client, packet) => this.forward(packet),
      drainTimeout: 30_000,
    });
    await this.aedes.listen();
    this.aedes.on('clientDisconnect', (client) => this.forget(client));
    this.aedes.on('clientError', (client) => this.forget(client));
    this.aedes.on('subscribe', (subs, client) => this.onSubscribe(subs, client));
    const tls = await this.o.tls();
    this.server = createServer({ ...tls, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2' });
    this.server.on('secureConnection', (socket) => this.aedes.handle(socket));
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

  get connectedDevices(): number {
    return this.identities.size;
  }

  async stop(): Promise<void> {
    this.unsubscribe?.();
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    await new Promise<void>((resolve) => this.aedes.close(() => resolve()));
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
      this.identities.set(client, await this.o.identity.authorize(peer.raw, client.id));
      return true;
    } catch (err) {
      if (!(err instanceof ServiceError)) throw err;
      this.o.logger.info({ clientId: client.id, reason: err.message }, 'MQTT connection refused');
      throw refuse(err.message, NOT_AUTHORIZED);
    }
  }

  private authorizePublish(client: Client | null, packet: PublishPacket): Error | null {
    const identity = client && this.identities.get(client);
    if (!client || !identity) return new Error('not authenticated');
    if (!this.o.policy.canPublish(identity.thingName, packet.topic)) {
      this.o.logger.info({ thing: identity.thingName, topic: packet.topic }, 'MQTT publish refused');
      return new Error(`publishing to ${packet.topic} is not allowed`);
    }
    const parsed = parseJobsTopic(packet.topic);
    if (parsed.kind === 'service-only') return new Error(`${packet.topic} is published by the service only`);
    if (parsed.kind === 'request' || parsed.kind === 'unknown') {
      // The service consumes requests: never retained, never routed to subscribers (see forward).
      packet.retain = false;
      const admitted = this.requests.admit(identity.thingName);
      this.enqueue(client, async () => {
        const reply = await this.requests.handle(packet.topic, parsed, packet.payload as Buffer, admitted);
        await this.sendTo(client, reply.topic, reply.payload, packet.qos === 0 ? 0 : 1);
      });
    }
    return null;
  }

  /** spec 5.2: a device's requests are handled in the order it sent them. */
  private enqueue(client: Client, work: () => Promise<void>): void {
    const next = (this.queues.get(client) ?? Promise.resolve()).then(work).catch((err: unknown) => {
      this.o.logger.error({ err, clientId: client.id }, 'MQTT request failed');
    });
    this.queues.set(client, next);
  }

  /** spec 5.2: replies go to the requesting connection only, subscribed or not, exactly once. */
  private sendTo(client: Client, topic: string, payload: unknown, qos: 0 | 1): Promise<void> {
    if (client.closed) return Promise.resolve();
    const packet: PublishPacket = {
      cmd: 'publish',
      topic,
      payload: Buffer.from(JSON.stringify(payload)),
      qos,
      retain: false,
      dup: false,
    };
    return new Promise((resolve) => client.publish(packet, () => resolve()));
  }

  private authorizeSubscribe(client: Client, sub: Subscription): Subscription | null {
    const identity = this.identities.get(client);
    if (identity && this.o.policy.canSubscribe(identity.thingName, sub.topic)) return sub;
    this.o.logger.info({ thing: identity?.thingName, filter: sub.topic }, 'MQTT subscription refused');
    // MQTT 3.1.1: SUBACK 0x80 for this filter, the connection stays.
    return null;
  }

  /** Device requests are consumed by the service, never delivered to subscribers. */
  private forward(packet: AedesPublishPacket): AedesPublishPacket | null {
    // Aedes stamps the publisher's client id on packets that came from a connection.
    if ((packet as { clientId?: string }).clientId === undefined) return packet;
    const kind = parseJobsTopic(packet.topic).kind;
    return kind === 'request' || kind === 'unknown' ? null : packet;
  }

  private onSubscribe(subs: Subscription[], client: Client): void {
    const identity = this.identities.get(client);
    if (!identity) return;
    // Negated subscriptions are reported with qos 128.
    const filters = subs.filter((s) => (s.qos as number) !== 128).map((s) => s.topic);
    this.enqueue(client, async () => {
      for (const message of await this.replay.messagesFor(identity.thingName, filters)) {
        await this.sendTo(client, message.topic, message.payload, 1);
      }
    });
  }

  private forget(client: Client): void {
    this.identities.delete(client);
    this.queues.delete(client);
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
