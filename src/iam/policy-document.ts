import { ServiceError } from '../errors.js';
import { CONDITION_OPERATORS, parseOperator } from './policy-conditions.js';

/**
 * IAM policy documents (spec 8): parsed once into a normal form (every element a list) so the
 * evaluator never meets the string-or-array shapes of the JSON grammar.
 */

export const EFFECTS = ['Allow', 'Deny'] as const;
export type Effect = (typeof EFFECTS)[number];

export const PRINCIPAL_TYPES = ['AWS', 'Service', 'Federated', 'CanonicalUser'] as const;
export type PrincipalType = (typeof PRINCIPAL_TYPES)[number];

/** `'*'` (anyone) or lists of identifiers per principal type. */
export type PrincipalSpec = '*' | Partial<Record<PrincipalType, string[]>>;

/** operator (as written, e.g. `ForAnyValue:StringLikeIfExists`) -> key -> values. */
export type ConditionBlock = Record<string, Record<string, string[]>>;

export interface Statement {
  sid?: string;
  effect: Effect;
  principal?: PrincipalSpec;
  notPrincipal?: PrincipalSpec;
  action?: string[];
  notAction?: string[];
  resource?: string[];
  notResource?: string[];
  condition?: ConditionBlock;
}

export interface PolicyDocument {
  version: string;
  statements: Statement[];
}

/** Identity policies name resources and no principal; trust (resource) policies name a principal. */
export type PolicyKind = 'identity' | 'trust';

export const POLICY_VERSIONS = ['2012-10-17', '2008-10-17'] as const;
const STATEMENT_KEYS = new Set([
  'Sid',
  'Effect',
  'Principal',
  'NotPrincipal',
  'Action',
  'NotAction',
  'Resource',
  'NotResource',
  'Condition',
]);

const malformed = (message: string): ServiceError => new ServiceError('MalformedPolicyDocument', message);

function stringList(value: unknown, element: string): string[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) throw malformed(`${element} must not be empty.`);
  return list.map((v) => {
    if (typeof v !== 'string' || v === '') throw malformed(`${element} must hold non-empty strings.`);
    return v;
  });
}

function parsePrincipal(value: unknown, element: string): PrincipalSpec {
  if (value === '*') return '*';
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw malformed(`${element} must be "*" or an object such as {"Service": "iot.amazonaws.com"}.`);
  }
  const spec: Partial<Record<PrincipalType, string[]>> = {};
  for (const [type, ids] of Object.entries(value)) {
    if (!(PRINCIPAL_TYPES as readonly string[]).includes(type)) {
      throw malformed(`Invalid principal type '${type}' in ${element}; use one of ${PRINCIPAL_TYPES.join(', ')}.`);
    }
    spec[type as PrincipalType] = stringList(ids, `${element}.${type}`);
  }
  return spec;
}

function conditionValue(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw malformed('Condition values must be strings, numbers or booleans.');
}

function parseCondition(value: unknown): ConditionBlock {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw malformed('Condition must be an object of operators.');
  }
  const block: ConditionBlock = {};
  for (const [operator, keys] of Object.entries(value)) {
    if (!parseOperator(operator)) {
      throw malformed(
        `Invalid Condition operator '${operator}'; known operators are ${CONDITION_OPERATORS.join(', ')} (with IfExists, ForAnyValue:, ForAllValues:).`,
      );
    }
    if (typeof keys !== 'object' || keys === null || Array.isArray(keys)) {
      throw malformed(`Condition operator ${operator} must map condition keys to values.`);
    }
    const entries: Record<string, string[]> = {};
    for (const [key, values] of Object.entries(keys as Record<string, unknown>)) {
      const list = Array.isArray(values) ? values : [values];
      if (list.length === 0) throw malformed(`Condition ${operator} ${key} must have at least one value.`);
      entries[key] = list.map(conditionValue);
    }
    block[operator] = entries;
  }
  return block;
}

function exactlyOne(raw: Record<string, unknown>, a: string, b: string, required: boolean, index: number): void {
  const has = (k: string): boolean => raw[k] !== undefined;
  if (has(a) && has(b)) throw malformed(`Statement ${index} has both ${a} and ${b}; use one.`);
  if (required && !has(a) && !has(b)) throw malformed(`Statement ${index} is missing the ${a} element.`);
}

function parseStatement(raw: unknown, index: number, kind: PolicyKind): Statement {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw malformed(`Statement ${index} must be an object.`);
  }
  const s = raw as Record<string, unknown>;
  for (const k of Object.keys(s)) {
    if (!STATEMENT_KEYS.has(k)) throw malformed(`Statement ${index} has an unknown element '${k}'.`);
  }
  if (s.Effect !== 'Allow' && s.Effect !== 'Deny') {
    throw malformed(`Statement ${index}: Effect must be "Allow" or "Deny".`);
  }
  exactlyOne(s, 'Action', 'NotAction', true, index);
  exactlyOne(s, 'Principal', 'NotPrincipal', kind === 'trust', index);
  exactlyOne(s, 'Resource', 'NotResource', kind === 'identity', index);
  if (kind === 'identity' && (s.Principal !== undefined || s.NotPrincipal !== undefined)) {
    throw malformed('Policy document should not specify a principal.');
  }
  if (s.Sid !== undefined && (typeof s.Sid !== 'string' || !/^[A-Za-z0-9]*$/.test(s.Sid))) {
    throw malformed(`Statement ${index}: Sid must be alphanumeric.`);
  }
  const statement: Statement = { effect: s.Effect };
  if (typeof s.Sid === 'string') statement.sid = s.Sid;
  if (s.Principal !== undefined) statement.principal = parsePrincipal(s.Principal, 'Principal');
  if (s.NotPrincipal !== undefined) statement.notPrincipal = parsePrincipal(s.NotPrincipal, 'NotPrincipal');
  if (s.Action !== undefined) statement.action = stringList(s.Action, 'Action');
  if (s.NotAction !== undefined) statement.notAction = stringList(s.NotAction, 'NotAction');
  if (s.Resource !== undefined) statement.resource = stringList(s.Resource, 'Resource');
  if (s.NotResource !== undefined) statement.notResource = stringList(s.NotResource, 'NotResource');
  if (s.Condition !== undefined) statement.condition = parseCondition(s.Condition);
  for (const a of [...(statement.action ?? []), ...(statement.notAction ?? [])]) {
    if (a !== '*' && !/^[a-zA-Z0-9*?-]+:[a-zA-Z0-9*?]+$/.test(a)) {
      throw malformed(`Statement ${index}: action '${a}' is not of the form service:Action.`);
    }
  }
  return statement;
}

/** Parses and checks a policy document; MalformedPolicyDocument names the first problem. */
export function parsePolicyDocument(text: string, kind: PolicyKind): PolicyDocument {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw malformed('The policy document is not valid JSON.');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw malformed('The policy document must be a JSON object.');
  }
  const doc = raw as Record<string, unknown>;
  for (const k of Object.keys(doc)) {
    if (k !== 'Version' && k !== 'Statement' && k !== 'Id') throw malformed(`Unknown policy element '${k}'.`);
  }
  const version = doc.Version ?? '2008-10-17';
  if (typeof version !== 'string' || !(POLICY_VERSIONS as readonly string[]).includes(version)) {
    throw malformed(`The policy Version must be one of ${POLICY_VERSIONS.join(', ')}.`);
  }
  if (doc.Statement === undefined) throw malformed('The policy document is missing the Statement element.');
  const list = Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
  if (list.length === 0) throw malformed('The policy document has no statements.');
  return { version, statements: list.map((s, i) => parseStatement(s, i + 1, kind)) };
}
