import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Partition } from '../arns.js';
import { ServiceError } from '../errors.js';
import { isAwsSigned, type AwsDispatcher } from '../protocols/aws/dispatcher.js';
import type { Services } from '../services.js';
import type { ConsoleAuthService, ConsoleSession } from './auth.service.js';
import { CSRF_HEADER, parseCookies, SESSION_COOKIE, sendConsoleError, sendJson } from './http.js';
import { registerIamRoutes } from './routes/iam.routes.js';
import { registerJobsRoutes } from './routes/jobs.routes.js';
import { registerObjectsRoutes } from './routes/objects.routes.js';
import { registerOtaRoutes } from './routes/ota.routes.js';
import { registerRegistryRoutes } from './routes/registry.routes.js';
import { registerSessionRoutes } from './routes/session.routes.js';
import { registerSigningRoutes } from './routes/signing.routes.js';
import { DEFAULT_WEB_DIST, registerStatic } from './static.js';

export interface ConsoleDeps {
  auth: ConsoleAuthService;
  services: Services;
  dispatcher: AwsDispatcher;
  partition: Partition;
  logger: Logger;
  /** The built console (web/dist). */
  distDir?: string;
  /** How often the live job stream reads the job (ms). */
  pollIntervalMs?: number;
}

const sessions = new WeakMap<FastifyRequest, ConsoleSession>();

/** The signed-in session of a console API request (the auth hook guarantees one). */
export function sessionOf(request: FastifyRequest): ConsoleSession {
  const session = sessions.get(request);
  if (!session) throw new ServiceError('Unauthorized', 'Sign in to use the console.');
  return session;
}

export const sessionCookieOf = (request: FastifyRequest): string | undefined =>
  parseCookies(request.headers.cookie).get(SESSION_COOKIE);

const CHANGES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Route handlers return the JSON body; errors become console error bodies. */
export type ConsoleHandler = (request: FastifyRequest, reply: FastifyReply) => Promise<unknown>;
export const json =
  (handler: ConsoleHandler) =>
  async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const body = await handler(request, reply);
    if (!reply.sent) sendJson(reply, body);
  };

async function authenticate(deps: ConsoleDeps, request: FastifyRequest): Promise<void> {
  const config = request.routeOptions.config as { public?: boolean } | undefined;
  if (config?.public) return;
  const session = await deps.auth.resume(sessionCookieOf(request));
  if (!session) throw new ServiceError('Unauthorized', 'Sign in to use the console.');
  if (CHANGES.has(request.method)) {
    const header = request.headers[CSRF_HEADER];
    deps.auth.checkCsrf(session, typeof header === 'string' ? header : undefined);
  }
  sessions.set(request, session);
}

function registerApi(api: FastifyInstance, deps: ConsoleDeps): void {
  api.addHook('onRequest', async (request) => authenticate(deps, request));
  api.setErrorHandler((err, request, reply) => {
    if (err instanceof ServiceError) return sendConsoleError(reply, err);
    // Fastify's own refusals (a Content-Type it cannot parse, say) are the client's mistake.
    const status = (err as { statusCode?: number }).statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      return sendConsoleError(reply, new ServiceError('InvalidRequest', 'The request body must be application/json.'));
    }
    deps.logger.error({ err, method: request.method, url: request.url }, 'unhandled error in a console request');
    sendConsoleError(reply, new ServiceError('InternalFailure', 'An internal error occurred.'));
  });
  registerSessionRoutes(api, deps);
  registerRegistryRoutes(api, deps);
  registerJobsRoutes(api, deps);
  registerIamRoutes(api, deps);
  registerObjectsRoutes(api, deps);
  registerSigningRoutes(api, deps);
  registerOtaRoutes(api, deps);
  // Anything else under /console/api is a clear 404 (after the sign-in check above).
  api.all('/*', async () => {
    throw new ServiceError('ResourceNotFound', 'No console API route matches this request.');
  });
}

/**
 * The web console on the HTTP listener: the single page at / and /assets/*, its JSON API under
 * /console/api. A SigV4-signed request is AWS traffic whatever its path (S3 ListBuckets is
 * `GET /`, a bucket may be called "assets"), so it goes to the AWS dispatcher instead.
 */
export function registerConsole(app: FastifyInstance, deps: ConsoleDeps): void {
  void app.register(async (scope) => {
    scope.addHook('onRequest', async (request, reply) => {
      if (!isAwsSigned(request)) return;
      await deps.dispatcher.dispatch(request, reply);
      return reply;
    });
    registerStatic(scope, deps.distDir ?? DEFAULT_WEB_DIST);
    await scope.register(async (api) => registerApi(api, deps), { prefix: '/console/api' });
  });
}
