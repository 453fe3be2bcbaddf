import { createHash, createPublicKey, constants, verify as verifySignature, type JsonWebKey, type KeyObject } from 'node:crypto';
import { getUserByEmail, getUserByOidcSubject, putUser, type UserRecord } from '../../db/repositories/users';
import { auditSignIn, createUser } from './accounts';
import { audit, type AuditActor } from './audit';
import type { OidcConfig } from './config';
import type { AuthDeps } from './deps';
import { ROLES, type Role } from './roles';
import { constantTimeEqual, randomSecret } from './secrets';
import { createSession, forgetUserSessions, type NewSession } from './sessions';

/**
 * OpenID Connect sign-in: authorization code flow with PKCE (S256), the provider found by
 * discovery, ID tokens verified with node:crypto against the provider's JWKS (RS256/384/512,
 * PS256, ES256/384; never "none" or HMAC), and iss, aud/azp, exp, iat, nbf and nonce checked.
 * No OIDC library: the flow is small, and every check is visible here.
 *
 * Accounts (docs/SECURITY.md, "Single sign-on"): a user is found by (issuer, subject); failing
 * that, an existing account with the same email is linked — only when the provider says the email
 * is verified; failing that, an account is created. Roles come from OIDC_ROLE_CLAIM through
 * OIDC_ROLE_MAP (the highest mapped role wins, re-applied at every sign-in); with no mapped value
 * an existing user keeps their role and a new one gets OIDC_DEFAULT_ROLE (or is refused: "none").
 */

export class OidcError extends Error {
  constructor(
    /** Short code for the login page (?error=…) and the audit log. */
    readonly code: 'sso_failed' | 'sso_no_role' | 'sso_disabled' | 'sso_conflict',
    message: string,
  ) {
    super(message);
    this.name = 'OidcError';
  }
}

interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
}

const CACHE_MS = 10 * 60_000;
const CLOCK_SKEW_S = 60;
const FETCH_TIMEOUT_MS = 10_000;
const ALGORITHMS: Record<string, { hash: string; kty: 'RSA' | 'EC'; pss?: boolean; crv?: string }> = {
  RS256: { hash: 'sha256', kty: 'RSA' },
  RS384: { hash: 'sha384', kty: 'RSA' },
  RS512: { hash: 'sha512', kty: 'RSA' },
  PS256: { hash: 'sha256', kty: 'RSA', pss: true },
  ES256: { hash: 'sha256', kty: 'EC', crv: 'P-256' },
  ES384: { hash: 'sha384', kty: 'EC', crv: 'P-384' },
};

/** Provider URLs must be HTTPS, except on loopback (a provider on this machine, tests). */
function assertProviderUrl(value: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new OidcError('sso_failed', `${what} is not a URL`);
  }
  const loopback = url.hostname === 'localhost' || url.hostname === '127.0.0.1' || url.hostname === '[::1]';
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw new OidcError('sso_failed', `${what} must use https (${url.origin})`);
  }
  return url;
}

