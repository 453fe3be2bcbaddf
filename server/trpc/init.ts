import { initTRPC, TRPCError } from '@trpc/server';
import { actorOf, audit, type AuditEvent } from '../auth/audit';
import type { Principal } from '../auth/principal';
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
 * The one guard every procedure passes: it requires a declared scope (fail closed), authenticates
 * the caller and checks the scope against their role (scopes.ts), then turns failures into public
 * errors (503 for storage, logged 500 for the unexpected). Authorization runs before input
 * validation: a caller without the scope learns nothing about the procedure's inputs.
 *
 * Procedures get `ctx.principal` (who is calling) and `ctx.audit(event)`, which records an event
 * in the audit log with the caller, their address and the time filled in.
 */
const guard = t.middleware(async ({ meta, ctx, path, next }) => {
  if (!meta?.scope) throw new Error(`procedure ${path} declares no scope (add .meta({ scope }))`);
  let principal: Principal;
  try {
    principal = await authorize(ctx, meta.scope, path);
  } catch (error) {
    if (error instanceof TRPCError) throw toPublicError(error, path);
    throw toPublicError(new TRPCError({ code: 'INTERNAL_SERVER_ERROR', cause: error }), path);
  }
  const auditAs = async (event: Omit<AuditEvent, 'actor' | 'source'>) =>
    audit(await ctx.getDb(), { ...event, actor: actorOf(principal), source: ctx.source });
  const result = await next({ ctx: { principal, audit: auditAs } });
  if (!result.ok) throw toPublicError(result.error, path);
  return result;
});

/**
 * The only procedure builder: every procedure is authenticated and authorised by its scope.
 * Declare `.meta({ scope })` on every one (a procedure without it fails closed, and fails the
 * access-matrix test). There is deliberately no public procedure: signing in is a route handler.
 */
export const scopedProcedure = t.procedure.use(guard);

/**
 * Opens storage for the resolver (`ctx.db`). Use it after `.input()`: invalid input is then
 * answered with 400 without touching storage, even while storage is down.
 *   scopedProcedure.meta({ scope }).input(schema).use(withStorage).query(...)
 */
export const withStorage = t.middleware(async ({ ctx, next }) => next({ ctx: { db: await ctx.getDb() } }));
