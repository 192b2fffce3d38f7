import type { FastifyInstance } from 'fastify';
import { SESSION_LIMITS } from '../auth.service.js';
import { json, sessionCookieOf, sessionOf, type ConsoleDeps } from '../console-app.js';
import { cookie, CSRF_COOKIE, isHttps, jsonBody, SESSION_COOKIE } from '../http.js';

/** Sign-in, who am I, sign-out. */
export function registerSessionRoutes(api: FastifyInstance, deps: ConsoleDeps): void {
  const info = (username: string, csrfToken: string) => ({
    username,
    csrfToken,
    account: deps.partition.account,
    region: deps.partition.region,
  });

  api.post(
    '/session',
    { config: { public: true } },
    json(async (request, reply) => {
      const body = await jsonBody(request);
      const { sessionId, session } = await deps.auth.signIn(body.username, body.password, request.ip);
      // A sign-in replaces the session this browser had: no old cookie stays valid.
      await deps.auth.signOut(sessionCookieOf(request));
      const secure = isHttps(request);
      const maxAgeSeconds = Math.floor(SESSION_LIMITS.absoluteMs / 1000);
      void reply.header('set-cookie', [
        cookie(SESSION_COOKIE, sessionId, { httpOnly: true, secure, maxAgeSeconds }),
        // Readable by the page, which echoes it in the X-CSRF-Token header (double submit).
        cookie(CSRF_COOKIE, session.csrfToken, { httpOnly: false, secure, maxAgeSeconds }),
      ]);
      return info(session.username, session.csrfToken);
    }),
  );

  api.get(
    '/session',
    json(async (request) => {
      const session = sessionOf(request);
      return info(session.username, session.csrfToken);
    }),
  );

  api.delete(
    '/session',
    json(async (request, reply) => {
      await deps.auth.signOut(sessionCookieOf(request));
      const secure = isHttps(request);
      void reply.header('set-cookie', [
        cookie(SESSION_COOKIE, '', { httpOnly: true, secure, maxAgeSeconds: 0 }),
        cookie(CSRF_COOKIE, '', { httpOnly: false, secure, maxAgeSeconds: 0 }),
      ]);
      return {};
    }),
  );
}
