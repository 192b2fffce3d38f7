import type { Clock } from '../clock.js';
import { arnMatch, evaluateCondition, globMatch, parseOperator } from './policy-conditions.js';
import type { PolicyDocument, PrincipalSpec, PrincipalType, Statement } from './policy-document.js';

/**
 * Our own IAM policy evaluator (spec 8; STACK.md: no AGPL simulator). Pure: the only notion of
 * time is the Clock, which supplies aws:CurrentTime and aws:EpochTime.
 *
 * Rules: an explicit Deny in any applicable statement wins; otherwise an applicable Allow allows;
 * otherwise the request is implicitly denied.
 */

export interface RequestPrincipal {
  type: PrincipalType;
  /** A service name (iot.amazonaws.com), an account id, or an IAM/STS ARN. */
  id: string;
}

export type ContextValue = string | readonly string[] | undefined;

export interface EvaluationRequest {
  action: string;
  /** The resource ARN; for a trust policy, the role's own ARN. */
  resource?: string;
  /** Who asks; only resource-based (trust) policies look at it. */
  principal?: RequestPrincipal;
  /** Condition keys (matched case-insensitively), e.g. aws:SourceAccount, aws:SourceArn. */
  context?: Record<string, ContextValue>;
}

export interface NamedPolicy {
  name: string;
  document: PolicyDocument;
}

export type DecisionEffect = 'Allow' | 'ExplicitDeny' | 'ImplicitDeny';

export interface Decision {
  effect: DecisionEffect;
  /** The statement that decided (for Allow and ExplicitDeny). */
  decidedBy?: string;
  /** Why each non-applicable statement did not apply: the base of clear error messages. */
  reasons: string[];
}

const statementLabel = (policy: string, s: Statement, i: number): string =>
  `${policy} statement ${s.sid ? `'${s.sid}'` : i + 1}`;

/** `s3:Get*` matches `s3:GetObject`; actions are case-insensitive. */
export function actionMatches(pattern: string, action: string): boolean {
  return pattern === '*' || globMatch(pattern, action, true);
}

const accountOf = (arn: string): string | undefined => arn.split(':')[4];

/** One principal entry of a policy against the caller. */
function principalEntryMatches(type: PrincipalType, entry: string, who: RequestPrincipal): boolean {
  if (entry === '*') return true;
  if (type !== who.type) return false;
  if (type === 'Service') return entry.toLowerCase() === who.id.toLowerCase();
  if (type !== 'AWS') return entry === who.id;
  if (/^\d{12}$/.test(entry)) return accountOf(who.id) === entry || who.id === entry;
  if (/^arn:[^:]+:iam::\d{12}:root$/.test(entry)) return accountOf(who.id) === accountOf(entry);
  if (entry === who.id) return true;
  // A role's ARN also names every session of that role.
  const role = /^arn:([^:]+):iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/.exec(entry);
  const session = /^arn:([^:]+):sts::(\d{12}):assumed-role\/([^/]+)\//.exec(who.id);
  return !!role && !!session && role[1] === session[1] && role[2] === session[2] && role[3] === session[3];
}

export function principalMatches(spec: PrincipalSpec, who: RequestPrincipal | undefined): boolean {
  if (spec === '*') return true;
  if (!who) return false;
  return Object.entries(spec).some(([type, entries]) =>
    (entries ?? []).some((e) => principalEntryMatches(type as PrincipalType, e, who)),
  );
}

function contextLookup(
  context: Record<string, ContextValue>,
  clock: Clock,
): (key: string) => readonly string[] | undefined {
  const byLowerKey = new Map<string, readonly string[]>();
  for (const [k, v] of Object.entries(context)) {
    if (v !== undefined) byLowerKey.set(k.toLowerCase(), typeof v === 'string' ? [v] : v);
  }
  const now = clock.now();
  if (!byLowerKey.has('aws:currenttime')) byLowerKey.set('aws:currenttime', [now.toISOString()]);
  if (!byLowerKey.has('aws:epochtime')) byLowerKey.set('aws:epochtime', [String(Math.floor(now.getTime() / 1000))]);
  return (key) => byLowerKey.get(key.toLowerCase());
}

/** Undefined when the statement applies, else the reason it does not. */
function whyNotApplicable(
  s: Statement,
  req: EvaluationRequest,
  lookup: (key: string) => readonly string[] | undefined,
): string | undefined {
  if (s.principal && !principalMatches(s.principal, req.principal)) return 'the principal does not match';
  if (s.notPrincipal && principalMatches(s.notPrincipal, req.principal)) return 'the principal is excluded';
  if (s.action && !s.action.some((a) => actionMatches(a, req.action))) return `it does not cover ${req.action}`;
  if (s.notAction?.some((a) => actionMatches(a, req.action))) return `it excludes ${req.action}`;
  if (req.resource !== undefined) {
    const resource = req.resource;
    if (s.resource && !s.resource.some((r) => arnMatch(r, resource))) return `it does not cover ${resource}`;
    if (s.notResource?.some((r) => arnMatch(r, resource))) return `it excludes ${resource}`;
  }
  for (const [operatorText, keys] of Object.entries(s.condition ?? {})) {
    const operator = parseOperator(operatorText);
    if (!operator) return `unknown condition operator ${operatorText}`;
    for (const [key, values] of Object.entries(keys)) {
      const actual = lookup(key);
      if (!evaluateCondition(operator, values, actual)) {
        const shown = actual === undefined ? 'absent' : actual.join(', ');
        return `condition ${operatorText} ${key} [${values.join(', ')}] is not met (request value: ${shown})`;
      }
    }
  }
  return undefined;
}

export function evaluatePolicies(policies: readonly NamedPolicy[], req: EvaluationRequest, clock: Clock): Decision {
  const lookup = contextLookup(req.context ?? {}, clock);
  const reasons: string[] = [];
  let allowedBy: string | undefined;
  for (const policy of policies) {
    for (const [i, s] of policy.document.statements.entries()) {
      const label = statementLabel(policy.name, s, i);
      const why = whyNotApplicable(s, req, lookup);
      if (why !== undefined) {
        reasons.push(`${label}: ${why}`);
        continue;
      }
      if (s.effect === 'Deny') return { effect: 'ExplicitDeny', decidedBy: label, reasons };
      allowedBy ??= label;
    }
  }
  return allowedBy !== undefined
    ? { effect: 'Allow', decidedBy: allowedBy, reasons }
    : { effect: 'ImplicitDeny', reasons };
}
