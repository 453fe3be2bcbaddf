import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { listAuditRecords } from '../../db/repositories/audit';
import { getUserByEmail, listUsers, putUser } from '../../db/repositories/users';
import { selectRows } from '../../db/query';
import { openTestDb } from '../../db/testing';
import { createCaller } from '../trpc/root';
import { testContext } from '../trpc/testing';
import { BAD_CREDENTIALS, createUser, endAllSessions, setUserDisabled, setUserRole, signInWithPassword, unlockAccount } from './accounts';
import type { AuditActor } from './audit';
import { authConfigFromEnv } from './config';
import type { AuthDeps } from './deps';
import { openSessionsOf, resolveSession } from './sessions';
import { createApiToken, listTokens, resolveApiToken, revokeApiTokenById, toTokenView } from './tokens';
import { loginHandler } from './web';

// Sessions, tokens, sign-in throttling and account changes over real storage, with a clock the
// test moves (idle and absolute timeouts, backoff and lockout are all about time).
const S = 1_000_000_000n;
const MIN = 60n * S;
const CLI: AuditActor = { type: 'cli', id: 'uid:0', name: 'test', role: 'admin' };

let t: Awaited<ReturnType<typeof openTestDb>>;
let clock: bigint;
let deps: AuthDeps;
const config = authConfigFromEnv({ AUTH_SCRYPT_LOG_N: '14', AUTH_SESSION_IDLE_MINUTES: '30', AUTH_SESSION_MAX_HOURS: '12', AUTH_CACHE_SECONDS: '5' });
let n = 0;
const email = (what: string) => `${what}-${++n}@example.org`;

beforeAll(async () => {
  t = await openTestDb();
});
afterAll(async () => t?.close());
beforeEach(() => {
  // Near real time (tables have TTLs), on a fresh minute per test so caches never carry over.
  clock = BigInt(Date.now()) * 1_000_000n + BigInt(n) * 100n * 3600n * S;
  deps = { db: t.db, now: () => clock, config };
});

async function userWithPassword(role: 'viewer' | 'analyst' | 'responder' | 'admin' = 'viewer') {
  const address = email(role);
  const { user, password } = await createUser(deps, CLI, { email: address, role });
  return { user, email: address, password: password! };
}

async function signIn(address: string, password: string, source = '192.0.2.10') {
  return signInWithPassword(deps, { email: address, password, source, userAgent: 'vitest' });
}

async function sessionOf(address: string, password: string): Promise<string> {
  const result = await signIn(address, password);
  if (!result.ok) throw new Error(result.message);
  return result.session.id;
}

