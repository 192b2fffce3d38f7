import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ServiceContext } from '../context.js';
import { ServiceError } from '../errors.js';
import { validate } from '../validation.js';
import * as repo from './console.repository.js';
import { generatePassword, hashPassword, verifyPassword } from './passwords.js';
import { SignInLimiter } from './sign-in-limiter.js';

export const ADMIN_USERNAME = 'admin';
export const MIN_PASSWORD_LENGTH = 8;

export const SESSION_LIMITS = {
  /** A session ends this long after sign-in, whatever happens. */
  absoluteMs: 12 * 3600_000,
  /** ...or after this long without a request. */
  idleMs: 2 * 3600_000,
  /** last_seen_at is written at most this often, so reads do not all become writes. */
  touchEveryMs: 60_000,
} as const;

export { SIGN_IN_LIMITS } from './sign-in-limiter.js';

export interface ConsoleSession {
  username: string;
  csrfToken: string;
  expiresAt: number;
}

export interface SignedIn {
  /** The cookie value; only its hash is stored. */
  sessionId: string;
  session: ConsoleSession;
}

export interface AdminAccount {
  username: string;
  /** Set only on the start that created the account with a generated password: print it once. */
  generatedPassword?: string;
}

const hashId = (id: string): string => createHash('sha256').update(id).digest('hex');
const token = (): string => randomBytes(32).toString('base64url');

const wrongCredentials = (): ServiceError => new ServiceError('Unauthorized', 'The user name or password is wrong.');

/** Console sign-in: the admin account, scrypt passwords, sessions in the database, CSRF tokens. */
export class ConsoleAuthService {
  private readonly limiter = new SignInLimiter();
  private dummyHash: Promise<string> | undefined;

  constructor(private readonly ctx: ServiceContext) {}

  private now(): number {
    return this.ctx.clock.now().getTime();
  }

  /**
   * Creates the admin account on first start. A configured password (FLEETJOBS_CONSOLE_PASSWORD)
   * is applied on every start, so an operator can reset a forgotten one by setting it.
   */
  async ensureAdmin(configured?: string): Promise<AdminAccount> {
    if (configured !== undefined && configured.length < MIN_PASSWORD_LENGTH) {
      throw new ServiceError(
        'InvalidRequest',
        `The console password must have at least ${MIN_PASSWORD_LENGTH} characters.`,
      );
    }
    const existing = await repo.findUser(this.ctx.db, ADMIN_USERNAME);
    if (existing) {
      if (configured !== undefined && !(await verifyPassword(configured, existing.password_hash))) {
        const now = this.now();
        await repo.setPasswordHash(this.ctx.db, ADMIN_USERNAME, await hashPassword(configured), now);
        await repo.deleteSessionsOf(this.ctx.db, ADMIN_USERNAME);
      }
      return { username: ADMIN_USERNAME };
    }
    const password = configured ?? generatePassword();
    const hash = await hashPassword(password);
    const now = this.now();
    // Another replica starting at the same time may have created it first; theirs stands.
    const created = await repo.insertUserIfAbsent(this.ctx.db, {
      username: ADMIN_USERNAME,
      password_hash: hash,
      created_at: now,
      updated_at: now,
    });
    return configured === undefined && created
      ? { username: ADMIN_USERNAME, generatedPassword: password }
      : { username: ADMIN_USERNAME };
  }

  async signIn(username: unknown, password: unknown, client: string): Promise<SignedIn> {
    validate((v) => {
      if (v.required('username', username)) v.string('username', username, { min: 1, max: 64 });
      if (v.required('password', password)) v.string('password', password, { min: 1, max: 1024 });
    });
    const now = this.now();
    this.limiter.check(username as string, client, now);
    const user = await repo.findUser(this.ctx.db, username as string);
    // Hash even for an unknown user, so the answer time does not tell which names exist.
    const ok = await verifyPassword(password as string, user?.password_hash ?? (await this.dummy()));
    if (!user || !ok) {
      this.limiter.failed(username as string, client, now);
      throw wrongCredentials();
    }
    this.limiter.succeeded(username as string, client);
    const sessionId = token();
    const row: repo.SessionRow = {
      id_hash: hashId(sessionId),
      username: user.username,
      csrf_token: token(),
      created_at: now,
      last_seen_at: now,
      expires_at: now + SESSION_LIMITS.absoluteMs,
    };
    await repo.deleteExpiredSessions(this.ctx.db, now);
    await repo.insertSession(this.ctx.db, row);
    return { sessionId, session: { username: row.username, csrfToken: row.csrf_token, expiresAt: row.expires_at } };
  }

  /** The live session behind a cookie value, or undefined (unknown, expired or idle too long). */
  async resume(sessionId: string | undefined): Promise<ConsoleSession | undefined> {
    if (!sessionId || sessionId.length > 200) return undefined;
    const idHash = hashId(sessionId);
    const row = await repo.findSession(this.ctx.db, idHash);
    if (!row) return undefined;
    const now = this.now();
    if (now >= row.expires_at || now - row.last_seen_at >= SESSION_LIMITS.idleMs) {
      await repo.deleteSession(this.ctx.db, idHash);
      return undefined;
    }
    if (now - row.last_seen_at >= SESSION_LIMITS.touchEveryMs) await repo.touchSession(this.ctx.db, idHash, now);
    return { username: row.username, csrfToken: row.csrf_token, expiresAt: row.expires_at };
  }

  /** Double submit: the header must carry the session's own token (constant-time compare). */
  checkCsrf(session: ConsoleSession, header: string | undefined): void {
    const given = Buffer.from(header ?? '', 'utf8');
    const expected = Buffer.from(session.csrfToken, 'utf8');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw new ServiceError('AccessDenied', 'The request has no valid CSRF token (X-CSRF-Token header).');
    }
  }

  async signOut(sessionId: string | undefined): Promise<void> {
    if (sessionId) await repo.deleteSession(this.ctx.db, hashId(sessionId));
  }

  private dummy(): Promise<string> {
    this.dummyHash ??= hashPassword(token());
    return this.dummyHash;
  }
}
