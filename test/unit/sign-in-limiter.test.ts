import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../src/clock.js';
import { SIGN_IN_LIMITS, SignInLimiter } from '../../src/console/sign-in-limiter.js';

const locked = (l: SignInLimiter, user: string, client: string, now: number): boolean => {
  try {
    l.check(user, client, now);
    return false;
  } catch (err) {
    expect((err as { code: string }).code).toBe('Throttling');
    return true;
  }
};

// Issue 14 item 9: the table is bounded without forgetting locks.
describe('the sign-in lock-out table', () => {
  it("10,000 failed sign-ins with other names do not lift the admin's lock-out", () => {
    const clock = new FakeClock();
    const l = new SignInLimiter();
    const now = () => clock.now().getTime();
    for (let i = 0; i < SIGN_IN_LIMITS.maxFailures; i++) l.failed('admin', 'evil', now());
    expect(locked(l, 'admin', 'evil', now())).toBe(true);
    // The flood comes from many addresses (one address is locked out after maxClientFailures).
    for (let i = 0; i < SIGN_IN_LIMITS.maxEntries + 10; i++) l.failed(`user${i}`, `10.0.${i >> 8}.${i & 255}`, now());
    expect(l.size).toBeLessThanOrEqual(SIGN_IN_LIMITS.maxEntries);
    expect(locked(l, 'admin', 'evil', now())).toBe(true);
    clock.advance(SIGN_IN_LIMITS.lockMs);
    expect(locked(l, 'admin', 'evil', now())).toBe(false);
  });

  it('locks out one address that tries many names', () => {
    const l = new SignInLimiter();
    for (let i = 0; i < SIGN_IN_LIMITS.maxClientFailures; i++) l.failed(`name${i}`, 'scanner', 0);
    expect(locked(l, 'admin', 'scanner', 1)).toBe(true);
    expect(locked(l, 'admin', 'elsewhere', 1)).toBe(false);
  });

  it('drops finished entries first when full, and keeps counting live ones', () => {
    const limits = { ...SIGN_IN_LIMITS, maxEntries: 10 };
    const l = new SignInLimiter(limits);
    for (let i = 0; i < 4; i++) l.failed('admin', 'a', 0); // one short of a lock
    for (let i = 0; i < 20; i++) l.failed(`old${i}`, `c${i}`, 0);
    // Much later: the old entries are over; the admin's 4 are over too (window passed).
    const later = SIGN_IN_LIMITS.windowMs + 1;
    for (let i = 0; i < 5; i++) l.failed('admin', 'b', later);
    expect(locked(l, 'admin', 'b', later)).toBe(true);
    expect(l.size).toBeLessThanOrEqual(10);
  });

  it('a success clears the name at that address', () => {
    const l = new SignInLimiter();
    for (let i = 0; i < SIGN_IN_LIMITS.maxFailures - 1; i++) l.failed('admin', 'a', 0);
    l.succeeded('admin', 'a');
    l.failed('admin', 'a', 0);
    expect(locked(l, 'admin', 'a', 0)).toBe(false);
  });
});
