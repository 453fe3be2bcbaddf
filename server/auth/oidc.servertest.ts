import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { listAuditRecords } from '../../db/repositories/audit';
import { getUserByEmail } from '../../db/repositories/users';
import { openTestDb } from '../../db/testing';
import { nowNs } from '../../db/time';
import { createUser } from './accounts';
import { authConfigFromEnv, type AuthConfig } from './config';
import type { AuthDeps } from './deps';
import { clearOidcCaches, verifyIdToken } from './oidc';
import { resolveSession } from './sessions';
import { startTestProvider, type Tamper, type TestProvider } from './testing/oidcProvider';
import { oidcCallbackHandler, oidcStartHandler } from './web';

// Single sign-on end to end against a test provider on loopback (real HTTP, real RSA-signed ID
// tokens): start → provider → callback → session; then tokens that must be refused.
const COCKPIT = 'http://cockpit.test';
let t: Awaited<ReturnType<typeof openTestDb>>;
let idp: TestProvider;
let config: AuthConfig;
let deps: AuthDeps;

beforeAll(async () => {
  t = await openTestDb();
  idp = await startTestProvider({ user: { sub: 'u-1001', email: 'Ana@Example.org', email_verified: true, name: 'Ana', groups: ['everyone', 'soc-responders'] } });
  config = authConfigFromEnv({
    AUTH_SCRYPT_LOG_N: '14',
    OIDC_ISSUER: idp.issuer,
    OIDC_CLIENT_ID: idp.clientId,
    OIDC_CLIENT_SECRET: idp.clientSecret,
    OIDC_ROLE_MAP: 'soc-viewers=viewer,soc-responders=responder,soc-admins=admin',
    OIDC_DEFAULT_ROLE: 'viewer',
  });
  deps = { db: t.db, now: nowNs, config };
});
afterAll(async () => {
  await idp?.close();
  await t?.close();
});
beforeEach(() => {
  idp.tamper = 'none';
  clearOidcCaches();
});

/** The browser's part: follow the redirects, carrying the transaction cookie. */
async function signInThroughProvider(next = '/processes/node-a%3A1%3A2%3A3%3A4'): Promise<Response> {
  const start = await oidcStartHandler(() => config.oidc)(new Request(`${COCKPIT}/api/auth/oidc/start?next=${encodeURIComponent(next)}`));
  expect(start.status).toBe(303);
  const authorize = new URL(start.headers.get('location')!);
  expect(authorize.origin).toBe(idp.issuer);
  expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
  expect(authorize.searchParams.get('redirect_uri')).toBe(`${COCKPIT}/api/auth/oidc/callback`);
  const txCookie = start.headers.get('set-cookie')!;
  expect(txCookie).toMatch(/^__Host-soc_oidc=[^;]+; Path=\/; HttpOnly; Secure; SameSite=Lax; Max-Age=600$/);
  const atProvider = await fetch(authorize, { redirect: 'manual' });
  expect(atProvider.status).toBe(302);
  const callback = atProvider.headers.get('location')!;
  expect(callback.startsWith(`${COCKPIT}/api/auth/oidc/callback?`)).toBe(true);
  return oidcCallbackHandler(async () => deps)(new Request(callback, { headers: { cookie: txCookie.split(';')[0]! } }));
}

function sessionIdFrom(response: Response): string | null {
  const cookie = response.headers.getSetCookie().find((c) => c.startsWith('__Host-soc_session='));
  return cookie ? /=([^;]*)/.exec(cookie)![1]! : null;
}

