import Fastify, { type FastifyInstance } from 'fastify';
import type { AwsDispatcher } from './aws/dispatcher.js';

export interface HttpAppOptions {
  /**
   * Routes of their own on this listener (the web console). They take GET and HEAD of `/` and
   * must hand SigV4-signed requests to the dispatcher themselves.
   */
  mount?: (app: FastifyInstance) => void;
}

/**
 * The HTTP listener. Bodies are not parsed by Fastify: the AWS dispatcher must hash the exact
 * bytes for SigV4, and S3 streams them to disk.
 */
export function createHttpApp(dispatcher: AwsDispatcher, options: HttpAppOptions = {}): FastifyInstance {
  const app = Fastify({ logger: false, routerOptions: { maxParamLength: 8192 }, return503OnClosing: true });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
  const dispatch = (
    request: Parameters<AwsDispatcher['dispatch']>[0],
    reply: Parameters<AwsDispatcher['dispatch']>[1],
  ) => dispatcher.dispatch(request, reply);
  options.mount?.(app);
  app.all('/*', dispatch);
  const rootMethods = options.mount
    ? app.supportedMethods.filter((m) => m !== 'GET' && m !== 'HEAD')
    : app.supportedMethods;
  app.route({ method: rootMethods, url: '/', handler: dispatch });
  return app;
}