async function fetchJson(url: string, init?: RequestInit): Promise<unknown> {
  const response = await fetch(url, { ...init, redirect: 'error', signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  const text = await response.text();
  if (!response.ok) throw new OidcError('sso_failed', `${new URL(url).pathname} answered ${response.status}`);
  if (text.length > 1_000_000) throw new OidcError('sso_failed', `${new URL(url).pathname} answered too much`);
  try {
    return JSON.parse(text);
  } catch {
    throw new OidcError('sso_failed', `${new URL(url).pathname} did not answer JSON`);
  }
}

const discoveryCache = new Map<string, { at: number; value: Discovery }>();
const jwksCache = new Map<string, { at: number; keys: JsonWebKey[] }>();

export async function discover(config: OidcConfig): Promise<Discovery> {
  const cached = discoveryCache.get(config.issuer);
  if (cached && Date.now() - cached.at < CACHE_MS) return cached.value;
  assertProviderUrl(config.issuer, 'OIDC_ISSUER');
  const doc = (await fetchJson(`${config.issuer}/.well-known/openid-configuration`)) as Partial<Discovery>;
  if (typeof doc.issuer !== 'string' || doc.issuer.replace(/\/$/, '') !== config.issuer) {
    throw new OidcError('sso_failed', `the discovery document names issuer ${String(doc.issuer)}, not ${config.issuer}`);
  }
  for (const key of ['authorization_endpoint', 'token_endpoint', 'jwks_uri'] as const) {
    if (typeof doc[key] !== 'string') throw new OidcError('sso_failed', `the discovery document has no ${key}`);
    assertProviderUrl(doc[key], key);
  }
  const value = doc as Discovery;
  discoveryCache.set(config.issuer, { at: Date.now(), value });
  return value;
}

async function signingKeys(jwksUri: string, refresh: boolean): Promise<JsonWebKey[]> {
  const cached = jwksCache.get(jwksUri);
  // A refresh (unknown kid: the provider rotated its keys) at most once a minute.
  if (cached && Date.now() - cached.at < (refresh ? 60_000 : CACHE_MS)) return cached.keys;
  const doc = (await fetchJson(jwksUri)) as { keys?: unknown };
  if (!Array.isArray(doc.keys)) throw new OidcError('sso_failed', 'the JWKS has no keys');
  const keys = (doc.keys as JsonWebKey[]).filter((k) => k && typeof k === 'object' && (k.use === undefined || k.use === 'sig'));
  jwksCache.set(jwksUri, { at: Date.now(), keys });
  return keys;
}

function base64urlJson(part: string, what: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new OidcError('sso_failed', `the ID token's ${what} is not a JSON object`);
}

export interface IdTokenClaims {
  iss: string;
  sub: string;
  aud: string | string[];
  exp: number;
  iat: number;
  nonce?: string;
  email?: string;
  email_verified?: boolean;
  name?: string;
  [claim: string]: unknown;
}

/** Verifies an ID token's signature (JWKS) and claims; throws OidcError saying what is wrong. */
export async function verifyIdToken(
  idToken: string,
  expected: { issuer: string; clientId: string; nonce: string; nowSeconds: number; jwksUri: string },
): Promise<IdTokenClaims> {
  const parts = idToken.split('.');
  if (parts.length !== 3 || parts.some((p) => !/^[A-Za-z0-9_-]*$/.test(p)) || idToken.length > 16_384) {
    throw new OidcError('sso_failed', 'the ID token is not a compact JWS');
  }
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  const header = base64urlJson(headerPart, 'header');
  const alg = typeof header.alg === 'string' ? ALGORITHMS[header.alg] : undefined;
  if (!alg) throw new OidcError('sso_failed', `ID token algorithm ${String(header.alg)} is not accepted`);
  const kid = typeof header.kid === 'string' ? header.kid : undefined;

  const pick = (keys: JsonWebKey[]) =>
    keys.filter((k) => k.kty === alg.kty && (kid === undefined || (k as { kid?: string }).kid === kid) && (!alg.crv || k.crv === alg.crv));
  let candidates = pick(await signingKeys(expected.jwksUri, false));
  if (candidates.length === 0) candidates = pick(await signingKeys(expected.jwksUri, true));
  if (candidates.length === 0) throw new OidcError('sso_failed', `no signing key ${kid ?? ''} for ${String(header.alg)} in the provider's JWKS`);

  const data = Buffer.from(`${headerPart}.${payloadPart}`);
  const signature = Buffer.from(signaturePart, 'base64url');
  const valid = candidates.some((jwk) => {
    let key: KeyObject;
    try {
      key = createPublicKey({ key: jwk, format: 'jwk' });
    } catch {
      return false;
    }
    if (alg.kty === 'EC') return verifySignature(alg.hash, data, { key, dsaEncoding: 'ieee-p1363' }, signature);
    if (alg.pss) return verifySignature(alg.hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 }, signature);
    return verifySignature(alg.hash, data, key, signature);
  });
  if (!valid) throw new OidcError('sso_failed', 'the ID token signature does not verify');

  const claims = base64urlJson(payloadPart, 'payload') as Partial<IdTokenClaims>;
  const now = expected.nowSeconds;
  if (claims.iss !== expected.issuer) throw new OidcError('sso_failed', `the ID token was issued by ${String(claims.iss)}, not ${expected.issuer}`);
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!audiences.includes(expected.clientId)) throw new OidcError('sso_failed', 'the ID token is meant for another client (aud)');
  if (audiences.length > 1 && claims.azp !== undefined && claims.azp !== expected.clientId) {
    throw new OidcError('sso_failed', 'the ID token was issued to another client (azp)');
  }
  if (typeof claims.exp !== 'number' || claims.exp + CLOCK_SKEW_S <= now) throw new OidcError('sso_failed', 'the ID token has expired');
  if (typeof claims.iat !== 'number' || claims.iat - CLOCK_SKEW_S > now) throw new OidcError('sso_failed', 'the ID token was issued in the future');
  if (typeof claims.nbf === 'number' && claims.nbf - CLOCK_SKEW_S > now) throw new OidcError('sso_failed', 'the ID token is not valid yet');
  if (typeof claims.nonce !== 'string' || !constantTimeEqual(claims.nonce, expected.nonce)) {
    throw new OidcError('sso_failed', 'the ID token nonce does not match this sign-in');
  }
  if (typeof claims.sub !== 'string' || claims.sub.length === 0 || claims.sub.length > 255) throw new OidcError('sso_failed', 'the ID token has no subject');
  return claims as IdTokenClaims;
}

