import { authConfig } from '../auth/config';

/**
 * What the HTTP entry points (route handlers) check before anything is parsed: body size,
 * content type, and — for requests a browser may send with the session cookie — the Origin.
 */

/** Largest request body accepted (JSON inputs are small; batches of 20 calls fit easily). */
export const MAX_BODY_BYTES = 256 * 1024;
/** Longest URL accepted (GET inputs travel in the query string). */
export const MAX_URL_CHARS = 16 * 1024;

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/**
 * The client's address for the audit log and sign-in throttling: the last X-Forwarded-For entry
 * (Next.js fills the header with the socket's peer when it is absent; a reverse proxy appends the
 * peer it saw). Behind no proxy a client can add entries of its own: run the cockpit behind a
 * proxy that sets the header (see docs/SECURITY.md).
 */
export function sourceAddress(headers: Headers): string {
  const forwarded = headers.get('x-forwarded-for');
  if (!forwarded) return '';
  const last = forwarded.split(',').at(-1)!.trim();
  return /^[0-9A-Fa-f:.[\]%a-zA-Z-]{1,64}$/.test(last) ? last : '';
}

export function userAgent(headers: Headers): string {
  return (headers.get('user-agent') ?? '').slice(0, 512);
}

/** Whether the request authenticates with a bearer token (and is therefore not a browser's). */
export function hasBearer(headers: Headers): boolean {
  return headers.has('authorization');
}

/** The cockpit's own origin: COCKPIT_ORIGIN, else the request's Host with the forwarded scheme. */
export function ownOrigin(req: Request): string {
  const configured = authConfig().origin;
  if (configured) return configured;
  const url = new URL(req.url);
  const host = req.headers.get('host') ?? url.host;
  const proto = req.headers.get('x-forwarded-proto') ?? url.protocol.replace(/:$/, '');
  return `${proto === 'https' ? 'https' : 'http'}://${host}`;
}

/**
 * CSRF defence for state-changing requests: they must come from the cockpit's own pages. Bearer
 * requests are exempt (a browser never adds that header cross-site without a CORS preflight,
 * which the cockpit does not grant). A missing Origin is refused: every browser sends it on POST.
 */
export function assertSameOrigin(req: Request): void {
  if (req.method === 'GET' || req.method === 'HEAD' || hasBearer(req.headers)) return;
  const origin = req.headers.get('origin');
  if (origin === null) throw new HttpError(403, 'cross-origin request refused: no Origin header');
  if (origin !== ownOrigin(req)) throw new HttpError(403, 'cross-origin request refused: Origin does not match the cockpit');
  const site = req.headers.get('sec-fetch-site');
  if (site !== null && site !== 'same-origin' && site !== 'none') {
    throw new HttpError(403, 'cross-origin request refused: Sec-Fetch-Site is not same-origin');
  }
}

/** POST bodies must be JSON: no forms, no multipart, no octet streams. */
export function assertJsonBody(req: Request): void {
  if (req.method === 'GET' || req.method === 'HEAD') return;
  const type = (req.headers.get('content-type') ?? '').split(';', 1)[0]!.trim().toLowerCase();
  if (type !== 'application/json') throw new HttpError(415, 'request bodies must be JSON (Content-Type: application/json)');
}

/**
 * Reads the body, refusing more than `max` bytes: at once when Content-Length says so, else as
 * soon as the stream passes the limit (nothing more is buffered).
 */
export async function readBodyLimited(req: Request, max = MAX_BODY_BYTES): Promise<Uint8Array> {
  const tooLarge = () => new HttpError(413, `request body too large (at most ${max} bytes)`);
  const declared = req.headers.get('content-length');
  if (declared !== null && (!/^\d{1,15}$/.test(declared) || Number(declared) > max)) throw tooLarge();
  if (!req.body) return new Uint8Array(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  const body = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    body.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return body;
}

export function assertUrlLength(req: Request): void {
  if (req.url.length > MAX_URL_CHARS) throw new HttpError(414, `request URL too long (at most ${MAX_URL_CHARS} characters)`);
}

/** A JSON error answer in the same shape as the API's errors (`{ error: { message, data } }`). */
export function errorResponse(status: number, message: string, headers: Record<string, string> = {}): Response {
  const code =
    { 400: 'BAD_REQUEST', 401: 'UNAUTHORIZED', 403: 'FORBIDDEN', 404: 'NOT_FOUND', 413: 'PAYLOAD_TOO_LARGE', 414: 'URI_TOO_LONG', 415: 'UNSUPPORTED_MEDIA_TYPE', 429: 'TOO_MANY_REQUESTS', 503: 'SERVICE_UNAVAILABLE' }[status] ??
    'INTERNAL_SERVER_ERROR';
  return Response.json({ error: { message, data: { code, httpStatus: status } } }, { status, headers: { 'cache-control': 'no-store', ...headers } });
}
