import { ServiceError } from './errors.js';

/**
 * Server-side validation (spec 1.5: clients check almost nothing, so max, pattern and enum are
 * ours to enforce). Messages follow the Coral style AWS uses (spec 1.7):
 * "1 validation error detected: Value 'x' at 'jobId' failed to satisfy constraint: ...".
 */

export const PATTERNS = {
  thingName: /^[a-zA-Z0-9:_-]+$/,
  groupName: /^[a-zA-Z0-9:_-]+$/,
  jobId: /^[a-zA-Z0-9_-]+$/,
  namespaceId: /^[a-zA-Z0-9_-]+$/,
  noControl: /^[^\p{C}]+$/u,
  graphOrSpace: /^[\p{L}\p{M}\p{N}\p{P}\p{S}\x20]*$/u,
  reasonCode: /^[\p{Lu}\p{Nd}_]+$/u,
  attributeName: /^[a-zA-Z0-9_.,@/:#-]+$/,
  attributeValue: /^[a-zA-Z0-9_.,@/:#=[\]-]*$/,
  tagKey: /^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$/u,
  arn: /^arn:[!-~]+$/,
} as const;

const PATTERN_TEXT = new Map<RegExp, string>([
  [PATTERNS.thingName, '[a-zA-Z0-9:_-]+'],
  [PATTERNS.jobId, '[a-zA-Z0-9_-]+'],
  [PATTERNS.noControl, '[^\\p{C}]+'],
  [PATTERNS.graphOrSpace, '[\\p{Graph}\\x20]*'],
  [PATTERNS.reasonCode, '[\\p{Upper}\\p{Digit}_]+'],
  [PATTERNS.attributeName, '[a-zA-Z0-9_.,@/:#-]+'],
  [PATTERNS.attributeValue, '[a-zA-Z0-9_.,@/:#=\\[\\]-]*'],
  [PATTERNS.tagKey, '^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$'],
  [PATTERNS.arn, '^arn:[!-~]+$'],
]);

/**
 * AWS treats a JSON null as an absent member (restJson1: optional members may be written as null
 * by SDKs and JSON libraries that serialize unset fields). Every request body passes here once,
 * at the protocol boundary, so no service ever sees a null: `x ?? default` and `x !== undefined`
 * then mean the same thing everywhere. A null required member still fails as
 * "Member must not be null"; a null list element is kept, for `list` to refuse.
 */
export function absentNulls<T>(value: T): T {
  if (Array.isArray(value)) return value.map((item: unknown) => absentNulls(item)) as T;
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v !== null) out[k] = absentNulls(v);
  }
  return out as T;
}

const show = (value: unknown): string => {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 100 ? `${text.slice(0, 100)}...` : text;
};

export interface StringRule {
  min?: number;
  max?: number;
  pattern?: RegExp;
  enum?: readonly string[];
}

export interface NumberRule {
  min?: number;
  max?: number;
  integer?: boolean;
}

/** Collects every problem of one request, then throws them together. */
export class Validator {
  private readonly errors: string[] = [];

  fail(field: string, value: unknown, constraint: string): void {
    this.errors.push(`Value '${show(value)}' at '${field}' failed to satisfy constraint: ${constraint}`);
  }

  /** A type problem (a number where a string belongs, say); no constraint wording exists for it. */
  wrongType(field: string, expected: string): void {
    this.errors.push(`Value at '${field}' must be ${expected}`);
  }

  required(field: string, value: unknown): boolean {
    if (value === undefined || value === null) {
      this.errors.push(`Value null at '${field}' failed to satisfy constraint: Member must not be null`);
      return false;
    }
    return true;
  }

  string(field: string, value: unknown, rule: StringRule = {}): value is string {
    if (value === undefined || value === null) return false;
    if (typeof value !== 'string') {
      this.wrongType(field, 'a string');
      return false;
    }
    const before = this.errors.length;
    if (rule.min !== undefined && value.length < rule.min) {
      this.fail(field, value, `Member must have length greater than or equal to ${rule.min}`);
    }
    if (rule.max !== undefined && value.length > rule.max) {
      this.fail(field, value, `Member must have length less than or equal to ${rule.max}`);
    }
    if (rule.pattern && value.length > 0 && !rule.pattern.test(value)) {
      const text = PATTERN_TEXT.get(rule.pattern) ?? rule.pattern.source;
      this.fail(field, value, `Member must satisfy regular expression pattern: ${text}`);
    }
    if (rule.enum && !rule.enum.includes(value)) {
      this.fail(field, value, `Member must satisfy enum value set: [${rule.enum.join(', ')}]`);
    }
    return this.errors.length === before;
  }

