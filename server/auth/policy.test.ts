import { describe, expect, it } from 'vitest';
import type { LoginAttempt } from '../../db/repositories/users';
import { hashPassword, passwordProblem, verifyPassword } from './passwords';
import { minimumRoleFor, roleHasScope, SCOPE_PATTERN, SCOPE_ROLES, SCOPES, scopesOf } from './permissions';
import { ROLES } from './roles';
import { accountDecision, sourceDecision, SOURCE_LIMIT } from './throttle';

describe('the scope → role table', () => {
  it('maps every scope, named resource:action, to at least one role, admin always included', () => {
    expect(SCOPES.length).toBeGreaterThanOrEqual(10);
    for (const scope of SCOPES) {
      expect(scope).toMatch(SCOPE_PATTERN);
      expect(SCOPE_ROLES[scope].length, scope).toBeGreaterThan(0);
      expect(roleHasScope('admin', scope), scope).toBe(true);
    }
  });

  it('grants each role everything the roles below it have', () => {
    for (let i = 1; i < ROLES.length; i++) {
      for (const scope of scopesOf(ROLES[i - 1]!)) expect(roleHasScope(ROLES[i]!, scope), `${ROLES[i]} ⊇ ${ROLES[i - 1]}: ${scope}`).toBe(true);
    }
  });

  it('is the documented policy', () => {
    expect(scopesOf('viewer')).toEqual(['processes:read', 'sensors:read', 'indicators:read', 'investigations:read', 'zooms:read', 'baselines:read', 'account:read', 'account:write']);
    expect(minimumRoleFor('baselines:write')).toBe('analyst');
    expect(minimumRoleFor('investigations:write')).toBe('analyst');
    expect(minimumRoleFor('verdicts:write')).toBe('analyst');
    expect(minimumRoleFor('zooms:order')).toBe('responder');
    for (const scope of ['users:admin', 'tokens:admin', 'audit:read', 'sensors:admin'] as const) expect(minimumRoleFor(scope)).toBe('admin');
  });
});

const S = 1_000_000_000n;
const at = (seconds: number, ok = false): LoginAttempt => ({ tsNs: (BigInt(seconds) * S).toString(), ok });
/** Attempts newest first: failures at t = 100, 99, 98, … */
const failures = (n: number, last = 100) => Array.from({ length: n }, (_, i) => at(last - i));
const policy = { threshold: 10, lockoutNs: 900n * S };

describe('sign-in backoff and lockout (policy)', () => {
  it('lets the first failures through at once', () => {
    expect(accountDecision([], 100n * S, policy)).toEqual({ allowed: true });
    expect(accountDecision(failures(2), 100n * S, policy)).toEqual({ allowed: true });
  });

  it('doubles the wait after the third failure, up to a minute', () => {
    expect(accountDecision(failures(3), 100n * S, policy)).toEqual({ allowed: false, reason: 'backoff', retryAfterNs: 1n * S });
    expect(accountDecision(failures(3), 101n * S, policy)).toEqual({ allowed: true });
    expect(accountDecision(failures(5), 100n * S, policy)).toMatchObject({ reason: 'backoff', retryAfterNs: 4n * S });
    expect(accountDecision(failures(9), 100n * S, policy)).toMatchObject({ reason: 'backoff', retryAfterNs: 60n * S });
  });

  it('locks the account at the threshold for the lockout time, and again after each further failure', () => {
    expect(accountDecision(failures(10), 100n * S, policy)).toEqual({ allowed: false, reason: 'locked', retryAfterNs: 900n * S });
    expect(accountDecision(failures(10), 999n * S, policy)).toMatchObject({ reason: 'locked', retryAfterNs: 1n * S });
    expect(accountDecision(failures(10), 1000n * S, policy)).toEqual({ allowed: true });
    expect(accountDecision(failures(11, 1000), 1000n * S, policy)).toMatchObject({ reason: 'locked', retryAfterNs: 900n * S });
  });

  it('forgets failures before a success', () => {
    expect(accountDecision([...failures(2), at(50, true), ...failures(20, 40)], 100n * S, policy)).toEqual({ allowed: true });
  });

  it('limits failures per source address within the window', () => {
    expect(sourceDecision(failures(SOURCE_LIMIT - 1), 100n * S, 900n * S)).toEqual({ allowed: true });
    const decision = sourceDecision(failures(SOURCE_LIMIT), 100n * S, 900n * S);
    expect(decision).toMatchObject({ allowed: false, reason: 'source_limit' });
    expect(sourceDecision(failures(SOURCE_LIMIT), 1100n * S, 900n * S)).toEqual({ allowed: true });
  });
});

describe('password hashing (scrypt)', () => {
  it('verifies the right password only, and carries its parameters', async () => {
    const stored = await hashPassword('correct horse battery', 14);
    expect(stored).toMatch(/^scrypt\$14\$8\$1\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]+$/);
    expect(await verifyPassword('correct horse battery', stored)).toBe(true);
    expect(await verifyPassword('correct horse batterY', stored)).toBe(false);
    expect(await verifyPassword('', stored)).toBe(false);
    expect(await hashPassword('correct horse battery', 14)).not.toBe(stored); // salted
  });

  it('refuses malformed stored values and absurd inputs without throwing', async () => {
    for (const bad of ['', 'plain', 'scrypt$14$8$1$$', 'bcrypt$2b$10$abc', 'scrypt$99$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA']) {
      expect(await verifyPassword('x', bad).catch(() => 'threw')).toBe(false);
    }
    expect(await verifyPassword('x'.repeat(5000), await hashPassword('y', 14))).toBe(false);
  });

  it('asks for length, not composition', () => {
    expect(passwordProblem('short')).toBe('at least 12 characters');
    expect(passwordProblem('twelve chars')).toBeNull();
  });
});
