import type { ServiceContext } from '../context.js';
import { ServiceError } from '../errors.js';
import { validate } from '../validation.js';
import { AWS_MANAGED_POLICIES, findAwsManagedPolicy } from './aws-managed-policies.js';
import { iamId } from './iam.ids.js';
import * as repo from './iam.repository.js';
import { checkPolicyText, IAM_RULES, MAX_ITEMS_RULE, parseWithQuota, QUOTAS } from './iam.schemas.js';
import { DEFAULT_MAX_ITEMS, iamPage, markerKey, noSuchRole } from './roles.service.js';

export interface ManagedPolicy {
  PolicyName: string;
  PolicyId: string;
  Arn: string;
  Path: string;
  DefaultVersionId: string;
  AttachmentCount: number;
  PermissionsBoundaryUsageCount: number;
  IsAttachable: boolean;
  Description?: string;
  CreateDate: Date;
  UpdateDate: Date;
}

export interface CreatePolicyInput {
  PolicyName: string;
  PolicyDocument: string;
  Path?: string;
  Description?: string;
}

/** Managed policies have one version here (v1); CreatePolicyVersion is not offered. */
const VERSION_ID = 'v1';

const noSuchPolicy = (arn: string): ServiceError =>
  new ServiceError('NoSuchEntity', `Policy ${arn} does not exist or is not attachable.`);

/** Customer-managed policies and their attachment to roles (issue 6, item 3). */
export class PoliciesService {
  constructor(private readonly ctx: ServiceContext) {}

  private fromRow(row: repo.PolicyRow, attachments: number): ManagedPolicy {
    return {
      PolicyName: row.policy_name,
      PolicyId: row.policy_id,
      Arn: row.arn,
      Path: row.path,
      DefaultVersionId: VERSION_ID,
      AttachmentCount: attachments,
      PermissionsBoundaryUsageCount: 0,
      IsAttachable: true,
      ...(row.description !== null && { Description: row.description }),
      CreateDate: new Date(row.created_at),
      UpdateDate: new Date(row.updated_at),
    };
  }

  /** A customer policy row or an AWS-managed policy presented as one. */
  private async lookup(arn: string): Promise<repo.PolicyRow | undefined> {
    const aws = findAwsManagedPolicy(arn);
    if (aws) {
      return {
        arn: aws.arn,
        policy_name: aws.name,
        policy_id: `ANPA${aws.name
          .toUpperCase()
          .replace(/[^A-Z]/g, '')
          .slice(0, 17)
          .padEnd(17, 'X')}`,
        path: '/',
        description: aws.description,
        document: aws.document,
        created_at: 0,
        updated_at: 0,
      };
    }
    return repo.findPolicy(this.ctx.db, arn);
  }

  async createPolicy(input: CreatePolicyInput): Promise<ManagedPolicy> {
    validate((v) => {
      if (v.required('policyName', input.PolicyName)) v.string('policyName', input.PolicyName, IAM_RULES.policyName);
      checkPolicyText(v, 'policyDocument', input.PolicyDocument);
      v.string('path', input.Path, IAM_RULES.path);
      v.string('description', input.Description, IAM_RULES.description);
    });
    parseWithQuota(input.PolicyDocument, 'identity', QUOTAS.managedPolicyChars, 'PolicySize');
    const path = input.Path ?? '/';
    const now = this.ctx.clock.now().getTime();
    const row: repo.PolicyRow = {
      arn: `arn:aws:iam::${this.ctx.arns.partition.account}:policy${path}${input.PolicyName}`,
      policy_name: input.PolicyName,
      policy_id: iamId('ANPA'),
      path,
      description: input.Description ?? null,
      document: input.PolicyDocument,
      created_at: now,
      updated_at: now,
    };
    const created = await this.ctx.db.transaction().execute(async (trx) => {
      if (await repo.findPolicy(trx, row.arn)) return false;
      await repo.insertPolicy(trx, row);
      return true;
    });
    if (!created) {
      throw new ServiceError(
        'EntityAlreadyExists',
        `A policy called ${input.PolicyName} already exists. Duplicate names are not allowed.`,
      );
    }
    return this.fromRow(row, 0);
  }

  async getPolicy(arn: string): Promise<ManagedPolicy> {
    validate((v) => {
      if (v.required('policyArn', arn)) v.string('policyArn', arn, IAM_RULES.policyArn);
    });
    const row = await this.lookup(arn);
    if (!row) throw new ServiceError('NoSuchEntity', `Policy ${arn} was not found.`);
    return this.fromRow(row, await repo.attachmentCount(this.ctx.db, arn));
  }

  async getPolicyVersion(arn: string, versionId: string) {
    const policy = await this.getPolicy(arn);
    if (versionId !== VERSION_ID) {
      throw new ServiceError('NoSuchEntity', `Policy ${arn} version ${versionId} does not exist or is not attachable.`);
    }
    const row = (await this.lookup(arn))!;
    return { Document: row.document, VersionId: VERSION_ID, IsDefaultVersion: true, CreateDate: policy.CreateDate };
  }

