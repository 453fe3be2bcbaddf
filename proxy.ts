import { NextResponse, type NextRequest } from 'next/server';
import { SESSION_COOKIE } from './server/auth/cookies';
import { pageContentSecurityPolicy } from './server/http/securityHeaders';

/**
 * Runs before every page (not the API, not static files):
 *   1. a fresh CSP nonce per request, in the response's Content-Security-Policy and in the request
 *      headers Next.js reads it from (it then puts the nonce on its own scripts);
 *   2. an optimistic sign-in check: without a session cookie, a page redirects to /login with the
 *      original URL in `next`. The real check — is the session valid, does the role allow the
 *      page — runs in every page (server/auth/page.ts) and every procedure.
 *   3. `x-soc-path`: the requested path, for pages that redirect to the login page themselves.
 */
export function proxy(request: NextRequest) {
  const nonce = Buffer.from(crypto.getRandomValues(new Uint8Array(18))).toString('base64');
  const https = request.nextUrl.protocol === 'https:' || request.headers.get('x-forwarded-proto') === 'https';
  const csp = pageContentSecurityPolicy(nonce, { dev: process.env.NODE_ENV === 'development', https });
  const { pathname, search } = request.nextUrl;
  const path = `${pathname}${search}`;

  if (pathname !== '/login' && !request.cookies.get(SESSION_COOKIE)?.value) {
    const login = new URL('/login', request.url);
    if (path !== '/') login.searchParams.set('next', path);
    const redirect = NextResponse.redirect(login, 307);
    redirect.headers.set('Content-Security-Policy', csp);
    return redirect;
  }

  const headers = new Headers(request.headers);
  headers.set('x-nonce', nonce);
  headers.set('content-security-policy', csp);
  headers.set('x-soc-path', path);
  const response = NextResponse.next({ request: { headers } });
  response.headers.set('Content-Security-Policy', csp);
  response.headers.set('Cache-Control', 'private, no-store');
  return response;
}

export const config = {
  matcher: [
    {
      source: '/((?!api/|_next/static|_next/image|favicon.ico|icon.svg|robots.txt).*)',
      missing: [
        { type: 'header', key: 'next-router-prefetch' },
        { type: 'header', key: 'purpose', value: 'prefetch' },
      ],
    },
  ],
};
