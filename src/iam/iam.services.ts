import type { ServiceContext } from '../context.js';
import { ServiceError } from '../errors.js';
import type { SigningKeyring } from '../signing/keyring.js';
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

/** `keyring` seals the role-session key in the database (the composition root always has one). */
export function createIamServices(ctx: ServiceContext, keyring?: SigningKeyring): IamServices {
  const sealer = (): SigningKeyring => {
    if (!keyring) throw new ServiceError('ServiceUnavailable', 'Role sessions are not available: no server key.');
    return keyring;
  };
  const policies = new PoliciesService(ctx);
  const account = ctx.arns.partition.account;
  return {
    roles: new RolesService(ctx),
    policies,
    access: new RoleAccess({ db: ctx.db, clock: ctx.clock, account, policies }),
    sessions: new RoleSessions(ctx.db, account, ctx.clock, sealer),
  };
}