/** What the start of a sign-in leaves in the browser (an HttpOnly cookie) for the callback. */
export interface OidcTransaction {
  state: string;
  nonce: string;
  verifier: string;
  next: string;
}

export function encodeTransaction(tx: OidcTransaction): string {
  return Buffer.from(JSON.stringify(tx)).toString('base64url');
}

export function decodeTransaction(value: string | null): OidcTransaction | null {
  if (!value || value.length > 8192) return null;
  try {
    const tx = JSON.parse(Buffer.from(value, 'base64url').toString('utf8')) as Partial<OidcTransaction>;
    if ([tx.state, tx.nonce, tx.verifier, tx.next].every((v) => typeof v === 'string')) return tx as OidcTransaction;
  } catch {
    // not ours
  }
  return null;
}

/** The provider's authorization URL for a new sign-in, and the transaction to keep. */
export async function beginOidcSignIn(config: OidcConfig, redirectUri: string, next: string): Promise<{ url: string; transaction: OidcTransaction }> {
  const discovery = await discover(config);
  const transaction: OidcTransaction = { state: randomSecret(32), nonce: randomSecret(32), verifier: randomSecret(48), next };
  const url = new URL(discovery.authorization_endpoint);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', config.clientId);
  url.searchParams.set('redirect_uri', redirectUri);
  url.searchParams.set('scope', config.scopes.includes('openid') ? config.scopes : `openid ${config.scopes}`);
  url.searchParams.set('state', transaction.state);
  url.searchParams.set('nonce', transaction.nonce);
  url.searchParams.set('code_challenge', createHash('sha256').update(transaction.verifier).digest('base64url'));
  url.searchParams.set('code_challenge_method', 'S256');
  return { url: url.toString(), transaction };
}

/** The highest role that the claim's values map to, or null. */
export function mappedRole(config: OidcConfig, claims: IdTokenClaims): Role | null {
  const raw = claims[config.roleClaim];
  const values = typeof raw === 'string' ? [raw] : Array.isArray(raw) ? raw.filter((v): v is string => typeof v === 'string') : [];
  let best: Role | null = null;
  for (const value of values) {
    const role = config.roleMap.get(value);
    if (role && (best === null || ROLES.indexOf(role) > ROLES.indexOf(best))) best = role;
  }
  return best;
}

const SYSTEM_OIDC: AuditActor = { type: 'system', id: 'oidc', name: 'oidc sign-in', role: '' };

