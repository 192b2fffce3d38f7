import type { ServiceContext } from '../context.js';
import { ServiceError } from '../errors.js';
import { decodeToken, encodeToken } from '../store/pagination.js';
import { validate } from '../validation.js';
import { iamId } from './iam.ids.js';
import * as repo from './iam.repository.js';
import {
  checkPolicyText,
  compactLength,
  IAM_RULES,
  MAX_ITEMS_RULE,
  parseWithQuota,
  QUOTAS,
  SESSION_DURATION_RULE,
} from './iam.schemas.js';

export interface Tag {
  Key: string;
  Value: string;
}

export interface CreateRoleInput {
  RoleName: string;
  AssumeRolePolicyDocument: string;
  Path?: string;
  Description?: string;
  MaxSessionDuration?: number;
  Tags?: Tag[];
}

export interface Role {
  Path: string;
  RoleName: string;
  RoleId: string;
  Arn: string;
  CreateDate: Date;
  AssumeRolePolicyDocument: string;
  Description?: string;
  MaxSessionDuration: number;
  Tags?: Tag[];
}

export interface ListPage {
  IsTruncated: boolean;
  Marker?: string;
}

export const DEFAULT_MAX_ITEMS = 100;

export const noSuchRole = (name: string): ServiceError =>
  new ServiceError('NoSuchEntity', `The role with name ${name} cannot be found.`);

/** Turns a keyset page of limit + 1 rows into IAM's IsTruncated/Marker shape. */
export function iamPage<T>(rows: T[], limit: number, keyOf: (row: T) => string): { items: T[] } & ListPage {
  if (rows.length <= limit) return { items: rows, IsTruncated: false };
  const items = rows.slice(0, limit);
  return { items, IsTruncated: true, Marker: encodeToken([keyOf(items[items.length - 1]!)]) };
}

export const markerKey = (marker: string | undefined): string | undefined =>
  decodeToken(marker, 1)?.[0] as string | undefined;

/** IAM roles and their inline policies (issue 6, item 3). */
export class RolesService {
  constructor(private readonly ctx: ServiceContext) {}

  roleArn(path: string, name: string): string {
    return `arn:aws:iam::${this.ctx.arns.partition.account}:role${path}${name}`;
  }

  toRole(row: repo.RoleRow): Role {
    const tags = JSON.parse(row.tags) as Tag[];
    return {
      Path: row.path,
      RoleName: row.role_name,
      RoleId: row.role_id,
      Arn: row.arn,
      CreateDate: new Date(row.created_at),
      AssumeRolePolicyDocument: row.assume_role_policy,
      ...(row.description !== null && { Description: row.description }),
      MaxSessionDuration: row.max_session_duration,
      ...(tags.length > 0 && { Tags: tags }),
    };
  }

  async createRole(input: CreateRoleInput): Promise<Role> {
    validate((v) => {
      if (v.required('roleName', input.RoleName)) v.string('roleName', input.RoleName, IAM_RULES.roleName);
      checkPolicyText(v, 'assumeRolePolicyDocument', input.AssumeRolePolicyDocument);
      v.string('path', input.Path, IAM_RULES.path);
      v.string('description', input.Description, IAM_RULES.description);
      v.number('maxSessionDuration', input.MaxSessionDuration, SESSION_DURATION_RULE);
      if (v.list('tags', input.Tags, { max: 50 })) {
        for (const t of input.Tags!) {
          v.string('tags.member.key', t?.Key, { min: 1, max: 128 });
          v.string('tags.member.value', t?.Value, { max: 256 });
        }
      }
    });
    parseWithQuota(input.AssumeRolePolicyDocument, 'trust', QUOTAS.trustPolicyChars, 'ACLSizePerRole');
    const path = input.Path ?? '/';
    const row: repo.RoleRow = {
      name_key: repo.roleKey(input.RoleName),
      role_name: input.RoleName,
      role_id: iamId('AROA'),
      path,
      arn: this.roleArn(path, input.RoleName),
      assume_role_policy: input.AssumeRolePolicyDocument,
      description: input.Description ?? null,
      max_session_duration: input.MaxSessionDuration ?? 3600,
      tags: JSON.stringify(input.Tags ?? []),
      created_at: this.ctx.clock.now().getTime(),
    };
    const created = await this.ctx.db.transaction().execute(async (trx) => {
      if (await repo.findRole(trx, input.RoleName)) return false;
      await repo.insertRole(trx, row);
      return true;
    });
    if (!created) {
      throw new ServiceError('EntityAlreadyExists', `Role with name ${input.RoleName} already exists.`);
    }
    return this.toRole(row);
  }

  async getRole(roleName: string): Promise<Role> {
    validate((v) => {
      if (v.required('roleName', roleName)) v.string('roleName', roleName, IAM_RULES.roleName);
    });
    const row = await repo.findRole(this.ctx.db, roleName);
    if (!row) throw noSuchRole(roleName);
    return this.toRole(row);
  }

