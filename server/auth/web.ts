import { z } from 'zod';
import { getDb } from '../../db/client';
import { nowNs } from '../../db/time';
import { HttpError, ownOrigin, sourceAddress, userAgent } from '../http/request';
import { parseJson } from '../http/handler';
import { endAllSessions, signInWithPassword } from './accounts';
import { actorOf, auditQuietly } from './audit';
import { authConfig, type OidcConfig } from './config';
import { clearCookieHeader, OIDC_COOKIE, readCookie, SESSION_COOKIE, setCookieHeader } from './cookies';
import { beginOidcSignIn, completeOidcSignIn, decodeTransaction, encodeTransaction, OidcError } from './oidc';
import type { AuthDeps } from './deps';
import { MAX_PASSWORD_LENGTH } from './passwords';
import { endSession, resolveSession } from './sessions';
import { sha256Hex, SESSION_ID_PATTERN } from './secrets';

/** The dependencies of a live request: the process's storage, clock and configuration. */
export async function requestAuthDeps(): Promise<AuthDeps> {
  return { db: await getDb(), now: nowNs, config: authConfig() };
}

/**
 * Where to go after signing in: only a path on this site ("/processes/…"), never another origin
 * ("//evil.example", "/\evil.example", "https://…") and never back to the login page.
 */
