import { auditQuietly } from './audit';
import { readCookie, SESSION_COOKIE } from './cookies';
import type { AuthDeps } from './deps';
import type { AuthOutcome } from './principal';
import { resolveSession } from './sessions';
import { resolveApiToken } from './tokens';

/**
 * Who sent these headers. An `Authorization` header wins over cookies: a request that carries a
 * bearer token is authenticated by the token alone (and, since browsers never attach one on
 * their own, is exempt from the Origin check). Anything else presented must be a valid session.
 * Presented-but-invalid credentials are audited (action `auth.rejected`).
 */
export async function authenticateHeaders(headers: Headers, deps: AuthDeps, source = ''): Promise<AuthOutcome> {
  const rejected = async (credential: 'token' | 'session', reason: string): Promise<AuthOutcome> => {
    await auditQuietly(deps.db, {
      atNs: deps.now(),
      action: 'auth.rejected',
      outcome: 'failure',
      actor: { type: credential === 'token' ? 'token' : 'anonymous', id: '', name: '', role: '' },
      source,
      detail: { credential, reason },
    });
    return { ok: false, failure: credential === 'token' ? 'token_invalid' : 'session_invalid' };
  };
  const authorization = headers.get('authorization');
  if (authorization !== null) {
    const match = /^Bearer[ ]+(\S{1,200})\s*$/i.exec(authorization);
    const check = match ? await resolveApiToken(deps, match[1]!) : ({ ok: false, reason: 'malformed' } as const);
    if (check.ok) return { ok: true, principal: check.principal };
    return rejected('token', check.reason);
  }
  const sessionId = readCookie(headers, SESSION_COOKIE);
  if (sessionId === null || sessionId === '') return { ok: false, failure: 'missing' };
  const check = await resolveSession(deps, sessionId);
  if (check.ok) return { ok: true, principal: check.principal };
  return rejected('session', check.reason);
}