  async listRoles(input: { PathPrefix?: string; Marker?: string; MaxItems?: number }) {
    validate((v) => {
      v.string('pathPrefix', input.PathPrefix, IAM_RULES.pathPrefix);
      v.string('marker', input.Marker, IAM_RULES.marker);
      v.number('maxItems', input.MaxItems, MAX_ITEMS_RULE);
    });
    const limit = input.MaxItems ?? DEFAULT_MAX_ITEMS;
    const rows = await repo.listRoles(this.ctx.db, {
      pathPrefix: input.PathPrefix,
      after: markerKey(input.Marker),
      limit,
    });
    const page = iamPage(rows, limit, (r) => r.name_key);
    return { Roles: page.items.map((r) => this.toRole(r)), IsTruncated: page.IsTruncated, Marker: page.Marker };
  }

  async deleteRole(roleName: string): Promise<void> {
    await this.getRole(roleName);
    const outcome = await this.ctx.db.transaction().execute(async (trx) => {
      if (!(await repo.findRole(trx, roleName))) return 'missing';
      const counts = await repo.countRolePolicies(trx, roleName);
      if (counts.inline > 0) return 'inline';
      if (counts.attached > 0) return 'attached';
      await repo.deleteRole(trx, roleName);
      return 'deleted';
    });
    if (outcome === 'missing') throw noSuchRole(roleName);
    if (outcome === 'inline') {
      throw new ServiceError('DeleteConflict', 'Cannot delete entity, must delete policies first.');
    }
    if (outcome === 'attached') {
      throw new ServiceError('DeleteConflict', 'Cannot delete entity, must detach all policies first.');
    }
  }

  async updateAssumeRolePolicy(roleName: string, policyDocument: string): Promise<void> {
    validate((v) => {
      if (v.required('roleName', roleName)) v.string('roleName', roleName, IAM_RULES.roleName);
      checkPolicyText(v, 'policyDocument', policyDocument);
    });
    parseWithQuota(policyDocument, 'trust', QUOTAS.trustPolicyChars, 'ACLSizePerRole');
    if (!(await repo.updateTrustPolicy(this.ctx.db, roleName, policyDocument))) throw noSuchRole(roleName);
  }

  async putRolePolicy(roleName: string, policyName: string, policyDocument: string): Promise<void> {
    validate((v) => {
      if (v.required('roleName', roleName)) v.string('roleName', roleName, IAM_RULES.roleName);
      if (v.required('policyName', policyName)) v.string('policyName', policyName, IAM_RULES.policyName);
      checkPolicyText(v, 'policyDocument', policyDocument);
    });
    parseWithQuota(policyDocument, 'identity', QUOTAS.inlinePoliciesPerRoleChars, 'RolePolicySize');
    const outcome = await this.ctx.db.transaction().execute(async (trx) => {
      const role = await repo.findRole(trx, roleName);
      if (!role) return 'missing';
      const others = (await repo.listInlinePolicies(trx, roleName)).filter((p) => p.policy_name !== policyName);
      const total = others.reduce((n, p) => n + compactLength(p.document), compactLength(policyDocument));
      if (total > QUOTAS.inlinePoliciesPerRoleChars) return 'quota';
      await repo.upsertInlinePolicy(trx, {
        role_key: role.name_key,
        policy_name: policyName,
        document: policyDocument,
      });
      return 'ok';
    });
    if (outcome === 'missing') throw noSuchRole(roleName);
    if (outcome === 'quota') {
      throw new ServiceError(
        'LimitExceeded',
        `Maximum policy size of ${QUOTAS.inlinePoliciesPerRoleChars} bytes exceeded for role ${roleName}`,
      );
    }
  }

  async getRolePolicy(roleName: string, policyName: string) {
    validate((v) => {
      if (v.required('roleName', roleName)) v.string('roleName', roleName, IAM_RULES.roleName);
      if (v.required('policyName', policyName)) v.string('policyName', policyName, IAM_RULES.policyName);
    });
    const role = await repo.findRole(this.ctx.db, roleName);
    if (!role) throw noSuchRole(roleName);
    const row = await repo.findInlinePolicy(this.ctx.db, roleName, policyName);
    if (!row) {
      throw new ServiceError('NoSuchEntity', `The role policy with name ${policyName} cannot be found.`);
    }
    return { RoleName: role.role_name, PolicyName: row.policy_name, PolicyDocument: row.document };
  }

  async listRolePolicies(input: { RoleName: string; Marker?: string; MaxItems?: number }) {
    validate((v) => {
      if (v.required('roleName', input.RoleName)) v.string('roleName', input.RoleName, IAM_RULES.roleName);
      v.string('marker', input.Marker, IAM_RULES.marker);
      v.number('maxItems', input.MaxItems, MAX_ITEMS_RULE);
    });
    if (!(await repo.findRole(this.ctx.db, input.RoleName))) throw noSuchRole(input.RoleName);
    const limit = input.MaxItems ?? DEFAULT_MAX_ITEMS;
    const rows = await repo.listInlinePolicies(this.ctx.db, input.RoleName, markerKey(input.Marker), limit);
    const page = iamPage(rows, limit, (r) => r.policy_name);
    return { PolicyNames: page.items.map((r) => r.policy_name), IsTruncated: page.IsTruncated, Marker: page.Marker };
  }

  async deleteRolePolicy(roleName: string, policyName: string): Promise<void> {
    await this.getRolePolicy(roleName, policyName);
    if (!(await repo.deleteInlinePolicy(this.ctx.db, roleName, policyName))) {
      throw new ServiceError('NoSuchEntity', `The role policy with name ${policyName} cannot be found.`);
    }
  }
}