  async listPolicies(input: { Scope?: string; Marker?: string; MaxItems?: number; OnlyAttached?: boolean }) {
    validate((v) => {
      v.string('scope', input.Scope, { enum: ['All', 'AWS', 'Local'] });
      v.string('marker', input.Marker, IAM_RULES.marker);
      v.number('maxItems', input.MaxItems, MAX_ITEMS_RULE);
    });
    const limit = input.MaxItems ?? DEFAULT_MAX_ITEMS;
    const scope = input.Scope ?? 'All';
    const after = markerKey(input.Marker);
    // Customer policies (from the table) and AWS-managed ones (from code) are merged in ARN order.
    const local = scope === 'AWS' ? [] : await repo.listPolicies(this.ctx.db, { after, limit });
    const aws = scope === 'Local' ? [] : AWS_MANAGED_POLICIES.filter((p) => after === undefined || p.arn > after);
    const rows = [...local, ...(await Promise.all(aws.map((p) => this.lookup(p.arn))))]
      .filter((r): r is repo.PolicyRow => r !== undefined)
      .sort((a, b) => (a.arn < b.arn ? -1 : 1))
      .slice(0, limit + 1);
    const page = iamPage(rows, limit, (r) => r.arn);
    const policies = [];
    for (const r of page.items) {
      const count = await repo.attachmentCount(this.ctx.db, r.arn);
      if (!input.OnlyAttached || count > 0) policies.push(this.fromRow(r, count));
    }
    return { Policies: policies, IsTruncated: page.IsTruncated, Marker: page.Marker };
  }

  async deletePolicy(arn: string): Promise<void> {
    await this.getPolicy(arn);
    if (findAwsManagedPolicy(arn)) {
      throw new ServiceError('AccessDenied', `Policy ${arn} is managed by AWS and cannot be deleted.`);
    }
    const outcome = await this.ctx.db.transaction().execute(async (trx) => {
      if ((await repo.attachmentCount(trx, arn)) > 0) return 'attached';
      await repo.deletePolicy(trx, arn);
      return 'deleted';
    });
    if (outcome === 'attached') {
      throw new ServiceError('DeleteConflict', 'Cannot delete a policy attached to entities.');
    }
  }

  async attachRolePolicy(roleName: string, policyArn: string): Promise<void> {
    this.checkRoleAndArn(roleName, policyArn);
    if (!(await this.lookup(policyArn))) throw noSuchPolicy(policyArn);
    const outcome = await this.ctx.db.transaction().execute(async (trx) => {
      if (!(await repo.findRole(trx, roleName))) return 'missing';
      const attached = await repo.listAttachments(trx, roleName);
      if (!attached.includes(policyArn) && attached.length >= QUOTAS.attachedPoliciesPerRole) return 'quota';
      await repo.attach(trx, roleName, policyArn, this.ctx.clock.now().getTime());
      return 'ok';
    });
    if (outcome === 'missing') throw noSuchRole(roleName);
    if (outcome === 'quota') {
      throw new ServiceError(
        'LimitExceeded',
        `Cannot exceed quota for PoliciesPerRole: ${QUOTAS.attachedPoliciesPerRole}`,
      );
    }
  }

  async detachRolePolicy(roleName: string, policyArn: string): Promise<void> {
    this.checkRoleAndArn(roleName, policyArn);
    if (!(await repo.findRole(this.ctx.db, roleName))) throw noSuchRole(roleName);
    if (!(await repo.detach(this.ctx.db, roleName, policyArn))) {
      throw new ServiceError('NoSuchEntity', `Policy ${policyArn} was not found.`);
    }
  }

  async listAttachedRolePolicies(input: { RoleName: string; PathPrefix?: string; Marker?: string; MaxItems?: number }) {
    validate((v) => {
      if (v.required('roleName', input.RoleName)) v.string('roleName', input.RoleName, IAM_RULES.roleName);
      v.string('pathPrefix', input.PathPrefix, IAM_RULES.pathPrefix);
      v.string('marker', input.Marker, IAM_RULES.marker);
      v.number('maxItems', input.MaxItems, MAX_ITEMS_RULE);
    });
    if (!(await repo.findRole(this.ctx.db, input.RoleName))) throw noSuchRole(input.RoleName);
    const limit = input.MaxItems ?? DEFAULT_MAX_ITEMS;
    const arns = await repo.listAttachments(this.ctx.db, input.RoleName, markerKey(input.Marker), limit);
    const page = iamPage(arns, limit, (a) => a);
    const attached = [];
    for (const arn of page.items) {
      const row = await this.lookup(arn);
      if (!row || (input.PathPrefix !== undefined && !row.path.startsWith(input.PathPrefix))) continue;
      attached.push({ PolicyName: row.policy_name, PolicyArn: arn });
    }
    return { AttachedPolicies: attached, IsTruncated: page.IsTruncated, Marker: page.Marker };
  }

  /** The documents of every policy attached to a role (for the evaluator). */
  async attachedDocuments(roleName: string): Promise<{ name: string; document: string }[]> {
    const arns = await repo.listAttachments(this.ctx.db, roleName);
    const out = [];
    for (const arn of arns) {
      const row = await this.lookup(arn);
      if (row) out.push({ name: row.policy_name, document: row.document });
    }
    return out;
  }

  private checkRoleAndArn(roleName: string, policyArn: string): void {
    validate((v) => {
      if (v.required('roleName', roleName)) v.string('roleName', roleName, IAM_RULES.roleName);
      if (v.required('policyArn', policyArn)) v.string('policyArn', policyArn, IAM_RULES.policyArn);
    });
  }
}