/** Finds, links or creates the account of a verified ID token, with its role (see the top). */
export async function accountForClaims(deps: AuthDeps, config: OidcConfig, claims: IdTokenClaims, source: string): Promise<UserRecord> {
  const email = typeof claims.email === 'string' ? claims.email.trim().normalize('NFC').toLowerCase() : '';
  const emailVerified = claims.email_verified === true;
  const role = mappedRole(config, claims);
  let user = await getUserByOidcSubject(deps.db, config.issuer, claims.sub);
  let link = false;
  if (!user && email) {
    const byEmail = await getUserByEmail(deps.db, email);
    if (byEmail) {
      if (!emailVerified) throw new OidcError('sso_conflict', `an account with email ${email} exists, and the provider does not say the email is verified`);
      if (byEmail.oidcSubject !== '') throw new OidcError('sso_conflict', `the account ${email} is linked to another single sign-on identity`);
      user = byEmail;
      link = true;
    }
  }
  if (user) {
    if (user.disabled) throw new OidcError('sso_disabled', `the account ${user.email} is disabled`);
    const newRole = role ?? user.role;
    if (!link && newRole === user.role) return user;
    const now = deps.now();
    const version = now > BigInt(user.updatedAtNs) ? now : BigInt(user.updatedAtNs) + 1n;
    const updated: UserRecord = {
      ...user,
      role: newRole,
      oidcIssuer: config.issuer,
      oidcSubject: claims.sub,
      updatedAtNs: version.toString(),
      updatedBy: 'system:oidc',
    };
    await putUser(deps.db, updated);
    forgetUserSessions(user.id);
    if (link) await audit(deps.db, { atNs: deps.now(), action: 'users.link_sso', actor: SYSTEM_OIDC, source, target: { type: 'user', id: user.id }, detail: { email: user.email, issuer: config.issuer } });
    if (newRole !== user.role) {
      await audit(deps.db, { atNs: deps.now(), action: 'users.set_role', actor: SYSTEM_OIDC, source, target: { type: 'user', id: user.id }, detail: { email: user.email, from: user.role, to: newRole, claim: config.roleClaim } });
    }
    return updated;
  }
  const newRole = role ?? config.defaultRole;
  if (!newRole) throw new OidcError('sso_no_role', `no role is mapped for ${email || claims.sub} (OIDC_ROLE_MAP, OIDC_DEFAULT_ROLE=none)`);
  if (!email) throw new OidcError('sso_failed', 'the provider sent no email address (request the "email" scope)');
  const { user: created } = await createUser(
    deps,
    SYSTEM_OIDC,
    { email, role: newRole, displayName: typeof claims.name === 'string' ? claims.name : '', oidc: { issuer: config.issuer, subject: claims.sub } },
    source,
  );
  return created;
}

/**
 * The callback: checks state, redeems the code (with the PKCE verifier and the client secret),
 * verifies the ID token, finds the account and opens a session. Every failure is audited.
 */
export async function completeOidcSignIn(
  deps: AuthDeps,
  config: OidcConfig,
  input: { query: URLSearchParams; transaction: OidcTransaction | null; redirectUri: string; source: string; userAgent: string },
): Promise<{ user: UserRecord; session: NewSession; next: string }> {
  try {
    const { query, transaction } = input;
    if (query.get('error')) throw new OidcError('sso_failed', `the provider refused: ${query.get('error')!.slice(0, 100)}`);
    const code = query.get('code');
    const state = query.get('state');
    if (!transaction) throw new OidcError('sso_failed', 'no sign-in in progress in this browser (or it took over ten minutes)');
    if (!state || !constantTimeEqual(state, transaction.state)) throw new OidcError('sso_failed', 'the state does not match this sign-in');
    if (!code || code.length > 4096) throw new OidcError('sso_failed', 'no authorization code');

    const discovery = await discover(config);
    const tokenResponse = (await fetchJson(discovery.token_endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
        authorization: `Basic ${Buffer.from(`${encodeURIComponent(config.clientId)}:${encodeURIComponent(config.clientSecret)}`).toString('base64')}`,
      },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: input.redirectUri, code_verifier: transaction.verifier }).toString(),
    })) as { id_token?: unknown };
    if (typeof tokenResponse.id_token !== 'string') throw new OidcError('sso_failed', 'the token endpoint sent no ID token');

    const claims = await verifyIdToken(tokenResponse.id_token, {
      issuer: config.issuer,
      clientId: config.clientId,
      nonce: transaction.nonce,
      nowSeconds: Number(deps.now() / 1_000_000_000n),
      jwksUri: discovery.jwks_uri,
    });
    const user = await accountForClaims(deps, config, claims, input.source);
    const session = await createSession(deps, user, { method: 'oidc', source: input.source, userAgent: input.userAgent });
    await auditSignIn(deps, user, session, input.source, { method: 'oidc', issuer: config.issuer });
    return { user, session, next: transaction.next };
  } catch (error) {
    const failure = error instanceof OidcError ? error : new OidcError('sso_failed', `unexpected: ${error instanceof Error ? error.message : String(error)}`);
    await audit(deps.db, {
      atNs: deps.now(),
      action: 'auth.sign_in',
      outcome: 'failure',
      actor: { type: 'anonymous', id: '', name: '', role: '' },
      source: input.source,
      detail: { method: 'oidc', reason: failure.code, message: failure.message },
    }).catch(() => {});
    throw failure;
  }
}

/** For tests: forget discovery documents and keys. */
export function clearOidcCaches(): void {
  discoveryCache.clear();
  jwksCache.clear();
}
