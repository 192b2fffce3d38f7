import { createHmac, randomBytes } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Executor } from '../store/database.js';
import { ServiceError } from '../errors.js';
import type { Credential, CredentialStore } from '../protocols/aws/credentials.js';
import { signaturesEqual } from '../protocols/aws/sigv4.js';
import { SigningKeyring } from '../signing/keyring.js';
import { sealServerKey, serverKey } from './iam.repository.js';

/**
 * Temporary credentials of an assumed role (spec 6.1: presigned URLs are made with the job role's
 * temporary credentials, so they carry X-Amz-Security-Token). Stateless: the secret of an
 * access key is an HMAC of it under a server key, and the session token is a MACed record of the
 * session, so any replica verifies them without a database row per URL. The key is made once and
 * kept in the database, which every replica shares, sealed with the server keyring
 * (FLEETJOBS_SIGNING_KEY): whoever reads the database alone cannot mint credentials.
 */

const KEY_NAME = 'role-sessions';
/** What the sealed key is bound to (additional authenticated data), so it cannot be moved. */
const BOUND_TO = 'iam server key role-sessions';

export interface RoleSession {
  accessKeyId: string;
  roleArn: string;
  roleName: string;
  sessionName: string;
  /** The resource on whose behalf the role was assumed (aws:SourceArn), e.g. the job. */
  sourceArn?: string;
  expiresAt: number;
}

export interface TemporaryCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

const KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const SESSION_KEY_RE = /^ASIA[A-Z2-7]{16}$/;

export const isSessionAccessKey = (accessKeyId: string): boolean => SESSION_KEY_RE.test(accessKeyId);

/** The ARN an assumed-role session acts as. */
export const assumedRoleArn = (account: string, roleName: string, sessionName: string): string =>
  `arn:aws:sts::${account}:assumed-role/${roleName}/${sessionName}`;

export class RoleSessions implements CredentialStore {
  private key: Promise<Buffer> | undefined;

  constructor(
    private readonly db: Executor,
    private readonly account: string,
    private readonly clock: Clock,
    private readonly keyring: () => SigningKeyring,
  ) {}

  private loadKey(): Promise<Buffer> {
    this.key ??= this.unsealKey().then((k) => Buffer.from(k, 'base64'));
    // A failed load (database down) is retried on the next call instead of being cached.
    void this.key.catch(() => (this.key = undefined));
    return this.key;
  }

  private async unsealKey(): Promise<string> {
    const keyring = this.keyring();
    const candidate = keyring.encrypt(randomBytes(32).toString('base64'), BOUND_TO);
    const stored = await serverKey(this.db, KEY_NAME, candidate, this.clock.now().getTime());
    if (SigningKeyring.isSealed(stored)) return keyring.decrypt(stored, BOUND_TO);
    // Kept in clear by a version before sealing: seal it in place, keeping the key (and so the
    // credentials and presigned URLs already handed out).
    await sealServerKey(this.db, KEY_NAME, stored, keyring.encrypt(stored, BOUND_TO));
    return stored;
  }

  private async mac(purpose: string, data: string): Promise<Buffer> {
    return createHmac('sha256', await this.loadKey())
      .update(`${purpose}\n${data}`)
      .digest();
  }

  private async secretFor(accessKeyId: string): Promise<string> {
    return (await this.mac('secret', accessKeyId)).toString('base64').slice(0, 40);
  }

  async issue(
    session: Omit<RoleSession, 'accessKeyId' | 'expiresAt'>,
    durationSeconds: number,
  ): Promise<TemporaryCredentials> {
    const accessKeyId = `ASIA${[...randomBytes(16)].map((b) => KEY_ALPHABET[b % 32]).join('')}`;
    const expiresAt = this.clock.now().getTime() + durationSeconds * 1000;
    const full: RoleSession = { ...session, accessKeyId, expiresAt };
    const payload = Buffer.from(JSON.stringify(full), 'utf8').toString('base64url');
    const sessionToken = `${payload}.${(await this.mac('token', payload)).toString('base64url')}`;
    const secretAccessKey = await this.secretFor(accessKeyId);
    return { accessKeyId, secretAccessKey, sessionToken, expiration: new Date(expiresAt) };
  }

  /** The session behind a token, checked against the access key that signed the request. */
  async verifyToken(token: string | undefined, accessKeyId: string): Promise<RoleSession> {
    if (token === undefined) {
      throw new ServiceError('InvalidToken', 'Temporary credentials require X-Amz-Security-Token.');
    }
    const dot = token.indexOf('.');
    const payload = token.slice(0, dot);
    const given = token.slice(dot + 1);
    if (dot < 1 || !signaturesEqual((await this.mac('token', payload)).toString('base64url'), given)) {
      throw new ServiceError('InvalidToken', 'The provided token is malformed or otherwise invalid.');
    }
    const session = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as RoleSession;
    if (session.accessKeyId !== accessKeyId) {
      throw new ServiceError('InvalidToken', 'The provided token does not belong to this access key.');
    }
    if (session.expiresAt < this.clock.now().getTime()) {
      throw new ServiceError('AccessDenied', 'The provided token has expired.');
    }
    return session;
  }

  async lookup(accessKeyId: string): Promise<Credential | undefined> {
    if (!isSessionAccessKey(accessKeyId)) return undefined;
    return {
      secretAccessKey: await this.secretFor(accessKeyId),
      // The role is only known from the session token, which the S3 adapter checks.
      principal: { accessKeyId, arn: `arn:aws:sts::${this.account}:assumed-role`, kind: 'user' },
    };
  }
}