  number(field: string, value: unknown, rule: NumberRule = {}): value is number {
    if (value === undefined || value === null) return false;
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      this.wrongType(field, 'a number');
      return false;
    }
    const before = this.errors.length;
    if (rule.integer && !Number.isInteger(value)) this.wrongType(field, 'an integer');
    // A Long beyond 2^53 is not exact in JSON numbers, nor a PostgreSQL bigint beyond 2^63.
    else if (rule.integer && !Number.isSafeInteger(value)) {
      this.fail(field, value, `Member must have value less than or equal to ${Number.MAX_SAFE_INTEGER}`);
    }
    if (rule.min !== undefined && value < rule.min) {
      this.fail(field, value, `Member must have value greater than or equal to ${rule.min}`);
    }
    if (rule.max !== undefined && value > rule.max) {
      this.fail(field, value, `Member must have value less than or equal to ${rule.max}`);
    }
    return this.errors.length === before;
  }

  boolean(field: string, value: unknown): value is boolean {
    if (value === undefined || value === null) return false;
    if (typeof value !== 'boolean') {
      this.wrongType(field, 'a boolean');
      return false;
    }
    return true;
  }

  object(field: string, value: unknown): value is Record<string, unknown> {
    if (value === undefined || value === null) return false;
    if (typeof value !== 'object' || Array.isArray(value)) {
      this.wrongType(field, 'an object');
      return false;
    }
    return true;
  }

  list(field: string, value: unknown, rule: { min?: number; max?: number } = {}): value is unknown[] {
    if (value === undefined || value === null) return false;
    if (!Array.isArray(value)) {
      this.wrongType(field, 'a list');
      return false;
    }
    const before = this.errors.length;
    if (value.some((item) => item === null || item === undefined)) {
      this.fail(`${field}.member`, null, 'Member must not be null');
    }
    if (rule.min !== undefined && value.length < rule.min) {
      this.fail(field, value, `Member must have length greater than or equal to ${rule.min}`);
    }
    if (rule.max !== undefined && value.length > rule.max) {
      this.fail(field, value, `Member must have length less than or equal to ${rule.max}`);
    }
    return this.errors.length === before;
  }

  /** A string-to-string map (attributes, statusDetails, documentParameters). */
  stringMap(
    field: string,
    value: unknown,
    rules: { key?: StringRule; value?: StringRule; maxEntries?: number } = {},
  ): value is Record<string, string> {
    if (!this.object(field, value)) return false;
    const before = this.errors.length;
    const entries = Object.entries(value);
    if (rules.maxEntries !== undefined && entries.length > rules.maxEntries) {
      this.fail(field, value, `Member must have at most ${rules.maxEntries} entries`);
    }
    for (const [k, v] of entries) {
      this.string(`${field}.key`, k, rules.key);
      if (typeof v !== 'string') this.wrongType(`${field}.${k}`, 'a string');
      else this.string(`${field}.${k}`, v, rules.value);
    }
    return this.errors.length === before;
  }

  get ok(): boolean {
    return this.errors.length === 0;
  }

  throwIfInvalid(): void {
    if (this.errors.length === 0) return;
    const n = this.errors.length;
    throw new ServiceError(
      'InvalidRequest',
      `${n} validation error${n === 1 ? '' : 's'} detected: ${this.errors.join('; ')}`,
    );
  }
}

export function validate(build: (v: Validator) => void): void {
  const v = new Validator();
  build(v);
  v.throwIfInvalid();
}

export const NAME_RULE: StringRule = { min: 1, max: 128, pattern: PATTERNS.thingName };
export const JOB_ID_RULE: StringRule = { min: 1, max: 64, pattern: PATTERNS.jobId };
export const DESCRIPTION_RULE: StringRule = { max: 2028, pattern: PATTERNS.noControl };
export const MAX_RESULTS_RULE: NumberRule = { min: 1, max: 250, integer: true };
