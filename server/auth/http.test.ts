import { describe, expect, it } from 'vitest';
import { assertJsonBody, assertSameOrigin, HttpError, MAX_BODY_BYTES, readBodyLimited, sourceAddress } from '../http/request';
import { pageContentSecurityPolicy } from '../http/securityHeaders';
import { readCookie, setCookieHeader } from './cookies';
import { safeNextPath } from './web';

const ORIGIN = 'http://cockpit.test';
const post = (headers: Record<string, string>, body = '{}') => new Request(`${ORIGIN}/api/trpc/users.create`, { method: 'POST', headers, body });
const status = (fn: () => unknown) => {
  try {
    fn();
    return 'ok';
  } catch (error) {
    return error instanceof HttpError ? error.status : 'threw';
  }
};

describe('CSRF: the Origin check', () => {
  it('accepts same-origin POSTs and refuses cross-origin or origin-less ones', () => {
    expect(status(() => assertSameOrigin(post({ origin: ORIGIN, host: 'cockpit.test' })))).toBe('ok');
    expect(status(() => assertSameOrigin(post({ origin: 'http://evil.test', host: 'cockpit.test' })))).toBe(403);
    expect(status(() => assertSameOrigin(post({ host: 'cockpit.test' })))).toBe(403);
    expect(status(() => assertSameOrigin(post({ origin: ORIGIN, host: 'cockpit.test', 'sec-fetch-site': 'cross-site' })))).toBe(403);
    expect(status(() => assertSameOrigin(post({ origin: 'null', host: 'cockpit.test' })))).toBe(403);
  });

  it('does not apply to bearer-token requests or to GET', () => {
    expect(status(() => assertSameOrigin(post({ origin: 'http://evil.test', authorization: 'Bearer soc_pat_x' })))).toBe('ok');
    expect(status(() => assertSameOrigin(new Request(`${ORIGIN}/api/trpc/auth.me`, { headers: { origin: 'http://evil.test' } })))).toBe('ok');
  });

  it('accepts JSON bodies only', () => {
    expect(status(() => assertJsonBody(post({ 'content-type': 'application/json; charset=utf-8' })))).toBe('ok');
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/octet-stream', '']) {
      expect(status(() => assertJsonBody(post(type ? { 'content-type': type } : {}))), type).toBe(415);
    }
  });
});

describe('body limits', () => {
  it('refuses a declared or streamed body over the limit before reading it all', async () => {
    await expect(readBodyLimited(post({ 'content-length': String(MAX_BODY_BYTES + 1) }))).rejects.toMatchObject({ status: 413 });
    let pulled = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        controller.enqueue(new Uint8Array(64 * 1024));
      },
    });
    const streamed = new Request(`${ORIGIN}/x`, { method: 'POST', body: endless, duplex: 'half' } as RequestInit);
    await expect(readBodyLimited(streamed)).rejects.toMatchObject({ status: 413 });
    expect(pulled).toBeLessThan(10);
    expect((await readBodyLimited(post({}, '{"a":1}'))).byteLength).toBe(7);
  });
});

describe('redirect targets after sign-in', () => {
  it.each([
    ['/processes/node-a%3A1%3A2%3A3%3A4', '/processes/node-a%3A1%3A2%3A3%3A4'],
    ['/?binary=sleep&range=1h', '/?binary=sleep&range=1h'],
    ['//evil.example/x', '/'],
    ['/\\evil.example', '/'],
    ['https://evil.example/', '/'],
    ['javascript:alert(1)', '/'],
    ['/login?next=/x', '/'],
    ['/api/auth/logout', '/'],
    ['/a\u0000b', '/'],
    ['', '/'],
  ])('%s → %s', (next, expected) => expect(safeNextPath(next)).toBe(expected));
});

describe('cookies and headers', () => {
  it('sets the session cookie __Host-, Secure, HttpOnly, SameSite=Lax, Path=/', () => {
    const header = setCookieHeader('__Host-soc_session', 'abc', 3600);
    expect(header).toBe('__Host-soc_session=abc; Path=/; HttpOnly; Secure; SameSite=Lax; Max-Age=3600');
    expect(readCookie(new Headers({ cookie: 'a=1; __Host-soc_session=abc; b=2' }), '__Host-soc_session')).toBe('abc');
  });

  it('takes the last X-Forwarded-For hop as the source address', () => {
    expect(sourceAddress(new Headers({ 'x-forwarded-for': '203.0.113.9, ::1' }))).toBe('::1');
    expect(sourceAddress(new Headers({ 'x-forwarded-for': '<script>' }))).toBe('');
  });

  it('builds a page CSP with the nonce, no inline scripts, and no framing', () => {
    const csp = pageContentSecurityPolicy('n0nce', { dev: false, https: false });
    expect(csp).toContain("script-src 'self' 'nonce-n0nce' 'strict-dynamic'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("object-src 'none'");
    expect(csp).not.toContain('unsafe-eval');
    expect(csp).not.toMatch(/script-src[^;]*unsafe-inline/);
  });
});
