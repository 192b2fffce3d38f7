import type { Clock } from '../clock.js';
import type { Executor } from '../store/database.js';
import * as repo from './iam.repository.js';
import { parsePolicyDocument, type PolicyDocument } from './policy-document.js';
import { evaluatePolicies, type ContextValue, type Decision, type NamedPolicy } from './policy-evaluator.js';
import type { PoliciesService } from './policies.service.js';

/** A role with its trust policy and every identity policy (inline and attached), parsed. */
export interface LoadedRole {
  arn: string;
  name: string;
  trust: PolicyDocument;
  policies: NamedPolicy[];
}

export type AssumeOutcome =
  { ok: true; role: LoadedRole } | { ok: false; reason: 'no-role' | 'trust'; message: string };

const ROLE_ARN_RE = /^arn:aws:iam::(\d{12}):role\/(?:[\u0021-\u007E]*\/)?([\w+=,.@-]+)$/;

export const roleNameOf = (roleArn: string): string | undefined => ROLE_ARN_RE.exec(roleArn)?.[2];

/**
 * What the rest of the server asks IAM (spec 8): may a service assume this role for this
 * resource, and does the role allow an action on a resource. Read-only, no transactions.
 */
export class RoleAccess {
  constructor(private readonly deps: { db: Executor; clock: Clock; account: string; policies: PoliciesService }) {}

  async loadRole(roleArn: string): Promise<LoadedRole | undefined> {
    const m = ROLE_ARN_RE.exec(roleArn);
    if (!m || m[1] !== this.deps.account) return undefined;
    const row = await repo.findRole(this.deps.db, m[2]!);
    if (!row || row.arn !== roleArn) return undefined;
    const inline = await repo.listInlinePolicies(this.deps.db, row.role_name);
    const attached = await this.deps.policies.attachedDocuments(row.role_name);
    const policies = [...inline.map((p) => ({ name: p.policy_name, document: p.document })), ...attached].map((p) => ({
      name: `policy ${p.name}`,
      document: parsePolicyDocument(p.document, 'identity'),
    }));
    return { arn: row.arn, name: row.role_name, trust: parsePolicyDocument(row.assume_role_policy, 'trust'), policies };
  }

  /** Would the role's trust policy let `service` assume it on behalf of `source`? */
  trustDecision(role: LoadedRole, service: string, source: { account: string; arn: string }): Decision {
    return evaluatePolicies(
      [{ name: 'trust policy', document: role.trust }],
      {
        action: 'sts:AssumeRole',
        resource: role.arn,
        principal: { type: 'Service', id: service },
        context: { 'aws:SourceAccount': source.account, 'aws:SourceArn': source.arn },
      },
      this.deps.clock,
    );
  }

  /** sts:AssumeRole by an AWS service on behalf of a resource (confused-deputy keys set). */
  async assumeByService(
    roleArn: string,
    service: string,
    source: { account: string; arn: string },
  ): Promise<AssumeOutcome> {
    const role = await this.loadRole(roleArn);
    if (!role) return { ok: false, reason: 'no-role', message: `The role ${roleArn} does not exist.` };
    const decision = this.trustDecision(role, service, source);
    if (decision.effect === 'Allow') return { ok: true, role };
    return {
      ok: false,
      reason: 'trust',
      message: `The trust policy of role ${roleArn} does not let ${service} assume it (sts:AssumeRole) for ${source.arn}: ${explain(decision)}`,
    };
  }

  allows(role: LoadedRole, action: string, resource: string, context: Record<string, ContextValue> = {}): Decision {
    return evaluatePolicies(role.policies, { action, resource, context }, this.deps.clock);
  }
}

export function explain(decision: Decision): string {
  if (decision.effect === 'ExplicitDeny') return `explicitly denied by ${decision.decidedBy}`;
  if (decision.reasons.length === 0) return 'no statement allows it';
  return `no statement allows it (${decision.reasons.join('; ')})`;
}
