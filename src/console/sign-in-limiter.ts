import { ServiceError } from '../errors.js';

/** Sign-in attempts per user name and client address, and per client address (against guessing). */
export const SIGN_IN_LIMITS = {
  maxFailures: 5,
  /** One client address trying many user names (or flooding the table) is locked out too. */
  maxClientFailures: 50,
  windowMs: 15 * 60_000,
  lockMs: 15 * 60_000,
  /** Entries kept; a locked entry is never dropped to make room (issue 14 item 9). */
  maxEntries: 10_000,
} as const;

export type SignInLimits = { readonly [K in keyof typeof SIGN_IN_LIMITS]: number };

interface Failures {
  count: number;
  firstAt: number;
  lockedUntil: number;
}

/**
 * The lock-out table. Bounded, but never by forgetting a lock: when full, entries whose window
 * and lock are over go first, then the oldest ones that are not locked. Before, the oldest entry
 * was dropped at 10,000, so 10,000 failed sign-ins with other names lifted the admin's lock-out.
 * Only when every one of maxEntries entries is a live lock are new ones not tracked (until a lock
 * ends); the per-client limit makes that take thousands of locked-out addresses.
 */
export class SignInLimiter {
  private readonly entries = new Map<string, Failures>();

  constructor(private readonly limits: SignInLimits = SIGN_IN_LIMITS) {}

  get size(): number {
    return this.entries.size;
  }

  /** Throws Throttling while the user name at this client, or the client itself, is locked out. */
  check(username: string, client: string, now: number): void {
    for (const key of [userKey(username, client), clientKey(client)]) {
      const f = this.entries.get(key);
      if (f && f.lockedUntil > now) {
        const minutes = Math.ceil((f.lockedUntil - now) / 60_000);
        throw new ServiceError('Throttling', `Too many failed sign-in attempts. Try again in ${minutes} minute(s).`);
      }
    }
  }

  failed(username: string, client: string, now: number): void {
    this.bump(clientKey(client), this.limits.maxClientFailures, now);
    this.bump(userKey(username, client), this.limits.maxFailures, now);
  }

  succeeded(username: string, client: string): void {
    this.entries.delete(userKey(username, client));
  }

  private bump(key: string, max: number, now: number): void {
    let f = this.entries.get(key);
    if (!f || this.over(f, now)) f = { count: 0, firstAt: now, lockedUntil: 0 };
    f.count += 1;
    if (f.count >= max) f.lockedUntil = now + this.limits.lockMs;
    if (!this.entries.has(key) && !this.makeRoom(now)) return;
    this.entries.set(key, f);
  }

  private over(f: Failures, now: number): boolean {
    if (f.lockedUntil > 0) return now >= f.lockedUntil;
    return now - f.firstAt > this.limits.windowMs;
  }

  /** Whether one more entry fits, after dropping what may be dropped. */
  private makeRoom(now: number): boolean {
    if (this.entries.size < this.limits.maxEntries) return true;
    for (const [key, f] of this.entries) if (this.over(f, now)) this.entries.delete(key);
    if (this.entries.size < this.limits.maxEntries) return true;
    for (const [key, f] of this.entries) {
      if (f.lockedUntil <= now) {
        this.entries.delete(key);
        return true;
      }
    }
    return false;
  }
}

const userKey = (username: string, client: string): string => `user\n${username}\n${client}`;
const clientKey = (client: string): string => `client\n${client}`;
