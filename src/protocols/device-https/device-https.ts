import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { AddressInfo } from 'node:net';
import type { Readable } from 'node:stream';
import type { Server as TlsServer, TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import type { DeviceIdentityService } from '../../certificates/device-identity.service.js';
import type { Arns } from '../../arns.js';
import type { ListenAddress } from '../../config.js';
import { ServiceError } from '../../errors.js';
import { requestId, type RestJsonAdapter } from '../aws/adapter.js';
import { awsClientErrorHandler, awsFrameworkErrors, setAwsErrorHandler } from '../http-app.js';
import { isAwsSigned, MAX_JSON_BODY_BYTES, readBody, splitUrl, type AwsDispatcher } from '../aws/dispatcher.js';
import { QueryParams, type AwsRequest } from '../aws/request.js';
import { certificateIdOfDer } from '../../certificates/x509.js';
import type { TlsMaterial } from '../mqtt/broker.js';

export interface DeviceHttpsOptions {
  listen: ListenAddress;
  tls: TlsMaterial;
  /** SigV4 requests (presigned downloads, SDK calls) go to the same dispatcher as the main listener. */
  dispatcher: AwsDispatcher;
  jobsData: RestJsonAdapter;
  identity: DeviceIdentityService;
  arns: Arns;
  logger: Logger;
  /** Serves a connection that asked ALPN `x-amzn-mqtt-ca` (the MQTT broker). */
  mqtt: (socket: TLSSocket) => void;
}

/**
 * AWS IoT serves MQTT and HTTPS on one port (443), told apart by TLS ALPN: `x-amzn-mqtt-ca` is
 * MQTT (the AWS IoT Device Client knows no other way to connect), `x-amzn-http-ca`, `http/1.1`
 * or none is HTTPS. The server's order decides when a client offers several.
 */
export const MQTT_ALPN = 'x-amzn-mqtt-ca';
const ALPN_PROTOCOLS = [MQTT_ALPN, 'x-amzn-http-ca', 'http/1.1'];

/**
 * The device HTTPS listener (spec 1.1 "HTTP TLS", port 8443 on AWS): the jobs data plane
 * authenticated by the client certificate, which decides the thing. Client certificates are
 * requested but not required at the TLS layer, because presigned download URLs are fetched by
 * agents without one; a jobs request without a valid certificate is refused per request.
 */
export class DeviceHttpsListener {
  private app: FastifyInstance | undefined;
  /** MQTT connections handed to the broker: the HTTP server's close would wait for them. */
  private readonly mqttSockets = new Set<TLSSocket>();

  constructor(private readonly o: DeviceHttpsOptions) {}

  async start(): Promise<AddressInfo> {
    const route = (request: FastifyRequest, reply: FastifyReply): Promise<void> =>
      isAwsSigned(request) ? this.o.dispatcher.dispatch(request, reply) : this.deviceRequest(request, reply);
    const app = Fastify({
      logger: false,
      https: {
        ...this.o.tls,
        requestCert: true,
        rejectUnauthorized: false,
        minVersion: 'TLSv1.2',
        ALPNProtocols: ALPN_PROTOCOLS,
      },
      routerOptions: { maxParamLength: 8192 },
      return503OnClosing: true,
      frameworkErrors: awsFrameworkErrors(route),
      clientErrorHandler: awsClientErrorHandler,
    });
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
    setAwsErrorHandler(app, route);
    app.all('/*', route);
    app.all('/', route);
    this.app = app;
    this.routeMqtt(app.server as unknown as TlsServer);
    await app.listen({ host: this.o.listen.host, port: this.o.listen.port });
    return app.server.address() as AddressInfo;
  }

  /**
   * Hands connections that asked for MQTT to the broker before the HTTP server sees them. They
   * follow the MQTT listener's rule: a client certificate from a trusted CA, verified by TLS
   * (this listener only requests one, for the presigned downloads that come without).
   */
  private routeMqtt(server: TlsServer): void {
    const http = server.listeners('secureConnection') as ((socket: TLSSocket) => void)[];
    server.removeAllListeners('secureConnection');
    server.on('secureConnection', (socket: TLSSocket) => {
      if (socket.alpnProtocol !== MQTT_ALPN) {
        for (const listener of http) listener.call(server, socket);
        return;
      }
      if (!socket.authorized) {
        this.o.logger.debug(
          { reason: String(socket.authorizationError) },
          'MQTT over ALPN refused: no trusted certificate',
        );
        socket.destroy();
        return;
      }
      this.mqttSockets.add(socket);
      socket.once('close', () => this.mqttSockets.delete(socket));
      this.o.mqtt(socket);
    });
  }

  /** New trusted CAs (RegisterCACertificate / UpdateCACertificate) apply to new connections. */
  reloadTls(tls: TlsMaterial): void {
    (this.app?.server as unknown as { setSecureContext(o: object): void }).setSecureContext({
      ...tls,
      minVersion: 'TLSv1.2',
    });
  }

  async stop(): Promise<void> {
    for (const socket of this.mqttSockets) socket.destroy();
    await this.app?.close();
  }

  private async deviceRequest(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const id = requestId();
    void reply.header('x-amzn-RequestId', id);
    try {
      const awsRequest = await this.authenticate(request);
      await this.o.jobsData.handle(awsRequest, request.raw, reply);
    } catch (err) {
      const error =
        err instanceof ServiceError ? err : new ServiceError('InternalFailure', 'An internal error occurred.');
      if (!(err instanceof ServiceError)) this.o.logger.error({ err, url: request.url }, 'device HTTPS request failed');
      if (!reply.sent) this.o.jobsData.renderError(error, reply, id);
    }
  }

  private async authenticate(request: FastifyRequest): Promise<AwsRequest> {
    const socket = request.raw.socket as TLSSocket;
    const peer = socket.getPeerCertificate(true);
    if (!peer?.raw) {
      throw new ServiceError(
        'CertificateValidation',
        'A client certificate is required for the jobs API on this listener.',
      );
    }
    if (!socket.authorized) {
      throw new ServiceError(
        'CertificateValidation',
        `The client certificate is not trusted: ${String(socket.authorizationError)}.`,
      );
    }
    const { rawPath, rawQuery } = splitUrl(request.raw.url ?? '/');
    const match = this.o.jobsData.routes.match(request.method, rawPath);
    const thingName = match?.params.thingName;
    if (!match || thingName === undefined) {
      throw new ServiceError(
        'UnknownOperation',
        `No AWS IoT Jobs data plane operation matches ${request.method} ${rawPath}.`,
      );
    }
    const identity = await this.o.identity.authorize(peer.raw, thingName);
    const rawBody = await readBody((request.body as Readable | undefined) ?? request.raw, MAX_JSON_BODY_BYTES);
    return {
      method: request.method,
      rawPath,
      rawQuery,
      params: {},
      query: new QueryParams(rawQuery),
      headers: request.headers,
      body: undefined,
      rawBody,
      principal: {
        accessKeyId: '',
        arn: this.o.arns.cert(certificateIdOfDer(peer.raw)),
        kind: 'device',
        thingName: identity.thingName,
      },
      signature: undefined,
      operation: '',
    };
  }
}
