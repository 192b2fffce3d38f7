import { ServiceError } from '../errors.js';
import type { RoleAccess } from '../iam/role-access.js';
import { explain } from '../iam/role-access.js';
import { isSessionAccessKey, type RoleSessions } from '../iam/role-sessions.js';
import type { Principal } from '../protocols/aws/request.js';

export interface S3Caller {
  principal: Principal;
  /** X-Amz-Security-Token of the request, for temporary (assumed-role) credentials. */
  securityToken?: string;
}

export const s3Arn = (bucket?: string, key?: string): string =>
  bucket === undefined ? '*' : key === undefined ? `arn:aws:s3:::${bucket}` : `arn:aws:s3:::${bucket}/${key}`;

/**
 * Who may do what in the object store. The admin may do everything; an assumed-role session (the
 * credentials behind presigned URLs) only what the role's policies allow *now*, so revoking
 * s3:GetObject from the role also stops URLs already handed out (spec 8: S3 checks the role's
 * access at download). Other callers have no S3 rights.
 */
export class S3Access {
  constructor(private readonly deps: { roles: RoleAccess; sessions: RoleSessions }) {}

  async authorize(caller: S3Caller, action: string, bucket?: string, key?: string): Promise<void> {
    if (caller.principal.kind === 'admin') return;
    if (!isSessionAccessKey(caller.principal.accessKeyId)) throw accessDenied();
    const session = await this.deps.sessions.verifyToken(caller.securityToken, caller.principal.accessKeyId);
    const role = await this.deps.roles.loadRole(session.roleArn);
    if (!role) throw accessDenied(`the role ${session.roleArn} no longer exists`);
    const resource = s3Arn(bucket, key);
    const decision = this.deps.roles.allows(role, action, resource, {
      ...(session.sourceArn && { 'aws:SourceArn': session.sourceArn }),
      'aws:PrincipalArn': role.arn,
    });
    if (decision.effect !== 'Allow') {
      throw accessDenied(`role ${role.name} may not ${action} on ${resource}: ${explain(decision)}`);
    }
  }
}

export const accessDenied = (why?: string): ServiceError =>
  new ServiceError('AccessDenied', why ? `Access Denied: ${why}` : 'Access Denied');
