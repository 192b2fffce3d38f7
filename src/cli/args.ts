import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from './exit-codes.js';

/** Parsers for option values; each throws UsageError (exit 2) naming the flag. */

export function int(flag: string, min = 0, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new UsageError(`${flag} '${value}' must be a whole number from ${min} to ${max}`);
    }
    return n;
  };
}

export function num(flag: string, min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < min || n > max) {
      throw new UsageError(`${flag} '${value}' must be a number from ${min} to ${max}`);
    }
    return n;
  };
}

export function oneOf<T extends string>(flag: string, values: readonly T[]) {
  return (value: string): T => {
    const v = value.toUpperCase();
    if (!(values as readonly string[]).includes(v)) {
      throw new UsageError(`${flag} '${value}' must be one of ${values.join(', ')}`);
    }
    return v as T;
  };
}

/** `a=1,b=2` (or repeated flags) into a map; `=` in a value is kept. */
export function keyValues(flag: string) {
  return (value: string, previous: Record<string, string> = {}): Record<string, string> => {
    const out = { ...previous };
    for (const part of value.split(',')) {
      if (part.trim() === '') continue;
      const eq = part.indexOf('=');
      if (eq <= 0) throw new UsageError(`${flag} '${part}' must be key=value`);
      out[part.slice(0, eq).trim()] = part.slice(eq + 1);
    }
    return out;
  };
}

/** Repeatable or comma-separated list. */
export function list(value: string, previous: string[] = []): string[] {
  return [
    ...previous,
    ...value
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== ''),
  ];
}

export function readText(cwd: string, flag: string, path: string): string {
  try {
    return readFileSync(path === '-' ? 0 : resolve(cwd, path), 'utf8');
  } catch (err) {
    throw new UsageError(`${flag}: cannot read ${path}: ${(err as Error).message}`);
  }
}

/** A JSON value from `@file`, a file path, or inline JSON text. */
export function readJson(cwd: string, flag: string, value: string): unknown {
  const trimmed = value.trim();
  const text =
    trimmed.startsWith('{') || trimmed.startsWith('[') ? value : readText(cwd, flag, value.replace(/^@/, ''));
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${flag}: not valid JSON: ${(err as Error).message}`);
  }
}

/** `s3://bucket/key` (key optional unless required). */
export function parseS3Url(flag: string, value: string, keyRequired = true): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)(?:\/(.*))?$/.exec(value);
  if (!m || (keyRequired && !m[2])) {
    throw new UsageError(`${flag} '${value}' must look like s3://bucket${keyRequired ? '/key' : '[/prefix]'}`);
  }
  return { bucket: m[1]!, key: m[2] ?? '' };
}

/** Every page of a paginated call, up to `max` items (pages are sized so none is cut). */
export async function collect<T>(
  fetchPage: (
    nextToken: string | undefined,
    pageSize: number,
  ) => Promise<{ items: T[] | undefined; nextToken?: string }>,
  max = Infinity,
): Promise<{ items: T[]; nextToken?: string }> {
  const items: T[] = [];
  let token: string | undefined;
  do {
    const page = await fetchPage(token, Math.min(250, max - items.length));
    items.push(...(page.items ?? []));
    token = page.nextToken || undefined;
    if (items.length >= max) return { items, ...(token && { nextToken: token }) };
  } while (token);
  return { items };
}
