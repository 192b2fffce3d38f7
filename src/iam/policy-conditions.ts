/**
 * IAM condition operators (spec 8): one table of base operators; IfExists and the set
 * qualifiers ForAnyValue/ForAllValues are applied around them. Pure functions, no I/O.
 */

type Compare = (requestValue: string, policyValue: string) => boolean;

interface OperatorDef {
  /** Negated operators (StringNotEquals...) hold when the request value matches NONE of the values. */
  negated: boolean;
  compare: Compare;
}

/** `*` any run of characters, `?` exactly one; everything else literal. */
export function globToRegExp(pattern: string, flags = ''): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\*?]/g, (c) => (c === '*' ? '.*' : c === '?' ? '.' : `\\${c}`));
  return new RegExp(`^${body}$`, `s${flags}`);
}

export const globMatch = (pattern: string, value: string, ignoreCase = false): boolean =>
  globToRegExp(pattern, ignoreCase ? 'i' : '').test(value);

/** ARN matching: the five leading components and the resource part, each a glob on its own. */
export function arnMatch(pattern: string, value: string): boolean {
  if (pattern === '*') return true;
  const split = (arn: string): string[] | undefined => {
    const parts = arn.split(':');
    if (parts.length < 6 || parts[0] !== 'arn') return undefined;
    return [...parts.slice(0, 5), parts.slice(5).join(':')];
  };
  const p = split(pattern);
  const v = split(value);
  if (!p || !v) return globMatch(pattern, value);
  return p.every((segment, i) => globMatch(segment, v[i]!));
}

const number = (s: string): number | undefined => (/^-?\d+(\.\d+)?$/.test(s.trim()) ? Number(s) : undefined);

/** ISO 8601 or epoch seconds (the two forms IAM accepts for Date* operators). */
export function parseDate(s: string): number | undefined {
  const n = number(s);
  if (n !== undefined) return n * 1000;
  const ms = Date.parse(s);
  return Number.isNaN(ms) ? undefined : ms;
}

const numeric =
  (test: (a: number, b: number) => boolean): Compare =>
  (r, p) => {
    const a = number(r);
    const b = number(p);
    return a !== undefined && b !== undefined && test(a, b);
  };

const dated =
  (test: (a: number, b: number) => boolean): Compare =>
  (r, p) => {
    const a = parseDate(r);
    const b = parseDate(p);
    return a !== undefined && b !== undefined && test(a, b);
  };

function ipv4(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  const octets = m.slice(1).map(Number);
  if (octets.some((o) => o > 255)) return undefined;
  return octets.reduce((acc, o) => acc * 256 + o, 0);
}

function inCidr(ip: string, cidr: string): boolean {
  const [base, bitsText] = cidr.split('/');
  const a = ipv4(ip);
  const b = ipv4(base ?? '');
  if (a === undefined || b === undefined) return ip === cidr;
  const bits = bitsText === undefined ? 32 : Number(bitsText);
  if (!Number.isInteger(bits) || bits < 0 || bits > 32) return false;
  const block = 2 ** (32 - bits);
  return Math.floor(a / block) === Math.floor(b / block);
}

const eq: Compare = (r, p) => r === p;
const eqIgnoreCase: Compare = (r, p) => r.toLowerCase() === p.toLowerCase();
const like: Compare = (r, p) => globMatch(p, r);
const arn: Compare = (r, p) => arnMatch(p, r);

export const OPERATORS = {
  StringEquals: { negated: false, compare: eq },
  StringNotEquals: { negated: true, compare: eq },
  StringEqualsIgnoreCase: { negated: false, compare: eqIgnoreCase },
  StringNotEqualsIgnoreCase: { negated: true, compare: eqIgnoreCase },
  StringLike: { negated: false, compare: like },
  StringNotLike: { negated: true, compare: like },
  NumericEquals: { negated: false, compare: numeric((a, b) => a === b) },
  NumericNotEquals: { negated: true, compare: numeric((a, b) => a === b) },
  NumericLessThan: { negated: false, compare: numeric((a, b) => a < b) },
  NumericLessThanEquals: { negated: false, compare: numeric((a, b) => a <= b) },
  NumericGreaterThan: { negated: false, compare: numeric((a, b) => a > b) },
  NumericGreaterThanEquals: { negated: false, compare: numeric((a, b) => a >= b) },
  DateEquals: { negated: false, compare: dated((a, b) => a === b) },
  DateNotEquals: { negated: true, compare: dated((a, b) => a === b) },
  DateLessThan: { negated: false, compare: dated((a, b) => a < b) },
  DateLessThanEquals: { negated: false, compare: dated((a, b) => a <= b) },
  DateGreaterThan: { negated: false, compare: dated((a, b) => a > b) },
  DateGreaterThanEquals: { negated: false, compare: dated((a, b) => a >= b) },
  Bool: { negated: false, compare: eqIgnoreCase },
  BinaryEquals: { negated: false, compare: eq },
  IpAddress: { negated: false, compare: (r, p) => inCidr(r, p) },
  NotIpAddress: { negated: true, compare: (r, p) => inCidr(r, p) },
  ArnEquals: { negated: false, compare: arn },
  ArnLike: { negated: false, compare: arn },
  ArnNotEquals: { negated: true, compare: arn },
  ArnNotLike: { negated: true, compare: arn },
  Null: { negated: false, compare: eq },
} as const satisfies Record<string, OperatorDef>;

export type BaseOperator = keyof typeof OPERATORS;
export const CONDITION_OPERATORS = Object.keys(OPERATORS) as BaseOperator[];

export const SET_QUALIFIERS = ['ForAnyValue', 'ForAllValues'] as const;
export type SetQualifier = (typeof SET_QUALIFIERS)[number];

export interface ParsedOperator {
  qualifier?: SetQualifier;
  base: BaseOperator;
  ifExists: boolean;
}

export function parseOperator(text: string): ParsedOperator | undefined {
  const m = /^(?:(ForAnyValue|ForAllValues):)?([A-Za-z]+?)(IfExists)?$/.exec(text);
  if (!m || !(m[2]! in OPERATORS)) return undefined;
  const base = m[2] as BaseOperator;
  if (base === 'Null' && m[3]) return undefined;
  return { ...(m[1] && { qualifier: m[1] as SetQualifier }), base, ifExists: m[3] !== undefined };
}

/**
 * One operator, one key. `requestValues` undefined means the key is absent from the request
 * context. IAM rules: a missing key fails a positive operator and satisfies a negated one;
 * IfExists and ForAllValues hold on a missing key, ForAnyValue does not; Null tests presence.
 */
export function evaluateCondition(
  operator: ParsedOperator,
  policyValues: readonly string[],
  requestValues: readonly string[] | undefined,
): boolean {
  const present = requestValues !== undefined && requestValues.length > 0;
  if (operator.base === 'Null') {
    return policyValues.some((v) => (v.toLowerCase() === 'true' ? !present : v.toLowerCase() === 'false' && present));
  }
  const def: OperatorDef = OPERATORS[operator.base];
  if (!present) {
    if (operator.ifExists) return true;
    if (operator.qualifier === 'ForAllValues') return true;
    if (operator.qualifier === 'ForAnyValue') return false;
    return def.negated;
  }
  const matchesAny = (r: string): boolean => policyValues.some((p) => def.compare(r, p));
  const test = (r: string): boolean => (def.negated ? !matchesAny(r) : matchesAny(r));
  if (operator.qualifier === 'ForAllValues') return requestValues.every(test);
  if (operator.qualifier === 'ForAnyValue') return requestValues.some(test);
  return def.negated ? requestValues.every(test) : requestValues.some(test);
}
