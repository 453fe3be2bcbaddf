import { fetchRequestHandler } from '@trpc/server/adapters/fetch';
import { apiRoute } from '@/server/http/handler';
import { createTRPCContext } from '@/server/trpc/context';
import { appRouter } from '@/server/trpc/root';

/** Most calls one batch may carry (the browser batches the queries of one page). */
const MAX_BATCH = 20;

/**
 * The tRPC HTTP endpoint: GET for queries (`?input=<JSON>`), POST (JSON only) for mutations.
 * Before tRPC sees a request, apiRoute() has checked its URL length, body type and size and —
 * for cookie-authenticated POSTs — its Origin. Authentication and roles: every procedure's guard.
 */
const handler = apiRoute(
  async (req, body) =>
    fetchRequestHandler({
      endpoint: '/api/trpc',
      // The body was read (and bounded) by apiRoute: hand tRPC a request carrying those bytes.
      req: body === null ? req : new Request(req.url, { method: req.method, headers: req.headers, body: body as BodyInit }),
      router: appRouter,
      maxBatchSize: MAX_BATCH,
      createContext: () => createTRPCContext({ headers: req.headers }),
      responseMeta({ errors }) {
        // RFC 6750: a 401 names the scheme that would have worked.
        return errors.some((e) => e.code === 'UNAUTHORIZED') ? { headers: { 'WWW-Authenticate': 'Bearer realm="soc-cockpit"' } } : {};
      },
    }),
  { where: 'api/trpc' },
);

export { handler as GET, handler as POST };
