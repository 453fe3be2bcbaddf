import { initTRPC } from '@trpc/server';
import type { TRPCContext } from './context';
import { describeInputIssues, inputIssuesOf, logInternalError, ReportedInternalError, toPublicError } from './errors';
import { authorize, type ProcedureMeta } from './scopes';

/**
 * tRPC is initialised once, here. No data transformer: every input and output is plain JSON, so
 * `curl` works as well as `@trpc/client` (64-bit values already travel as decimal strings).
 */
const t = initTRPC
  .context<TRPCContext>()
  .meta<ProcedureMeta>()
  .create({
    /**
     * The error body over HTTP: `{ error: { message, code, data: { code, httpStatus, path, issues? } } }`.
     * Built from scratch rather than extending tRPC's default shape, so nothing (stack, cause) can
     * slip through by default.
     */
    errorFormatter({ shape, error, path }) {
      const issues = error.code === 'BAD_REQUEST' ? inputIssuesOf(error.cause) : null;
      let message = error.message;
      if (issues) {
        message = describeInputIssues(issues);
      } else if (error.code === 'INTERNAL_SERVER_ERROR' && !(error instanceof ReportedInternalError)) {
        // Failed outside the procedure guard (context creation, a middleware bug): same rule.
        message = new ReportedInternalError(logInternalError(error, path ?? 'request')).message;
      }
      return {
        message,
        code: shape.code,
        data: {
          code: shape.data.code,
          httpStatus: shape.data.httpStatus,
          path: shape.data.path ?? null,
          ...(issues ? { issues } : {}),
        },
      };
    },
  });

export const createTRPCRouter = t.router;
export const createCallerFactory = t.createCallerFactory;

/**
 * The one guard every procedure passes: it requires a declared scope (fail closed), asks the
 * authorization hook, and turns failures into public errors (503 for storage, logged 500 for
 * the unexpected). Authorization runs before input validation: a caller without the scope
 * learns nothing about the procedure's inputs.
 */
const guard = t.middleware(async ({ meta, ctx, path, next }) => {
  if (!meta?.scope) throw new Error(`procedure ${path} declares no scope (add .meta({ scope }))`);
  authorize(ctx, meta.scope);
  const result = await next();
  if (!result.ok) throw toPublicError(result.error, path);
  return result;
});

/** A procedure that needs only its scope. Declare `.meta({ scope })` on every one. */
export const scopedProcedure = t.procedure.use(guard);

/**
 * Opens storage for the resolver (`ctx.db`). Use it after `.input()`: invalid input is then
 * answered with 400 without touching storage, even while storage is down.
 *   scopedProcedure.meta({ scope }).input(schema).use(withStorage).query(...)
 */
export const withStorage = t.middleware(async ({ ctx, next }) => next({ ctx: { db: await ctx.getDb() } }));
