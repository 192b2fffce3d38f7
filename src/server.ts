import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { Arns } from './arns.js';
import { systemClock, type Clock } from './clock.js';
import type { Config, ListenAddress } from './config.js';
import { registerConsole } from './console/console-app.js';
import type { AdminAccount } from './console/auth.service.js';
import type { ServiceContext } from './context.js';
import { loadAdminCredentials, type AdminCredentials } from './iam/admin-credentials.js';
import { createLogger } from './logger.js';
import { registerOpsRoutes } from './metrics/ops.routes.js';
import { instrument, startMetricsListener } from './metrics/server-metrics.js';
import { serverReadiness } from './metrics/server-readiness.js';
import { openObjectBackend } from './objects/backends/index.js';
import { RestJsonAdapter } from './protocols/aws/adapter.js';
import { StaticCredentialStore, ChainedCredentialStore } from './protocols/aws/credentials.js';
import { AwsDispatcher } from './protocols/aws/dispatcher.js';
import { registerJobsDataRoutes } from './protocols/device-https/jobs-data.routes.js';
import { IamAdapter } from './protocols/aws/iam/iam.adapter.js';
import { S3Adapter } from './protocols/aws/s3/s3.adapter.js';
import { registerCertificateRoutes } from './protocols/aws/iot/certificates.routes.js';
import { registerJobRoutes } from './protocols/aws/iot/jobs.routes.js';
import { registerEventRoutes } from './protocols/aws/iot/events.routes.js';
import { registerOtaRoutes } from './protocols/aws/iot/ota.routes.js';
import { registerRegistryRoutes } from './protocols/aws/iot/registry.routes.js';
import { registerStreamRoutes } from './protocols/aws/iot/streams.routes.js';
import { AcmAdapter } from './protocols/aws/acm/acm.adapter.js';
import { registerSignerRoutes } from './protocols/aws/signer/signer.routes.js';
import { SigningKeyring } from './signing/keyring.js';
import { createHttpApp } from './protocols/http-app.js';
import { startDevicePlane, type DevicePlane } from './protocols/mqtt/device-plane.js';
import { OutboxSignal } from './notifier/outbox-signal.js';
import type { DeviceEndpoints } from './registry/endpoint.service.js';
import { createServices, type Services } from './services.js';
import { openStore, type Store } from './store/database.js';
import { PRIVATE_FILE_MODE, secureDataDir } from './store/data-dir.js';

/** What the ready line and <data-dir>/endpoints.json name (DESIGN.md configuration contract). */
export interface Endpoints {
  http: string;
  mqtt?: string;
  deviceHttps?: string;
  caCertificate?: string;
  [more: string]: string | undefined;
}

export interface RunningServer {
  devicePlane: DevicePlane;
  config: Config;
  endpoints: Endpoints;
  services: Services;
  store: Store;
  admin: AdminCredentials;
  /** The console's admin account; generatedPassword only on the start that created it. */
  consoleAdmin: AdminAccount;
  logger: Logger;
  stop(): Promise<void>;
}

export interface ServerOptions {
  clock?: Clock;
  logger?: Logger;
  /** How often the rollout scheduler ticks (default 1000 ms); 0 runs no loop (tests call tick). */
  schedulerIntervalMs?: number;
  /** MQTT device requests worked on at once (default DEFAULT_REQUEST_WINDOW); tests make it small. */
  mqttRequestWindow?: number;
}

const hostForUrl = (host: string): string => (host.includes(':') ? `[${host}]` : host);

async function listen(app: FastifyInstance, at: ListenAddress): Promise<AddressInfo> {
  await app.listen({ host: at.host, port: at.port });
  return app.server.address() as AddressInfo;
}