describe('OIDC sign-in', () => {
  it('creates the account with the mapped role, opens a session and goes back to the page', async () => {
    const done = await signInThroughProvider();
    expect(done.status).toBe(303);
    expect(done.headers.get('location')).toBe('/processes/node-a%3A1%3A2%3A3%3A4');
    const sessionId = sessionIdFrom(done)!;
    expect(await resolveSession(deps, sessionId)).toMatchObject({ ok: true, principal: { name: 'ana@example.org', role: 'responder', session: { method: 'oidc' } } });
    expect(idp.tokenRequests.at(-1)).toEqual({ grantType: 'authorization_code', verifierOk: true, clientOk: true });
    const user = await getUserByEmail(t.db, 'ana@example.org');
    expect(user).toMatchObject({ oidcIssuer: idp.issuer, oidcSubject: 'u-1001', passwordHash: '', displayName: 'Ana' });
  });

  it('finds the same account again by subject, and re-applies the role mapping', async () => {
    idp.user = { ...idp.user, groups: ['soc-admins'] };
    const done = await signInThroughProvider('/');
    expect(await resolveSession(deps, sessionIdFrom(done)!)).toMatchObject({ ok: true, principal: { role: 'admin' } });
    idp.user = { ...idp.user, groups: ['soc-viewers'] };
    const again = await signInThroughProvider('/');
    expect(await resolveSession(deps, sessionIdFrom(again)!)).toMatchObject({ ok: true, principal: { role: 'viewer' } });
    const roleChanges = await listAuditRecords(t.db, { fromNs: '0', toNs: (nowNs() + 1_000_000_000n).toString(), action: 'users.set_role', actor: 'oidc', limit: 10 });
    expect(roleChanges.map((e) => JSON.parse(e.detail).to)).toEqual(['viewer', 'admin']);
  });

  it('links an existing local account by verified email only', async () => {
    await createUser(deps, { type: 'cli', id: 'uid:0', name: 't', role: 'admin' }, { email: 'bo@example.org', role: 'analyst' });
    idp.user = { sub: 'u-2002', email: 'bo@example.org', email_verified: false };
    const refused = await signInThroughProvider('/');
    expect(refused.headers.get('location')).toBe('/login?error=sso_conflict');
    expect(sessionIdFrom(refused)).toBeNull();
    idp.user = { sub: 'u-2002', email: 'bo@example.org', email_verified: true };
    const linked = await signInThroughProvider('/');
    expect(await resolveSession(deps, sessionIdFrom(linked)!)).toMatchObject({ ok: true, principal: { name: 'bo@example.org', role: 'analyst' } });
  });

  it.each<[Tamper, RegExp]>([
    ['wrong-audience', /another client/],
    ['expired', /expired/],
    ['forged-signature', /signature does not verify/],
    ['wrong-issuer', /issued by/],
    ['wrong-nonce', /nonce/],
    ['alg-none', /algorithm none is not accepted/],
    ['hs256', /algorithm HS256 is not accepted/],
  ])('refuses an ID token that is %s, and audits why', async (tamper, why) => {
    idp.user = { sub: 'u-3003', email: `c-${tamper}@example.org`, email_verified: true, groups: ['soc-admins'] };
    idp.tamper = tamper;
    const refused = await signInThroughProvider('/');
    expect(refused.status).toBe(303);
    expect(refused.headers.get('location')).toBe('/login?error=sso_failed');
    expect(sessionIdFrom(refused)).toBeNull();
    expect(await getUserByEmail(t.db, `c-${tamper}@example.org`)).toBeNull();
    const [event] = await listAuditRecords(t.db, { fromNs: '0', toNs: (nowNs() + 1_000_000_000n).toString(), action: 'auth.sign_in', outcome: 'failure', limit: 1 });
    expect(JSON.parse(event!.detail)).toMatchObject({ method: 'oidc', reason: 'sso_failed', message: expect.stringMatching(why) });
  });

  it('refuses a callback whose state does not match, or without the transaction cookie', async () => {
    const start = await oidcStartHandler(() => config.oidc)(new Request(`${COCKPIT}/api/auth/oidc/start`));
    const atProvider = await fetch(start.headers.get('location')!, { redirect: 'manual' });
    const callback = new URL(atProvider.headers.get('location')!);
    const noCookie = await oidcCallbackHandler(async () => deps)(new Request(callback));
    expect(noCookie.headers.get('location')).toBe('/login?error=sso_failed');
    callback.searchParams.set('state', 'attacker-state');
    const wrongState = await oidcCallbackHandler(async () => deps)(new Request(callback, { headers: { cookie: start.headers.get('set-cookie')!.split(';')[0]! } }));
    expect(wrongState.headers.get('location')).toBe('/login?error=sso_failed');
  });

  it('refuses a new user when no role is mapped and the default is none', async () => {
    const strict = authConfigFromEnv({ OIDC_ISSUER: idp.issuer, OIDC_CLIENT_ID: idp.clientId, OIDC_CLIENT_SECRET: idp.clientSecret, OIDC_ROLE_MAP: 'soc-admins=admin', OIDC_DEFAULT_ROLE: 'none' });
    const saved = config;
    config = strict;
    deps = { ...deps, config: strict };
    try {
      idp.user = { sub: 'u-4004', email: 'dee@example.org', email_verified: true, groups: ['marketing'] };
      expect((await signInThroughProvider('/')).headers.get('location')).toBe('/login?error=sso_no_role');
    } finally {
      config = saved;
      deps = { ...deps, config: saved };
    }
  });

  it('verifies claims strictly (unit of the verifier)', async () => {
    await expect(verifyIdToken('not.a.jwt!', { issuer: idp.issuer, clientId: 'x', nonce: 'n', nowSeconds: 0, jwksUri: `${idp.issuer}/jwks` })).rejects.toThrow(/compact JWS/);
  });
});
