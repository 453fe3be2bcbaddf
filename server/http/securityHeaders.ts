/**
 * Browser hardening headers, defined once. next.config.ts sends STATIC_SECURITY_HEADERS on every
 * response (pages, API, static files); proxy.ts adds the per-request page CSP with its nonce;
 * the API's route handlers add API_RESPONSE_HEADERS. docs/SECURITY.md explains each one.
 */
export const STATIC_SECURITY_HEADERS: readonly { key: string; value: string }[] = [
  { key: 'X-Content-Type-Options', value: 'nosniff' },
  // Permalinks carry exec ids and investigation ids: never leak them to another site.
  { key: 'Referrer-Policy', value: 'same-origin' },
  // For browsers that predate CSP frame-ancestors.
  { key: 'X-Frame-Options', value: 'DENY' },
  { key: 'Cross-Origin-Opener-Policy', value: 'same-origin' },
  { key: 'Cross-Origin-Resource-Policy', value: 'same-origin' },
  { key: 'Permissions-Policy', value: 'camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), bluetooth=(), interest-cohort=()' },
  // Ignored by browsers over plain HTTP (localhost); binding once the cockpit is served over HTTPS.
  { key: 'Strict-Transport-Security', value: 'max-age=31536000' },
];

/** API answers are data, never documents: nothing may render, frame or cache them. */
export const API_RESPONSE_HEADERS: Readonly<Record<string, string>> = {
  'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
};

/**
 * The page CSP. Scripts run only with this response's nonce (Next.js puts it on its own inline
 * and bundle scripts when it finds it in the request's CSP header) or when loaded by such a script
 * ('strict-dynamic'). Style attributes are allowed (`style-src-attr`): React renders `style`
 * props into the HTML; attributes cannot run code. Development adds what React's dev tooling needs.
 */
export function pageContentSecurityPolicy(nonce: string, options: { dev: boolean; https: boolean }): string {
  const directives = [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${options.dev ? " 'unsafe-eval'" : ''}`,
    options.dev ? "style-src 'self' 'unsafe-inline'" : `style-src 'self' 'nonce-${nonce}'`,
    "style-src-attr 'unsafe-inline'",
    "img-src 'self' blob: data:",
    "font-src 'self'",
    "connect-src 'self'",
    "worker-src 'self' blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ];
  if (options.https) directives.push('upgrade-insecure-requests');
  return directives.join('; ');
}
