import type { Socket } from 'node:net';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { ServiceError } from '../errors.js';
import { requestId, sendJsonError } from './aws/adapter.js';
import type { AwsDispatcher } from './aws/dispatcher.js';

export interface HttpAppOptions {
  /**
   * Routes of their own on this listener (the web console). They take GET and HEAD of `/` and
   * must hand SigV4-signed requests to the dispatcher themselves.
   */
  mount?: (app: FastifyInstance) => void;
}

type Route = (request: FastifyRequest, reply: FastifyReply) => Promise<void>;

/**
 * Fastify's own refusals in AWS's shape (issue 14 item 6). A path with malformed
 * percent-encoding (FST_ERR_BAD_URL) and a Content-Type Fastify cannot parse (415
 * FST_ERR_CTP_*) are not errors to AWS: the request goes to the listener's route as any other,
 * which reads the raw URL and body and answers in the protocol of the service it is for.
 * Anything else Fastify raises gets the restJson error shape.
 */
export function awsFrameworkErrors(route: Route) {
  return (_error: FastifyError, request: FastifyRequest, reply: FastifyReply): void => {
    void route(request, reply);
  };
}

/**
 * A request Node's parser refuses before any route (headers or URL over 16 KB, bad framing):
 * the restJson error shape instead of Fastify's, then the connection is closed. A HEAD request
 * gets no body, or the client would read it as the next response.
 */
export function awsClientErrorHandler(error: Error, socket: Socket): void {
  const err = error as Error & { code?: string; rawPacket?: Buffer };
  if (err.code === 'ECONNRESET' || socket.destroyed || !socket.writable) return;
  const [status, type, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'RequestHeaderFieldsTooLargeException', 'The request line and headers are larger than 16 KB.']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'RequestTimeoutException', 'The request was not received in time.']
        : [400, 'InvalidRequestException', 'The request is not valid HTTP.'];
  const head = err.rawPacket?.subarray(0, 5).toString('latin1') === 'HEAD ';
  const body = head ? '' : JSON.stringify({ message });
  socket.end(
    `HTTP/1.1 ${status} ${message}\r\nConnection: close\r\nContent-Type: application/json\r\n` +
      `x-amzn-ErrorType: ${type}:\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

export function setAwsErrorHandler(app: FastifyInstance, route: Route): void {
  app.setErrorHandler(async (error: FastifyError, request, reply) => {
    if (typeof error.code === 'string' && error.code.startsWith('FST_ERR_CTP_') && !request.raw.readableEnded) {
      await route(request, reply);
      return;
    }
    const status = error.statusCode ?? 500;
    const err =
      status < 500
        ? new ServiceError('InvalidRequest', error.message)
        : new ServiceError('InternalFailure', 'An internal error occurred.');
    sendJsonError(reply, err, requestId(), 'control');
  });
}

/**
 * The HTTP listener. Bodies are not parsed by Fastify: the AWS dispatcher must hash the exact
 * bytes for SigV4, and S3 streams them to disk.
 */
export function createHttpApp(dispatcher: AwsDispatcher, options: HttpAppOptions = {}): FastifyInstance {
  const dispatch: Route = (request, reply) => dispatcher.dispatch(request, reply);
  const app = Fastify({
    logger: false,
    routerOptions: { maxParamLength: 8192 },
    return503OnClosing: true,
    frameworkErrors: awsFrameworkErrors(dispatch),
    clientErrorHandler: awsClientErrorHandler,
  });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
  setAwsErrorHandler(app, dispatch);
  options.mount?.(app);
  app.all('/*', dispatch);
  const rootMethods = options.mount
    ? app.supportedMethods.filter((m) => m !== 'GET' && m !== 'HEAD')
    : app.supportedMethods;
  app.route({ method: rootMethods, url: '/', handler: dispatch });
  return app;
}
