import { StorageUnavailableError } from '../../db/client';
import { logInternalError } from '../trpc/errors';
import { assertJsonBody, assertSameOrigin, assertUrlLength, errorResponse, HttpError, readBodyLimited } from './request';
import { API_RESPONSE_HEADERS } from './securityHeaders';

/**
 * Wraps an API route handler with the checks every one of them needs, in this order, before any
 * parsing: URL length (414), JSON-only bodies (415), the Origin check for state-changing requests
 * not made with a bearer token (403), body size (413). The handler receives the body already read.
 * Failures never carry internals: HttpErrors say what was wrong, storage outages answer 503,
 * anything else is logged under an id (500).
 */
export function apiRoute(
  handler: (req: Request, body: Uint8Array | null) => Promise<Response>,
  options: { maxBodyBytes?: number; where: string },
): (req: Request) => Promise<Response> {
  return async (req: Request) => {
    let response: Response;
    try {
      assertUrlLength(req);
      assertJsonBody(req);
      assertSameOrigin(req);
      const body = req.method === 'GET' || req.method === 'HEAD' ? null : await readBodyLimited(req, options.maxBodyBytes);
      response = await handler(req, body);
    } catch (error) {
      if (error instanceof HttpError) response = errorResponse(error.status, error.message, error.headers);
      else if (error instanceof StorageUnavailableError) response = errorResponse(503, `storage unavailable: ${error.message}`);
      else response = errorResponse(500, `internal error (id ${logInternalError(error, options.where)}); the details are in the server log`);
    }
    for (const [key, value] of Object.entries(API_RESPONSE_HEADERS)) response.headers.set(key, value);
    return response;
  };
}

/** Parses a JSON body; a malformed one is a 400, never a 500. */
export function parseJson(body: Uint8Array | null): unknown {
  if (!body || body.byteLength === 0) throw new HttpError(400, 'a JSON body is required');
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body));
  } catch {
    throw new HttpError(400, 'the body is not valid JSON (UTF-8)');
  }
}
