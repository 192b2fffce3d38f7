import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Readable } from 'node:stream';
import { errorMapping, ServiceError } from '../errors.js';
import { readBody } from '../protocols/aws/dispatcher.js';

/** HTTP plumbing of the console API: cookies, JSON bodies, errors. No business rule lives here. */

export const SESSION_COOKIE = 'fj_session';
export const CSRF_COOKIE = 'fj_csrf';
export const CSRF_HEADER = 'x-csrf-token';
export const MAX_CONSOLE_JSON_BYTES = 1024 * 1024;

export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    const name = part.slice(0, eq).trim();
    if (out.has(name)) continue;
    try {
      out.set(name, decodeURIComponent(part.slice(eq + 1).trim()));
    } catch {
      // A malformed cookie is ignored, like a missing one.
    }
  }
  return out;
}

export interface CookieOptions {
  httpOnly: boolean;
  secure: boolean;
  maxAgeSeconds?: number;
}

export function cookie(name: string, value: string, o: CookieOptions): string {
  const parts = [`${name}=${encodeURIComponent(value)}`, 'Path=/', 'SameSite=Strict'];
  if (o.httpOnly) parts.push('HttpOnly');
  if (o.secure) parts.push('Secure');
  if (o.maxAgeSeconds !== undefined) parts.push(`Max-Age=${o.maxAgeSeconds}`);
  return parts.join('; ');
}

export const isHttps = (request: FastifyRequest): boolean => request.protocol === 'https';

/** The JSON body of a console request; changes must be sent as application/json. */
export async function jsonBody(request: FastifyRequest): Promise<Record<string, unknown>> {
  const type = String(request.headers['content-type'] ?? '');
  const stream = (request.body as Readable | undefined) ?? request.raw;
  const raw = await readBody(stream, MAX_CONSOLE_JSON_BYTES);
  if (raw.length === 0) return {};
  if (!/^application\/json\b/i.test(type)) {
    throw new ServiceError('InvalidRequest', 'The request body must be application/json.');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new ServiceError('InvalidJson', 'The request body is not valid JSON.');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ServiceError('InvalidRequest', 'The request body must be a JSON object.');
  }
  return parsed as Record<string, unknown>;
}

export interface FieldError {
  field: string;
  message: string;
}

/**
 * Splits a Coral-style validation message ("2 validation errors detected: Value 'x' at 'jobId'
 * failed to satisfy constraint: ...; Value ...") into one entry per field, so the console can show
 * each next to its field.
 */
export function fieldErrorsOf(message: string): FieldError[] {
  const body = message.replace(/^\d+ validation errors? detected: /, '');
  if (body === message) return [];
  const out: FieldError[] = [];
  for (const item of body.split(/; (?=Value )/)) {
    const m = /^Value (?:.*? )?at '([^']+)' (.*)$/s.exec(item);
    if (m) out.push({ field: m[1]!, message: item });
  }
  return out;
}

/** The console's error body: {code, message, fieldErrors?}, with the catalogue's HTTP status. */
export function sendConsoleError(reply: FastifyReply, err: ServiceError): void {
  const mapping = errorMapping(err.code);
  const status = err.code === 'Throttling' ? 429 : mapping.http;
  const fieldErrors = fieldErrorsOf(err.message);
  void reply
    .code(status)
    .header('content-type', 'application/json; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(
      JSON.stringify({
        code: mapping.aws,
        message: err.message,
        ...(fieldErrors.length > 0 && { fieldErrors }),
        ...err.extras,
      }),
    );
}

export function sendJson(reply: FastifyReply, body: unknown, status = 200): void {
  void reply
    .code(status)
    .header('content-type', 'application/json; charset=utf-8')
    .header('cache-control', 'no-store')
    .send(JSON.stringify(body ?? {}));
}

/** Query string values as the services take them (strings; numbers and booleans converted). */
export const query = (request: FastifyRequest): Record<string, string | undefined> =>
  request.query as Record<string, string | undefined>;

export function optionalInt(value: string | undefined, field: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isInteger(n)) throw new ServiceError('InvalidRequest', `${field} must be an integer.`);
  return n;
}

export const optionalBool = (value: string | undefined): boolean | undefined =>
  value === undefined || value === '' ? undefined : value === 'true';

export const nonEmpty = (value: string | undefined): string | undefined =>
  value === undefined || value === '' ? undefined : value;
