import type { ServiceContext } from '../context.js';
import { PoliciesService } from './policies.service.js';
import { RoleAccess } from './role-access.js';
import { RoleSessions } from './role-sessions.js';
import { RolesService } from './roles.service.js';

/** The IAM feature as the rest of the server sees it. */
export interface IamServices {
  roles: RolesService;
  policies: PoliciesService;
  /** Trust and permission checks for roles (presigned URLs, documentSource). */
  access: RoleAccess;
  /** Temporary credentials of assumed roles; also a CredentialStore for the dispatcher. */
  sessions: RoleSessions;
}

export function createIamServices(ctx: ServiceContext): IamServices {
  const policies = new PoliciesService(ctx);
  const account = ctx.arns.partition.account;
  return {
    roles: new RolesService(ctx),
    policies,
    access: new RoleAccess({ db: ctx.db, clock: ctx.clock, account, policies }),
    sessions: new RoleSessions(ctx.db, account, ctx.clock),
  };
}
