import { ServiceError } from '../../errors.js';
import { absentNulls } from '../../validation.js';
import { parseQuery, type Headers, type SignatureInfo } from './sigv4.js';

/** The caller, as established by the signature. */
export interface Principal {
  accessKeyId: string;
  /** arn of the caller: the admin user, an IAM user, or a device certificate. */
  arn: string;
  kind: 'admin' | 'user' | 'device';
  /** Set when a device certificate authenticated the request (device HTTPS). */
  thingName?: string;
}

/** One verified AWS request, handed to a service adapter. */
export interface AwsRequest {
  method: string;
  rawPath: string;
  rawQuery: string;
  params: Record<string, string>;
  query: QueryParams;
  headers: Headers;
  /** Parsed JSON body for restJson services; undefined when there was none. */
  body: Record<string, unknown> | undefined;
  rawBody: Buffer | undefined;
  principal: Principal;
  signature: SignatureInfo | undefined;
  operation: string;
}

export class QueryParams {
  private readonly values = new Map<string, string[]>();

  constructor(rawQuery: string) {
    for (const [k, v] of parseQuery(rawQuery)) {
      const list = this.values.get(k);
      if (list) list.push(v);
      else this.values.set(k, [v]);
    }
  }

  string(name: string): string | undefined {
    return this.values.get(name)?.[0];
  }

  all(name: string): string[] {
    return this.values.get(name) ?? [];
  }

  has(name: string): boolean {
    return this.values.has(name);
  }

  int(name: string): number | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    if (!/^-?\d+$/.test(raw))
      throw new ServiceError('InvalidRequest', `Query parameter ${name} must be an integer, got '${raw}'.`);
    return Number(raw);
  }

  bool(name: string): boolean | undefined {
    const raw = this.string(name);
    if (raw === undefined) return undefined;
    if (raw !== 'true' && raw !== 'false') {
      throw new ServiceError('InvalidRequest', `Query parameter ${name} must be true or false, got '${raw}'.`);
    }
    return raw === 'true';
  }

  entries(): [string, string][] {
    return [...this.values.entries()].map(([k, v]) => [k, v[0] ?? '']);
  }
}

export function parseJsonBody(raw: Buffer | undefined): Record<string, unknown> | undefined {
  if (raw === undefined || raw.length === 0) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new ServiceError('InvalidRequest', 'The request body is not valid JSON.');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new ServiceError('InvalidRequest', 'The request body must be a JSON object.');
  }
  return absentNulls(parsed as Record<string, unknown>);
}
