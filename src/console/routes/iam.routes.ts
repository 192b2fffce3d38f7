import type { FastifyInstance, FastifyRequest } from 'fastify';
import { jobsTrustPolicy, readObjectsPolicy } from '../../iam/jobs-role-templates.js';
import { json, type ConsoleDeps } from '../console-app.js';
import { jsonBody, nonEmpty, query } from '../http.js';

type Params = Record<string, string>;
const params = (request: FastifyRequest): Params => request.params as Params;
const text = (v: unknown): string => (typeof v === 'string' ? v : (undefined as unknown as string));

/** IAM roles and their inline policies: each route maps to one IAM service call. */
export function registerIamRoutes(api: FastifyInstance, deps: ConsoleDeps): void {
  const { roles, policies } = deps.services.iam;

  api.get(
    '/roles',
    json(async (request) => roles.listRoles({ Marker: nonEmpty(query(request).marker), MaxItems: 100 })),
  );
  api.post(
    '/roles',
    json(async (request) => {
      const body = await jsonBody(request);
      return roles.createRole({
        RoleName: text(body.roleName),
        AssumeRolePolicyDocument: text(body.assumeRolePolicyDocument),
        ...(typeof body.description === 'string' && body.description !== '' && { Description: body.description }),
      });
    }),
  );
  /** The policy documents a jobs role needs, for this server's account and region. */
  api.get(
    '/role-templates',
    json(async (request) => ({
      trustPolicy: jobsTrustPolicy(deps.partition),
      permissionPolicy: readObjectsPolicy(nonEmpty(query(request).bucket) ?? '*'),
    })),
  );
  api.get(
    '/roles/:roleName',
    json(async (request) => {
      const { roleName } = params(request);
      const role = await roles.getRole(roleName!);
      const { PolicyNames } = await roles.listRolePolicies({ RoleName: roleName!, MaxItems: 1000 });
      const inline = await Promise.all(PolicyNames.map((name) => roles.getRolePolicy(roleName!, name)));
      const attached = await policies.listAttachedRolePolicies({ RoleName: roleName!, MaxItems: 1000 });
      return {
        role,
        inlinePolicies: inline.map((p) => ({ policyName: p.PolicyName, policyDocument: p.PolicyDocument })),
        attachedPolicies: attached.AttachedPolicies,
      };
    }),
  );
  api.delete(
    '/roles/:roleName',
    json(async (request) => roles.deleteRole(params(request).roleName!)),
  );
  api.put(
    '/roles/:roleName/trust-policy',
    json(async (request) => {
      const body = await jsonBody(request);
      await roles.updateAssumeRolePolicy(params(request).roleName!, text(body.policyDocument));
      return {};
    }),
  );
  api.put(
    '/roles/:roleName/policies/:policyName',
    json(async (request) => {
      const body = await jsonBody(request);
      const { roleName, policyName } = params(request);
      await roles.putRolePolicy(roleName!, policyName!, text(body.policyDocument));
      return {};
    }),
  );
  api.delete(
    '/roles/:roleName/policies/:policyName',
    json(async (request) => {
      const { roleName, policyName } = params(request);
      await roles.deleteRolePolicy(roleName!, policyName!);
      return {};
    }),
  );
}