/** The composition root: config -> store -> services -> protocol adapters -> listeners. */
export async function startServer(config: Config, options: ServerOptions = {}): Promise<RunningServer> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const clock = options.clock ?? systemClock;
  secureDataDir(config.dataDir, (m) => logger.warn(m));
  const admin = loadAdminCredentials(config.dataDir, {
    accessKeyId: config.adminAccessKeyId,
    secretAccessKey: config.adminSecretAccessKey,
  });
  const store = await openStore({ database: config.database });
  const stoppers: (() => Promise<void>)[] = [() => store.close()];
  const stopAll = async (): Promise<void> => {
    for (const stop of stoppers.reverse()) {
      try {
        await stop();
      } catch (err) {
        logger.warn({ err }, 'error while stopping');
      }
    }
  };
  try {
    // Wakes the notifier when outbox rows are written (src/notifier/outbox-signal.ts).
    const outboxSignal = new OutboxSignal();
    const metrics = instrument(clock);
    const ctx: ServiceContext = {
      db: metrics.db(store.db.withPlugin(outboxSignal.plugin)),
      dialect: store.dialect,
      clock,
      arns: new Arns({ region: config.region, account: config.account }),
      logger,
    };
    const deviceEndpoints: DeviceEndpoints = {};
    const objectBackend = await openObjectBackend(config, process.env);
    stoppers.push(() => objectBackend.close());
    const signingKeyring = SigningKeyring.open(config.dataDir, process.env, (m) => logger.warn(m));
    const services = createServices(ctx, () => deviceEndpoints, { objectBackend, signingKeyring });
    stoppers.push(() => services.jobDeletions.stop());
    await services.jobDeletions.resume();
    services.jobDeletions.resumeEvery(60_000);

    const credentials = new ChainedCredentialStore([]);
    const adminStore = new StaticCredentialStore();
    adminStore.add(admin.accessKeyId, admin.secretAccessKey, {
      arn: `arn:aws:iam::${config.account}:root`,
      kind: 'admin',
    });
    credentials.add(adminStore);
    credentials.add(services.iam.sessions);

    const dispatcher = new AwsDispatcher({ credentials, clock, logger, region: config.region });
    metrics.dispatcher(dispatcher);
    const iot = new RestJsonAdapter(['iot', 'execute-api'], 'control', 'AWS IoT');
    registerRegistryRoutes(iot, services);
    registerCertificateRoutes(iot, services);
    registerJobRoutes(iot, services);
    registerEventRoutes(iot, services);
    registerStreamRoutes(iot, services);
    registerOtaRoutes(iot, services.ota);
    dispatcher.register(iot);
    // spec 1.4: same paths as some iot routes; the credential scope's service picks the adapter.
    const jobsData = new RestJsonAdapter(['iot-jobs-data'], 'data', 'AWS IoT Jobs data plane');
    registerJobsDataRoutes(
      jobsData,
      metrics.deviceJobs(() => services.deviceJobs, 'http'),
    );
    dispatcher.register(jobsData);
    dispatcher.register(new IamAdapter(services.iam.roles, services.iam.policies));
    dispatcher.register(
      new S3Adapter({ services: services.objects, credentials, region: config.region, account: config.account }),
    );
    // Blobs left by uploads a crash interrupted (DESIGN.md rule 5: nothing lost, nothing leaked).
    services.objects.blobs.sweep().catch((err: unknown) => logger.warn({ err }, 'object blob sweep failed'));
    const signer = new RestJsonAdapter(['signer'], 'control', 'AWS Signer');
    registerSignerRoutes(signer, services.signing);
    dispatcher.register(signer);
    dispatcher.register(new AcmAdapter(services.signing.certificates));
    await services.signing.jobs.failInterrupted();

    const devicePlane = await startDevicePlane({
      config,
      services,
      dispatcher,
      jobsData,
      jobs: metrics.deviceJobs(() => services.deviceJobs, 'mqtt'),
      signal: outboxSignal,
      origin: store.origin,
      clock,
      logger,
      keyring: signingKeyring,
      ...(options.mqttRequestWindow !== undefined && { requestWindow: options.mqttRequestWindow }),
    });
    stoppers.push(() => devicePlane.stop());
    Object.assign(deviceEndpoints, devicePlane.deviceEndpoints);

    // The rollout engine's timer loop (src/scheduler); stopped before the device plane and the store.
    metrics.scheduler(services.scheduler);
    metrics.state({
      db: store.db,
      clock,
      connectedDevices: () => devicePlane.broker.connectedDevices,
      mqttRequests: () => devicePlane.broker.requestWindow,
    });
    if (options.schedulerIntervalMs !== 0) services.scheduler.start(options.schedulerIntervalMs ?? 1000);
    stoppers.push(() => services.scheduler.stop());
    // OTA updates a replica that stopped left half-built are picked up by the loop (src/ota).
    if (options.schedulerIntervalMs !== 0) services.ota.worker.start(5000);
    stoppers.push(() => services.ota.worker.stop());

    const consoleAdmin = await services.consoleAuth.ensureAdmin(config.consolePassword);
    const bound: { http?: number } = {};
    const ready = await serverReadiness(config, store.db as unknown as Kysely<unknown>, () => ({
      http: bound.http,
      mqtt: devicePlane.deviceEndpoints.mqtt?.port,
      deviceHttps: devicePlane.deviceEndpoints.deviceHttps?.port,
    }));
    stoppers.push(async () => ready.close());
    const app = createHttpApp(dispatcher, {
      mount: (http) => {
        registerOpsRoutes(http, {
          dispatcher,
          checks: ready.checks,
          ...(!config.metrics && { metrics: metrics.registry }),
        });
        registerConsole(http, {
          auth: services.consoleAuth,
          services,
          dispatcher,
          partition: ctx.arns.partition,
          logger,
        });
      },
    });
    stoppers.push(() => app.close());
    const httpAddress = await listen(app, config.http);
    bound.http = httpAddress.port;
    const endpoints: Endpoints = {
      http: `http://${hostForUrl(config.publicHost ?? config.http.host)}:${httpAddress.port}`,
      ...devicePlane.endpoints,
    };
    if (config.metrics) {
      const listener = await startMetricsListener(config.metrics, { metrics: metrics.registry, checks: ready.checks });
      stoppers.push(listener.stop);
      endpoints.metrics = `http://${hostForUrl(config.publicHost ?? config.metrics.host)}:${listener.port}`;
    }
    writeFileSync(join(config.dataDir, 'endpoints.json'), `${JSON.stringify(endpoints, null, 2)}\n`, {
      mode: PRIVATE_FILE_MODE,
    });
    logger.info({ endpoints, database: store.dialect }, 'fleetjobs is ready');
    return { config, endpoints, devicePlane, services, store, admin, consoleAdmin, logger, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