describe('sessions', () => {
  it('gives a new session id on every sign-in, and ends the one the browser still carried', async () => {
    const { email: address, password } = await userWithPassword();
    const login = loginHandler(async () => deps);
    const body = (next?: string) => new TextEncoder().encode(JSON.stringify({ email: address, password, next }));
    const first = await login(new Request('http://cockpit.test/api/auth/login', { method: 'POST' }), body('/sensors'));
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ next: '/sensors' });
    const cookie1 = first.headers.get('set-cookie')!;
    expect(cookie1).toMatch(/^__Host-soc_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; Secure; SameSite=Lax; Max-Age=43200$/);
    const id1 = /=([^;]+)/.exec(cookie1)![1]!;
    const second = await login(new Request('http://cockpit.test/api/auth/login', { method: 'POST', headers: { cookie: `__Host-soc_session=${id1}` } }), body());
    const id2 = /=([^;]+)/.exec(second.headers.get('set-cookie')!)![1]!;
    expect(id2).not.toBe(id1);
    expect((await resolveSession(deps, id2)).ok).toBe(true);
    expect(await resolveSession(deps, id1)).toEqual({ ok: false, reason: 'revoked' });
  });

  it('stores only a hash of the session id', async () => {
    const { email: address, password } = await userWithPassword();
    const id = await sessionOf(address, password);
    const rows = await selectRows<{ n: string }>(t.db, {
      sql: 'SELECT count() AS n FROM auth_sessions WHERE position(id_hash, {id:String}) > 0 OR id_hash = {id:String}',
      params: { id },
      tag: 'test',
    });
    expect(rows[0]!.n).toBe('0');
  });

  it('ends after the idle timeout, counted from the last request', async () => {
    const { email: address, password } = await userWithPassword();
    const id = await sessionOf(address, password);
    clock += 20n * MIN;
    expect((await resolveSession(deps, id)).ok).toBe(true);
    clock += 29n * MIN; // 49 min after sign-in, 29 after the last request
    expect((await resolveSession(deps, id)).ok).toBe(true);
    clock += 30n * MIN + S;
    expect(await resolveSession(deps, id)).toEqual({ ok: false, reason: 'idle' });
  });

  it('ends at the absolute timeout however active it is', async () => {
    const { email: address, password } = await userWithPassword();
    const id = await sessionOf(address, password);
    for (let minutes = 0; minutes < 12 * 60 - 20; minutes += 20) {
      clock += 20n * MIN;
      expect((await resolveSession(deps, id)).ok, `after ${minutes + 20} min`).toBe(true);
    }
    clock += 20n * MIN;
    expect(await resolveSession(deps, id)).toEqual({ ok: false, reason: 'expired' });
  });

  it('writes last use at most once a minute', async () => {
    const { email: address, password } = await userWithPassword();
    const id = await sessionOf(address, password);
    const result = (await resolveSession(deps, id)) as Extract<Awaited<ReturnType<typeof resolveSession>>, { ok: true }>;
    const count = async () =>
      Number(
        (await selectRows<{ n: string }>(t.db, { sql: "SELECT count() AS n FROM auth_activity WHERE kind = 'session' AND key = {k:String}", params: { k: result.principal.session.idHash }, tag: 'test' }))[0]!.n,
      );
    for (let i = 0; i < 20; i++) {
      clock += 2n * S;
      await resolveSession(deps, id);
    }
    expect(await count()).toBe(0); // 40 s: not yet
    clock += 25n * S;
    await resolveSession(deps, id);
    expect(await count()).toBe(1);
    for (let i = 0; i < 10; i++) {
      clock += S;
      await resolveSession(deps, id);
    }
    expect(await count()).toBe(1);
  });

  it('signs out everywhere: every session of the user ends at once', async () => {
    const { user, email: address, password } = await userWithPassword();
    const a = await sessionOf(address, password);
    clock += S;
    const b = await sessionOf(address, password);
    expect(await openSessionsOf(deps, user.id)).toHaveLength(2);
    clock += S;
    await endAllSessions(deps, { type: 'user', id: user.id, name: address, role: 'viewer' }, user.id);
    expect(await resolveSession(deps, a)).toMatchObject({ ok: false });
    expect(await resolveSession(deps, b)).toMatchObject({ ok: false });
    expect(await openSessionsOf(deps, user.id)).toHaveLength(0);
    clock += S;
    expect((await resolveSession(deps, await sessionOf(address, password))).ok).toBe(true);
  });

  it("lets an admin end any user's sessions through the API", async () => {
    const { user, email: address, password } = await userWithPassword('analyst');
    const id = await sessionOf(address, password);
    const admin = createCaller(testContext({ db: t.db, as: 'admin', nowNs: clock }));
    clock += S;
    await admin.users.endSessions({ id: user.id });
    expect(await resolveSession(deps, id)).toMatchObject({ ok: false });
    const events = await listAuditRecords(t.db, { fromNs: '0', toNs: (clock + MIN).toString(), action: 'users.end_sessions', text: user.id, limit: 10 });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ actorType: 'user', actorName: 'admin@test.invalid', targetId: user.id, outcome: 'success' });
  });

  it('takes a revocation made by another process into account within the cache bound', async () => {
    const { email: address, password } = await userWithPassword();
    const id = await sessionOf(address, password);
    expect((await resolveSession(deps, id)).ok).toBe(true); // cached now
    // Another cockpit process (or the CLI on storage directly) ends the sessions: this process's
    // cache is not told.
    const stored = (await getUserByEmail(t.db, address))!;
    clock += S;
    await putUser(t.db, { ...stored, sessionsValidAfterNs: clock.toString(), updatedAtNs: clock.toString() });
    clock += S;
    expect((await resolveSession(deps, id)).ok).toBe(true); // within AUTH_CACHE_SECONDS: still trusted
    clock += config.cacheNs;
    expect(await resolveSession(deps, id)).toEqual({ ok: false, reason: 'signed_out_everywhere' });
  });

  it('ends the sessions of a disabled user and refuses their sign-in; a role change applies at once', async () => {
    const { user, email: address, password } = await userWithPassword('responder');
    const id = await sessionOf(address, password);
    clock += S;
    await setUserRole(deps, CLI, user.id, 'analyst');
    expect(await resolveSession(deps, id)).toMatchObject({ ok: true, principal: { role: 'analyst' } });
    clock += S;
    await setUserDisabled(deps, CLI, address, true);
    expect(await resolveSession(deps, id)).toMatchObject({ ok: false });
    clock += S;
    expect(await signIn(address, password)).toEqual({ ok: false, status: 401, message: BAD_CREDENTIALS });
    await setUserDisabled(deps, CLI, address, false);
    clock += S;
    expect((await signIn(address, password)).ok).toBe(true);
  });

  it('refuses to demote or disable the last admin', async () => {
    const { user } = await createUser(deps, CLI, { email: email('only-admin'), role: 'admin' });
    for (const other of (await listUsers(t.db)).filter((u) => u.role === 'admin' && !u.disabled && u.id !== user.id)) {
      clock += S;
      await setUserRole(deps, CLI, other.id, 'viewer');
    }
    clock += S;
    await expect(setUserRole(deps, CLI, user.id, 'viewer')).rejects.toThrow(/last active admin/);
    await expect(setUserDisabled(deps, CLI, user.id, true)).rejects.toThrow(/last active admin/);
    await createUser(deps, CLI, { email: email('second-admin'), role: 'admin' });
    clock += S;
    await expect(setUserRole(deps, CLI, user.id, 'viewer')).resolves.toMatchObject({ role: 'viewer' });
  });
});

