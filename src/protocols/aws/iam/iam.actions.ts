import type { PoliciesService, ManagedPolicy } from '../../../iam/policies.service.js';
import type { Role, RolesService, Tag } from '../../../iam/roles.service.js';
import type { QueryInput } from './query-params.js';

/** IAM returns policy documents URL-encoded (RFC 3986) inside the XML. */
const encodeDocument = (doc: string): string => encodeURIComponent(doc);

const members = <T>(list: T[] | undefined): { member: T[] } | undefined => (list ? { member: list } : undefined);

const roleXml = (role: Role) => ({
  Path: role.Path,
  RoleName: role.RoleName,
  RoleId: role.RoleId,
  Arn: role.Arn,
  CreateDate: role.CreateDate,
  AssumeRolePolicyDocument: encodeDocument(role.AssumeRolePolicyDocument),
  Description: role.Description,
  MaxSessionDuration: role.MaxSessionDuration,
  Tags: members(role.Tags),
});

const policyXml = (p: ManagedPolicy) => ({ ...p });

const page = (r: { IsTruncated: boolean; Marker?: string }) => ({ IsTruncated: r.IsTruncated, Marker: r.Marker });

export type IamAction = (q: QueryInput) => Promise<Record<string, unknown> | undefined>;

/** Action name -> handler whose result becomes <ActionResult> (undefined: no Result element). */
export function iamActions(roles: RolesService, policies: PoliciesService): Record<string, IamAction> {
  const req = (q: QueryInput, name: string): string => q.string(name) as string;
  return {
    CreateRole: async (q) => ({
      Role: roleXml(
        await roles.createRole({
          RoleName: req(q, 'RoleName'),
          AssumeRolePolicyDocument: req(q, 'AssumeRolePolicyDocument'),
          Path: q.string('Path'),
          Description: q.string('Description'),
          MaxSessionDuration: q.int('MaxSessionDuration'),
          Tags: q.structList('Tags', ['Key', 'Value']) as Tag[] | undefined,
        }),
      ),
    }),
    GetRole: async (q) => ({ Role: roleXml(await roles.getRole(req(q, 'RoleName'))) }),
    ListRoles: async (q) => {
      const r = await roles.listRoles({
        PathPrefix: q.string('PathPrefix'),
        Marker: q.string('Marker'),
        MaxItems: q.int('MaxItems'),
      });
      return { Roles: members(r.Roles.map(roleXml)), ...page(r) };
    },
    DeleteRole: async (q) => {
      await roles.deleteRole(req(q, 'RoleName'));
      return undefined;
    },
    UpdateAssumeRolePolicy: async (q) => {
      await roles.updateAssumeRolePolicy(req(q, 'RoleName'), req(q, 'PolicyDocument'));
      return undefined;
    },
    PutRolePolicy: async (q) => {
      await roles.putRolePolicy(req(q, 'RoleName'), req(q, 'PolicyName'), req(q, 'PolicyDocument'));
      return undefined;
    },
    GetRolePolicy: async (q) => {
      const r = await roles.getRolePolicy(req(q, 'RoleName'), req(q, 'PolicyName'));
      return { ...r, PolicyDocument: encodeDocument(r.PolicyDocument) };
    },
    ListRolePolicies: async (q) => {
      const r = await roles.listRolePolicies({
        RoleName: req(q, 'RoleName'),
        Marker: q.string('Marker'),
        MaxItems: q.int('MaxItems'),
      });
      return { PolicyNames: members(r.PolicyNames), ...page(r) };
    },
    DeleteRolePolicy: async (q) => {
      await roles.deleteRolePolicy(req(q, 'RoleName'), req(q, 'PolicyName'));
      return undefined;
    },
    CreatePolicy: async (q) => ({
      Policy: policyXml(
        await policies.createPolicy({
          PolicyName: req(q, 'PolicyName'),
          PolicyDocument: req(q, 'PolicyDocument'),
          Path: q.string('Path'),
          Description: q.string('Description'),
        }),
      ),
    }),
    GetPolicy: async (q) => ({ Policy: policyXml(await policies.getPolicy(req(q, 'PolicyArn'))) }),
    GetPolicyVersion: async (q) => {
      const v = await policies.getPolicyVersion(req(q, 'PolicyArn'), req(q, 'VersionId'));
      return { PolicyVersion: { ...v, Document: encodeDocument(v.Document) } };
    },
    ListPolicies: async (q) => {
      const r = await policies.listPolicies({
        Scope: q.string('Scope'),
        OnlyAttached: q.bool('OnlyAttached'),
        Marker: q.string('Marker'),
        MaxItems: q.int('MaxItems'),
      });
      return { Policies: members(r.Policies.map(policyXml)), ...page(r) };
    },
    DeletePolicy: async (q) => {
      await policies.deletePolicy(req(q, 'PolicyArn'));
      return undefined;
    },
    AttachRolePolicy: async (q) => {
      await policies.attachRolePolicy(req(q, 'RoleName'), req(q, 'PolicyArn'));
      return undefined;
    },
    DetachRolePolicy: async (q) => {
      await policies.detachRolePolicy(req(q, 'RoleName'), req(q, 'PolicyArn'));
      return undefined;
    },
    ListAttachedRolePolicies: async (q) => {
      const r = await policies.listAttachedRolePolicies({
        RoleName: req(q, 'RoleName'),
        PathPrefix: q.string('PathPrefix'),
        Marker: q.string('Marker'),
        MaxItems: q.int('MaxItems'),
      });
      return { AttachedPolicies: members(r.AttachedPolicies), ...page(r) };
    },
  };
}
