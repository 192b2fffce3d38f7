import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Arns } from '../../src/arns.js';
import { FakeClock } from '../../src/clock.js';
import { ConsoleAuthService } from '../../src/console/auth.service.js';
import { cookie, fieldErrorsOf, parseCookies } from '../../src/console/http.js';
import { generatePassword, hashPassword, verifyPassword } from '../../src/console/passwords.js';
import { silentLogger } from '../../src/logger.js';
import { openTestStore } from '../helpers/store.js';

describe('console passwords', () => {
  it('hashes with scrypt and a fresh salt, and verifies only the right password', async () => {
    const a = await hashPassword('correct horse');
    const b = await hashPassword('correct horse');
    expect(a).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword('correct horse', a)).toBe(true);
    expect(await verifyPassword('correct horsE', a)).toBe(false);
    expect(await verifyPassword('', a)).toBe(false);
  });

  it('never matches a malformed stored hash', async () => {
    for (const stored of ['', 'plain', 'scrypt$1$2$3', 'bcrypt$1$8$1$abc$def', 'scrypt$0$8$1$YWJj$YWJj']) {
      expect(await verifyPassword('x', stored), stored).toBe(false);
    }
  });

  it('generates long random passwords', () => {
    const p = generatePassword();
    expect(p).toHaveLength(24);
    expect(generatePassword()).not.toBe(p);
  });
});

describe('console HTTP helpers', () => {
  it('parses cookies, keeping the first of duplicates and skipping malformed ones', () => {
    const c = parseCookies('a=1; fj_session=abc%3D; a=2; bad; x=%E0%A4%A');
    expect(c.get('a')).toBe('1');
    expect(c.get('fj_session')).toBe('abc=');
    expect(c.has('bad')).toBe(false);
    expect(c.has('x')).toBe(false);
    expect(parseCookies(undefined).size).toBe(0);
  });

  it('writes SameSite=Strict cookies, HttpOnly and Secure when asked', () => {
    expect(cookie('s', 'v', { httpOnly: true, secure: true, maxAgeSeconds: 5 })).toBe(
      's=v; Path=/; SameSite=Strict; HttpOnly; Secure; Max-Age=5',
    );
    expect(cookie('s', 'v', { httpOnly: false, secure: false })).toBe('s=v; Path=/; SameSite=Strict');
  });

  it('splits Coral validation messages into field errors', () => {
    const message =
      "2 validation errors detected: Value 'a b' at 'jobId' failed to satisfy constraint: Member must satisfy " +
      "regular expression pattern: [a-zA-Z0-9_-]+; Value null at 'targets' failed to satisfy constraint: Member must not be null";
    expect(fieldErrorsOf(message)).toEqual([
      { field: 'jobId', message: expect.stringMatching(/^Value 'a b' at 'jobId' .*pattern: \[a-zA-Z0-9_-\]\+$/) },
      { field: 'targets', message: "Value null at 'targets' failed to satisfy constraint: Member must not be null" },
    ]);
    expect(fieldErrorsOf("1 validation error detected: Value at 'x.y' must be a string")).toEqual([
      { field: 'x.y', message: "Value at 'x.y' must be a string" },
    ]);
    expect(fieldErrorsOf('Thing x cannot be found.')).toEqual([]);
  });
});

describe('the console admin account', () => {
  let store: Awaited<ReturnType<typeof openTestStore>>;
  let auth: ConsoleAuthService;
  const clock = new FakeClock();
  beforeAll(async () => {
    store = await openTestStore('sqlite');
    auth = new ConsoleAuthService({
      db: store.db,
      dialect: store.dialect,
      clock,
      arns: new Arns({ region: 'us-east-1', account: '000000000000' }),
      logger: silentLogger(),
    });
  });
  afterAll(async () => store?.dispose());

  let generated = '';

  it('is created once with a generated password, which is told only that time', async () => {
    const first = await auth.ensureAdmin();
    expect(first.generatedPassword).toBeDefined();
    generated = first.generatedPassword!;
    expect(await auth.ensureAdmin()).toEqual({ username: 'admin' });
    const signedIn = await auth.signIn('admin', first.generatedPassword, 'test');
    expect(signedIn.session.username).toBe('admin');
    expect(signedIn.sessionId).not.toBe(signedIn.session.csrfToken);
  });

  it('takes a configured password, which also ends the sessions made with the old one', async () => {
    const before = await auth.signIn('admin', generated, 'test');
    expect(await auth.resume(before.sessionId)).toBeDefined();
    await auth.ensureAdmin('a-configured-password');
    expect(await auth.resume(before.sessionId)).toBeUndefined();
    await expect(auth.signIn('admin', generated, 'test')).rejects.toThrow(/wrong/);
    await expect(auth.signIn('admin', 'a-configured-password', 'test')).resolves.toBeDefined();
    // The same configured password again changes nothing (sessions survive).
    const s = await auth.signIn('admin', 'a-configured-password', 'test');
    await auth.ensureAdmin('a-configured-password');
    expect(await auth.resume(s.sessionId)).toBeDefined();
  });

  it('refuses a configured password that is too short', async () => {
    await expect(auth.ensureAdmin('short')).rejects.toThrow(/at least 8 characters/);
  });

  it('finds no session for unknown, empty or absurd cookie values', async () => {
    expect(await auth.resume(undefined)).toBeUndefined();
    expect(await auth.resume('')).toBeUndefined();
    expect(await auth.resume('x'.repeat(1000))).toBeUndefined();
    expect(await auth.resume('no-such-session')).toBeUndefined();
  });

  it('stores only a hash of the session id', async () => {
    const s = await auth.signIn('admin', 'a-configured-password', 'test');
    const rows = await store.db.selectFrom('console_sessions').select('id_hash').execute();
    expect(rows.map((r) => r.id_hash)).not.toContain(s.sessionId);
    expect(rows.every((r) => /^[0-9a-f]{64}$/.test(r.id_hash))).toBe(true);
  });

  it('lifts a lock-out after the lock time', async () => {
    for (let i = 0; i < 5; i++) await expect(auth.signIn('admin', 'wrong', 'lock-test')).rejects.toThrow(/wrong/);
    await expect(auth.signIn('admin', 'a-configured-password', 'lock-test')).rejects.toThrow(/Too many/);
    // Another client address is not locked out by this one.
    await expect(auth.signIn('admin', 'a-configured-password', 'other')).resolves.toBeDefined();
    clock.advance(15 * 60_000);
    await expect(auth.signIn('admin', 'a-configured-password', 'lock-test')).resolves.toBeDefined();
  });
});