describe("changing one's own password", () => {
  it('needs the current password, ends every session, and only the new password works afterwards', async () => {
    const { user, email: address, password } = await userWithPassword('analyst');
    const id = await sessionOf(address, password);
    const principal = { kind: 'user' as const, id: user.id, name: address, role: 'analyst' as const, session: { idHash: 'x', createdAtNs: '0', expiresAtNs: '0', method: 'password' as const } };
    const api = createCaller({ ...testContext({ db: t.db, principal }), now: () => clock, authConfig: () => config });
    await expect(api.auth.changePassword({ currentPassword: 'not it at all', newPassword: 'a brand new passphrase' })).rejects.toMatchObject({ code: 'BAD_REQUEST', message: 'the current password is wrong' });
    await expect(api.auth.changePassword({ currentPassword: password, newPassword: 'short' })).rejects.toMatchObject({ message: 'the new password needs at least 12 characters' });
    clock += S;
    await expect(api.auth.changePassword({ currentPassword: password, newPassword: 'a brand new passphrase' })).resolves.toEqual({ signedOut: true });
    expect(await resolveSession(deps, id)).toMatchObject({ ok: false });
    clock += S;
    expect(await signIn(address, password)).toMatchObject({ ok: false, status: 401 });
    expect((await signIn(address, 'a brand new passphrase')).ok).toBe(true);
  });
});

describe('sign-in backoff and lockout', () => {
  it('answers the same for an unknown account and a wrong password, and audits both', async () => {
    const { email: address } = await userWithPassword();
    expect(await signIn(address, 'wrong password!')).toEqual({ ok: false, status: 401, message: BAD_CREDENTIALS });
    expect(await signIn(email('nobody'), 'wrong password!')).toEqual({ ok: false, status: 401, message: BAD_CREDENTIALS });
    const events = await listAuditRecords(t.db, { fromNs: (clock - MIN).toString(), toNs: (clock + MIN).toString(), action: 'auth.sign_in', outcome: 'failure', limit: 10 });
    expect(events.map((e) => JSON.parse(e.detail).reason).sort()).toEqual(['unknown_account', 'wrong_password']);
    expect(events.every((e) => e.sourceAddress === '192.0.2.10')).toBe(true);
  });

  it('slows down after three failures and locks the account after ten, even for the right password', async () => {
    const { email: address, password } = await userWithPassword();
    for (let i = 0; i < 3; i++) {
      clock += S / 10n;
      expect(await signIn(address, 'wrong password!')).toMatchObject({ status: 401 });
    }
    clock += S / 10n;
    expect(await signIn(address, password)).toMatchObject({ ok: false, status: 429, retryAfterSeconds: 1 });
    // Keep failing, each time after the wait: the waits double, then the lock.
    let lockedAt = 0;
    for (let failures = 3; failures < 10; failures++) {
      const decision = await signIn(address, password.slice(1));
      if (decision.ok || decision.status !== 429) continue;
      clock += BigInt(decision.retryAfterSeconds) * S;
      expect(await signIn(address, 'wrong password!')).toMatchObject({ status: 401 });
      lockedAt = failures + 1;
    }
    expect(lockedAt).toBe(10);
    const locked = await signIn(address, password);
    expect(locked).toMatchObject({ ok: false, status: 429, message: expect.stringMatching(/locked/) });
    // Hammering a locked account does not extend the lock.
    clock += 10n * MIN;
    expect(await signIn(address, password)).toMatchObject({ status: 429 });
    clock += 5n * MIN + S;
    expect((await signIn(address, password)).ok).toBe(true);
    const denied = await listAuditRecords(t.db, { fromNs: '0', toNs: (clock + MIN).toString(), action: 'auth.sign_in', outcome: 'denied', actor: address, limit: 100 });
    expect(denied.length).toBeGreaterThanOrEqual(3);
  });

  it('lets an admin lift a lockout', async () => {
    const { email: address, password } = await userWithPassword();
    for (let i = 0; i < 12; i++) {
      clock += 2n * MIN;
      await signIn(address, 'wrong password!');
    }
    expect(await signIn(address, password)).toMatchObject({ status: 429 });
    await unlockAccount(deps, CLI, address);
    clock += S;
    expect((await signIn(address, password)).ok).toBe(true);
  });
});

