import Fastify, { type FastifyInstance } from 'fastify';
import type { AwsDispatcher } from './aws/dispatcher.js';

/**
 * The HTTP listener. Bodies are not parsed by Fastify: the AWS dispatcher must hash the exact
 * bytes for SigV4, and S3 streams them to disk.
 */
export function createHttpApp(dispatcher: AwsDispatcher): FastifyInstance {
  const app = Fastify({ logger: false, routerOptions: { maxParamLength: 8192 }, return503OnClosing: true });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_request, payload, done) => done(null, payload));
  app.all('/*', (request, reply) => dispatcher.dispatch(request, reply));
  app.all('/', (request, reply) => dispatcher.dispatch(request, reply));
  return app;
}
