import type { Logger } from 'pino';
import type { Clock } from '../../clock.js';
import type { Config, ListenAddress } from '../../config.js';
import { watchActiveCas } from '../../certificates/ca-watch.js';
import { openDeploymentCa } from '../../certificates/shared-ca.js';
import { Notifier } from '../../notifier/notifier.js';
import type { OutboxSignal } from '../../notifier/outbox-signal.js';
import type { DeviceEndpoints } from '../../registry/endpoint.service.js';
import type { Services } from '../../services.js';
import type { SigningKeyring } from '../../signing/keyring.js';
import type { RestJsonAdapter } from '../aws/adapter.js';
import type { AwsDispatcher } from '../aws/dispatcher.js';
import { DeviceHttpsListener } from '../device-https/device-https.js';
import { MqttBroker, type TlsMaterial } from './broker.js';
import { openBrokerCluster } from './cluster.js';
import type { DeviceJobsApi } from './device-jobs-api.js';
import type { RateLimit } from './rate-limit.js';
import { TopicPolicy } from './topic-policy.js';
import { StreamDelivery } from '../../streams/stream-delivery.js';

export interface DevicePlaneOptions {
  config: Config;
  services: Services;
  dispatcher: AwsDispatcher;
  jobsData: RestJsonAdapter;
  jobs: () => DeviceJobsApi | undefined;
  signal: OutboxSignal;
  /** Store.origin: this replica's outbox rows and NOTIFYs (migration 0092). */
  origin: string;
  clock: Clock;
  logger: Logger;
  rateLimit?: RateLimit;
  /** Device requests one broker works on at once (request-window.ts). */
  requestWindow?: number;
  /** Seals the CA key in the database when replicas share it (src/certificates/shared-ca.ts). */
  keyring: SigningKeyring;
}

export interface DevicePlane {
  /** For the ready line and endpoints.json (DESIGN.md configuration contract). */
  endpoints: { mqtt: string; deviceHttps: string; caCertificate: string };
  /** For DescribeEndpoint. */
  deviceEndpoints: DeviceEndpoints;
  broker: MqttBroker;
  notifier: Notifier;
  stop(): Promise<void>;
}

const urlHost = (host: string): string => (host.includes(':') ? `[${host}]` : host);

/**
 * Everything devices talk to: the local CA (created on first start), the MQTT/TLS broker, the
 * device HTTPS listener and the notifier that publishes from the outbox.
 */
export async function startDevicePlane(o: DevicePlaneOptions): Promise<DevicePlane> {
  const { config, services } = o;
  const ca = await openDeploymentCa(config.dataDir, services.ctx, o.keyring);
  services.localCa.set(ca);
  const server = await ca.serverCredentials(
    [config.publicHost, config.mqtt.host, config.deviceHttps.host].filter((h): h is string => h !== undefined),
  );
  const tls = async (): Promise<TlsMaterial> => ({
    ...server,
    ca: [ca.certificatePem, ...(await services.caCertificates.activeCaPems())],
  });
  const stops: (() => Promise<void>)[] = [];
  const stop = async (): Promise<void> => {
    for (const s of stops.reverse()) await s().catch((err: unknown) => o.logger.warn({ err }, 'device plane stop'));
  };
  try {
    // Scaled out: the brokers of all replicas joined through Redis (--cluster).
    const cluster = config.cluster ? await openBrokerCluster(config.cluster, o.logger) : undefined;
    if (cluster) stops.push(() => cluster.close());
    // MQTT-based file delivery (issue 20); what it checked of a stream goes when the stream changes.
    const delivery = new StreamDelivery(
      services.ctx,
      { access: services.streams.access, objects: services.objects.objects },
      { deviceAccess: config.deviceStreams },
    );
    services.streams.changeListeners.push((streamId) => delivery.invalidate(streamId));
    const broker = new MqttBroker({
      listen: config.mqtt,
      tls,
      identity: services.deviceIdentity,
      identityEvents: services.identityEvents,
      jobs: o.jobs,
      streams: () => delivery,
      policy: TopicPolicy.parse(config.deviceTopics),
      clock: o.clock,
      logger: o.logger,
      ...(o.rateLimit && { rateLimit: o.rateLimit }),
      ...(o.requestWindow !== undefined && { requestWindow: o.requestWindow }),
      ...(cluster && { cluster: cluster.aedes }),
      connectivity: services.connectivity.feed(o.logger),
    });
    const mqtt = await broker.start();
    stops.push(() => broker.stop());
    const https = new DeviceHttpsListener({
      listen: config.deviceHttps,
      tls: await tls(),
      dispatcher: o.dispatcher,
      jobsData: o.jobsData,
      identity: services.deviceIdentity,
      arns: services.ctx.arns,
      logger: o.logger,
      mqtt: (socket) => broker.handleConnection(socket),
    });
    const deviceHttps = await https.start();
    stops.push(() => https.stop());
    const offCa = services.identityEvents.on((change) => {
      if (change.caChanged) void tls().then((t) => https.reloadTls(t));
    });
    stops.push(async () => offCa());
    if (cluster) {
      const unwatch = watchActiveCas(() => services.caCertificates.activeCaPems(), services.identityEvents, o.logger);
      stops.push(async () => unwatch());
    }
    const notifier = new Notifier({
      db: services.ctx.db,
      dialect: services.ctx.dialect,
      clock: o.clock,
      logger: o.logger,
      jobs: o.jobs,
      publish: (topic, payload) => broker.publish(topic, payload),
      signal: o.signal,
      // SQLite has one process: every row is its own.
      ...(services.ctx.dialect === 'postgres' && { origin: o.origin }),
    });
    notifier.start();
    // Stopped before the broker, so nothing is claimed that could not be published.
    stops.push(() => notifier.stop());
    if (services.ctx.dialect === 'postgres') stops.push(o.signal.listenPostgres(config.database, o.logger, o.origin));
    const at = (listener: ListenAddress, port: number) => ({ host: config.publicHost ?? listener.host, port });
    const mqttAt = at(config.mqtt, mqtt.port);
    const httpsAt = at(config.deviceHttps, deviceHttps.port);
    return {
      endpoints: {
        mqtt: `mqtts://${urlHost(mqttAt.host)}:${mqttAt.port}`,
        deviceHttps: `https://${urlHost(httpsAt.host)}:${httpsAt.port}`,
        caCertificate: ca.certificatePath,
      },
      deviceEndpoints: { mqtt: mqttAt, deviceHttps: httpsAt },
      broker,
      notifier,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