describe('API tokens', () => {
  it('live from creation to expiry or revocation', async () => {
    const { token, record } = await createApiToken(deps, { name: 'nightly', role: 'analyst', expiresInDays: 2, createdBy: 'cli:test' });
    expect(token).toMatch(/^soc_pat_[A-Za-z0-9_-]{43}$/);
    expect(await resolveApiToken(deps, token)).toEqual({
      ok: true,
      principal: { kind: 'token', id: record.id, name: 'nightly', role: 'analyst', expiresAtNs: record.expiresAtNs },
    });
    const stored = await selectRows<{ n: string }>(t.db, { sql: 'SELECT count() AS n FROM auth_api_tokens WHERE token_hash = {t:String} OR name = {t:String}', params: { t: token }, tag: 'test' });
    expect(stored[0]!.n).toBe('0'); // only the hash is stored
    expect(toTokenView((await listTokens(deps)).find((x) => x.id === record.id)!, clock)).toMatchObject({ state: 'active', lastUsedNs: clock.toString() });

    clock += 2n * 24n * 60n * MIN;
    expect(await resolveApiToken(deps, token)).toEqual({ ok: false, reason: 'expired' });
    expect(toTokenView((await listTokens(deps)).find((x) => x.id === record.id)!, clock).state).toBe('expired');

    const second = await createApiToken(deps, { name: 'ci', role: 'viewer', expiresInDays: 30, createdBy: 'cli:test' });
    expect((await resolveApiToken(deps, second.token)).ok).toBe(true);
    await revokeApiTokenById(deps, second.record.id, 'cli:test');
    expect(await resolveApiToken(deps, second.token)).toEqual({ ok: false, reason: 'revoked' });
    expect(toTokenView((await listTokens(deps)).find((x) => x.id === second.record.id)!, clock)).toMatchObject({ state: 'revoked', revokedBy: 'cli:test' });
    expect(await revokeApiTokenById(deps, second.record.id, 'cli:test')).toMatchObject({ alreadyRevoked: true });
  });

  it('refuses malformed, unknown and over-long lifetimes', async () => {
    expect(await resolveApiToken(deps, 'soc_pat_short')).toEqual({ ok: false, reason: 'malformed' });
    expect(await resolveApiToken(deps, `soc_pat_${'x'.repeat(43)}`)).toEqual({ ok: false, reason: 'unknown' });
    await expect(createApiToken(deps, { name: 'forever', role: 'admin', expiresInDays: 10_000, createdBy: 'x' })).rejects.toThrow(RangeError);
  });

  it('are managed through the API by admins and audited', async () => {
    const admin = createCaller(testContext({ db: t.db, as: 'admin', nowNs: clock }));
    const created = await admin.tokens.create({ name: 'from-settings-page', role: 'responder', expiresInDays: 7 });
    expect(created.token).toMatch(/^soc_pat_/);
    expect(created.info).toMatchObject({ name: 'from-settings-page', role: 'responder', state: 'active', createdBy: 'user:admin@test.invalid' });
    expect(JSON.stringify(await admin.tokens.list())).not.toContain(created.token);
    await admin.tokens.revoke({ id: created.info.id });
    expect((await admin.tokens.list()).tokens.find((x) => x.id === created.info.id)!.state).toBe('revoked');
    const events = await listAuditRecords(t.db, { fromNs: '0', toNs: (clock + MIN).toString(), action: 'tokens.', text: created.info.id, limit: 10 });
    expect(events.map((e) => e.action).sort()).toEqual(['tokens.create', 'tokens.revoke']);
    await expect(admin.tokens.revoke({ id: '0000000000000000' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});

describe('authorisation denials', () => {
  it('are refused with FORBIDDEN and audited with the caller and the scope', async () => {
    const viewer = createCaller(testContext({ db: t.db, as: 'viewer' }));
    await expect(viewer.users.list()).rejects.toMatchObject({ code: 'FORBIDDEN', message: expect.stringMatching(/users:admin/) });
    const events = await listAuditRecords(t.db, { fromNs: '0', toNs: (BigInt(Date.now()) * 1_000_000n + 10n ** 18n).toString(), action: 'authz.denied', limit: 10 });
    expect(events[0]).toMatchObject({ outcome: 'denied', actorName: 'viewer@test.invalid', actorRole: 'viewer', targetType: 'procedure', targetId: 'users.list' });
    expect(JSON.parse(events[0]!.detail)).toEqual({ scope: 'users:admin' });
  });
});
