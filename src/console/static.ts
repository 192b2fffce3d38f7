import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';

/** Where `npm run build` puts the console (web/dist). */
export const DEFAULT_WEB_DIST = fileURLToPath(new URL('../../web/dist', import.meta.url));

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.json': 'application/json',
  '.map': 'application/json',
};

/** The console never loads anything from elsewhere, runs no inline script and is never framed. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export function securityHeaders(reply: FastifyReply): FastifyReply {
  return reply
    .header('content-security-policy', CONTENT_SECURITY_POLICY)
    .header('x-content-type-options', 'nosniff')
    .header('x-frame-options', 'DENY')
    .header('referrer-policy', 'no-referrer');
}

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>fleetjobs</title></head>
<body><h1>The fleetjobs console is not built</h1><p>Run <code>npm run build</code>, then reload this page.</p></body></html>`;

/** Asset names Vite writes: no '..', no hidden files, no backslashes. */
const SAFE_ASSET = /^[A-Za-z0-9_-][A-Za-z0-9_.-]*(\/[A-Za-z0-9_-][A-Za-z0-9_.-]*)*$/;

/** GET / (the single page; routes live in the URL fragment) and GET /assets/* (hashed, immutable). */
export function registerStatic(scope: FastifyInstance, distDir: string): void {
  scope.get('/', (_request, reply) => {
    const index = join(distDir, 'index.html');
    const html = existsSync(index) ? readFileSync(index) : NOT_BUILT;
    void securityHeaders(reply)
      .header('content-type', 'text/html; charset=utf-8')
      .header('cache-control', 'no-cache')
      .send(html);
  });
  scope.get('/assets/*', (request, reply) => {
    const name = (request.params as { '*': string })['*'];
    const path = join(distDir, 'assets', name);
    const stat = SAFE_ASSET.test(name) && existsSync(path) ? statSync(path) : undefined;
    if (!stat?.isFile()) {
      void securityHeaders(reply).code(404).header('content-type', 'text/plain').send('Not found');
      return;
    }
    void securityHeaders(reply)
      .header('content-type', TYPES[extname(name)] ?? 'application/octet-stream')
      .header('content-length', stat.size)
      .header('cache-control', 'public, max-age=31536000, immutable')
      .send(createReadStream(path));
  });
}
