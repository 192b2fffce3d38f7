import { ServiceError } from '../errors.js';
import type { StringRule, Validator } from '../validation.js';
import { parsePolicyDocument, type PolicyDocument, type PolicyKind } from './policy-document.js';

/** IAM member constraints (the IAM API model) and quotas. Tab, LF and CR are allowed on purpose. */
/* eslint-disable no-control-regex */
export const IAM_RULES = {
  roleName: { min: 1, max: 64, pattern: /^[\w+=,.@-]+$/ },
  policyName: { min: 1, max: 128, pattern: /^[\w+=,.@-]+$/ },
  path: { min: 1, max: 512, pattern: /^(\/|\/[\u0021-\u007E]+\/)$/ },
  pathPrefix: { min: 1, max: 512, pattern: /^\/[\u0021-\u007F]*$/ },
  description: { max: 1000, pattern: /^[\u0009\u000A\u000D\u0020-\u007E\u00A1-\u00FF]*$/ },
  policyDocument: { min: 1, max: 131072, pattern: /^[\u0009\u000A\u000D\u0020-\u00FF]+$/ },
  policyArn: { min: 20, max: 2048 },
  marker: { min: 1, max: 320 },
} as const satisfies Record<string, StringRule>;

/* eslint-enable no-control-regex */

export const MAX_ITEMS_RULE = { min: 1, max: 1000, integer: true } as const;
export const SESSION_DURATION_RULE = { min: 3600, max: 43200, integer: true } as const;

/** IAM quotas, counted on the document with its whitespace removed, as IAM does. */
export const QUOTAS = {
  trustPolicyChars: 2048,
  inlinePoliciesPerRoleChars: 10240,
  managedPolicyChars: 6144,
  attachedPoliciesPerRole: 10,
} as const;

export const compactLength = (text: string): number => text.replace(/\s+/g, '').length;

export function checkPolicyText(v: Validator, field: string, value: unknown): void {
  if (v.required(field, value)) v.string(field, value, IAM_RULES.policyDocument);
}

/** Parses a document already validated for shape, enforcing a size quota. */
export function parseWithQuota(text: string, kind: PolicyKind, quota: number, quotaName: string): PolicyDocument {
  const doc = parsePolicyDocument(text, kind);
  if (compactLength(text) > quota) {
    throw new ServiceError('LimitExceeded', `Cannot exceed quota for ${quotaName}: ${quota}`);
  }
  return doc;
}
