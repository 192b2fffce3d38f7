import { ServiceError } from '../errors.js';

/**
 * Keyset pagination: nextToken is the sort key of the last row returned, opaque to clients.
 * Nothing is offset-scanned, so page N of a million rows costs what page 1 costs.
 */
export function encodeToken(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

export function decodeToken(token: string | undefined, arity: number): (string | number)[] | undefined {
  if (token === undefined || token === '') return undefined;
  try {
    const key: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (
      Array.isArray(key) &&
      key.length === arity &&
      key.every((k) => typeof k === 'string' || typeof k === 'number')
    ) {
      return key as (string | number)[];
    }
  } catch {
    // fall through to the error below
  }
  throw new ServiceError('InvalidRequest', 'The nextToken is not valid.');
}

export interface Page<T> {
  items: T[];
  nextToken?: string;
}

/** Callers fetch limit + 1 rows; the extra row only says whether another page exists. */
export function toPage<T>(rows: T[], limit: number, keyOf: (row: T) => (string | number)[]): Page<T> {
  if (rows.length <= limit) return { items: rows };
  const items = rows.slice(0, limit);
  return { items, nextToken: encodeToken(keyOf(items[items.length - 1]!)) };
}

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 250;
