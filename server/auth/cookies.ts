/**
 * The session cookie: `__Host-` prefix (Secure, Path=/, no Domain: only this exact origin can set
 * or read it), HttpOnly (no script reads it), SameSite=Lax (sent on top-level navigations, so a
 * permalink opened from a ticket or chat keeps the analyst signed in; never on cross-site POSTs —
 * and the Origin check refuses those anyway). Chromium accepts Secure cookies on
 * http://localhost; anywhere else the cockpit must be served over HTTPS.
 */
export const SESSION_COOKIE = '__Host-soc_session';
/** The OIDC transaction (state, nonce, PKCE verifier, where to go back to), ten minutes at most. */
export const OIDC_COOKIE = '__Host-soc_oidc';

export function readCookie(headers: Headers, name: string): string | null {
  const header = headers.get('cookie');
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return null;
}

export function setCookieHeader(name: string, value: string, maxAgeSeconds: number): string {
  return `${name}=${value}; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=${Math.max(0, Math.floor(maxAgeSeconds))}`;
}

export function clearCookieHeader(name: string): string {
  return `${name}=; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=0`;
}