export function safeNextPath(next: unknown): string {
  if (typeof next !== 'string' || next.length === 0 || next.length > 2048) return '/';
  if (!next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\') || /[\x00-\x1f\x7f\\]/.test(next)) return '/';
  try {
    const url = new URL(next, 'http://cockpit.invalid');
    if (url.origin !== 'http://cockpit.invalid' || url.pathname === '/login' || url.pathname.startsWith('/api/')) return '/';
    return `${url.pathname}${url.search}${url.hash}`;
  } catch {
    return '/';
  }
}

export function sessionCookie(id: string, expiresAtNs: bigint, nowNsValue: bigint): string {
  return setCookieHeader(SESSION_COOKIE, id, Number((expiresAtNs - nowNsValue) / 1_000_000_000n));
}

/** Ends the session a request still carries (a new sign-in never reuses or keeps the old one). */
export async function endPresentedSession(deps: AuthDeps, headers: Headers): Promise<void> {
  const previous = readCookie(headers, SESSION_COOKIE);
  if (previous && SESSION_ID_PATTERN.test(previous)) await endSession(deps, sha256Hex(previous));
}

export const ZSignInInputSchema = z.strictObject({
  email: z.string().max(320, 'at most 320 characters'),
  password: z.string().min(1, 'required').max(MAX_PASSWORD_LENGTH, `at most ${MAX_PASSWORD_LENGTH} characters`),
  next: z.string().max(2048).optional(),
});

/** POST /api/auth/login `{ email, password, next? }` → 200 `{ next }` + the session cookie. */
export function loginHandler(deps: () => Promise<AuthDeps> = requestAuthDeps) {
  return async (req: Request, body: Uint8Array | null): Promise<Response> => {
    const parsed = ZSignInInputSchema.safeParse(parseJson(body));
    if (!parsed.success) throw new HttpError(400, `invalid input: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'input'}: ${i.message}`).join('; ')}`);
    const d = await deps();
    const result = await signInWithPassword(d, {
      email: parsed.data.email,
      password: parsed.data.password,
      source: sourceAddress(req.headers),
      userAgent: userAgent(req.headers),
    });
    if (!result.ok) {
      throw new HttpError(result.status, result.message, result.status === 429 ? { 'Retry-After': String(result.retryAfterSeconds) } : {});
    }
    await endPresentedSession(d, req.headers);
    const response = Response.json({ next: safeNextPath(parsed.data.next), user: { email: result.user.email, role: result.user.role } });
    response.headers.append('Set-Cookie', sessionCookie(result.session.id, result.session.expiresAtNs, d.now()));
    return response;
  };
}

export const ZSignOutInputSchema = z.strictObject({ everywhere: z.boolean().optional() });

/** POST /api/auth/logout `{ everywhere? }` → ends this session (or all of the user's) and clears the cookie. */
export function logoutHandler(deps: () => Promise<AuthDeps> = requestAuthDeps) {
  return async (req: Request, body: Uint8Array | null): Promise<Response> => {
    const parsed = ZSignOutInputSchema.safeParse(body && body.byteLength > 0 ? parseJson(body) : {});
    if (!parsed.success) throw new HttpError(400, 'invalid input: expected { "everywhere"?: boolean }');
    const sessionId = readCookie(req.headers, SESSION_COOKIE);
    let ended = 0;
    if (sessionId) {
      const d = await deps();
      const check = await resolveSession(d, sessionId);
      if (check.ok) {
        const source = sourceAddress(req.headers);
        if (parsed.data.everywhere) {
          await endAllSessions(d, actorOf(check.principal), check.principal.id, source);
        } else {
          await endSession(d, check.principal.session.idHash);
        }
        ended = 1;
        await auditQuietly(d.db, {
          atNs: d.now(),
          action: 'auth.sign_out',
          actor: actorOf(check.principal),
          source,
          detail: { everywhere: parsed.data.everywhere === true },
        });
      }
    }
    const response = Response.json({ signedOut: ended === 1 });
    response.headers.append('Set-Cookie', clearCookieHeader(SESSION_COOKIE));
    return response;
  };
}

/** Where the provider sends the browser back to (register it with the provider). */
export function oidcRedirectUri(req: Request): string {
  return `${ownOrigin(req)}/api/auth/oidc/callback`;
}

function redirect(location: string, cookies: string[] = []): Response {
  const response = new Response(null, { status: 303, headers: { Location: location } });
  for (const cookie of cookies) response.headers.append('Set-Cookie', cookie);
  return response;
}

/** GET /api/auth/oidc/start?next=/path → the provider's sign-in page (404 when OIDC is not configured). */
export function oidcStartHandler(config: () => OidcConfig | null = () => authConfig().oidc) {
  return async (req: Request): Promise<Response> => {
    const oidc = config();
    if (!oidc) throw new HttpError(404, 'single sign-on is not configured (OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET)');
    const next = safeNextPath(new URL(req.url).searchParams.get('next'));
    try {
      const { url, transaction } = await beginOidcSignIn(oidc, oidcRedirectUri(req), next);
      return redirect(url, [setCookieHeader(OIDC_COOKIE, encodeTransaction(transaction), 600)]);
    } catch (error) {
      console.error('[auth] cannot start single sign-on:', error instanceof Error ? error.message : error);
      return redirect(`/login?error=sso_failed${next === '/' ? '' : `&next=${encodeURIComponent(next)}`}`);
    }
  };
}

/** GET /api/auth/oidc/callback?code&state → session cookie and back to where the user was going. */
export function oidcCallbackHandler(deps: () => Promise<AuthDeps> = requestAuthDeps) {
  return async (req: Request): Promise<Response> => {
    const d = await deps();
    const oidc = d.config.oidc;
    if (!oidc) throw new HttpError(404, 'single sign-on is not configured');
    const clearTx = clearCookieHeader(OIDC_COOKIE);
    try {
      const { session, next } = await completeOidcSignIn(d, oidc, {
        query: new URL(req.url).searchParams,
        transaction: decodeTransaction(readCookie(req.headers, OIDC_COOKIE)),
        redirectUri: oidcRedirectUri(req),
        source: sourceAddress(req.headers),
        userAgent: userAgent(req.headers),
      });
      await endPresentedSession(d, req.headers);
      return redirect(safeNextPath(next), [clearTx, sessionCookie(session.id, session.expiresAtNs, d.now())]);
    } catch (error) {
      const code = error instanceof OidcError ? error.code : 'sso_failed';
      return redirect(`/login?error=${code}`, [clearTx]);
    }
  };
}
